"""scripts/gateway-interop.sh's 2025-11-25 client: the Python `mcp` SDK 1.26.0 (initialize, Mcp-Session-Id,
GET streams) and raw 2025-11-25 requests, through `scopegate proxy`, with Glewlwyd tokens.

    python client_legacy.py http|stdio
"""
import asyncio
import sys

from mcp import ClientSession
from mcp.client.streamable_http import streamablehttp_client

from common import PROXY_URL, authentication_checks, challenge, check, post, token, write_issued_tokens

LEGACY = "2025-11-25"
INIT = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": LEGACY, "capabilities": {}, "clientInfo": {"name": "raw", "version": "1"}}}


async def session(bearer, body):
    async with streamablehttp_client(PROXY_URL, headers={"Authorization": f"Bearer {bearer}"}) as (read, write, _):
        async with ClientSession(read, write) as s:
            init = await s.initialize()
            return await body(s, init)


def raw_session(bearer):
    """A session opened by hand: initialize, then notifications/initialized; returns its headers."""
    answer = post(INIT, bearer)
    check(answer.status == 200 and answer.header("mcp-session-id"), "raw initialize through the proxy opens a session",
          f"{answer.status} {answer.headers}")
    headers = {"Mcp-Session-Id": answer.header("mcp-session-id"), "MCP-Protocol-Version": LEGACY}
    post({"jsonrpc": "2.0", "method": "notifications/initialized"}, bearer, headers)
    return headers


def call(name, arguments, id=2):
    return {"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": {"name": name, "arguments": arguments}}


def text(result):
    return result.content[0].text if result.content else None


async def http_upstream():
    reader = token("time:read")

    async def body(s, init):
        check(init.protocolVersion == LEGACY, "the SDK 1.26.0 client negotiates 2025-11-25 through the proxy",
              init.protocolVersion)
        result = await s.call_tool("get_time", {})
        check(text(result) == "12:00", "an allowed call in a session", result)
        tools = sorted(t.name for t in (await s.list_tools()).tools)
        check(tools == ["count_slowly", "get_time"], "tools/list is filtered to what time:read may call", tools)
        order = []

        async def progress(value, total, message):
            order.append("progress")

        result = await s.call_tool("count_slowly", {"n": 3}, progress_callback=progress)
        order.append("result")
        check(order == ["progress"] * 3 + ["result"], "a streamed call: progress before the result", order)

    await session(reader, body)

    headers = raw_session(reader)
    answer = post(call("set_alarm", {"at": "07:00"}), reader, headers)
    params = challenge(answer)
    check(answer.status == 403 and params.get("scope") == "time:write",
          "a denied call in a session → 403 scope=\"time:write\"", f"{answer.status} {params}")
    writer = token("time:write")
    answer = post(call("set_alarm", {"at": "07:00"}), writer, headers)
    check(answer.status == 200 and "alarm set" in answer.body.decode(),
          "step-up: the same session with a new token (same client) succeeds", f"{answer.status} {answer.body[:200]}")

    authentication_checks(lambda bearer: post(INIT, bearer))


async def stdio_upstream():
    reader = token("time:read")

    async def body(s, init):
        result = await s.call_tool("get_current_time", {"timezone": "UTC"})
        check("UTC" in (text(result) or ""), "stdio, 2025-11-25: an allowed call reaches mcp-server-time", result)
        tools = sorted(t.name for t in (await s.list_tools()).tools)
        check(tools == ["get_current_time"], "stdio, 2025-11-25: tools/list is filtered", tools)

    await session(reader, body)


async def main():
    try:
        await {"http": http_upstream, "stdio": stdio_upstream}[sys.argv[1]]()
    finally:
        write_issued_tokens()


asyncio.run(main())
