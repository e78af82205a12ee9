#!/usr/bin/env bash
# scripts/interop.sh — interoperability run: Glewlwyd (real IdP) + the ScopeGate example server + the Python
# MCP SDK (pinned; its protocol revision 2025-11-25 is the Swift SDK 0.12.1's latest), all on 127.0.0.1 with
# bounded time. Fails loudly on any difference. Usage: scripts/interop.sh [--no-build]
#
# Needs: glewlwyd, sqlite3, openssl (apt-get install glewlwyd sqlite3; installed here when root), python3-venv.
# Env: INTEROP_WORKDIR (default: a temp dir), SCRATCH (default .build-mcp), MCP_PYTHON_VERSION (default 1.26.0).
set -euo pipefail
export SWIFT_BACKTRACE=enable=no
cd "$(dirname "$0")/.."
ROOT=$(pwd)
SCRATCH=${SCRATCH:-.build-mcp}
MCP_PY=${MCP_PYTHON_VERSION:-1.26.0}
WORK=${INTEROP_WORKDIR:-$(mktemp -d /tmp/scopegate-interop.XXXXXX)}
mkdir -p "$WORK"

die() { printf 'interop: FAIL: %s\n' "$*" >&2; exit 1; }
say() { printf '\n== %s\n' "$*"; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

SERVER_PID=
cleanup() {
  local rc=$?
  trap '' TERM
  set +e
  [[ -n $SERVER_PID ]] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
  if [[ -s $WORK/idp/glewlwyd.pid ]]; then
    local gp; gp=$(cat "$WORK/idp/glewlwyd.pid")
    kill "$gp" 2>/dev/null
    for _ in $(seq 1 50); do kill -0 "$gp" 2>/dev/null || break; sleep 0.1; done
  fi
  exit "$rc"
}
trap cleanup EXIT

say "dependencies"
if ! command -v glewlwyd >/dev/null || ! command -v sqlite3 >/dev/null; then
  if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
    timeout 300 apt-get update -qq && timeout 600 apt-get install -y -qq glewlwyd sqlite3 >/dev/null
  fi
fi
command -v glewlwyd >/dev/null || die "glewlwyd not installed (apt-get install glewlwyd sqlite3)"
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
SERVER_PID=$!
for _ in $(seq 1 200); do
  (exec 3<>"/dev/tcp/127.0.0.1/$MPORT") 2>/dev/null && break
  kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/server.log" >&2; die "climate-server exited"; }
  sleep 0.05
done
(exec 3<>"/dev/tcp/127.0.0.1/$MPORT") 2>/dev/null || die "climate-server did not listen"

say "Python MCP SDK $MCP_PY client"
MCP_URL="$RESOURCE" MCP_RESOURCE="$RESOURCE" ISSUER="$ISSUER" CLIENT_ID=mcp-client \
  CLIENT_SECRET=${GLEWLWYD_CLIENT_SECRET:-mcp-secret} IDP_PRIVATE_KEY="$WORK/idp/private.pem" \
  timeout 180 .venv/bin/python scripts/interop/client.py || { echo "--- server log"; tail -n 40 "$WORK/server.log"; die "interop client"; }

say "server audit log (one JSON line per decision)"
grep -c '"v":1' "$WORK/server.log" | sed 's/^/audit events: /'
grep -q 'scopegate_idp\|jwks' "$WORK/server.log" || true
echo "interop: OK (work dir $WORK)"
