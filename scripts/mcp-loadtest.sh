#!/usr/bin/env bash
# scripts/mcp-loadtest.sh — loopback load test of tools/call on the example server, authorization on vs off.
# Bounded: each run is `wrk -d DURATION` under `timeout`; the servers are stopped at exit.
# Usage: scripts/mcp-loadtest.sh [DURATION_SECONDS=10] [CONNECTIONS=16]   (env CONFIG=release|debug, default release;
#        ROUNDS=N: N alternating off/on rounds against the same two servers, then a table with medians)
# Needs wrk (apt-get install wrk). The token is signed by a throwaway key served as a static JWKS file.
# PROFILE=1: run each server under `perf record -g` (needs perf); the profiles are left in the results folder
# (`perf report -i <folder>/on.perf --no-children`).
set -euo pipefail
export SWIFT_BACKTRACE=enable=no
cd "$(dirname "$0")/.."
DURATION=${1:-10}
CONNECTIONS=${2:-16}
CONFIG=${CONFIG:-release}
ROUNDS=${ROUNDS:-1}
SCRATCH=${SCRATCH:-.build-mcp}
WORK=$(mktemp -d /tmp/scopegate-load.XXXXXX)
command -v wrk >/dev/null || { echo "wrk not installed (apt-get install wrk)" >&2; exit 2; }
timeout 2400 swift build --scratch-path "$SCRATCH" -c "$CONFIG" --product climate-server >/dev/null
BIN=$(swift build --scratch-path "$SCRATCH" -c "$CONFIG" --product climate-server --show-bin-path)/climate-server

PIDS=()
cleanup() { local rc=$?; set +e; for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; exit "$rc"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

# A throwaway RSA key, a JWKS served by a tiny loopback HTTP server, and a token for the resource.
ISSUER_PORT=$(free_port)
ISSUER="http://127.0.0.1:$ISSUER_PORT"
openssl genrsa -out "$WORK/key.pem" 2048 2>/dev/null
python3 - "$WORK" "$ISSUER" <<'PY'
import base64, json, subprocess, sys
work, issuer = sys.argv[1], sys.argv[2]
def b64(b): return base64.urlsafe_b64encode(b).rstrip(b"=").decode()
mod = subprocess.check_output(["openssl", "rsa", "-in", f"{work}/key.pem", "-noout", "-modulus"]).decode().split("=")[1].strip()
n = bytes.fromhex(mod)
json.dump({"keys": [{"kty": "RSA", "kid": "load", "alg": "RS256", "use": "sig", "n": b64(n), "e": b64((65537).to_bytes(3, "big"))}]},
          open(f"{work}/jwks", "w"))
PY
timeout $((DURATION * 4 + 120)) python3 -m http.server "$ISSUER_PORT" --bind 127.0.0.1 --directory "$WORK" >/dev/null 2>&1 &
PIDS+=($!)

declare -A URL HEADER
start_server() {  # start_server NAME AUTHZ
  local port; port=$(free_port)
  local resource="http://127.0.0.1:$port/mcp"
  local token; token=$(python3 - "$WORK" "$ISSUER" "$resource" <<'PY'
import base64, json, subprocess, sys, time
work, issuer, resource = sys.argv[1:4]
def b64(b): return base64.urlsafe_b64encode(b).rstrip(b"=").decode()
now = int(time.time())
header = b64(json.dumps({"alg": "RS256", "typ": "at+jwt", "kid": "load"}).encode())
claims = b64(json.dumps({"iss": issuer, "aud": resource, "sub": "load", "client_id": "load", "scope": "mcp:tools:climate",
                          "iat": now, "exp": now + 3600, "jti": "load-1"}).encode())
signing = (header + "." + claims).encode()
sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", f"{work}/key.pem"], input=signing, capture_output=True, check=True).stdout
print(header + "." + claims + "." + b64(sig))
PY
)
  local launcher=()
  [[ ${PROFILE:-0} == 1 ]] && launcher=(perf record -F 1999 -g -o "$WORK/$1.perf" --)
  SCOPEGATE_AUTHZ=$2 MCP_RESOURCE=$resource MCP_ISSUER=$ISSUER MCP_JWKS_URI=$ISSUER/jwks PORT=$port LOG_LEVEL=warning \
    timeout -s INT $(( (DURATION + 15) * ROUNDS * 2 + 60)) "${launcher[@]}" "$BIN" 2>"$WORK/$1.log" &
  PIDS+=($!)
  for _ in $(seq 1 200); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.05; done
  URL[$1]=$resource
  HEADER[$1]="Authorization: Bearer $token"
  # Sanity: one request must succeed.
  local status; status=$(curl -s -o /dev/null -w '%{http_code}' -H "Content-Type: application/json" \
    -H "Accept: application/json, text/event-stream" -H "${HEADER[$1]}" \
    -d '{"jsonrpc":"2.0","id":"warm","method":"tools/call","params":{"name":"get_forecast","arguments":{"location":"x"}}}' "$resource")
  [[ $status == 200 ]] || { echo "$1: warm-up request got $status" >&2; cat "$WORK/$1.log" >&2; exit 1; }
}

bench() {  # bench NAME ROUND
  echo "== $1, round $2 ($CONNECTIONS connections, ${DURATION}s, $CONFIG build)"
  timeout $((DURATION + 30)) wrk -t "$(( CONNECTIONS < 2 ? 1 : 2 ))" -c "$CONNECTIONS" -d "${DURATION}s" --latency -s scripts/interop/tools-call.lua \
    -H "Content-Type: application/json" -H "Accept: application/json, text/event-stream" -H "${HEADER[$1]}" \
    "${URL[$1]}" | tee "$WORK/$1.$2.wrk"
}

start_server off off
start_server on on
# Rounds alternate the order (off→on, then on→off, …) so that drift in the machine's speed hits both alike.
for round in $(seq 1 "$ROUNDS"); do
  if (( round % 2 )); then bench off "$round"; bench on "$round"; else bench on "$round"; bench off "$round"; fi
done
python3 - "$WORK" "$ROUNDS" <<'PY'
import re, statistics, sys
work, rounds = sys.argv[1], int(sys.argv[2])
def ms(text, pct):
    m = re.search(r"^\s*%s%%\s+([\d.]+)(us|ms|s)\b" % pct, text, re.M)
    v = float(m.group(1)); return v / 1000 if m.group(2) == "us" else v * 1000 if m.group(2) == "s" else v
def read(name, r):
    text = open(f"{work}/{name}.{r}.wrk").read()
    return float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1)), ms(text, 50), ms(text, 99)
rows = {n: [read(n, r) for r in range(1, rounds + 1)] for n in ("off", "on")}
print("\n| round | off: req/s | off: p50 / p99 | on: req/s | on: p50 / p99 | on vs off: req/s, p50 |")
print("| --- | ---: | ---: | ---: | ---: | ---: |")
ratios = []
for r in range(rounds):
    a, b = rows["off"][r], rows["on"][r]
    ratios.append((b[0] / a[0] - 1, b[1] / a[1] - 1))
    print(f"| {r + 1} | {a[0]:,.0f} | {a[1]:.2f} / {a[2]:.2f} ms | {b[0]:,.0f} | {b[1]:.2f} / {b[2]:.2f} ms "
          f"| {100 * ratios[-1][0]:+.1f} %, {100 * ratios[-1][1]:+.1f} % |")
med = {n: [statistics.median(x[i] for x in rows[n]) for i in range(3)] for n in rows}
o, n = med["off"], med["on"]
print(f"| median | {o[0]:,.0f} | {o[1]:.2f} / {o[2]:.2f} ms | {n[0]:,.0f} | {n[1]:.2f} / {n[2]:.2f} ms "
      f"| {100 * statistics.median(x[0] for x in ratios):+.1f} %, {100 * statistics.median(x[1] for x in ratios):+.1f} % |")
print(f"\noverhead of the medians: {100 * (n[0] / o[0] - 1):+.1f} % req/s, {100 * (n[1] / o[1] - 1):+.1f} % p50 "
      f"({1000 * (n[1] - o[1]):+.0f} us), {100 * (n[2] / o[2] - 1):+.1f} % p99")
PY
echo "results in $WORK"
