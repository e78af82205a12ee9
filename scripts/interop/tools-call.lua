-- wrk script for scripts/mcp-loadtest.sh: POST tools/call get_forecast with ids unique across threads and
-- connections (the shared stateless server matches responses to requests by JSON-RPC id).
local counter = 0
function setup(thread)
  thread:set("tid", tostring(math.random(1, 1000000000)))
end
function request()
  counter = counter + 1
  local body = '{"jsonrpc":"2.0","id":"' .. tid .. '-' .. counter ..
    '","method":"tools/call","params":{"name":"get_forecast","arguments":{"location":"Oslo"}}}'
  return wrk.format("POST", nil, nil, body)
end
