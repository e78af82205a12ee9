"""The upstream of scripts/gateway-interop.sh: a Python `mcp` 2.3.0 server over Streamable HTTP, in session mode
or (--stateless) its stateless mode. It appends the Authorization header of every HTTP request it receives (or
"-" when there is none) to the file named by --header-log, so the script can show the client's token never
reached it.

    python upstream.py PORT [--stateless] --header-log FILE
"""
import argparse

import anyio
import uvicorn
from mcp.server.mcpserver import Context, MCPServer
from mcp_types import ToolAnnotations

parser = argparse.ArgumentParser()
parser.add_argument("port", type=int)
parser.add_argument("--stateless", action="store_true")
parser.add_argument("--header-log", required=True)
args = parser.parse_args()

server = MCPServer("gateway-interop-upstream")


@server.tool(annotations=ToolAnnotations(readOnlyHint=True))
def get_time() -> str:
    """The current time (fixed, so answers compare)."""
    return "12:00"


@server.tool(annotations=ToolAnnotations(readOnlyHint=True))
async def count_slowly(n: int, ctx: Context) -> str:
    """Counts to n, reporting progress after each step."""
    for i in range(1, n + 1):
        await ctx.report_progress(i, n, f"step {i}")
        await anyio.sleep(0.05)
    return f"counted to {n}"


@server.tool(annotations=ToolAnnotations(readOnlyHint=False, destructiveHint=False))
def set_alarm(at: str) -> str:
    """Sets an alarm."""
    return f"alarm set for {at}"


@server.tool(annotations=ToolAnnotations(readOnlyHint=False, destructiveHint=True))
def reset_clock() -> str:
    """Resets the clock."""
    return "clock reset"


app = server.streamable_http_app(stateless_http=args.stateless)


async def logged(scope, receive, send):
    if scope["type"] == "http":
        value = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"authorization"), "-")
        with open(args.header_log, "a") as log:
            log.write(value + "\n")
    await app(scope, receive, send)


uvicorn.run(logged, host="127.0.0.1", port=args.port, log_level="warning", lifespan="on")
