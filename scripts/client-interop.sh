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
#
# The authorization code flow (PKCE, state, loopback redirect, the refusals) is covered by ScopeGateClient's unit
# tests; Glewlwyd's OIDC plugin, driven by its login API here, sends an authenticated session back to its login
# page, so that flow is not run against it yet.
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

say "client interop: all checks passed"
