#!/usr/bin/env bash
# scripts/authz-interop.sh — `scopegate authz` behind real front proxies: Debian's nginx 1.22 (auth_request) and
# Caddy 2.6 (forward_auth), each in front of a stand-in MCP server (scripts/authz-interop/upstream.py, which logs
# what reaches it), with Glewlwyd tokens, all on 127.0.0.1 with free ports and bounded time. The nginx and Caddy
# configurations are examples/nginx/nginx.conf and examples/caddy/Caddyfile with the ports filled in; the policy
# is examples/authz/policy.yaml. Requests are 2026-07-28-shaped, sent with curl. Envoy is not packaged here: its
# ext_authz requests (body forwarded, examples/envoy/ext_authz.yaml) are sent to the service with curl.
# Fails loudly on any difference. Usage: scripts/authz-interop.sh [--no-build]
#
# Needs: nginx, caddy, glewlwyd, sqlite3, openssl, curl, python3 (installed with apt-get when missing and root).
# Env: AUTHZ_INTEROP_WORKDIR (default: a temp dir), SCRATCH (default .build), SCOPEGATE_GATEWAY (a built
# scopegate-gateway; default: built here).
set -euo pipefail
source "$(dirname "$0")/lib/interop.sh"
interop_init authz-interop "${AUTHZ_INTEROP_WORKDIR:-}"
SCRATCH=${SCRATCH:-.build}

say "dependencies"
need_tools nginx caddy glewlwyd sqlite3 openssl curl
nginx -V 2>&1 | grep -q -- --with-http_auth_request_module || die "this nginx lacks auth_request"
ok "$(nginx -v 2>&1), caddy $(caddy version | cut -d' ' -f1)"

if [[ -n ${SCOPEGATE_GATEWAY:-} ]]; then
  GATEWAY=$SCOPEGATE_GATEWAY
else
  if [[ ${1:-} != --no-build ]]; then
    say "build scopegate-gateway"
    timeout 2400 swift build --scratch-path "$SCRATCH" --product scopegate-gateway
  fi
  GATEWAY=$(swift build --scratch-path "$SCRATCH" --show-bin-path)/scopegate-gateway
fi
[[ -x $GATEWAY ]] || die "scopegate-gateway not built ($GATEWAY)"

GPORT=$(free_port); APORT=$(free_port); UPORT=$(free_port); NPORT=$(free_port); CPORT=$(free_port)
RESOURCE=https://mcp.test/mcp

say "glewlwyd on 127.0.0.1:$GPORT"
GLEWLWYD_RESOURCE=$RESOURCE GLEWLWYD_SCOPES="files:read files:write budget:approve" \
  timeout 60 scripts/glewlwyd-up.sh "$WORK/idp" "$GPORT" >/dev/null
# shellcheck disable=SC1091
source "$WORK/idp/env.sh"

token() { # SCOPE…
  local answer
  answer=$(curl -s --max-time 10 -u "$GLEWLWYD_CLIENT_ID:$GLEWLWYD_CLIENT_SECRET" -d grant_type=client_credentials \
    --data-urlencode "scope=$*" --data-urlencode "resource=$RESOURCE" "$GLEWLWYD_TOKEN_ENDPOINT")
  python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])' <<<"$answer" \
    || die "glewlwyd issued no token for scope=$*: $answer"
}
READER=$(token files:read)
APPROVER=$(token files:read budget:approve)
ok "tokens for files:read and files:read budget:approve"

say "scopegate authz on 127.0.0.1:$APORT (examples/authz/policy.yaml)"
MCP_RESOURCE=$RESOURCE MCP_ISSUER=$GLEWLWYD_ISSUER MCP_JWKS_URI=$GLEWLWYD_JWKS_URL \
  timeout 900 "$GATEWAY" authz --policy examples/authz/policy.yaml --listen "127.0.0.1:$APORT" \
  >"$WORK/authz.log" 2>&1 &
PIDS+=($!)
wait_port "$APORT" "${PIDS[-1]}" "scopegate authz"
grep -q 'spend: amount (number; when) → Mcp-Param-amount' "$WORK/authz.log" \
  || die "the start-up report does not list spend's amount argument"
ok "start-up report lists the arguments to mark with x-mcp-header"

say "stand-in MCP server on 127.0.0.1:$UPORT"
timeout 900 python3 scripts/authz-interop/upstream.py "$UPORT" "$WORK/upstream.log" &
PIDS+=($!)
wait_port "$UPORT" "${PIDS[-1]}" "the stand-in MCP server"
touch "$WORK/upstream.log"

say "nginx on 127.0.0.1:$NPORT (examples/nginx/nginx.conf)"
mkdir -p "$WORK/nginx"
{
  echo "daemon off; pid $WORK/nginx/nginx.pid; error_log $WORK/nginx-error.log warn;"
  sed -e "s/127\.0\.0\.1:8081/127.0.0.1:$APORT/; s/127\.0\.0\.1:9000/127.0.0.1:$UPORT/" \
    -e "s/listen 8080;/listen 127.0.0.1:$NPORT;/" -e "s/^worker_processes auto;/worker_processes 1;/" \
    -e "s|^http {|http {\n    access_log off; client_body_temp_path $WORK/nginx/body; proxy_temp_path $WORK/nginx/proxy;\n    fastcgi_temp_path $WORK/nginx/fcgi; uwsgi_temp_path $WORK/nginx/uwsgi; scgi_temp_path $WORK/nginx/scgi;|" \
    examples/nginx/nginx.conf
} >"$WORK/nginx.conf"
nginx -t -q -c "$WORK/nginx.conf" -p "$WORK/nginx" 2>"$WORK/nginx-error.log" || { cat "$WORK/nginx-error.log" >&2; die "nginx rejects the example configuration"; }
timeout 900 nginx -c "$WORK/nginx.conf" -p "$WORK/nginx" &
PIDS+=($!)
wait_port "$NPORT" "${PIDS[-1]}" nginx

say "caddy on 127.0.0.1:$CPORT (examples/caddy/Caddyfile)"
sed -e "s/127\.0\.0\.1:8081/127.0.0.1:$APORT/g; s/127\.0\.0\.1:9000/127.0.0.1:$UPORT/" \
  -e "s/^:8080 {/http:\/\/127.0.0.1:$CPORT {/" -e "s|^\tauto_https off|\tauto_https off\n\tstorage file_system $WORK/caddy-data|" \
  examples/caddy/Caddyfile >"$WORK/Caddyfile"
HOME=$WORK XDG_DATA_HOME=$WORK XDG_CONFIG_HOME=$WORK timeout 900 caddy run --config "$WORK/Caddyfile" --adapter caddyfile \
  >"$WORK/caddy.log" 2>&1 &
PIDS+=($!)
wait_port "$CPORT" "${PIDS[-1]}" caddy

# call URL NAME|- ARGS_JSON TOKEN|- [HEADER…]: a 2026-07-28 tools/call; sets STATUS, HEADERS (file), BODY.
call() {
  local url=$1 name=$2 args=$3 tok=$4
  shift 4
  local h=(-H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream'
    -H 'MCP-Protocol-Version: 2026-07-28' -H 'Mcp-Method: tools/call')
  [[ $name != - ]] && h+=(-H "Mcp-Name: $name")
  [[ $tok != - ]] && h+=(-H "Authorization: Bearer $tok")
  for extra in "$@"; do h+=(-H "$extra"); done
  local body="{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"${name#-}\",\"arguments\":$args}}"
  STATUS=$(curl -s --max-time 10 -o "$WORK/body" -D "$WORK/headers" -w '%{http_code}' -X POST "${h[@]}" --data "$body" "$url")
  BODY=$(cat "$WORK/body")
}
header() { grep -i "^$1:" "$WORK/headers" | head -n 1 | cut -d' ' -f2- | tr -d '\r'; }
expect_status() { [[ $STATUS == "$1" ]] || die "$2: status $STATUS, expected $1 (body: $BODY; headers: $(tr -d '\r' <"$WORK/headers" | tr '\n' '|'))"; }
reached() { wc -l <"$WORK/upstream.log" | tr -d ' '; }
expect_not_reached() { [[ $(reached) == "$1" ]] || die "$2 reached the upstream"; }

for front in nginx caddy; do
  if [[ $front == nginx ]]; then URL="http://127.0.0.1:$NPORT/mcp"; else URL="http://127.0.0.1:$CPORT/mcp"; fi
  say "through $front ($URL)"

  before=$(reached)
  call "$URL" read_file '{"path":"/tmp/x"}' "$READER" 'X-ScopeGate-Subject: spoofed'
  expect_status 200 "$front: allowed call"
  [[ $(reached) == $((before + 1)) ]] || die "$front: the allowed call did not reach the upstream"
  last=$(tail -n 1 "$WORK/upstream.log")
  python3 - "$last" "$READER" <<'PY' || die "$front: what reached the upstream is wrong: $last"
import json, sys
entry, token = json.loads(sys.argv[1]), sys.argv[2]
h = entry["headers"]
assert '"read_file"' in entry["body"], "body"
assert "authorization" not in h, "the client's Authorization header reached the upstream"
assert token not in json.dumps(entry), "the token reached the upstream"
assert h.get("x-scopegate-scopes") == "files:read", ("scopes", h.get("x-scopegate-scopes"))
assert h.get("x-scopegate-subject") != "spoofed", "a client-sent X-ScopeGate-Subject got through"
assert h.get("mcp-name") == "read_file", "Mcp-Name"
PY
  ok "allowed call reached the upstream with X-ScopeGate-Scopes, without the token or a spoofed subject"

  before=$(reached)
  call "$URL" write_file '{"path":"/tmp/x"}' "$READER"
  expect_status 403 "$front: denied call"
  challenge=$(header WWW-Authenticate)
  [[ $challenge == *'error="insufficient_scope"'* && $challenge == *'scope="files:write"'* ]] \
    || die "$front: 403 challenge is \`$challenge\`"
  [[ $(grep -ci '^WWW-Authenticate:' "$WORK/headers") == 1 ]] || die "$front: 403 carries the challenge more than once"
  expect_not_reached "$before" "$front: the denied call"
  ok "denied call → 403 $challenge"

  call "$URL" read_file '{}' -
  expect_status 401 "$front: no token"
  challenge=$(header WWW-Authenticate)
  [[ $challenge == *'resource_metadata="https://mcp.test/.well-known/oauth-protected-resource/mcp"'* ]] \
    || die "$front: 401 challenge is \`$challenge\`"
  [[ $(grep -ci '^WWW-Authenticate:' "$WORK/headers") == 1 ]] || die "$front: 401 carries the challenge more than once"
  expect_not_reached "$before" "$front: the call without a token"
  ok "no token → 401 $challenge"

  call "$URL" spend '{"amount":500}' "$READER" 'Mcp-Param-Amount: 500'
  expect_status 403 "$front: spend 500 with files:read"
  challenge=$(header WWW-Authenticate)
  [[ $challenge == *'scope="budget:approve files:read"'* ]] || die "$front: when: challenge is \`$challenge\`"
  expect_not_reached "$before" "$front: spend 500 with files:read"
  call "$URL" spend '{"amount":50}' "$READER" 'Mcp-Param-Amount: 50'
  expect_status 200 "$front: spend 50 with files:read"
  call "$URL" spend '{"amount":500}' "$APPROVER" 'mcp-param-amount: 500'
  expect_status 200 "$front: spend 500 with budget:approve"
  before=$(reached)
  ok "when: amount > 100 decided from Mcp-Param-Amount (403 $challenge; 50 and an approver's 500 allowed)"

  call "$URL" spend '{"amount":500}' "$READER"
  expect_status 403 "$front: spend without Mcp-Param-Amount"
  [[ $(header X-ScopeGate-Reason) == missing_header ]] || die "$front: reason is $(header X-ScopeGate-Reason)"
  expect_not_reached "$before" "$front: spend without its argument header"
  ok "an argument without its header → 403 missing_header"

  call "$URL" - '{}' "$READER"
  expect_status 400 "$front: a call without Mcp-Name"
  [[ $BODY == *-32020* ]] || die "$front: the refusal of a call without Mcp-Name is \`$BODY\`"
  expect_not_reached "$before" "$front: the call without Mcp-Name"
  ok "a call without Mcp-Name → 400 $BODY"

  STATUS=$(curl -s --max-time 10 -o "$WORK/body" -X POST -H 'MCP-Protocol-Version: 2025-11-25' \
    -H "Authorization: Bearer $READER" -H 'Content-Type: application/json' \
    --data '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"read_file"}}' "$URL" -w '%{http_code}')
  [[ $STATUS == 400 ]] || die "$front: a 2025-11-25 call got $STATUS"
  expect_not_reached "$before" "$front: the 2025-11-25 call"
  ok "a 2025-11-25 call (no Mcp-* headers) → 400"

  STATUS=$(curl -s --max-time 10 -o "$WORK/body" -w '%{http_code}' "${URL%/mcp}/.well-known/oauth-protected-resource/mcp")
  [[ $STATUS == 200 ]] && grep -q '"resource":"https://mcp.test/mcp"' "$WORK/body" \
    || die "$front: Protected Resource Metadata: $STATUS $(cat "$WORK/body")"
  ok "Protected Resource Metadata served through $front"
done

say "Envoy ext_authz-shaped requests (body forwarded; examples/envoy/ext_authz.yaml)"
ENVOY="http://127.0.0.1:$APORT/authz/mcp"
call "$ENVOY" read_file '{"path":"/tmp/x"}' "$READER"
expect_status 200 "envoy: allowed call"
[[ $(header X-ScopeGate-Scopes) == files:read ]] || die "envoy: X-ScopeGate-Scopes is $(header X-ScopeGate-Scopes)"
ok "allowed call → 200 with X-ScopeGate-Scopes"
call "$ENVOY" spend '{"amount":500}' "$READER" 'Mcp-Param-Amount: 50'
expect_status 400 "envoy: Mcp-Param-Amount disagrees with the body"
[[ $BODY == *-32020* ]] || die "envoy: mismatch body is \`$BODY\`"
ok "header/body mismatch → 400 -32020"
STATUS=$(curl -s --max-time 10 -o "$WORK/body" -D "$WORK/headers" -w '%{http_code}' -X POST \
  -H 'Content-Type: application/json' -H 'MCP-Protocol-Version: 2026-07-28' -H 'Mcp-Method: tools/call' \
  -H 'Mcp-Name: read_file' -H "Authorization: Bearer $READER" \
  --data '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"write_file","arguments":{}}}' "$ENVOY")
[[ $STATUS == 400 ]] || die "envoy: Mcp-Name read_file with a write_file body got $STATUS"
ok "Mcp-Name that disagrees with the body's name → 400"
call "$ENVOY" spend '{"amount":500}' "$READER"
expect_status 403 "envoy: spend 500 decided from the body"
[[ $(header WWW-Authenticate) == *'scope="budget:approve files:read"'* ]] || die "envoy: challenge $(header WWW-Authenticate)"
ok "with the body, the argument needs no header: 403 $(header WWW-Authenticate | cut -c1-60)…"

say "caddy 2.6 copy_headers when the answer lacks a header"
grep -q '"x-scopegate-client": ""\|"x-scopegate-client": "' "$WORK/upstream.log" || die "no X-ScopeGate-Client reached the upstream"
! grep -q 'http.reverse_proxy.header' "$WORK/upstream.log" || die "a Caddy placeholder reached the upstream"
ok "no literal placeholder reached the upstream (the service always sends all three headers)"

say "the service's requests to the identity provider"
idp=$(curl -s --max-time 5 "http://127.0.0.1:$APORT/metrics" | grep '^scopegate_idp_requests_total{kind="jwks"' || true)
[[ $idp == *'status="200"}'* ]] || die "no JWKS fetch counted in scopegate_idp_requests_total: ${idp:-none}"
ok "Glewlwyd's JWKS fetched (AsyncHTTPClient) and counted: $idp"

echo
echo "authz-interop: OK (work dir $WORK)"
