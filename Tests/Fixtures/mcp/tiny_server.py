#!/usr/bin/env python3
"""A tiny MCP server over stdio (newline-delimited JSON-RPC), no dependencies. One write tool,
items.create, that "creates" in memory and answers success. Its misbehaviour is chosen by
TINY_MODE: ok (default), exit (dies on the first tools/call), hang (never answers tools/call),
garbage (writes non-JSON to stdout on tools/call). Used by rollout's tests and `rollout-bench mcp`."""
import json
import os
import sys
import time

MODE = os.environ.get("TINY_MODE", "ok")
TOOLS = [
    {"name": "items.create", "description": "Create an item.",
     "inputSchema": {"type": "object", "properties": {"data": {"type": "object"}, "reason": {"type": "string"},
                                                       "idempotency_key": {"type": "string"}}, "required": ["data"]}},
    {"name": "items.list", "description": "List items.", "annotations": {"readOnlyHint": True},
     "inputSchema": {"type": "object", "properties": {}}},
]
items = []


def reply(message_id, result):
    sys.stdout.write(json.dumps({"jsonrpc": "2.0", "id": message_id, "result": result}) + "\n")
    sys.stdout.flush()


for line in sys.stdin:
    line = line.strip()
    if not line:
        continue
    message = json.loads(line)
    method = message.get("method")
    message_id = message.get("id")
    if method == "initialize":
        reply(message_id, {"protocolVersion": message["params"].get("protocolVersion", "2025-06-18"),
                           "capabilities": {"tools": {"listChanged": False}},
                           "serverInfo": {"name": "tiny", "version": "1.0"}})
    elif method == "tools/list":
        reply(message_id, {"tools": TOOLS})
    elif method == "tools/call":
        if MODE == "exit":
            sys.exit(7)
        if MODE == "hang":
            time.sleep(3600)
        if MODE == "garbage":
            sys.stdout.write("Traceback (most recent call last): oops, this is not JSON\n")
            sys.stdout.flush()
            continue
        name = message["params"]["name"]
        args = message["params"].get("arguments") or {}
        if name == "items.create":
            items.append(args.get("data"))
            reply(message_id, {"content": [{"type": "text", "text": json.dumps({"success": True, "id": len(items)})}], "isError": False})
        elif name == "items.list":
            reply(message_id, {"content": [{"type": "text", "text": json.dumps({"success": True, "items": items[-10:]})}], "isError": False})
        else:
            reply(message_id, {"content": [{"type": "text", "text": "Unknown tool: " + name}], "isError": True})
    elif message_id is not None:
        sys.stdout.write(json.dumps({"jsonrpc": "2.0", "id": message_id, "error": {"code": -32601, "message": "no such method"}}) + "\n")
        sys.stdout.flush()
