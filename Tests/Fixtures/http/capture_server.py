#!/usr/bin/env python3
"""A stand-in for Slack's incoming webhooks and response_url, or any webhook receiver: answers every POST
with CAPTURE_STATUS (default 200) and appends its path, headers and body as one JSON line to the file
named in argv[1]. Prints the port it listens on (127.0.0.1, a free one) as its first line.
With CAPTURE_CERT and CAPTURE_KEY (PEM files) it speaks https; with CAPTURE_HANG=1 it reads each request
and never answers (a receiver that hangs); with CAPTURE_INTERIM=1 a 103 Early Hints comes before the answer."""
import http.server
import json
import os
import ssl
import sys
import time

OUT = sys.argv[1]
STATUS = int(os.environ.get("CAPTURE_STATUS", "200"))


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length).decode("utf-8", "replace")
        with open(OUT, "a") as f:
            f.write(json.dumps({"path": self.path, "headers": dict(self.headers), "body": body}) + "\n")
        if os.environ.get("CAPTURE_HANG") == "1":
            time.sleep(3600)
        if os.environ.get("CAPTURE_INTERIM") == "1":
            self.wfile.write(b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n")
        self.send_response(STATUS)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
if os.environ.get("CAPTURE_CERT"):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(os.environ["CAPTURE_CERT"], os.environ["CAPTURE_KEY"])
    server.socket = context.wrap_socket(server.socket, server_side=True)
print(server.server_address[1], flush=True)
server.serve_forever()
