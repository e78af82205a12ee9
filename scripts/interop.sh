#!/usr/bin/env bash
# scripts/interop.sh — interoperability run: Glewlwyd (real IdP) + the ScopeGate example server + the Python
# MCP SDK (pinned; its protocol revision 2025-11-25 is the Swift SDK 0.12.1's latest), all on 127.0.0.1 with
# bounded time. Fails loudly on any difference. Usage: scripts/interop.sh [--no-build]
#
# Needs: glewlwyd, sqlite3, openssl (apt-get install glewlwyd sqlite3; installed here when root), python3-venv.
# Env: INTEROP_WORKDIR (default: a temp dir), SCRATCH (default .build-mcp), MCP_PYTHON_VERSION (default 1.26.0).
set -euo pipefail
source "$(dirname "$0")/lib/interop.sh"
interop_init interop "${INTEROP_WORKDIR:-}"
SCRATCH=${SCRATCH:-.build-mcp}
MCP_PY=${MCP_PYTHON_VERSION:-1.26.0}

say "dependencies"
need_tools glewlwyd sqlite3
[[ -x .venv/bin/python ]] || python3 -m venv .venv
timeout 600 .venv/bin/pip install -q --disable-pip-version-check "mcp==$MCP_PY" "pyjwt[crypto]>=2.10.1" \
  || die "could not install the Python MCP SDK $MCP_PY"

if [[ ${1:-} != --no-build ]]; then
  say "build the example server"
  timeout 2400 swift build --scratch-path "$SCRATCH" --product climate-server
fi
BIN=$(swift build --scratch-path "$SCRATCH" --product climate-server --show-bin-path)/climate-server
[[ -x $BIN ]] || die "climate-server not built ($BIN)"

GPORT=$(free_port)
MPORT=$(free_port)
RESOURCE="http://127.0.0.1:$MPORT/mcp"

say "glewlwyd on 127.0.0.1:$GPORT (resource $RESOURCE)"
GLEWLWYD_RESOURCE=$RESOURCE GLEWLWYD_SCOPES="mcp:tools:climate mcp:data:client-info:read mcp:data:client-info:write read:files" \
  timeout 60 scripts/glewlwyd-up.sh "$WORK/idp" "$GPORT" >/dev/null
# shellcheck disable=SC1091
source "$WORK/idp/env.sh"
ISSUER="http://127.0.0.1:$GPORT/api/oidc"

say "climate-server on 127.0.0.1:$MPORT (policies/climate.yaml, issuer $ISSUER, JWKS by discovery)"
SCOPEGATE_POLICY=policies/climate.yaml MCP_RESOURCE=$RESOURCE MCP_ISSUER=$ISSUER PORT=$MPORT LOG_LEVEL=info \
  timeout 600 "$BIN" >"$WORK/server.log" 2>&1 &
PIDS+=($!)
wait_port "$MPORT" "$!" "$WORK/server.log"

say "Python MCP SDK $MCP_PY client"
MCP_URL="$RESOURCE" MCP_RESOURCE="$RESOURCE" ISSUER="$ISSUER" CLIENT_ID=mcp-client \
  CLIENT_SECRET=${GLEWLWYD_CLIENT_SECRET:-mcp-secret} IDP_PRIVATE_KEY="$WORK/idp/private.pem" \
  timeout 180 .venv/bin/python scripts/interop/client.py || die "interop client"

say "server audit log (one JSON line per decision)"
grep -c '"v":1' "$WORK/server.log" | sed 's/^/audit events: /'
grep -q 'scopegate_idp\|jwks' "$WORK/server.log" || true
echo "interop: OK (work dir $WORK)"
