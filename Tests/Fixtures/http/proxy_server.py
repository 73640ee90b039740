#!/usr/bin/env python3
"""A stand-in for a corporate HTTP proxy: tunnels CONNECT host:port, and forwards an absolute-form request
(http://host:port/path) to its host. Appends each request's first line and Proxy-Authorization header as
one JSON line to the file named in argv[1]. Prints the port it listens on (127.0.0.1, a free one) first.
With PROXY_REFUSE=1 it answers every request 403; with PROXY_FORGE=same (or separate) it follows its answer
to CONNECT with a forged `HTTP/1.1 200 OK` in the same write (or a write of its own) before tunnelling."""
import json
import os
import socket
import socketserver
import sys
import threading
import time
import urllib.parse

OUT = sys.argv[1]
REFUSE = os.environ.get("PROXY_REFUSE") == "1"
FORGE = os.environ.get("PROXY_FORGE", "")
FORGED = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"


def relay(a, b):
    try:
        while True:
            data = a.recv(65536)
            if not data:
                break
            b.sendall(data)
    except OSError:
        pass
    finally:
        for s in (a, b):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class Handler(socketserver.BaseRequestHandler):
    def handle(self):
        head = b""
        while b"\r\n\r\n" not in head:
            data = self.request.recv(65536)
            if not data:
                return
            head += data
        head, rest = head.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        headers = {k.strip().lower(): v.strip() for k, v in (l.split(":", 1) for l in lines[1:] if ":" in l)}
        with open(OUT, "a") as f:
            f.write(json.dumps({"line": lines[0], "proxy_authorization": headers.get("proxy-authorization")}) + "\n")
        if REFUSE:
            self.request.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
            return
        method, target, _ = lines[0].split(" ", 2)
        if method == "CONNECT":
            host, port = target.rsplit(":", 1)
            upstream = socket.create_connection((host.strip("[]"), int(port)))
            answer = b"HTTP/1.1 200 Connection established\r\n\r\n"
            if FORGE == "same":
                self.request.sendall(answer + FORGED)
            elif FORGE == "separate":
                self.request.sendall(answer)
                time.sleep(0.2)
                self.request.sendall(FORGED)
            else:
                self.request.sendall(answer)
        else:
            url = urllib.parse.urlsplit(target)
            upstream = socket.create_connection((url.hostname, url.port or 80))
            path = url.path + ("?" + url.query if url.query else "")
            kept = [l for l in lines[1:] if not l.lower().startswith("proxy-authorization:")]
            upstream.sendall(("%s %s HTTP/1.1\r\n" % (method, path) + "\r\n".join(kept) + "\r\n\r\n").encode("latin-1") + rest)
        t = threading.Thread(target=relay, args=(upstream, self.request), daemon=True)
        t.start()
        relay(self.request, upstream)
        t.join()


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


server = Server(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
