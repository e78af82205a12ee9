-- bench/gateway/run.sh's 2025-11-25 variant of tools-call.lua (for mcp-proxy, which serves that revision
-- statelessly): no Mcp-Method/Mcp-Name headers and no per-request envelope.
dofile("bench/gateway/tools-call.lua")
wrk.body = '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"' .. (os.getenv("TOOL") or "get_time") ..
  '","arguments":' .. (os.getenv("ARGS") or "{}") .. '}}'
wrk.headers["MCP-Protocol-Version"] = "2025-11-25"
wrk.headers["Mcp-Method"] = nil
wrk.headers["Mcp-Name"] = nil
