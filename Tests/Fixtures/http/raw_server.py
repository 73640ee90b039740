#!/usr/bin/env python3
"""A misbehaving HTTP server: reads each request's head and body, appends them as one JSON line to the file
named in argv[1], then sends RAW_RESPONSE (Python escapes such as \\r\\n are decoded) and closes. With
RAW_EARLY=1 it sends RAW_RESPONSE as soon as it accepts, before reading anything (a forged answer racing
a TLS handshake). Prints the port it listens on (127.0.0.1, a free one) as its first line."""
import codecs
import json
import os
import socket
import socketserver
import sys

OUT = sys.argv[1]
RESPONSE = codecs.decode(os.environ.get("RAW_RESPONSE", "HTTP/1.1 200 OK\\r\\nContent-Length: 0\\r\\n\\r\\n"), "unicode_escape").encode("latin-1")
EARLY = os.environ.get("RAW_EARLY") == "1"


class Handler(socketserver.BaseRequestHandler):
    def handle(self):
        if EARLY:
            self.request.sendall(RESPONSE)
        data = b""
        try:
            while b"\r\n\r\n" not in data:
                chunk = self.request.recv(65536)
                if not chunk:
                    break
                data += chunk
            head, _, body = data.partition(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            headers = {k.strip(): v.strip() for k, v in (l.split(":", 1) for l in lines[1:] if ":" in l)}
            length = int(headers.get("Content-Length", "0") or 0)
            while len(body) < length:
                chunk = self.request.recv(65536)
                if not chunk:
                    break
                body += chunk
            with open(OUT, "a") as f:
                f.write(json.dumps({"line": lines[0], "headers": headers, "body": body.decode("latin-1")}) + "\n")
            if not EARLY:
                self.request.sendall(RESPONSE)
        except OSError:
            pass


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


server = Server(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
