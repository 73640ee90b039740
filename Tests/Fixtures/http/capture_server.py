#!/usr/bin/env python3
"""A stand-in for Slack's incoming webhooks and response_url, or any webhook receiver: answers every POST
with CAPTURE_STATUS (default 200) and appends its path, headers and body as one JSON line to the file
named in argv[1]. Prints the port it listens on (127.0.0.1, a free one) as its first line."""
import http.server
import json
import os
import sys

OUT = sys.argv[1]
STATUS = int(os.environ.get("CAPTURE_STATUS", "200"))


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length).decode("utf-8", "replace")
        with open(OUT, "a") as f:
            f.write(json.dumps({"path": self.path, "headers": dict(self.headers), "body": body}) + "\n")
        self.send_response(STATUS)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
