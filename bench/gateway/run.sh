#!/usr/bin/env bash
# bench/gateway/run.sh — what `scopegate proxy` adds in front of an MCP server, against the floor any proxy can
# reach and against other MCP proxies, with wrk over loopback (numbers in docs/performance.md).
#
# Rows (each a 2026-07-28 `tools/call` from bench/gateway/tools-call.lua unless said):
#   direct          nginx answering a canned JSON-RPC result (the fast upstream, so the proxies' own cost shows)
#   nginx           nginx `proxy_pass` to it, no authorization (the floor)
#   scopegate       `scopegate proxy` to it, authorization on (RS256 token, cached after the first request)
#   fastmcp         FastMCP 4.1.6's proxy with JWT authentication to it
#   python          the Python mcp 2.3.0 server (scripts/gateway-interop/upstream.py), directly, then behind
#                   `scopegate proxy` and behind FastMCP (where FastMCP cannot use the canned upstream)
#   stdio           mcp-server-time over stdio behind mcp-proxy 0.13.0 (no auth; 2025-11-25 stateless, which is
#                   what it serves) and behind `scopegate proxy --upstream-command` (auth on; 2026-07-28)
# For each: p50 latency at 1 connection, requests/s at 16 connections. For `scopegate proxy` also: RSS idle, and
# RSS after a warm-up and after 1,000,000 more requests.
#
# The two targets that compare the proxy with another row (its added p50 over direct at 1 connection, its rate
# against nginx `proxy_pass` at 16) are judged on paired rounds: this machine's speed drifts by ±20% over minutes,
# so rows measured a minute apart can disagree by more than the margin. Each of ROUNDS rounds (default 5) measures
# the two rows of a comparison back to back (5 s each) and takes their difference or ratio; the verdict is the
# median round, and every round is printed.
#
# Usage: bench/gateway/run.sh [--quick]      (--quick: 3 s runs, 3 rounds of 2 s, 100,000 requests for the RSS row)
# Env: SCOPEGATE_GATEWAY (a release scopegate-gateway; default: built by scripts/build-release.sh), GATEWAY_BENCH_WORKDIR.
set -euo pipefail
source "$(dirname "$0")/../../scripts/lib/interop.sh"
interop_init gateway-bench "${GATEWAY_BENCH_WORKDIR:-}"
DURATION=10s; GROWTH_REQUESTS=1000000; ROUNDS=${ROUNDS:-5}; PAIRED=5s
[[ ${1:-} == --quick ]] && { DURATION=3s; GROWTH_REQUESTS=100000; ROUNDS=3; PAIRED=2s; }
need_tools wrk nginx
GATEWAY=${SCOPEGATE_GATEWAY:-$(bash scripts/build-release.sh scopegate-gateway)}
venv() { # DIR PACKAGES…
  local dir=$1; shift
  [[ -x $dir/bin/python ]] || python3 -m venv "$dir"
  timeout 900 "$dir/bin/pip" install -q --disable-pip-version-check "$@" || die "pip install $* failed"
}
venv .venv-gateway "mcp==2.3.0" "mcp-server-time==2026.10.19" "pyjwt[crypto]==2.15.1"
venv .venv-bench-fastmcp "fastmcp==4.1.6"
venv .venv-bench-mcpproxy "mcp-proxy==0.13.0"

UPORT=$(free_port); NPORT=$(free_port); SPORT=$(free_port); FPORT=$(free_port); PYPORT=$(free_port)
SPYPORT=$(free_port); FPYPORT=$(free_port); MPPORT=$(free_port); SSTPORT=$(free_port)
export MCP_ISSUER=https://bench.invalid/issuer MCP_RESOURCE="http://127.0.0.1:$SPORT/mcp"
.venv-gateway/bin/python bench/gateway/mint.py "$WORK" "$MCP_ISSUER" "$MCP_RESOURCE" "time:read time:write"
openssl rsa -in "$WORK/private.pem" -pubout -out "$WORK/public.pem" 2>/dev/null
TOKEN=$(cat "$WORK/token")

CANNED='{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"12:00"}],"isError":false}}'
start_nginx "$(cat <<NGINX
  upstream canned { server 127.0.0.1:$UPORT; keepalive 64; }
  server { listen 127.0.0.1:$UPORT; location / { default_type application/json; return 200 '$CANNED'; } }
  server { listen 127.0.0.1:$NPORT; location / { proxy_pass http://canned; proxy_http_version 1.1;
           proxy_set_header Connection ""; proxy_buffering off; } }
NGINX
)" "$UPORT" "$NPORT"

rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
gateway() { # PORT LOG ARGS… (echoes the PID)
  local port=$1 log=$2; shift 2
  "$GATEWAY" proxy --policy examples/gateway/policy.yaml --jwks "$WORK/jwks.json" --resource "$MCP_RESOURCE" \
    --listen "127.0.0.1:$port" "$@" >"$log" 2>&1 &
  echo $!
}
SG=$(gateway "$SPORT" "$WORK/scopegate.log" --upstream "http://127.0.0.1:$UPORT/mcp"); PIDS+=("$SG")
wait_port "$SPORT"
sleep 1
RSS_IDLE=$(rss_kb "$SG")

# wrk → "p50_us rps non200"
measure() { # URL CONNECTIONS [TOKEN] [TOOL] [ARGS] [EXPECT] [SCRIPT]
  local url=$1 c=$2 threads=1
  [[ $c -gt 1 ]] && threads=2
  local out
  out=$(TOKEN=${3:-} TOOL=${4:-get_time} ARGS=${5:-'{}'} EXPECT=${6:-12:00} wrk -t"$threads" -c"$c" \
        -d"$DURATION" --timeout 10s --latency -s "${7:-bench/gateway/tools-call.lua}" "$url" 2>"$WORK/wrk.err")
  echo "$out" >>"$WORK/wrk.log"
  local p50 rps non200
  p50=$(echo "$out" | awk '/^ +50%/ {v=$2; if (v ~ /us$/) {sub(/us/,"",v); print v} else if (v ~ /ms$/) {sub(/ms/,"",v); print v*1000} else {sub(/s/,"",v); print v*1000000}}')
  rps=$(echo "$out" | awk '/^Requests\/sec/ {print $2}')
  non200=$(echo "$out" | awk '/^Failures:/ {print $2}')
  echo "${p50:-?} ${rps:-?} ${non200:-0}"
}
row() { # NAME URL [TOKEN] [TOOL] [ARGS] [EXPECT] [SCRIPT]
  local name=$1; shift
  read -r p50 _ bad1 <<<"$(measure "$1" 1 "${@:2}")"
  read -r _ rps bad16 <<<"$(measure "$1" 16 "${@:2}")"
  [[ $bad1 == 0 && $bad16 == 0 ]] || die "$name: failed answers ($bad1 at 1 connection, $bad16 at 16): $(head -c 600 "$WORK/wrk.err")"
  printf '| %s | %s | %s |\n' "$name" "$p50" "$rps" | tee -a "$WORK/results.md"
  eval "P50_${name//[^a-z0-9]/_}=$p50; RPS_${name//[^a-z0-9]/_}=$rps"
}

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cores" | tee "$WORK/results.md"
echo | tee -a "$WORK/results.md"
echo "| row | p50 at 1 connection (µs) | requests/s at 16 connections |" | tee -a "$WORK/results.md"
echo "|---|---:|---:|" | tee -a "$WORK/results.md"
row direct "http://127.0.0.1:$UPORT/mcp"
row nginx "http://127.0.0.1:$NPORT/mcp"
row scopegate "http://127.0.0.1:$SPORT/mcp" "$TOKEN"

# Paired rounds for the two comparisons (see the top of this file).
paired() { # URL CONNECTIONS [TOKEN] → p50 or rps (fails on any failed answer)
  local p50 rps bad
  read -r p50 rps bad <<<"$(DURATION=$PAIRED measure "$@")"
  [[ $bad == 0 ]] || die "paired round: failed answers at $1: $(head -c 600 "$WORK/wrk.err")"
  [[ $2 == 1 ]] && echo "$p50" || echo "$rps"
}
median() { tr ' ' '\n' | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
ADDED=(); SHARES=()
for _ in $(seq "$ROUNDS"); do
  direct=$(paired "http://127.0.0.1:$UPORT/mcp" 1)
  proxied=$(paired "http://127.0.0.1:$SPORT/mcp" 1 "$TOKEN")
  ADDED+=("$(awk -v a="$proxied" -v b="$direct" 'BEGIN {printf "%.0f", a - b}')")
  floor=$(paired "http://127.0.0.1:$NPORT/mcp" 16)
  proxied=$(paired "http://127.0.0.1:$SPORT/mcp" 16 "$TOKEN")
  SHARES+=("$(awk -v a="$proxied" -v b="$floor" 'BEGIN {printf "%.1f", 100 * a / b}')")
done

# FastMCP's proxy with JWT auth, to the canned upstream first; if it cannot use it (it speaks MCP to its
# upstream), to the Python server, with scopegate measured on that upstream too.
timeout 1800 .venv-gateway/bin/python scripts/gateway-interop/upstream.py "$PYPORT" --stateless \
  --header-log /dev/null >"$WORK/python-upstream.log" 2>&1 & PIDS+=($!)
wait_port "$PYPORT"
.venv-bench-fastmcp/bin/python bench/gateway/fastmcp_proxy.py "$FPORT" "http://127.0.0.1:$UPORT/mcp" \
  "$WORK/public.pem" "$MCP_ISSUER" "$MCP_RESOURCE" >"$WORK/fastmcp.log" 2>&1 & PIDS+=($!)
wait_port "$FPORT"
if [[ $(measure "http://127.0.0.1:$FPORT/mcp" 1 "$TOKEN" | cut -d' ' -f3) == 0 ]]; then
  row fastmcp "http://127.0.0.1:$FPORT/mcp" "$TOKEN"
else
  echo "(FastMCP's proxy cannot use the canned upstream: $(head -1 "$WORK/wrk.err"); measured on the Python server)" | tee -a "$WORK/results.md"
fi
.venv-bench-fastmcp/bin/python bench/gateway/fastmcp_proxy.py "$FPYPORT" "http://127.0.0.1:$PYPORT/mcp" \
  "$WORK/public.pem" "$MCP_ISSUER" "$MCP_RESOURCE" >"$WORK/fastmcp-python.log" 2>&1 & PIDS+=($!)
SPY=$(gateway "$SPYPORT" "$WORK/scopegate-python.log" --upstream "http://127.0.0.1:$PYPORT/mcp"); PIDS+=("$SPY")
wait_port "$FPYPORT"; wait_port "$SPYPORT"
row "python direct" "http://127.0.0.1:$PYPORT/mcp"
row "python via scopegate" "http://127.0.0.1:$SPYPORT/mcp" "$TOKEN"
row "python via fastmcp" "http://127.0.0.1:$FPYPORT/mcp" "$TOKEN"

# stdio: mcp-server-time behind mcp-proxy and behind scopegate proxy --upstream-command.
.venv-bench-mcpproxy/bin/mcp-proxy --port "$MPPORT" --stateless -- "$ROOT/.venv-gateway/bin/mcp-server-time" \
  --local-timezone UTC >"$WORK/mcp-proxy.log" 2>&1 & PIDS+=($!)
SST=$(gateway "$SSTPORT" "$WORK/scopegate-stdio.log" \
  --upstream-command "$ROOT/.venv-gateway/bin/mcp-server-time --local-timezone UTC"); PIDS+=("$SST")
wait_port "$MPPORT"; wait_port "$SSTPORT"
row "stdio via mcp-proxy" "http://127.0.0.1:$MPPORT/mcp" "" get_current_time '{"timezone":"UTC"}' UTC bench/gateway/tools-call-2025.lua
row "stdio via scopegate" "http://127.0.0.1:$SSTPORT/mcp" "$TOKEN" get_current_time '{"timezone":"UTC"}' UTC

# Memory: RSS after a warm-up, then after GROWTH_REQUESTS more.
TOKEN=$TOKEN wrk -t2 -c16 -d5s -s bench/gateway/tools-call.lua "http://127.0.0.1:$SPORT/mcp" >/dev/null
RSS_WARM=$(rss_kb "$SG")
done_requests=0
while [[ $done_requests -lt $GROWTH_REQUESTS ]]; do
  n=$(TOKEN=$TOKEN wrk -t2 -c16 -d10s -s bench/gateway/tools-call.lua "http://127.0.0.1:$SPORT/mcp" \
      | awk '/requests in/ {print $1}')
  done_requests=$((done_requests + n))
done
RSS_AFTER=$(rss_kb "$SG")

added=$(echo "${ADDED[*]}" | median)
share=$(echo "${SHARES[*]}" | median)
growth=$(awk -v a="$RSS_AFTER" -v b="$RSS_WARM" 'BEGIN {printf "%.1f", 100 * (a - b) / b}')
{
  echo
  echo "scopegate proxy, median of $ROUNDS paired rounds: added p50 over direct ${added} µs (target ≤ 150; rounds: ${ADDED[*]});" \
    "${share}% of nginx proxy_pass's rate at 16 connections (target ≥ 50; rounds: ${SHARES[*]})"
  echo "the rows above, measured once each: added p50 $(awk -v a="$P50_scopegate" -v b="$P50_direct" 'BEGIN {printf "%.0f", a - b}') µs;" \
    "$(awk -v a="$RPS_scopegate" -v b="$RPS_nginx" 'BEGIN {printf "%.0f", 100 * a / b}')% of nginx proxy_pass"
  if [[ -n ${RPS_fastmcp:-} ]]; then
    echo "vs FastMCP's proxy with JWT auth, canned upstream: $(awk -v a="$RPS_scopegate" -v b="$RPS_fastmcp" 'BEGIN {printf "%.1f", a / b}')× the rate (target ≥ 10)"
  fi
  echo "vs FastMCP's proxy with JWT auth, Python upstream: $(awk -v a="$RPS_python_via_scopegate" -v b="$RPS_python_via_fastmcp" 'BEGIN {printf "%.1f", a / b}')× the rate"
  echo "RSS: idle $((RSS_IDLE / 1024)) MB (target ≤ 40); after warm-up $((RSS_WARM / 1024)) MB; after $done_requests more requests $((RSS_AFTER / 1024)) MB (${growth}% growth, target ≤ 5)"
  echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee -a "$WORK/results.md"
echo "bench/gateway: results in $WORK/results.md"
