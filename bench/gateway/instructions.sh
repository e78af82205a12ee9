#!/usr/bin/env bash
# bench/gateway/instructions.sh — the user-space instructions `scopegate proxy` executes per forwarded request,
# counted by valgrind's callgrind (numbers in docs/performance.md).
#
# Wall-clock rows on this virtual machine move by ±20% from run to run (bench/gateway/run.sh); an instruction
# count is the same on every run of the same binary, so it shows what a change to the proxy's own work did,
# and `--top` shows where that work goes. What it does not show: the kernel's share (the system calls and
# wake-ups, about half of the proxy's CPU at one connection), cache misses, and time spent waiting.
#
# The same workload as run.sh's `scopegate` row: a 2026-07-28 `tools/call` (bench/gateway/tools-call.lua) with a
# cached RS256 token, through the proxy to nginx answering a canned result, one connection. After a 3 s warm-up
# (the first request verifies the token; later ones find it cached and are answered on the event loop) the
# counters are zeroed, `wrk` sends requests for 8 s, and the count is divided by the requests answered.
#
# Usage: bench/gateway/instructions.sh [--top N] [BINARY]    (default: the release build of scripts/build-release.sh)
# Needs valgrind, wrk, nginx. The binary's debug information is stripped into a copy first: valgrind 3.19 cannot
# read the DWARF 5 of the static release build (symbols stay, so `--top` names functions).
set -euo pipefail
source "$(dirname "$0")/../../scripts/lib/interop.sh"
interop_init gateway-instructions "${GATEWAY_BENCH_WORKDIR:-}"
TOP=0
[[ ${1:-} == --top ]] && { TOP=$2; shift 2; }
need_tools wrk nginx valgrind callgrind_annotate=valgrind callgrind_control=valgrind strip=binutils
GATEWAY=${1:-$(bash scripts/build-release.sh scopegate-gateway)}
[[ -x .venv-gateway/bin/python ]] || python3 -m venv .venv-gateway
timeout 900 .venv-gateway/bin/pip install -q --disable-pip-version-check "pyjwt[crypto]==2.15.1" \
  || die "pip install pyjwt failed"

UPORT=$(free_port); SPORT=$(free_port)
export MCP_ISSUER=https://bench.invalid/issuer MCP_RESOURCE="http://127.0.0.1:$SPORT/mcp"
.venv-gateway/bin/python bench/gateway/mint.py "$WORK" "$MCP_ISSUER" "$MCP_RESOURCE" "time:read time:write"
TOKEN=$(cat "$WORK/token")
CANNED='{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"12:00"}],"isError":false}}'
start_nginx "$(cat <<NGINX
  server { listen 127.0.0.1:$UPORT; location / { default_type application/json; return 200 '$CANNED'; } }
NGINX
)" "$UPORT"

strip --strip-debug -o "$WORK/scopegate-gateway" "$GATEWAY"
SWIFT_DETERMINISTIC_HASHING=1 timeout 900 valgrind --tool=callgrind --callgrind-out-file="$WORK/callgrind.out" \
  "$WORK/scopegate-gateway" proxy --policy examples/gateway/policy.yaml --jwks "$WORK/jwks.json" \
  --resource "$MCP_RESOURCE" --listen "127.0.0.1:$SPORT" --upstream "http://127.0.0.1:$UPORT/mcp" \
  >"$WORK/proxy.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 240); do (echo >"/dev/tcp/127.0.0.1/$SPORT") 2>/dev/null && break; sleep 0.5; done
wait_port "$SPORT" "${PIDS[-1]}" "$WORK/proxy.log"
VALGRIND=$(pgrep -P "${PIDS[-1]}" | head -1)  # `timeout`'s child: the process callgrind_control talks to
[[ -n $VALGRIND ]] || die "valgrind is not running"

calls() { # SECONDS → requests answered (fails on any failed answer)
  local out
  out=$(TOKEN=$TOKEN wrk -t1 -c1 -d"$1"s -s bench/gateway/tools-call.lua "http://127.0.0.1:$SPORT/mcp" 2>"$WORK/wrk.err")
  [[ $(echo "$out" | awk '/^Failures:/ {print $2}') == 0 ]] || die "failed answers: $(head -c 600 "$WORK/wrk.err")"
  echo "$out" | awk '/requests in/ {print $1}'
}
calls 3 >/dev/null
callgrind_control -z "$VALGRIND" >/dev/null 2>&1
requests=$(calls 8)
callgrind_control -d "$VALGRIND" >/dev/null 2>&1
dump=""
for _ in $(seq 100); do
  dump=$(compgen -G "$WORK/callgrind.out.*" | head -1 || true)
  [[ -n $dump ]] && break
  sleep 0.2
done
[[ -n $dump ]] || die "callgrind wrote no dump"
sleep 1  # the dump is complete once callgrind_control returns; this leaves room for a slow file system
total=$(callgrind_annotate "$dump" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}')
[[ -n $total && $requests -gt 0 ]] || die "no count (requests: $requests)"
echo "requests: $requests; instructions per request: $((total / requests)) (user space, all threads)"
if [[ $TOP -gt 0 ]]; then
  # Each function once (recursion entries, marked 'N, left out), its name demangled (`swift demangle`).
  echo "largest inclusive costs per request (ScopeGate's functions):"
  callgrind_annotate --inclusive=yes --threshold=100 "$dump" 2>/dev/null \
    | awk -v n="$requests" -v top="$TOP" '
        /^ *[0-9,]+ \(/ && /:\$s[0-9]+(ScopeGate|scopegate)/ && !/\x27[0-9]+ \[/ && shown < top {
          count = $1; gsub(",", "", count); name = $0; sub(/^.*\?\?\?:/, "", name); sub(/ \[.*$/, "", name)
          printf "%9d  %s\n", count / n, name; shown++ }' \
    | swift demangle --simplified --compact | cut -c1-160
fi
