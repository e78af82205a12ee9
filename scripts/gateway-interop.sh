#!/usr/bin/env bash
# scripts/gateway-interop.sh — `scopegate proxy` in front of MCP servers no one here wrote, with real tokens and
# real clients, all on 127.0.0.1 with bounded time. Fails loudly at the first difference.
#
#   Tokens:    Glewlwyd (scripts/glewlwyd-up.sh), client credentials, RS256 JWTs, RFC 8707 audience.
#   Upstreams: a Python `mcp` 2.3.0 server over Streamable HTTP in its session mode and in its stateless mode
#              (scripts/gateway-interop/upstream.py); mcp-server-time from PyPI over stdio (--upstream-command).
#   Clients:   the Python `mcp` SDK 2.3.0 (speaks 2026-07-28) and 1.26.0 (speaks 2025-11-25), each in a
#              gitignored venv (.venv-gateway, .venv), plus raw requests shaped like theirs.
#   Proxies:   one per upstream, all with examples/gateway/policy.yaml and one audience (the first proxy's URL, as
#              replicas of one resource share it); one more in shadow mode with an audit log.
#
# Checks: allowed call; denied call → 403 with the expected scope=; step-up; filtered tools/list; no token → 401
# with resource_metadata; wrong audience → 401; expired token → 401; progress before the result on a streamed
# call; header/body mismatch → 400; shadow mode lets a denied call through and audits it `would_deny`; and the
# upstreams' own logs show no request ever carried a client's token.
#
# Usage: scripts/gateway-interop.sh [--no-build]    Env: GATEWAY_INTEROP_WORKDIR (default: a temp dir).
set -euo pipefail
source "$(dirname "$0")/lib/interop.sh"
interop_init gateway-interop "${GATEWAY_INTEROP_WORKDIR:-}"

say "dependencies"
need_tools glewlwyd sqlite3
[[ -x .venv/bin/python ]] || python3 -m venv .venv
timeout 600 .venv/bin/pip install -q --disable-pip-version-check "mcp==1.26.0" "pyjwt[crypto]>=2.10.1" \
  || die "could not install the Python MCP SDK 1.26.0"
[[ -x .venv-gateway/bin/python ]] || python3 -m venv .venv-gateway
timeout 600 .venv-gateway/bin/pip install -q --disable-pip-version-check "mcp==2.3.0" \
  "mcp-server-time==2026.10.19" "pyjwt[crypto]==2.15.1" || die "could not install the Python MCP SDK 2.3.0"

if [[ ${1:-} != --no-build ]]; then
  say "build scopegate and scopegate-gateway"
  timeout 2400 swift build --product scopegate
  timeout 2400 swift build --product scopegate-gateway
fi
BIN=$(swift build --show-bin-path)/scopegate
[[ -x $BIN && -x ${BIN}-gateway ]] || die "scopegate or scopegate-gateway not built under $(dirname "$BIN")"

GPORT=$(free_port); U1=$(free_port); U2=$(free_port)
P1=$(free_port); P2=$(free_port); P3=$(free_port); P4=$(free_port)
export MCP_RESOURCE="http://127.0.0.1:$P1/mcp"
export MCP_ISSUER="http://127.0.0.1:$GPORT/api/oidc"

say "glewlwyd on 127.0.0.1:$GPORT (audience $MCP_RESOURCE)"
GLEWLWYD_RESOURCE=$MCP_RESOURCE GLEWLWYD_SCOPES="time:read time:write time:admin" \
  timeout 60 scripts/glewlwyd-up.sh "$WORK/idp" "$GPORT" >/dev/null
# shellcheck disable=SC1091
source "$WORK/idp/env.sh"

say "upstreams: mcp 2.3.0 in session mode on $U1, in stateless mode on $U2"
timeout 900 .venv-gateway/bin/python scripts/gateway-interop/upstream.py "$U1" --header-log "$WORK/u1.headers" \
  >"$WORK/u1.log" 2>&1 & PIDS+=($!); wait_port "$U1" "$!" "$WORK/u1.log"
timeout 900 .venv-gateway/bin/python scripts/gateway-interop/upstream.py "$U2" --stateless \
  --header-log "$WORK/u2.headers" >"$WORK/u2.log" 2>&1 & PIDS+=($!); wait_port "$U2" "$!" "$WORK/u2.log"

proxy() { # PORT LOG ARGS…
  local port=$1 log=$2; shift 2
  timeout 900 "$BIN" proxy --policy examples/gateway/policy.yaml --listen "127.0.0.1:$port" "$@" >"$log" 2>&1 &
  PIDS+=($!); wait_port "$port" "$!" "$log"
}
say "proxies: $P1 → session upstream, $P2 → stateless upstream, $P3 shadow → session upstream, $P4 → stdio"
proxy "$P1" "$WORK/p1.log" --upstream "http://127.0.0.1:$U1/mcp"
proxy "$P2" "$WORK/p2.log" --upstream "http://127.0.0.1:$U2/mcp"
proxy "$P3" "$WORK/p3.log" --upstream "http://127.0.0.1:$U1/mcp" --mode shadow --audit "$WORK/shadow-audit.jsonl"
# The stdio upstream logs no HTTP headers: the bridge speaks to it over its stdin, and the client's token stays
# in the proxy (checked in the proxy's tests); here it shows a server with no HTTP at all is protected.
proxy "$P4" "$WORK/p4.log" --upstream-command "$ROOT/.venv-gateway/bin/mcp-server-time --local-timezone UTC"

client() { # VENV SCRIPT PORT ARG LABEL
  (cd scripts/gateway-interop && PROXY_URL="http://127.0.0.1:$3/mcp" LABEL=$5 IDP_PRIVATE_KEY="$WORK/idp/private.pem" \
    CLIENT_SECRET=${GLEWLWYD_CLIENT_SECRET:-mcp-secret} TOKENS_OUT="$WORK/tokens.txt" \
    timeout 180 "$ROOT/$1/bin/python" "$2" "$4") || die "client $5"
}
say "mcp 2.3.0 (2026-07-28) → proxy → session-mode upstream"
client .venv-gateway client_modern.py "$P1" http modern/session
say "mcp 2.3.0 (2026-07-28) → proxy → stateless upstream"
client .venv-gateway client_modern.py "$P2" http modern/stateless
say "mcp 1.26.0 (2025-11-25) → proxy → session-mode upstream"
client .venv client_legacy.py "$P1" http legacy/session
say "stdio: mcp-server-time behind --upstream-command, both clients"
client .venv-gateway client_modern.py "$P4" stdio modern/stdio
client .venv client_legacy.py "$P4" stdio legacy/stdio
say "shadow mode"
client .venv-gateway client_modern.py "$P3" shadow modern/shadow
for _ in $(seq 1 50); do grep -q '"would_deny":true' "$WORK/shadow-audit.jsonl" 2>/dev/null && break; sleep 0.1; done
grep '"would_deny":true' "$WORK/shadow-audit.jsonl" | grep -q '"tool":"reset_clock"' \
  || die "the shadow audit log has no would_deny event for reset_clock: $(cat "$WORK/shadow-audit.jsonl" 2>/dev/null)"
echo "ok - the shadow audit log records reset_clock with would_deny: true"

say "the upstreams never received a client's token"
[[ -s $WORK/tokens.txt ]] || die "the clients recorded no tokens"
requests=$(cat "$WORK/u1.headers" "$WORK/u2.headers" | wc -l)
[[ $requests -gt 10 ]] || die "the upstreams logged only $requests requests"
if grep -F -f "$WORK/tokens.txt" "$WORK/u1.headers" "$WORK/u2.headers" >/dev/null; then
  die "an upstream received a client's token"
fi
if grep -v '^-$' "$WORK/u1.headers" "$WORK/u2.headers" >/dev/null; then
  die "an upstream received an Authorization header: $(grep -v '^-$' "$WORK/u1.headers" "$WORK/u2.headers" | head -3)"
fi
echo "ok - $requests upstream requests, none with an Authorization header ($(wc -l <"$WORK/tokens.txt") client tokens issued)"
echo "gateway-interop: OK (work dir $WORK)"
