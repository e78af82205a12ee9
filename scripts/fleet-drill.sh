#!/usr/bin/env bash
# scripts/fleet-drill.sh — a fleet of three `scopegate authz` replicas fed by one signed bundle, all on 127.0.0.1
# with free ports and bounded time. Debian's nginx balances the replicas and, as a second instance, serves the
# bundle (static file: ETag and If-None-Match as any web server or CDN does them); Debian's Prometheus scrapes
# every replica's /metrics on its own --metrics-listen address each second; wrk sends a bounded load through the
# balancer. Tokens are RS256 JWTs minted here with openssl and verified by the replicas from a JWKS file (--jwks),
# so no identity provider runs.
#
# Steps and figures (docs/operations.md records a full run):
#   1. publish revision r1, start the replicas (each with --bundle-cache), Prometheus sees r1 on all three;
#   2. under load, publish r2 → every replica activates it within 2 poll intervals (activation times read from
#      Prometheus), and every audited decision is the one its own revision makes (no mix);
#   3. publish a tampered r3, then one signed with another key → every replica refuses both, keeps serving r2, and
#      `scopegate_policy_activation_failures_total{cause="verify"}` rises on each;
#   4. stop the bundle server, restart one replica → it starts from its cache and serves r2;
#   5. kill one replica under load → nginx fails over; the error count is reported; throughout, no request for
#      the tool every revision denies was ever allowed.
#
# Usage: scripts/fleet-drill.sh [--smoke] [--no-build]
#   --smoke: polls every 2 s and loads for 4 s per step (about a minute; CI runs it); default: polls every 5 s
#   and loads for 20 s per step.
# Needs: nginx, prometheus, wrk, openssl, curl, python3 (installed with apt-get when missing and root).
# Env: FLEET_DRILL_WORKDIR (default: a temp dir), SCOPEGATE (a built `scopegate` with `scopegate-gateway` beside
# it; default: built here).
set -euo pipefail
source "$(dirname "$0")/lib/interop.sh"
interop_init fleet-drill "${FLEET_DRILL_WORKDIR:-}"

SMOKE=0 BUILD=1
for arg in "$@"; do
  case $arg in
    --smoke) SMOKE=1 ;;
    --no-build) BUILD=0 ;;
    *) die "unknown argument $arg (usage: scripts/fleet-drill.sh [--smoke] [--no-build])" ;;
  esac
done
if ((SMOKE)); then POLL=2 LOAD=4; else POLL=5 LOAD=20; fi

need_tools nginx prometheus wrk openssl curl python3

if [[ -z ${SCOPEGATE:-} ]]; then
  if ((BUILD)); then
    say "build scopegate and scopegate-gateway"
    timeout 2400 swift build --product scopegate
    timeout 2400 swift build --product scopegate-gateway
  fi
  SCOPEGATE=$(swift build --show-bin-path)/scopegate
fi
[[ -x $SCOPEGATE && -x ${SCOPEGATE}-gateway ]] || die "scopegate or scopegate-gateway not built beside $SCOPEGATE"

LB=$(free_port) BUNDLES=$(free_port) PROM=$(free_port)
REPLICA_PORTS=($(free_port) $(free_port) $(free_port))
METRICS_PORTS=($(free_port) $(free_port) $(free_port))  # each replica's --metrics-listen, which Prometheus scrapes
export DRILL_RESOURCE="http://127.0.0.1:$LB/mcp" DRILL_ISSUER="https://issuer.drill.invalid"
mkdir -p "$WORK/www" "$WORK/keys" "$WORK/policy"
chmod 755 "$WORK" "$WORK/www"  # nginx's workers (www-data) read the bundle; mktemp -d makes the directory 0700

# --- keys and tokens ---------------------------------------------------------------------------------------------
say "keys: bundle signing (Ed25519), another signer, token issuer (RSA)"
openssl genpkey -algorithm ed25519 -out "$WORK/keys/bundle.pem" 2>/dev/null
openssl pkey -in "$WORK/keys/bundle.pem" -pubout -out "$WORK/keys/bundle.pub.pem"
openssl genpkey -algorithm ed25519 -out "$WORK/keys/intruder.pem" 2>/dev/null
openssl genpkey -algorithm rsa -pkeyopt rsa_keygen_bits:2048 -out "$WORK/keys/issuer.pem" 2>/dev/null
python3 - "$WORK/keys/issuer.pem" >"$WORK/keys/jwks.json" <<'EOF'
import base64, json, subprocess, sys
modulus = subprocess.run(["openssl", "rsa", "-in", sys.argv[1], "-noout", "-modulus"], capture_output=True,
                         text=True, check=True).stdout.strip().split("=", 1)[1]
b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
print(json.dumps({"keys": [{"kty": "RSA", "kid": "drill", "alg": "RS256", "use": "sig",
                            "n": b64(bytes.fromhex(modulus)), "e": "AQAB"}]}))
EOF
b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }
mint() { # SCOPE → a JWT valid for an hour
  local now header payload signature
  now=$(date +%s)
  header=$(printf '{"alg":"RS256","typ":"JWT","kid":"drill"}' | b64url)
  payload=$(printf '{"iss":"%s","aud":"%s","sub":"drill-user","client_id":"drill","scope":"%s","iat":%d,"exp":%d}' \
    "$DRILL_ISSUER" "$DRILL_RESOURCE" "$1" "$now" $((now + 3600)) | b64url)
  signature=$(printf '%s.%s' "$header" "$payload" | openssl dgst -sha256 -sign "$WORK/keys/issuer.pem" | b64url)
  printf '%s.%s.%s' "$header" "$payload" "$signature"
}
TOKEN=$(mint drill:read)

# --- bundles -----------------------------------------------------------------------------------------------------
build_bundle() { # REVISION N SIGNING-KEY → $WORK/REVISION.bundle (flip allowed when N is odd)
  local flip=drill:write
  (($2 % 2)) && flip=drill:read
  sed -e "s/@REV@/$1/" -e "s/@FLIP@/$flip/" scripts/fleet-drill/policy.yaml.in >"$WORK/policy/policy.yaml"
  timeout 60 "$SCOPEGATE" bundle build "$WORK/policy/policy.yaml" --revision "$1" -o "$WORK/$1.bundle" >/dev/null
  timeout 60 "$SCOPEGATE" bundle sign "$WORK/$1.bundle" --key "$3" --key-id drill >/dev/null
}
publish() { # FILE: replaced atomically, as a deployment would (nginx serves the old file or the new one)
  cp "$1" "$WORK/www/policy.bundle.tmp" && mv -f "$WORK/www/policy.bundle.tmp" "$WORK/www/policy.bundle"
  PUBLISHED_AT=$(date +%s.%N)
}
build_bundle r1 1 "$WORK/keys/bundle.pem"
build_bundle r2 2 "$WORK/keys/bundle.pem"
build_bundle r3 3 "$WORK/keys/bundle.pem"
build_bundle r3-intruder 3 "$WORK/keys/intruder.pem"
# A tampered r3: one byte of the policy text changed inside the signed archive (`flip:` → `flip;`).
python3 - "$WORK/r3.bundle" "$WORK/r3-tampered.bundle" <<'EOF'
import sys
data = bytearray(open(sys.argv[1], "rb").read())
at = data.find(b"  flip:")
assert at >= 0, "no flip: in the bundle"
data[at + 6] = ord(";")
open(sys.argv[2], "wb").write(bytes(data))
EOF
timeout 60 "$SCOPEGATE" bundle verify "$WORK/r3-tampered.bundle" --key "$WORK/keys/bundle.pub.pem" >/dev/null 2>&1 \
  && die "scopegate bundle verify accepted the tampered bundle"
ok "r1, r2, r3 signed; r3 tampered and r3 signed by another key both fail \`scopegate bundle verify\`"
publish "$WORK/r1.bundle"

# --- the bundle server, the replicas, the balancer, Prometheus ----------------------------------------------------
say "nginx serves the bundle on :$BUNDLES; 3 replicas poll it every ${POLL}s; nginx balances them on :$LB"
bundle_server="    server { listen 127.0.0.1:$BUNDLES; root $WORK/www; }"
WORK="$WORK/bundle-server" start_nginx "$bundle_server" "$BUNDLES"  # its own nginx, so step 4 can stop it alone
BUNDLE_SERVER_PID=${PIDS[-1]}
curl -sf -o /dev/null "http://127.0.0.1:$BUNDLES/policy.bundle" || die "nginx does not serve the bundle"

declare -A REPLICA_PID
start_replica() { # INDEX
  local i=$1 port=${REPLICA_PORTS[$1]} metrics=${METRICS_PORTS[$1]}
  mkdir -p "$WORK/replica$i"
  "$SCOPEGATE" authz --bundle "http://127.0.0.1:$BUNDLES/policy.bundle" --bundle-key "$WORK/keys/bundle.pub.pem" \
    --bundle-poll "$POLL" --bundle-cache "$WORK/replica$i/cache" --jwks "$WORK/keys/jwks.json" \
    --listen "127.0.0.1:$port" --metrics-listen "127.0.0.1:$metrics" --path /authz \
    --audit "$WORK/replica$i/audit.jsonl" >>"$WORK/replica$i.log" 2>&1 &
  REPLICA_PID[$i]=$!
  PIDS+=($!)
  wait_port "$port" "$!" "$WORK/replica$i.log"
  wait_port "$metrics" "${REPLICA_PID[$i]}" "$WORK/replica$i.log"
  [[ $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/readyz") == 200 ]] || die "replica $i not ready"
  [[ $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$metrics/readyz") == 200 ]] \
    || die "replica $i: its metrics listener is not ready"
  [[ $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/metrics") == 404 ]] \
    || die "replica $i serves /metrics on its main listener despite --metrics-listen"
}
for i in 0 1 2; do start_replica "$i"; done
ok "3 replicas ready with r1 (each /readyz 200; /metrics only on each --metrics-listen address)"

upstreams=""
for port in "${REPLICA_PORTS[@]}"; do upstreams+="        server 127.0.0.1:$port max_fails=1 fail_timeout=10s;"$'\n'; done
# A decision has no side effect, so nginx may retry it on another replica (non_idempotent: POSTs too).
start_nginx "    upstream replicas {
$upstreams        keepalive 32;
    }
    server {
        listen 127.0.0.1:$LB;
        location / {
            proxy_pass http://replicas;
            proxy_http_version 1.1;
            proxy_set_header Connection \"\";
            proxy_connect_timeout 1s;
            proxy_next_upstream error timeout non_idempotent;
        }
    }" "$LB"

targets=$(printf '"127.0.0.1:%s",' "${METRICS_PORTS[@]}")
cat >"$WORK/prometheus.yml" <<EOF
global: { scrape_interval: 1s, evaluation_interval: 1s }
scrape_configs:
  - job_name: scopegate
    static_configs: [{ targets: [${targets%,}] }]
EOF
prometheus --config.file="$WORK/prometheus.yml" --storage.tsdb.path="$WORK/prometheus" \
  --web.listen-address="127.0.0.1:$PROM" >"$WORK/prometheus.log" 2>&1 &
PIDS+=($!)
wait_port "$PROM" "$!" "$WORK/prometheus.log"

# promql QUERY → one line per series: `instance value`
promql() {
  curl -s --max-time 5 "http://127.0.0.1:$PROM/api/v1/query" --data-urlencode "query=$1" | python3 -c '
import json, sys
for r in json.load(sys.stdin)["data"]["result"]:
    print(r["metric"].get("instance", "-"), r["value"][1])'
}
# wait_prom QUERY COUNT SECONDS: until QUERY returns COUNT series
wait_prom() {
  local deadline=$((SECONDS + $3))
  while ((SECONDS < deadline)); do
    [[ $(promql "$1" | wc -l) == "$2" ]] && return 0
    sleep 0.5
  done
  promql "$1" >&2
  die "Prometheus: \`$1\` did not reach $2 series within $3 s"
}
wait_prom 'scopegate_policy_info{revision="r1"} == 1' 3 30
ok "Prometheus scrapes 3 replicas, each on r1"

# load TOOL SECONDS NAME: wrk through the balancer in the background; the result line goes to $WORK/NAME.wrk
load() {
  TOKEN=$TOKEN TOOL=$1 timeout $(($2 + 30)) wrk -t1 -c4 -d"$2s" --timeout 5s -s scripts/fleet-drill/load.lua \
    "http://127.0.0.1:$LB/authz" >"$WORK/$3.wrk" 2>&1 &
  LOADS+=($!)
}
wait_loads() { for pid in "${LOADS[@]}"; do wait "$pid" || die "wrk failed: $(cat "$WORK"/*.wrk)"; done; LOADS=(); }
field() { grep -o "$2=[0-9.]*" "$WORK/$1.wrk" | head -n1 | cut -d= -f2; }

# --- 2: a new revision under load --------------------------------------------------------------------------------
say "2. publish r2 under load: every replica activates it within 2 poll intervals (2 × ${POLL}s)"
LOADS=()
load flip $((LOAD + 4 * POLL)) step2-flip
load forbidden $((LOAD + 4 * POLL)) step2-forbidden
sleep 2
publish "$WORK/r2.bundle"
wait_prom 'scopegate_policy_info{revision="r2"} == 1' 3 $((2 * POLL + 5))
lags=$(promql "scopegate_policy_last_activation_timestamp_seconds - $PUBLISHED_AT" | sort)
echo "$lags" | awk '{ printf "    %s activated r2 %.2f s after it was published\n", $1, $2 }'
max_lag=$(echo "$lags" | awk 'BEGIN { m = 0 } { if ($2 > m) m = $2 } END { printf "%.2f", m }')
awk -v m="$max_lag" -v p="$POLL" 'BEGIN { exit !(m > 0 && m <= 2 * p) }' \
  || die "a replica activated r2 after ${max_lag}s, beyond 2 poll intervals"
ok "all 3 replicas on r2, the last ${max_lag}s after publishing (bound: $((2 * POLL))s)"
wait_loads
flip_line=$(grep statuses "$WORK/step2-flip.wrk") forbidden_line=$(grep statuses "$WORK/step2-forbidden.wrk")
echo "    flip:      $flip_line"
echo "    forbidden: $forbidden_line"
[[ $(field step2-forbidden 200) == 0 ]] || die "a request for \`forbidden\` was allowed: $forbidden_line"
[[ $(field step2-flip 200) -gt 0 && $(field step2-flip 403) -gt 0 ]] \
  || die "the load did not span the switch (flip allowed under r1, denied under r2): $flip_line"

sleep 1  # the audit writers flush off the request path
# Every audited decision against the revision that made it: the replicas log `revision=… policy_version=…` for
# each bundle put in force, and every audit event names its policy_version.
python3 - "$WORK" <<'EOF' || die "an audited decision disagrees with its revision"
import glob, json, re, sys
work = sys.argv[1]
expected = {"r1": True, "r2": False}      # whether `flip` is allowed
total = {}
for replica in sorted(glob.glob(work + "/replica*/")):
    name = replica.rstrip("/").rsplit("/", 1)[1]
    versions = {}
    for line in open(work + "/" + name + ".log", errors="replace"):
        if "policy bundle in force" in line:
            rev = re.search(r"revision=(\S+)", line).group(1)
            versions[re.search(r"policy_version=(\S+)", line).group(1)] = rev
    for line in open(replica + "audit.jsonl"):
        event = json.loads(line)
        rev = versions.get(event["policy_version"])
        if rev is None:
            sys.exit(f"{name}: policy_version {event['policy_version']} is not one the replica logged")
        tool, allowed = event["tool"], event["allowed"]
        want = {"stable": True, "forbidden": False, "flip": expected.get(rev)}.get(tool)
        if want is None or allowed != want:
            sys.exit(f"{name}: {tool} decided allowed={allowed} under {rev}")
        total[(rev, tool)] = total.get((rev, tool), 0) + 1
print("    audited decisions by revision and tool:",
      ", ".join(f"{rev}/{tool} {n}" for (rev, tool), n in sorted(total.items())))
EOF
ok "no request decided by a mix of revisions; no \`forbidden\` request allowed"

# --- 3: refused bundles ------------------------------------------------------------------------------------------
say "3. publish a tampered r3, then r3 signed by another key: every replica refuses both and keeps r2"
VERIFY='scopegate_policy_activation_failures_total{cause="verify"}'
LOADS=()
load stable $((LOAD + 2 * POLL)) step3-stable
for variant in tampered intruder; do
  declare -A before=()
  while read -r instance value; do before[$instance]=$value; done < <(promql "$VERIFY")
  publish "$WORK/r3-$variant.bundle"
  deadline=$((SECONDS + 2 * POLL + 5))
  while :; do
    risen=0
    while read -r instance value; do
      awk -v a="$value" -v b="${before[$instance]:-0}" 'BEGIN { exit !(a > b) }' && risen=$((risen + 1))
    done < <(promql "$VERIFY")
    ((risen == 3)) && break
    ((SECONDS < deadline)) || die "r3-$variant: the verify failure count rose on $risen replicas of 3 within $((2 * POLL + 5)) s"
    sleep 0.5
  done
  [[ $(promql 'scopegate_policy_info{revision="r2"} == 1' | wc -l) == 3 ]] || die "a replica left r2 after r3-$variant"
  ok "r3-$variant: refused by all 3 replicas, whose verify failure counts rose ($(promql "sum($VERIFY)" | awk '{ print $2 }') in all), all still on r2"
done
wait_loads
stable_line=$(grep statuses "$WORK/step3-stable.wrk")
echo "    stable during the refusals: $stable_line"
[[ $(field step3-stable other) == 0 && $(field step3-stable 403) == 0 ]] || die "requests failed while refusing: $stable_line"
grep -h "policy bundle not put in force" "$WORK"/replica0.log | tail -n 1 | sed 's/^/    replica0: /'

# --- 4: restart with the bundle server down ----------------------------------------------------------------------
say "4. stop the bundle server and restart replica 0: it starts from its cache with r2"
kill "$BUNDLE_SERVER_PID" && wait "$BUNDLE_SERVER_PID" 2>/dev/null || true
curl -s --max-time 2 -o /dev/null "http://127.0.0.1:$BUNDLES/policy.bundle" && die "the bundle server still answers"
kill "${REPLICA_PID[0]}" && wait "${REPLICA_PID[0]}" 2>/dev/null || true
start_replica 0
curl -s "http://127.0.0.1:${METRICS_PORTS[0]}/metrics" | grep -q 'scopegate_policy_info{revision="r2"} 1' \
  || die "replica 0 did not start with r2 from its cache"
grep -q "from=cache" "$WORK/replica0.log" || die "replica 0 did not say it started from the cache"
status=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $TOKEN" \
  -H 'MCP-Protocol-Version: 2026-07-28' -H 'Mcp-Method: tools/call' -H 'Mcp-Name: flip' \
  "http://127.0.0.1:${REPLICA_PORTS[0]}/authz")
[[ $status == 403 ]] || die "replica 0 answered $status for flip (r2 denies it)"
ok "replica 0 restarted without the bundle server: r2 from its cache, flip denied as r2 says"

# --- 5: a replica dies under load --------------------------------------------------------------------------------
say "5. kill replica 1 under load: nginx fails over"
LOADS=()
load stable "$LOAD" step5-stable
load forbidden "$LOAD" step5-forbidden
sleep $((LOAD / 3))
{ kill -9 "${REPLICA_PID[1]}" && wait "${REPLICA_PID[1]}"; } 2>/dev/null || true
wait_loads
stable_line=$(grep statuses "$WORK/step5-stable.wrk") forbidden_line=$(grep statuses "$WORK/step5-forbidden.wrk")
echo "    stable:    $stable_line"
echo "    forbidden: $forbidden_line"
[[ $(field step5-forbidden 200) == 0 ]] || die "a request for \`forbidden\` was allowed during failover"
errors=$(($(field step5-stable other) + $(field step5-stable connect) + $(field step5-stable read) + $(field step5-stable timeout)))
ok "failover: $errors failed of $(($(field step5-stable 200) + errors)) \`stable\` requests; \`forbidden\` never allowed"

say "fleet drill passed (poll ${POLL}s, load ${LOAD}s per step)"
