-- wrk script for bench/gateway/run.sh: the same 2026-07-28 tools/call on every request, with the headers a
-- 2026-07-28 client sends. TOKEN (environment) is the bearer token; unset sends none (upstreams without auth).
-- TOOL and ARGS (a JSON object) pick the call; defaults: get_time, {}.
local token = os.getenv("TOKEN")
local tool = os.getenv("TOOL") or "get_time"
local args = os.getenv("ARGS") or "{}"
wrk.method = "POST"
wrk.body = '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"' .. tool .. '","arguments":' .. args ..
  ',"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json, text/event-stream"
wrk.headers["MCP-Protocol-Version"] = "2026-07-28"
wrk.headers["Mcp-Method"] = "tools/call"
wrk.headers["Mcp-Name"] = tool
if token and token ~= "" then wrk.headers["Authorization"] = "Bearer " .. token end

-- An answer counts as a failure unless it is a 200 whose body contains EXPECT (default "12:00"): a JSON-RPC
-- error inside a 200 is a failure too. `done` prints "Failures: N" for run.sh.
local expect = os.getenv("EXPECT") or "12:00"
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) failures = 0 end
function response(status, headers, body)
  if status ~= 200 or not (body and body:find(expect, 1, true)) then
    failures = failures + 1
    if failures <= 2 then io.stderr:write("unexpected answer: " .. status .. " " .. (body or "") .. "\n") end
  end
end
function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do total = total + (thread:get("failures") or 0) end
  io.write(string.format("Failures: %d\n", total + summary.errors.timeout + summary.errors.read +
    summary.errors.connect + summary.errors.write))
end
