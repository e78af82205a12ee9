"""scripts/gateway-interop.sh's 2026-07-28 client: the Python `mcp` SDK 2.3.0 (which negotiates 2026-07-28 by
`server/discover`) and raw 2026-07-28 requests, through `scopegate proxy`, with Glewlwyd tokens.

    python client_modern.py http|stdio|shadow
"""
import asyncio
import sys

import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from common import (MODERN, PROXY_URL, authentication_checks, challenge, check, modern_call, post, sse_events,
                    token, write_issued_tokens)


def sdk(bearer, mode="auto"):
    http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {bearer}"}, timeout=httpx2.Timeout(30.0))
    return Client(streamable_http_client(PROXY_URL, http_client=http), mode=mode)


def text(result):
    return result.content[0].text if result.content else None


async def http_upstream():
    reader = token("time:read")
    async with sdk(reader) as client:
        check(client.session is not None, "the SDK 2.3.0 client connects through the proxy (server/discover)")
        result = await client.call_tool("get_time", {})
        check(not result.is_error and text(result) == "12:00", "an allowed call", result)
        tools = sorted(t.name for t in (await client.list_tools()).tools)
        check(tools == ["count_slowly", "get_time"], "tools/list is filtered to what time:read may call", tools)
        order = []

        async def progress(value, total, message):
            order.append(("progress", value))

        result = await client.call_tool("count_slowly", {"n": 3}, progress_callback=progress)
        order.append(("result", text(result)))
        check([kind for kind, _ in order] == ["progress"] * 3 + ["result"],
              "a streamed call: three progress notifications arrive before the result", order)

    answer = modern_call("count_slowly", {"n": 2}, reader, id=7, progress_token="p7")
    kinds = ["progress" if e.get("method") == "notifications/progress" else "result" if "result" in e else "other"
             for e in sse_events(answer.body)]
    check(answer.status == 200 and (answer.header("content-type") or "").startswith("text/event-stream")
          and answer.header("x-accel-buffering") == "no" and kinds == ["progress", "progress", "result"],
          "the SSE stream passes through unbuffered, progress before result",
          f"{answer.status} {answer.headers} {kinds}")

    answer = modern_call("set_alarm", {"at": "07:00"}, reader)
    params = challenge(answer)
    check(answer.status == 403 and params.get("error") == "insufficient_scope" and params.get("scope") == "time:write",
          "a denied call → 403 insufficient_scope, scope=\"time:write\" (what the call needs)", f"{answer.status} {params}")
    error = answer.json().get("error", {})
    check(error.get("data", {}).get("missing") == ["time:write"], "the JSON-RPC error names the missing scope", error)

    writer = token("time:read time:write")
    answer = modern_call("set_alarm", {"at": "07:00"}, writer)
    check(answer.status == 200 and "alarm set for 07:00" in answer.body.decode(),
          "step-up: the same call with a new token succeeds", f"{answer.status} {answer.body[:200]}")
    async with sdk(writer, mode=MODERN) as client:
        result = await client.call_tool("set_alarm", {"at": "08:00"})
        check(text(result) == "alarm set for 08:00", "step-up through the SDK client pinned to 2026-07-28", result)

    body = {"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {
        "name": "reset_clock", "arguments": {},
        "_meta": {"io.modelcontextprotocol/protocolVersion": MODERN, "io.modelcontextprotocol/clientCapabilities": {}}}}
    answer = post(body, reader, {"MCP-Protocol-Version": MODERN, "Mcp-Method": "tools/call", "Mcp-Name": "get_time"})
    check(answer.status == 400 and answer.json()["error"]["code"] == -32020,
          "Mcp-Name disagreeing with the body → 400 HeaderMismatch (-32020)", f"{answer.status} {answer.body[:200]}")

    authentication_checks(lambda bearer: modern_call("get_time", {}, bearer))


async def stdio_upstream():
    reader = token("time:read")
    async with sdk(reader) as client:
        result = await client.call_tool("get_current_time", {"timezone": "UTC"})
        check(not result.is_error and "UTC" in (text(result) or ""), "stdio: an allowed call reaches mcp-server-time",
              result)
        tools = sorted(t.name for t in (await client.list_tools()).tools)
        check(tools == ["get_current_time"], "stdio: tools/list is filtered (convert_time hidden)", tools)
    answer = modern_call("convert_time", {"source_timezone": "UTC", "time": "12:00", "target_timezone": "UTC"}, reader)
    params = challenge(answer)
    check(answer.status == 403 and params.get("scope") == "time:write", "stdio: a denied call → 403 scope=time:write",
          f"{answer.status} {params}")


async def shadow():
    reader = token("time:read")
    answer = modern_call("reset_clock", {}, reader)
    check(answer.status == 200 and "clock reset" in answer.body.decode(),
          "shadow mode: a call the policy denies passes through", f"{answer.status} {answer.body[:200]}")


async def main():
    try:
        await {"http": http_upstream, "stdio": stdio_upstream, "shadow": shadow}[sys.argv[1]]()
    finally:
        write_issued_tokens()


asyncio.run(main())
