#!/usr/bin/env bash
# scripts/gateway-drills.sh — `scopegate proxy` under faults and hostile clients, on 127.0.0.1, with real
# ES256 tokens (a key made here, given to the proxy with --jwks) and a Python upstream with faults on demand
# (scripts/gateway-drills/upstream.py). The client side is scripts/gateway-drills/drills.py; each drill prints
# one JSON row (fault, expected, observed, peak RSS of the proxy, errors, time to recover), collected in
# $WORK/drills.jsonl; docs/reliability.md has the table.
#
# Drills: the upstream never answers; the upstream is killed mid-SSE; slowloris (request heads one byte a
# second); 5,000 idle connections; a 100 MB body (Content-Length and chunked); 10,000 forged tokens; policy
# reloads (atomic rewrite + SIGHUP every 100 ms) during 1,000 streaming calls. Peak RSS is the proxy's VmHWM,
# reset before each drill (/proc/PID/clear_refs). The proxy runs with --upstream-timeout 3 --idle-timeout 20.
# Then the limits step, with curl against a second proxy (--max-streams 2 --max-streams-per-principal 1): a head
# over --max-header-bytes is 431, one over SwiftNIO's parser cap is 400 and closed, a third stream is 503, a
# principal's second is 429, none of them reaches the upstream, and the slots come back (/metrics).
# The stdio drills (child exits, garbage on stdout) are tests: StdioUpstreamTests.
#
# Usage: scripts/gateway-drills.sh [--no-build] [--smoke] [DRILL…]
#   --smoke: smaller counts (500 idle connections, 500 forged tokens, 200 streaming calls, 50 slowloris
#            clients, 20 MB bodies), for CI.
#   DRILL:   never_answers killed_mid_sse slowloris idle_connections big_body invalid_tokens reload_during_streams
#            limits (the curl step; run last)
# Env: GATEWAY_DRILLS_WORKDIR (default: a temp dir), SCOPEGATE_GATEWAY (default: .build/debug/scopegate-gateway).
set -euo pipefail
source "$(dirname "$0")/lib/interop.sh"
interop_init gateway-drills "${GATEWAY_DRILLS_WORKDIR:-}"

build=1
drills=()
only_limits=0
for arg in "$@"; do
  case "$arg" in
    --no-build) build=0 ;;
    --smoke) export DRILLS_SMOKE=1 ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    limits) only_limits=1 ;;
    *) drills+=("$arg") ;;
  esac
done

need_tools curl python3
if ! python3 -c 'import cryptography' 2>/dev/null && [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
  timeout 300 apt-get update -qq && timeout 600 apt-get install -y -qq python3-cryptography >/dev/null || true
fi
python3 -c 'import cryptography' 2>/dev/null || die "python3 needs the cryptography package (apt-get install python3-cryptography)"

# 5,000 idle client sockets plus the proxy's side of each: raise the descriptor limit for both.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
(( $(ulimit -n) >= 12000 )) || die "ulimit -n is $(ulimit -n); the idle-connection drill needs about 11,000"

GATEWAY=${SCOPEGATE_GATEWAY:-$ROOT/.build/debug/scopegate-gateway}
if [[ $build == 1 ]]; then
  say "build scopegate-gateway"
  timeout 3600 swift build --product scopegate-gateway >"$WORK/build.log" 2>&1 || die "swift build failed (see $WORK/build.log)"
fi
[[ -x $GATEWAY ]] || die "no $GATEWAY (build it, or set SCOPEGATE_GATEWAY)"

PROXY_PORT=$(free_port)
UPSTREAM_PORT=$(free_port)
export MCP_ISSUER="https://issuer.drills.example"
export MCP_RESOURCE="http://127.0.0.1:$PROXY_PORT/mcp"
cp scripts/gateway-drills/policy.yaml "$WORK/policy.yaml"
python3 scripts/gateway-drills/drills.py keys "$WORK" "$MCP_ISSUER"

say "proxy on :$PROXY_PORT → upstream :$UPSTREAM_PORT"
"$GATEWAY" proxy --policy "$WORK/policy.yaml" --jwks "$WORK/jwks.json" --listen "127.0.0.1:$PROXY_PORT" \
  --upstream "http://127.0.0.1:$UPSTREAM_PORT/mcp" --upstream-timeout 3 --idle-timeout 20 >"$WORK/proxy.log" 2>&1 &
PROXY_PID=$!
PIDS+=("$PROXY_PID")
wait_port "$PROXY_PORT" "$PROXY_PID" "$WORK/proxy.log"
if [[ $only_limits == 0 || ${#drills[@]} -gt 0 ]]; then
  say "drills (rows in $WORK/drills.jsonl)"
  timeout 900 python3 scripts/gateway-drills/drills.py run "$WORK" "$PROXY_PORT" "$PROXY_PID" "$UPSTREAM_PORT" \
    "$MCP_ISSUER" "$MCP_RESOURCE" "$WORK/policy.yaml" "${drills[@]}" | tee "$WORK/drills.jsonl" \
    || die "a drill failed"
fi
if [[ ${#drills[@]} == 0 || $only_limits == 1 ]]; then
  source scripts/gateway-drills/limits.sh
  limits_step
fi
kill -0 "$PROXY_PID" 2>/dev/null || die "the proxy exited during the drills"
ok "all drills passed; proxy VmRSS now $(awk '/VmRSS/ {print $2 / 1024 " MB"}' "/proc/$PROXY_PID/status")"
