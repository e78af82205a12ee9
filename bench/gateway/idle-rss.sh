#!/usr/bin/env bash
# bench/gateway/idle-rss.sh — the idle RSS of `scopegate proxy` (issue 20: ≤ 40 MB), and what it is made of.
#
# Starts the release `scopegate-gateway proxy` on examples/gateway/policy.yaml with a JWKS file (an RSA key made
# here) and an upstream that is not there (127.0.0.1:9), leaves it idle for 5 s, then prints VmRSS from
# /proc/PID/status, the totals of /proc/PID/smaps_rollup, and the resident memory of each mapped file (and of
# anonymous memory) from /proc/PID/smaps. Repeats RUNS times (default 3), a new process each time, and checks
# that the process maps neither libFoundationNetworking nor libcurl.
#
# Usage: bench/gateway/idle-rss.sh [RUNS]
# Env: SCOPEGATE_GATEWAY (a release scopegate-gateway; default: built by scripts/build-release.sh).
set -euo pipefail
source "$(dirname "$0")/../../scripts/lib/interop.sh"
interop_init gateway-idle-rss "${GATEWAY_BENCH_WORKDIR:-}"
RUNS=${1:-3}
need_tools openssl python3
GATEWAY=${SCOPEGATE_GATEWAY:-$(bash scripts/build-release.sh scopegate-gateway)}
openssl genrsa -out "$WORK/key.pem" 2048 2>/dev/null
modulus=$(openssl rsa -in "$WORK/key.pem" -noout -modulus | cut -d= -f2)
python3 - "$modulus" >"$WORK/jwks.json" <<'PY'
import base64, json, sys
n = bytes.fromhex(sys.argv[1])
b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
print(json.dumps({"keys": [{"kty": "RSA", "kid": "idle", "use": "sig", "alg": "RS256", "n": b64(n), "e": "AQAB"}]}))
PY
export MCP_ISSUER=https://bench.invalid/issuer

for run in $(seq 1 "$RUNS"); do
  port=$(free_port)
  export MCP_RESOURCE="http://127.0.0.1:$port/mcp"
  "$GATEWAY" proxy --policy examples/gateway/policy.yaml --jwks "$WORK/jwks.json" --listen "127.0.0.1:$port" \
    --upstream http://127.0.0.1:9/mcp >"$WORK/gateway.log" 2>&1 &
  pid=$!
  PIDS+=("$pid")
  wait_port "$port" "$pid" "$WORK/gateway.log"
  sleep 5
  say "run $run: PID $pid"
  grep -E '^(VmRSS|Threads)' "/proc/$pid/status"
  grep -E '^(Rss|Pss|Anonymous):' "/proc/$pid/smaps_rollup"
  if grep -qE 'libFoundationNetworking|libcurl' "/proc/$pid/maps"; then
    echo "maps libFoundationNetworking or libcurl"
  else
    echo "maps neither libFoundationNetworking nor libcurl"
  fi
  if [[ $run == 1 ]]; then
    echo "resident kB by mapping (largest first):"
    awk '/^[0-9a-f]+-[0-9a-f]+ / { name = (NF >= 6) ? $6 : "[anonymous]"; sub(".*/", "", name) }
         /^Rss:/ { rss[name] += $2 }
         END { for (n in rss) if (rss[n] > 0) printf "%8d  %s\n", rss[n], n }' "/proc/$pid/smaps" | sort -rn
  fi
  kill "$pid"
  wait "$pid" 2>/dev/null || true
done
