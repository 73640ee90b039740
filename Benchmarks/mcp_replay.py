#!/usr/bin/env python3
"""The server's own ceiling: replay the tools/call requests of a captured MCP session, as fast as a bare
client can, over one stdio connection (no SDK, no checks, no state). Used by `rollout-bench mcp`.

    mcp_replay.py CAPTURE.jsonl -- SERVER COMMAND...

CAPTURE holds the JSON-RPC lines a client wrote to the server (`tee`); every tools/call in it is sent
again, in order, each awaiting its answer. Prints one JSON line: {"calls": N, "seconds": S}.
"""
import json
import subprocess
import sys
import time


def main() -> int:
    if "--" not in sys.argv or len(sys.argv) < 4:
        print(__doc__, file=sys.stderr)
        return 2
    split = sys.argv.index("--")
    capture, command = sys.argv[1], sys.argv[split + 1:]
    calls = []
    with open(capture) as lines:
        for line in lines:
            try:
                message = json.loads(line)
            except ValueError:
                continue
            if message.get("method") == "tools/call":
                calls.append(message["params"])
    server = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)

    def request(ident, method, params):
        server.stdin.write(json.dumps({"jsonrpc": "2.0", "id": ident, "method": method, "params": params}) + "\n")
        server.stdin.flush()
        while True:
            answer = server.stdout.readline()
            if not answer:
                raise SystemExit("the server closed its output")
            message = json.loads(answer)
            if message.get("id") == ident:
                return message

    request(0, "initialize", {"protocolVersion": "2025-06-18", "capabilities": {},
                              "clientInfo": {"name": "mcp_replay", "version": "1"}})
    server.stdin.write(json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}) + "\n")
    server.stdin.flush()
    started = time.perf_counter()
    for i, params in enumerate(calls, start=1):
        request(i, "tools/call", params)
    seconds = time.perf_counter() - started
    server.stdin.close()
    server.wait(timeout=30)
    print(json.dumps({"calls": len(calls), "seconds": seconds}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
