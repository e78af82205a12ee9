#!/usr/bin/env bash
# scripts/client-interop.sh — the client half against a real authorization server: `scopegate token` and
# `scopegate proxy` with Glewlwyd (scripts/glewlwyd-up.sh) on 127.0.0.1, in bounded time (≈ 1 min once built).
#
#   Resource: `scopegate proxy` with scripts/client-interop/policy.yaml (`publish_requirements: true`) in front of
#             scripts/client-interop/server.py, a dependency-free stdio MCP server with four tools.
#   Client:   `scopegate token` (ScopeGateClient), client credentials.
#
# Checks: discovery from the 401; the public requirements document linked from the resource metadata; the
# `--tools a,b` token's `scope` is exactly `scopegate minimal`'s least set (read back with `scopegate inspect`) and
# both calls succeed with no step-up; `tools/list` carries `_meta["io.scopegate/requires"]` for the listed tools
# only; a 403 on a third tool names the missing scope, one token for the union of held and challenged scopes, then
# success; the token cache holds no token in plain text, files are 0600, a fresh entry is reused and a stale one
# (expired, no refresh token) is dropped and replaced.
# Then the authorization code flow with PKCE, headless: the script plays the browser (Glewlwyd's login API, consent,
# the authorization URL `scopegate token --authorization-code --no-browser` prints) and the token arrives on the
# loopback redirect. Refused with clear messages: a wrong `state` and a redirect one character off (by the client);
# a redirect URI one character off, `code_challenge_method=plain` and a missing `code_verifier` (by Glewlwyd). A
# replayed `state` cannot be sent to one CLI process twice: ScopeGateClient's tests cover it (StateBook). A stale
# cached code-flow token is refreshed without the browser.
#
# Usage: scripts/client-interop.sh [--no-build]    Env: CLIENT_INTEROP_WORKDIR (default: a temp dir).
set -euo pipefail
# shellcheck source=lib/interop.sh
source "$(dirname "$0")/lib/interop.sh"
interop_init client-interop "${CLIENT_INTEROP_WORKDIR:-}"
need_tools glewlwyd sqlite3 curl jq python3

if [[ ${1:-} != --no-build ]]; then
  say "build scopegate and scopegate-gateway"
  timeout 2400 swift build --product scopegate
  timeout 2400 swift build --product scopegate-gateway
fi
BIN=$(swift build --show-bin-path)/scopegate
[[ -x $BIN && -x ${BIN}-gateway ]] || die "scopegate or scopegate-gateway not built under $(dirname "$BIN")"

GPORT=$(free_port); PPORT=$(free_port)
export MCP_RESOURCE="http://127.0.0.1:$PPORT/mcp"
export MCP_ISSUER="http://127.0.0.1:$GPORT/api/oidc"
POLICY=scripts/client-interop/policy.yaml
# Access tokens live 45 s: the token cache treats one as stale 30 s before it expires, so the stale entry is
# reached after 15 s.
TTL=45

say "glewlwyd on 127.0.0.1:$GPORT (audience $MCP_RESOURCE, access tokens $TTL s)"
GLEWLWYD_RESOURCE=$MCP_RESOURCE GLEWLWYD_AT_TTL=$TTL \
  GLEWLWYD_SCOPES="mcp:tools:climate mcp:data:client-info:read read:files admin:system" \
  timeout 60 scripts/glewlwyd-up.sh "$WORK/idp" "$GPORT" >/dev/null
# shellcheck disable=SC1091
source "$WORK/idp/env.sh"
export CLIENT_SECRET=$GLEWLWYD_CLIENT_SECRET

say "scopegate proxy on 127.0.0.1:$PPORT → stdio server"
timeout 600 "$BIN" proxy --policy "$POLICY" --listen "127.0.0.1:$PPORT" \
  --upstream-command "python3 $ROOT/scripts/client-interop/server.py" >"$WORK/proxy.log" 2>&1 &
PIDS+=($!); wait_port "$PPORT" "$!" "$WORK/proxy.log"

token() { timeout 60 "$BIN" token --resource "$MCP_RESOURCE" --client-id "$GLEWLWYD_CLIENT_ID" \
  --client-secret-env CLIENT_SECRET "$@"; }
sorted() { tr ' ' '\n' | sed '/^$/d' | sort | tr '\n' ' ' | sed 's/ $//'; }
# call TOKEN TOOL → the HTTP status; the answer in $WORK/call.body, its headers in $WORK/call.headers.
call() {
  local body
  body=$(printf '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"%s","arguments":{},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientInfo":{"name":"client-interop","version":"1"},"io.modelcontextprotocol/clientCapabilities":{}}}}' "$2")
  curl -s -o "$WORK/call.body" -D "$WORK/call.headers" -w '%{http_code}' -X POST "$MCP_RESOURCE" \
    -H "Authorization: Bearer $1" -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' \
    -H 'MCP-Protocol-Version: 2026-07-28' -H 'Mcp-Method: tools/call' -H "Mcp-Name: $2" -d "$body"
}

say "before any token: the resource metadata links the public requirements document"
PRM=$(curl -sf "http://127.0.0.1:$PPORT/.well-known/oauth-protected-resource/mcp")
DOC_URL=$(jq -r '."io.scopegate/requirements_uri"' <<<"$PRM")
[[ $DOC_URL == "http://127.0.0.1:$PPORT/.well-known/scopegate-requirements/mcp" ]] || die "no requirements link: $PRM"
[[ $(curl -sf "$DOC_URL" | jq -r '.tools | keys | join(",")') == export_report,get_forecast,read_client,read_file ]] \
  || die "the requirements document does not list the four tools"
ok "requirements document at $DOC_URL"

say "scopegate token --tools get_forecast,export_report: exactly the least set"
EXPECTED=$("$BIN" minimal --policy "$POLICY" --tools get_forecast,export_report --format json \
  | jq -r '.answers[0].result.scopes | join(" ")' | sorted)
[[ $EXPECTED == "mcp:data:client-info:read mcp:tools:climate" ]] || die "unexpected least set: $EXPECTED"
OUT=$(token --tools get_forecast,export_report --format json)
[[ $(jq -r .chosen_by <<<"$OUT") == published ]] || die "scopes not planned from the published requirements: $OUT"
TOKEN=$(jq -r .access_token <<<"$OUT")
GRANTED=$("$BIN" inspect "$TOKEN" --query .scope | sorted)
[[ $GRANTED == "$EXPECTED" ]] || die "the token's scope is \`$GRANTED\`, not the least set \`$EXPECTED\`"
ok "scope (scopegate inspect): $GRANTED"
for tool in get_forecast export_report; do
  status=$(call "$TOKEN" "$tool")
  [[ $status == 200 ]] || die "$tool answered $status: $(cat "$WORK/call.body")"
  grep -q "called $tool" "$WORK/call.body" || die "$tool: unexpected answer $(cat "$WORK/call.body")"
done
ok "get_forecast and export_report answered 200, no step-up"

say "tools/list carries each listed tool's requirement, and only the listed tools'"
LIST=$(curl -s -X POST "$MCP_RESOURCE" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
  -H 'Accept: application/json, text/event-stream' -H 'MCP-Protocol-Version: 2026-07-28' -H 'Mcp-Method: tools/list' \
  -d '{"jsonrpc":"2.0","id":2,"method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientInfo":{"name":"client-interop","version":"1"},"io.modelcontextprotocol/clientCapabilities":{}}}}' \
  | sed -n 's/^data: //p;/^{/p' | head -n 1)
[[ $(jq -r '[.result.tools[].name] | sort | join(",")' <<<"$LIST") == export_report,get_forecast,read_client ]] \
  || die "unexpected tools/list: $LIST"
[[ $(jq -r '.result.tools[] | select(.name=="export_report") | ._meta."io.scopegate/requires".requires | map(join("+")) | join(" | ")' <<<"$LIST") \
  == "admin:system | mcp:data:client-info:read" ]] || die "export_report's published clauses: $LIST"
grep -q 'read:files' <<<"$LIST" && die "tools/list mentions read:files, which only the unlisted read_file needs"
ok "_meta[io.scopegate/requires] on the three listed tools; nothing about read_file"

say "a third tool: 403 insufficient_scope → one token for the union → success"
status=$(call "$TOKEN" read_file)
[[ $status == 403 ]] || die "read_file with the least token answered $status"
CHALLENGE=$(grep -i '^www-authenticate:' "$WORK/call.headers" | tr -d '\r')
ASKED=$(sed -n 's/.*scope="\([^"]*\)".*/\1/p' <<<"$CHALLENGE")
grep -q 'insufficient_scope' <<<"$CHALLENGE" && [[ -n $ASKED ]] || die "no insufficient_scope challenge: $CHALLENGE"
UNION=$(printf '%s %s' "$GRANTED" "$ASKED" | sorted | tr ' ' '\n' | uniq | tr '\n' ' ' | sed 's/ $//')
STEPPED=$(token --scopes "$UNION" --format json | jq -r .access_token)
[[ $("$BIN" inspect "$STEPPED" --query .scope | sorted) == "$UNION" ]] || die "the step-up token is not the union"
for tool in read_file get_forecast export_report; do
  status=$(call "$STEPPED" "$tool")
  [[ $status == 200 ]] || die "$tool after the step-up answered $status"
done
ok "challenge asked for \`$ASKED\`; one step-up to \`$UNION\`; all three tools answer 200"

say "the token cache: encrypted, 0600, reused while fresh, a stale entry dropped"
CACHE=$WORK/cache
FIRST=$(token --tools get_forecast --cache --cache-dir "$CACHE")
SECOND=$(token --tools get_forecast --cache --cache-dir "$CACHE")
[[ $FIRST == "$SECOND" ]] || die "a fresh cached token was not reused"
grep -rqF "$FIRST" "$CACHE" && die "the cache holds the token in plain text"
grep -rqF "${FIRST:0:40}" "$CACHE" && die "the cache holds part of the token in plain text"
for file in "$CACHE"/*; do
  [[ $(stat -c %a "$file") == 600 ]] || die "$file has mode $(stat -c %a "$file")"
done
[[ $(find "$CACHE" -name '*.token' | wc -l) == 1 ]] || die "expected one cache entry"
ok "one encrypted entry (no plain-text token), files 0600, reused"
sleep $((TTL - 30 + 1))
THIRD=$(token --tools get_forecast --cache --cache-dir "$CACHE")
[[ $THIRD != "$FIRST" ]] || die "a stale entry was reused"
[[ $(find "$CACHE" -name '*.token' | wc -l) == 1 ]] || die "the stale entry was not replaced"
grep -rqF "$THIRD" "$CACHE" && die "the cache holds the new token in plain text"
[[ $(call "$THIRD" get_forecast) == 200 ]] || die "the replacement token does not work"
ok "the stale entry (no refresh token) was dropped and replaced by a new token"

say "authorization code + PKCE, driven headlessly (this script plays the browser)"
# Glewlwyd reads its plugin parameters at start only: enable the code and refresh grants, PKCE with S256 only,
# give the built-in `admin` user (password `password`) the scopes, add a public client, then restart it.
DB=$WORK/idp/glewlwyd.db
GPID=$(cat "$WORK/idp/glewlwyd.pid")
kill "$GPID"; for _ in $(seq 1 50); do kill -0 "$GPID" 2>/dev/null || break; sleep 0.1; done
PUBLIC=mcp-public
CID="(SELECT gc_id FROM g_client WHERE gc_client_id='$PUBLIC')"
{
  echo "BEGIN;"
  echo "UPDATE g_plugin_module_instance SET gpmi_parameters = json_set(gpmi_parameters,"
  echo "  '\$.\"auth-type-code-enabled\"', json('true'), '\$.\"auth-type-refresh-enabled\"', json('true'),"
  echo "  '\$.\"pkce-allowed\"', json('true'), '\$.\"pkce-method-plain-allowed\"', json('false'),"
  echo "  '\$.\"pkce-required\"', json('true')) WHERE gpmi_name='oidc';"
  for s in mcp:tools:climate mcp:data:client-info:read read:files; do
    # A scope a user is granted must name how the user signs in: the password.
    echo "UPDATE g_scope SET gs_password_required=1, gs_password_max_age=0 WHERE gs_name='$s';"
    echo "INSERT INTO g_user_scope (gus_name) VALUES ('$s');"
    echo "INSERT INTO g_user_scope_user (gu_id, gus_id) VALUES ((SELECT gu_id FROM g_user WHERE gu_username='admin'), (SELECT gus_id FROM g_user_scope WHERE gus_name='$s'));"
  done
  echo "INSERT INTO g_client (gc_client_id, gc_name, gc_description, gc_confidential, gc_enabled) VALUES ('$PUBLIC', 'MCP public client', 'authorization code + PKCE', 0, 1);"
  for p in "authorization_type|code" "authorization_type|refresh_token" "resource|$MCP_RESOURCE"; do
    echo "INSERT INTO g_client_property (gc_id, gcp_name, gcp_value) VALUES ($CID, '${p%%|*}', '${p#*|}');"
  done
  echo "COMMIT;"
} | sqlite3 "$DB"
nohup glewlwyd --config-file="$WORK/idp/glewlwyd.conf" >"$WORK/idp/glewlwyd.log" 2>&1 </dev/null &
echo $! >"$WORK/idp/glewlwyd.pid"
wait_port "$GPORT" "$(cat "$WORK/idp/glewlwyd.pid")" "$WORK/idp/glewlwyd.log"
GBASE="http://127.0.0.1:$GPORT"
JAR=$WORK/cookies
SIGNIN=$(curl -s -w ' %{http_code}' -c "$JAR" -H 'Content-Type: application/json' \
  -d '{"username":"admin","password":"password"}' "$GBASE/api/auth/")
[[ $SIGNIN == *' 200' ]] || die "signing in to Glewlwyd failed: $SIGNIN"
CONSENT=$(curl -s -w ' %{http_code}' -b "$JAR" -X PUT -H 'Content-Type: application/json' \
  -d '{"scope":"mcp:tools:climate mcp:data:client-info:read read:files"}' "$GBASE/api/auth/grant/$PUBLIC/")
[[ $CONSENT == *' 200' ]] || die "giving consent failed: $CONSENT"
param() { python3 -c 'import sys, urllib.parse as u; print(u.parse_qs(u.urlsplit(sys.argv[1]).query)[sys.argv[2]][0])' "$1" "$2"; }

# code_flow ARGS… — starts `scopegate token --authorization-code --no-browser` in the background, reads the URL it
# prints, registers its loopback redirect URI for the client (Glewlwyd matches redirect URIs exactly and reads
# client rows per request), and signs the URL's request in as the browser would: $AUTH_URL, $LOCATION, $CODE_PID.
code_flow() {
  : >"$WORK/code.err"
  timeout 120 "$BIN" token --resource "$MCP_RESOURCE" --client-id "$PUBLIC" --authorization-code --no-browser \
    --timeout 60 "$@" >"$WORK/code.out" 2>"$WORK/code.err" &
  CODE_PID=$!
  for _ in $(seq 1 100); do grep -q 'open this URL' "$WORK/code.err" && break; sleep 0.1; done
  AUTH_URL=$(sed -n 's/^open this URL to authorize: //p' "$WORK/code.err")
  [[ -n $AUTH_URL ]] || die "no authorization URL: $(cat "$WORK/code.err")"
  local redirect; redirect=$(param "$AUTH_URL" redirect_uri)
  [[ $redirect =~ ^http://127\.0\.0\.1:[0-9]+/callback$ ]] || die "not a loopback redirect: $redirect"
  sqlite3 "$DB" "INSERT INTO g_client_property (gc_id, gcp_name, gcp_value) VALUES ($CID, 'redirect_uri', '$redirect');"
  # `g_continue`: what Glewlwyd's login page adds once the user has signed in and consented.
  LOCATION=$(curl -s -b "$JAR" -o /dev/null -w "%{redirect_url}" "$AUTH_URL&g_continue")
  [[ $LOCATION == "$redirect?"* ]] || die "Glewlwyd did not redirect to the loopback URI: $LOCATION"
}

code_flow --tools get_forecast,read_client --format json
[[ $(param "$AUTH_URL" code_challenge_method) == S256 && $(param "$AUTH_URL" resource) == "$MCP_RESOURCE" ]] \
  || die "the authorization request lacks S256 or resource: $AUTH_URL"
[[ $(param "$AUTH_URL" state | tr -d '\n' | wc -c) -ge 43 ]] || die "state shorter than 32 bytes"
curl -s "$LOCATION" >/dev/null || die "the loopback redirect did not answer"
wait "$CODE_PID" || die "the code flow failed: $(cat "$WORK/code.err")"
CODE_TOKEN=$(jq -r .access_token "$WORK/code.out")
[[ $("$BIN" inspect "$CODE_TOKEN" --query .scope | sorted) == "mcp:data:client-info:read mcp:tools:climate" ]] \
  || die "the code flow's token has scope $("$BIN" inspect "$CODE_TOKEN" --query .scope)"
[[ $(call "$CODE_TOKEN" read_client) == 200 ]] || die "read_client with the code flow's token failed"
ok "PKCE S256, state, resource; the token arrived on the loopback redirect with the least set; read_client 200"

say "a stale cached code-flow token is refreshed, with no browser"
code_flow --tools get_forecast --cache --cache-dir "$WORK/code-cache"
curl -s "$LOCATION" >/dev/null
wait "$CODE_PID" || die "the cached code flow failed: $(cat "$WORK/code.err")"
BEFORE=$(cat "$WORK/code.out")
sleep $((TTL - 30 + 1))
AFTER=$(timeout 60 "$BIN" token --resource "$MCP_RESOURCE" --client-id "$PUBLIC" --authorization-code --no-browser \
  --timeout 5 --tools get_forecast --cache --cache-dir "$WORK/code-cache" 2>"$WORK/refresh.err") \
  || die "refreshing the stale entry failed: $(cat "$WORK/refresh.err")"
grep -q 'open this URL' "$WORK/refresh.err" && die "a stale entry with a refresh token sent the user to the browser again"
[[ $AFTER != "$BEFORE" ]] || die "the stale access token was reused"
[[ $(call "$AFTER" get_forecast) == 200 ]] || die "the refreshed token does not work"
ok "expired entry refreshed at the token endpoint (refresh_token grant), no browser; the new token works"

say "refused, each with a clear message"
code_flow --scopes mcp:tools:climate
STATE=$(param "$LOCATION" state)
curl -s "${LOCATION/state=$STATE/state=forged-state}" >/dev/null
wait "$CODE_PID" && die "a wrong state was accepted"
grep -q "does not match the one sent" "$WORK/code.err" || die "wrong state: $(cat "$WORK/code.err")"
ok "wrong state: $(grep error "$WORK/code.err")"
code_flow --scopes mcp:tools:climate
curl -s "${LOCATION/callback/callbacK}" >/dev/null
wait "$CODE_PID" && die "a redirect to another URI was accepted"
grep -q "not to the redirect URI sent" "$WORK/code.err" || die "other redirect: $(cat "$WORK/code.err")"
ok "redirect one character off (client side): $(grep error "$WORK/code.err")"
# The authorization server's side, with a request made by hand (the CLI cannot be made to send these).
REG=$(sqlite3 "$DB" "SELECT gcp_value FROM g_client_property WHERE gcp_name='redirect_uri' LIMIT 1;")
VERIFIER=$(python3 -c 'import secrets; print(secrets.token_urlsafe(32))')
CHALLENGE=$(printf %s "$VERIFIER" | openssl dgst -sha256 -binary | base64 | tr '+/' '-_' | tr -d '=')
authorize() { # REDIRECT METHOD → Location (empty when Glewlwyd refuses without redirecting)
  curl -s -b "$JAR" -o "$WORK/authorize.body" -w '%{http_code} %{redirect_url}' -G "$GBASE/api/oidc/auth" \
    --data-urlencode response_type=code --data-urlencode client_id=$PUBLIC --data-urlencode "redirect_uri=$1" \
    --data-urlencode scope=mcp:tools:climate --data-urlencode state=s --data-urlencode "code_challenge=$CHALLENGE" \
    --data-urlencode "code_challenge_method=$2" --data-urlencode "resource=$MCP_RESOURCE" -d g_continue
}
ANSWER=$(authorize "${REG}x" S256)
[[ $ANSWER != *"code="* ]] || die "Glewlwyd accepted a redirect URI one character longer: $ANSWER"
ok "redirect URI one character off (authorization server): HTTP ${ANSWER%% *}, no code"
ANSWER=$(authorize "$REG" plain)
[[ $ANSWER != *"code="* ]] || die "Glewlwyd issued a code for code_challenge_method=plain: $ANSWER"
ok "code_challenge_method=plain: HTTP ${ANSWER%% *} ${ANSWER#* }"
ANSWER=$(authorize "$REG" S256)
CODE=$(param "${ANSWER#* }" code)
REFUSED=$(curl -s -w ' %{http_code}' "$GBASE/api/oidc/token" -d grant_type=authorization_code -d "code=$CODE" \
  -d client_id=$PUBLIC --data-urlencode "redirect_uri=$REG" --data-urlencode "resource=$MCP_RESOURCE")
[[ $REFUSED != *access_token* ]] || die "a code was redeemed without its code_verifier"
ok "missing code_verifier: $REFUSED"
# The replayed state is refused by ScopeGateClient's StateBook (one process, one state; unit-tested).

say "client interop: all checks passed"
