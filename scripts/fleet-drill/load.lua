-- wrk script of scripts/fleet-drill.sh: a 2026-07-28 header-only decision request for one tool (TOOL) with one
-- bearer token (TOKEN), as nginx auth_request would forward it to `scopegate authz`. Counts answers by status and
-- prints one line: `statuses 200=N 403=N other=N errors connect=N read=N write=N timeout=N`.
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  ok, denied, other = 0, 0, 0
  wrk.method = "POST"
  wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
  wrk.headers["MCP-Protocol-Version"] = "2026-07-28"
  wrk.headers["Mcp-Method"] = "tools/call"
  wrk.headers["Mcp-Name"] = os.getenv("TOOL")
end

function response(status, headers, body)
  if status == 200 then ok = ok + 1 elseif status == 403 then denied = denied + 1 else other = other + 1 end
end

function done(summary, latency, requests)
  local a, d, o = 0, 0, 0
  for _, t in ipairs(threads) do
    a = a + t:get("ok"); d = d + t:get("denied"); o = o + t:get("other")
  end
  local e = summary.errors
  io.write(string.format("statuses 200=%d 403=%d other=%d errors connect=%d read=%d write=%d timeout=%d p99_ms=%.1f\n",
    a, d, o, e.connect, e.read, e.write, e.timeout, latency:percentile(99) / 1000))
end
