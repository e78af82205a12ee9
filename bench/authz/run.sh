#!/usr/bin/env bash
# bench/authz/run.sh — how fast `scopegate authz` answers, next to nginx, in one run on this machine:
#   1. throughput: wrk against the decision service (header-only decision, cached token) and against nginx
#      answering `return 200` to the very same request (same wrk settings, same headers);
#   2. added latency: p50 at one connection of nginx `proxy_pass` to a `return 200` upstream, alone and with
#      `auth_request` to the decision service.
# Prints the machine's load before and after (the numbers are only comparable within one run). The two rates are
# measured in ROUNDS alternating rounds (authz, nginx, authz, nginx, …) and each is the median of its rounds: on a
# shared 2-core machine either rate drifts by ±15% over a minute, and alternating keeps a slow spell from landing
# on one side only. Every round's figures are printed, with what each side spent per request in it: user and
# system CPU, and how often another thread took its core (involuntary context switches).
#
# Needs: wrk, nginx, openssl, python3 (apt-get install wrk nginx). Builds the gateway as it is deployed
# (scripts/build-release.sh: release, Swift runtime linked statically) unless SCOPEGATE_GATEWAY names one.
# Env: DURATION (default 10s, per round for the rates), ROUNDS (default 3), CONNECTIONS (default 16), THREADS
# (default 2), SCOPEGATE_GATEWAY (a built gateway), AUTHZ_BENCH_WORKDIR (default: a temp dir).
# Usage: bench/authz/run.sh
set -euo pipefail
source "$(dirname "$0")/../../scripts/lib/interop.sh"
interop_init authz-bench "${AUTHZ_BENCH_WORKDIR:-}"
DURATION=${DURATION:-10s}
ROUNDS=${ROUNDS:-3}
CONNECTIONS=${CONNECTIONS:-16}
THREADS=${THREADS:-2}
need_tools wrk nginx openssl python3

if [[ -n ${SCOPEGATE_GATEWAY:-} ]]; then
  GATEWAY=$SCOPEGATE_GATEWAY
else
  GATEWAY=$(bash scripts/build-release.sh scopegate-gateway)
fi
[[ -x $GATEWAY ]] || die "scopegate-gateway not built ($GATEWAY)"

# A signing key, its JWKS (given to the service with --jwks, so nothing is fetched) and one RS256 token.
ISSUER=https://issuer.bench.invalid
RESOURCE=https://mcp.bench.invalid/mcp
openssl genrsa -out "$WORK/key.pem" 2048 2>/dev/null
python3 - "$WORK" "$ISSUER" "$RESOURCE" <<'PY'
import base64, json, subprocess, sys, time
work, issuer, resource = sys.argv[1:4]
b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
text = subprocess.run(["openssl", "rsa", "-in", f"{work}/key.pem", "-noout", "-modulus"], capture_output=True,
                      text=True, check=True).stdout
n = bytes.fromhex(text.strip().split("=", 1)[1])
json.dump({"keys": [{"kty": "RSA", "kid": "bench", "use": "sig", "alg": "RS256", "n": b64(n), "e": "AQAB"}]},
          open(f"{work}/jwks.json", "w"))
header = b64(json.dumps({"alg": "RS256", "typ": "at+jwt", "kid": "bench"}).encode())
now = int(time.time())
claims = {"iss": issuer, "aud": resource, "sub": "bench-user", "client_id": "bench-client", "scope": "files:read",
          "iat": now, "nbf": now, "exp": now + 3600, "jti": "bench"}
payload = b64(json.dumps(claims).encode())
signature = subprocess.run(["openssl", "dgst", "-sha256", "-sign", f"{work}/key.pem"],
                           input=f"{header}.{payload}".encode(), capture_output=True, check=True).stdout
open(f"{work}/token", "w").write(f"{header}.{payload}.{b64(signature)}")
PY
TOKEN=$(cat "$WORK/token")

APORT=$(free_port); STATIC=$(free_port); UPSTREAM=$(free_port); FRONT=$(free_port)
MCP_RESOURCE=$RESOURCE MCP_ISSUER=$ISSUER MCP_JWKS_URI=$ISSUER/jwks \
  "$GATEWAY" authz --policy examples/authz/policy.yaml --listen "127.0.0.1:$APORT" --jwks "$WORK/jwks.json" \
  >"$WORK/authz.log" 2>&1 &
PIDS+=($!)
AUTHZ_PID=${PIDS[-1]}
wait_port "$APORT" "$AUTHZ_PID" "scopegate authz"

start_nginx "$(cat <<EOF_NGINX
    upstream authz { server 127.0.0.1:$APORT; keepalive 32; }
    upstream mcp { server 127.0.0.1:$UPSTREAM; keepalive 32; }
    # The static answer the decision service is compared with.
    server { listen 127.0.0.1:$STATIC; location / { return 200; } }
    # A canned JSON-RPC result: the MCP server behind the front proxy.
    server {
        listen 127.0.0.1:$UPSTREAM;
        location / { default_type application/json; return 200 '{"jsonrpc":"2.0","id":1,"result":{"content":[]}}'; }
    }
    server {
        listen 127.0.0.1:$FRONT;
        location = /alone { proxy_http_version 1.1; proxy_set_header Connection ""; proxy_pass http://mcp; }
        location = /mcp {
            auth_request /_authz;
            proxy_http_version 1.1; proxy_set_header Connection ""; proxy_set_header Authorization "";
            proxy_pass http://mcp;
        }
        location = /_authz {
            internal;
            proxy_pass http://authz/authz;
            proxy_pass_request_body off; proxy_set_header Content-Length "";
            proxy_set_header X-Original-URI \$request_uri; proxy_set_header X-Original-Method \$request_method;
            proxy_http_version 1.1; proxy_set_header Connection "";
        }
    }
EOF_NGINX
)" "$FRONT"

HEADERS=(-H "Authorization: Bearer $TOKEN" -H 'MCP-Protocol-Version: 2026-07-28' -H 'Mcp-Method: tools/call'
  -H 'Mcp-Name: spend' -H 'Mcp-Param-Amount: 50' -H 'X-Original-Method: POST' -H 'X-Original-URI: /mcp')
# Through nginx: the client's 2026-07-28 POST, body included (wrk sends it with this script).
BODY='{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"spend","arguments":{"amount":50}}}'
printf 'wrk.method = "POST"\nwrk.body = %s\n' "'$BODY'" >"$WORK/post.lua"
check() { # URL EXPECTED [CURL ARGS…]
  local url=$1 expected=$2 status
  shift 2
  status=$(curl -s -o /dev/null -w '%{http_code}' "${HEADERS[@]}" "$@" "$url")
  [[ $status == "$expected" ]] || die "$url answered $status, expected $expected"
}
check "http://127.0.0.1:$APORT/authz" 200
check "http://127.0.0.1:$STATIC/authz" 200
check "http://127.0.0.1:$FRONT/alone" 200 -X POST --data "$BODY"
check "http://127.0.0.1:$FRONT/mcp" 200 -X POST --data "$BODY"
status=$(curl -s -o /dev/null -w '%{http_code}' -X POST --data "$BODY" "http://127.0.0.1:$FRONT/mcp")
[[ $status == 401 ]] || die "nginx let a request without a token through ($status): auth_request is not in force"

rate() { awk '/^Requests\/sec:/ {print $2}' <<<"$1"; }
p50() { awk '/^ +50%/ {print $2}' <<<"$1"; }
micros() { python3 -c 'import sys,re; m=re.match(r"([0-9.]+)(us|ms|s)$", sys.argv[1]); print(round(float(m.group(1))*{"us":1,"ms":1e3,"s":1e6}[m.group(2)]))' "$1"; }

# What each side spends per request in a round: user and system CPU (from /proc/PID/stat, in clock ticks) and
# involuntary context switches (each thread's `nonvoluntary_ctxt_switches`: its core taken by another thread), summed
# over the process's threads (the service) or over nginx's workers.
TICK=$(getconf CLK_TCK)
NGINX_WORKERS=$(pgrep -P "${PIDS[-1]}" | tr '\n' ' ')
cpu_usage() { # PID… → "user_ticks system_ticks involuntary_switches"
  local pid u=0 s=0 n=0 a b c
  for pid in "$@"; do
    read -r a b < <(awk '{print $14, $15}' "/proc/$pid/stat")
    c=$(cat /proc/"$pid"/task/*/status | awk '/^nonvoluntary_ctxt_switches/ {n += $2} END {print n + 0}')
    u=$((u + a)); s=$((s + b)); n=$((n + c))
  done
  echo "$u $s $n"
}
per_request() { # BEFORE AFTER WRK_OUTPUT → "U µs user, S µs system, P preemptions"
  python3 - "$1" "$2" "$(awk '/requests in/ {print $1}' <<<"$3")" "$TICK" <<'PY'
import sys
before, after = (list(map(int, x.split())) for x in sys.argv[1:3])
requests, tick = int(sys.argv[3]), int(sys.argv[4])
d = [b - a for a, b in zip(before, after)]
print(f"{d[0] * 1e6 / tick / requests:.1f} µs user, {d[1] * 1e6 / tick / requests:.1f} µs system, "
      f"{d[2] / requests:.2f} preemptions")
PY
}

echo "machine: $(nproc) cores, $(uname -sr); load before: $(cut -d' ' -f1-3 /proc/loadavg)"
# Warm the token cache and the connections.
wrk -t1 -c1 -d1s "${HEADERS[@]}" "http://127.0.0.1:$APORT/authz" >/dev/null
AUTHZ_RATES=(); NGINX_RATES=(); AUTHZ=""; NGINX=""
for round in $(seq "$ROUNDS"); do
  before=$(cpu_usage "$AUTHZ_PID")
  out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" "${HEADERS[@]}" "http://127.0.0.1:$APORT/authz")
  AUTHZ+=$out; AUTHZ_RATES+=("$(rate "$out")")
  authz_cost=$(per_request "$before" "$(cpu_usage "$AUTHZ_PID")" "$out")
  # shellcheck disable=SC2086  # one argument per worker
  before=$(cpu_usage $NGINX_WORKERS)
  out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" "${HEADERS[@]}" "http://127.0.0.1:$STATIC/authz")
  NGINX+=$out; NGINX_RATES+=("$(rate "$out")")
  # shellcheck disable=SC2086
  nginx_cost=$(per_request "$before" "$(cpu_usage $NGINX_WORKERS)" "$out")
  echo "round $round: authz ${AUTHZ_RATES[-1]} req/s, nginx ${NGINX_RATES[-1]} req/s"
  echo "  per request: authz $authz_cost; nginx $nginx_cost"
done
ALONE=$(wrk -t1 -c1 -d"$DURATION" -s "$WORK/post.lua" "${HEADERS[@]}" --latency "http://127.0.0.1:$FRONT/alone")
WITH=$(wrk -t1 -c1 -d"$DURATION" -s "$WORK/post.lua" "${HEADERS[@]}" --latency "http://127.0.0.1:$FRONT/mcp")
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
grep -q 'Non-2xx' <<<"$AUTHZ$NGINX$ALONE$WITH" && die "a run had non-2xx answers"

median() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
a=$(median "${AUTHZ_RATES[@]}"); n=$(median "${NGINX_RATES[@]}")
alone=$(micros "$(p50 "$ALONE")"); with=$(micros "$(p50 "$WITH")")
echo
echo "| Measure | Value |"
echo "|---|---|"
echo "| scopegate authz, header-only decision, cached token ($THREADS threads, $CONNECTIONS connections, median of $ROUNDS rounds of $DURATION) | $a req/s |"
echo "| nginx \`return 200\`, same request and wrk settings (rounds alternating with authz's) | $n req/s |"
echo "| authz / nginx | $(python3 -c "print(f'{$a/$n:.1%}')") (target ≥ 50%) |"
echo "| p50, nginx proxy_pass alone (1 connection) | $alone µs |"
echo "| p50, nginx proxy_pass with auth_request to authz (1 connection) | $with µs |"
echo "| added p50 | $((with - alone)) µs (target ≤ 200 µs) |"
