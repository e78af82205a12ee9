#!/usr/bin/env bash
# Onboarding interop: `scopegate init` and `scopegate drift` against MCP servers no one here wrote
# (mcp-server-time, mcp-server-git, mcp-server-fetch from PyPI) over stdio, and a Python `mcp` server over
# Streamable HTTP on 127.0.0.1.
#
# For each server: `init --from-command` drafts a policy that passes `lint --strict`, names every tool the server
# lists, gives read-only tools a `:read` scope and every other tool a `:write` or `:admin` scope, and whose test
# file passes `scopegate test` at 100 % coverage; `drift` against the live server is clean and writes a snapshot.
# Then `drift --from-file` on a list derived from mcp-server-git's real one reports an added tool (SGD01), a
# removed one (SGD03) and a read-only tool turned destructive (SGD04), and exits 1. Over HTTP, the Python server in
# its session mode and in its stateless mode (2026-07-28 only: `server/discover`, no `initialize`) gives one draft.
#
# Python packages go into the gitignored venv `.venv-onboarding`. Every step is bounded by `timeout`; the HTTP
# server listens on 127.0.0.1 only (port ONBOARDING_HTTP_PORT, default 18931). Usage: scripts/onboarding-interop.sh   (SCOPEGATE=path to use a built binary)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
venv=$root/.venv-onboarding
sg=${SCOPEGATE:-$root/.build/debug/scopegate}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

[ -x "$sg" ] || timeout 1800 swift build --product scopegate
if [ ! -x "$venv/bin/mcp-server-git" ] || ! "$venv/bin/python" -c 'import yaml' 2>/dev/null; then
    python3 -m venv "$venv"
    timeout 600 "$venv/bin/pip" install -q --disable-pip-version-check mcp==2.3.0 mcp-server-time==2026.10.19 \
        mcp-server-git==2026.10.19 mcp-server-fetch==2026.10.24 pyyaml==6.0.3
fi

# mcp-server-git serves one repository.
repo=$work/repo
git init -q "$repo"
git -C "$repo" -c user.name=t -c user.email=t@example.com commit -q --allow-empty -m init

fail() { echo "FAIL: $*" >&2; exit 1; }

check_draft() {  # name policy lock: every tool named; read-only → :read, others → :write/:admin
    "$venv/bin/python" - "$@" <<'PY'
import json, sys, yaml
name, policy_path, lock_path = sys.argv[1:4]
policy = yaml.safe_load(open(policy_path))
tools = json.load(open(lock_path))["tools"]
rules = policy["tools"]
assert tools, f"{name}: the server listed no tools"
for tool in tools:
    rule = rules.get(tool["name"])
    assert rule is not None, f"{name}: `{tool['name']}` is not named by the draft"
    scopes = [rule["requires"]] if "requires" in rule else [v for v in rule["actions"].values()]
    read_only = (tool.get("annotations") or {}).get("readOnlyHint") is True
    for scope in scopes:
        level = scope.rsplit(":", 1)[1]
        if read_only:
            assert level == "read", f"{name}: read-only `{tool['name']}` needs `{scope}`"
        elif "requires" in rule:
            assert level in ("write", "admin"), f"{name}: `{tool['name']}` is not read-only but needs `{scope}`"
    print(f"  {tool['name']}: {'read-only' if read_only else 'not read-only'} -> {', '.join(scopes)}")
PY
}

declare -A commands=(
    [time]="$venv/bin/mcp-server-time --local-timezone UTC"
    [git]="$venv/bin/mcp-server-git --repository $repo"
    [fetch]="$venv/bin/mcp-server-fetch"
)
for name in time git fetch; do
    echo "== $name"
    policy=$work/policies/$name.yaml
    timeout 120 "$sg" init --from-command "${commands[$name]}" -o "$policy" --prefix "mcp:tools:$name" \
        || fail "$name: init"
    timeout 60 "$sg" lint --strict "$policy" > "$work/$name.lint" || { cat "$work/$name.lint"; fail "$name: lint --strict"; }
    timeout 60 "$sg" test --policy "$policy" "$work/policies/tests/$name.tests.yaml" --coverage-threshold 100 \
        || fail "$name: scopegate test"
    timeout 120 "$sg" drift --policy "$policy" --from-command "${commands[$name]}" --snapshot "$work/$name.lock.json" \
        || fail "$name: drift against the live server it was drafted from"
    check_draft "$name" "$policy" "$work/$name.lock.json" || fail "$name: draft does not match the server's tools"
done

echo "== drift: mcp-server-git with a tool added, one removed, a read-only one turned destructive"
changed=$work/git-changed.json
"$venv/bin/python" - "$work/git.lock.json" "$changed" <<'PY'
import json, sys
tools = json.load(open(sys.argv[1]))["tools"]
read_only = [t for t in tools if (t.get("annotations") or {}).get("readOnlyHint") is True]
assert read_only, "mcp-server-git lists no read-only tool to turn destructive"
flipped = read_only[0]["name"]
removed = next(t["name"] for t in tools if t["name"] != flipped)
out = []
for t in tools:
    if t["name"] == removed:
        continue
    if t["name"] == flipped:
        t = dict(t, annotations=dict(t.get("annotations") or {}, readOnlyHint=False, destructiveHint=True))
    out.append(t)
out.append({"name": "git_force_push", "inputSchema": {"type": "object"}})
json.dump({"tools": out}, open(sys.argv[2], "w"))
print(f"  flipped {flipped}, removed {removed}, added git_force_push")
PY
set +e
timeout 60 "$sg" drift --policy "$work/policies/git.yaml" --from-file "$changed" --snapshot "$work/git.lock.json" \
    --format json > "$work/drift.json"
status=$?
set -e
[ "$status" = 1 ] || fail "drift exited $status, expected 1"
"$venv/bin/python" - "$work/drift.json" <<'PY'
import json, sys
codes = sorted(d["code"] for d in json.load(open(sys.argv[1]))["diagnostics"])
print("  findings:", codes)
for code in ("SGD01", "SGD03", "SGD04"):
    assert code in codes, f"drift did not report {code}"
PY
timeout 60 "$sg" drift --policy "$work/policies/git.yaml" --from-file "$changed" --snapshot "$work/git.lock.json" || true

echo "== Streamable HTTP: a Python mcp server on 127.0.0.1"
port=${ONBOARDING_HTTP_PORT:-18931}
cat > "$work/http_server.py" <<'PY'
import sys
from mcp.server.mcpserver import MCPServer
from mcp_types import ToolAnnotations
server = MCPServer("http-demo")
@server.tool(annotations=ToolAnnotations(readOnlyHint=True, openWorldHint=False))
def get_weather(city: str) -> str:
    return "sunny"
@server.tool()
def delete_city(city: str) -> str:
    return "gone"
if len(sys.argv) > 2:  # stateless, printing each request's Mcp-Method and MCP-Protocol-Version
    import uvicorn
    app = server.streamable_http_app(stateless_http=True)
    async def logged(scope, receive, send):
        if scope["type"] == "http":
            headers = dict(scope["headers"])
            print("request", headers.get(b"mcp-method", b"-").decode(), headers.get(b"mcp-protocol-version", b"-").decode(), flush=True)
        await app(scope, receive, send)
    uvicorn.run(logged, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
else:
    server.run(transport="streamable-http", host="127.0.0.1", port=int(sys.argv[1]))
PY
timeout 300 "$venv/bin/python" "$work/http_server.py" "$port" > "$work/http.log" 2>&1 &
server_pid=$!
trap 'kill $server_pid 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$port/mcp" && break; sleep 0.2; done
timeout 60 "$sg" init --from-url "http://127.0.0.1:$port/mcp" -o "$work/policies/http.yaml" --prefix mcp:tools:demo \
    || { cat "$work/http.log"; fail "http: init --from-url"; }
timeout 60 "$sg" lint --strict "$work/policies/http.yaml" > /dev/null || fail "http: lint --strict"
timeout 60 "$sg" test --policy "$work/policies/http.yaml" "$work/policies/tests/http.tests.yaml" --coverage-threshold 100 \
    || fail "http: scopegate test"
grep -A1 '^  get_weather:' "$work/policies/http.yaml" | grep -q 'mcp:tools:demo:read' || fail "http: get_weather is not read"
grep -A1 '^  delete_city:' "$work/policies/http.yaml" | grep -q 'mcp:tools:demo:admin' || fail "http: delete_city is not admin"
timeout 60 "$sg" drift --policy "$work/policies/http.yaml" --from-url "http://127.0.0.1:$port/mcp" || fail "http: drift"

echo "== Streamable HTTP, stateless: the same server without sessions (2026-07-28 server/discover, no initialize)"
kill $server_pid 2>/dev/null; wait $server_pid 2>/dev/null || true
timeout 300 "$venv/bin/python" "$work/http_server.py" "$port" stateless > "$work/http-stateless.log" 2>&1 &
server_pid=$!
# Wait for the port without a request: a GET (a stream request) ends the stateless app.
for _ in $(seq 150); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.2; done
timeout 60 "$sg" init --from-url "http://127.0.0.1:$port/mcp" -o "$work/policies/stateless.yaml" --prefix mcp:tools:demo \
    2> "$work/stateless.err" || { cat "$work/stateless.err" "$work/http-stateless.log"; fail "stateless: init --from-url"; }
cat "$work/stateless.err"
grep -q 'http-demo' "$work/stateless.err" || fail "stateless: the server's name did not come from server/discover"
grep -q '^request server/discover 2026-07-28$' "$work/http-stateless.log" || fail "stateless: no server/discover"
grep -q '^request tools/list 2026-07-28$' "$work/http-stateless.log" || fail "stateless: no 2026-07-28 tools/list"
if grep -q '^request initialize' "$work/http-stateless.log"; then fail "stateless: the client fell back to initialize"; fi
grep '^request' "$work/http-stateless.log" | sort | uniq -c
cmp -s <(grep -v '^#' "$work/policies/http.yaml") <(grep -v '^#' "$work/policies/stateless.yaml") \
    || fail "stateless: the draft differs from the session-mode one"
timeout 60 "$sg" drift --policy "$work/policies/stateless.yaml" --from-url "http://127.0.0.1:$port/mcp" \
    || fail "stateless: drift --from-url"
echo "onboarding interop: ok"
