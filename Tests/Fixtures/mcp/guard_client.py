"""The official Python MCP client (PyPI `mcp`, below 2) against `rollout guard`: connect, list the tools,
call a read, an allowed write, a refused write and a retry. Prints one JSON object with what it saw.

usage: guard_client.py ROLLOUT_BINARY GUARD_ARGS... -- UPSTREAM_COMMAND...
"""
import asyncio
import json
import sys

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client


def text(result):
    return "\n".join(c.text for c in result.content if getattr(c, "type", "") == "text")


async def main():
    binary, args = sys.argv[1], sys.argv[2:]
    server = StdioServerParameters(command=binary, args=["guard"] + args)
    seen = {}
    async with stdio_client(server) as (read, write):
        async with ClientSession(read, write) as session:
            init = await session.initialize()
            seen["server"] = init.serverInfo.name
            tools = await session.list_tools()
            seen["tools"] = sorted(t.name for t in tools.tools)
            listed = await session.call_tool("items.list", {})
            seen["read"] = {"isError": listed.isError, "text": text(listed)}
            good = {"data": {"title": "hello"}, "reason": "stock arrived from the supplier", "idempotency_key": "py-1"}
            created = await session.call_tool("items.create", good)
            seen["write"] = {"isError": created.isError, "text": text(created)}
            refused = await session.call_tool("items.create", {"data": {"title": "x"}, "reason": "n/a", "idempotency_key": "py-2"})
            seen["refused"] = {"isError": refused.isError, "text": text(refused),
                               "structured": refused.structuredContent}
            again = await session.call_tool("items.create", good)
            seen["retry"] = {"isError": again.isError, "text": text(again)}
    print(json.dumps(seen))


asyncio.run(main())
