#!/usr/bin/env python3
"""A stdio MCP server with no dependencies for scripts/client-interop.sh: four tools that echo their name."""
import json
import sys

TOOLS = ["get_forecast", "read_client", "export_report", "read_file"]


def answer(message_id, result):
    sys.stdout.write(json.dumps({"jsonrpc": "2.0", "id": message_id, "result": result}) + "\n")
    sys.stdout.flush()


for line in sys.stdin:
    try:
        message = json.loads(line)
    except ValueError:
        continue
    method, message_id = message.get("method"), message.get("id")
    if message_id is None:
        continue
    if method == "initialize":
        answer(message_id, {"protocolVersion": message["params"].get("protocolVersion", "2025-11-25"),
                            "capabilities": {"tools": {}}, "serverInfo": {"name": "client-interop", "version": "1"}})
    elif method == "tools/list":
        answer(message_id, {"tools": [{"name": t, "inputSchema": {"type": "object"}} for t in TOOLS]})
    elif method == "tools/call":
        name = message["params"]["name"]
        answer(message_id, {"content": [{"type": "text", "text": "called " + name}], "isError": False})
    else:
        answer(message_id, {})
