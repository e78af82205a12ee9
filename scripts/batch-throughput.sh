#!/usr/bin/env bash
# Measures `scopegate check --batch` end to end (JSON Lines in, Decision records out) on one core, as reported in
# docs/performance.md: user CPU time (the machine is shared, so wall time mostly measures queueing).
#
#   scripts/batch-throughput.sh [LINES] [BINARY]
#
# LINES (default 200000) request lines are generated with a fixed seed: six tools (incl. `file_manager` with
# actions and its `when` on `path`), six scope sets (strings and lists, one with an undefined wildcard), numeric
# and string ids; about half are denials (each with a cheapest completion and a challenge). BINARY defaults to
# the release build in .build-batch-rel (built here if missing).
set -euo pipefail
export SWIFT_BACKTRACE=enable=no
cd "$(dirname "$0")/.."
lines=${1:-200000}
bin=${2:-.build-batch-rel/release/scopegate}
if [ ! -x "$bin" ]; then
  timeout 3600 swift build -c release --product scopegate --scratch-path .build-batch-rel >&2
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 - "$lines" > "$work/lines.jsonl" <<'PY'
import json, random, sys
random.seed(4)
calls = [
    ("get_forecast", {"location": "Oslo"}),
    ("read_client", {"id": 42}),
    ("export_report", None),
    ("automation_run_report", {"when": "daily"}),
    ("file_manager", {"action": "read", "path": "/tmp/a"}),
    ("file_manager", {"action": "write", "path": "/etc/hosts"}),
]
scopes = [
    "mcp:tools:climate read:files",
    "mcp:tools:climate mcp:data:client-info:read read:files",
    ["read:files", "mcp:operations:automation:workflows:run", "mcp:tools:climate"],
    "write:files mcp:data:client-info:read mcp:tools:climate",
    "mcp:* mcp:tools:climate",
    ["admin:system", "mcp:tools:climate"],
]
out = sys.stdout
for i in range(int(sys.argv[1])):
    tool, args = random.choice(calls)
    req = {"id": i if i % 3 else f"r{i}", "tool": tool, "scopes": random.choice(scopes)}
    if args is not None:
        req["arguments"] = args
    out.write(json.dumps(req, separators=(",", ":")) + "\n")
PY
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
start=$(date +%s.%N)
/usr/bin/time -f "%U %S %e" -o "$work/time" timeout 600 "$bin" check --policy policies/climate.yaml --batch "$work/lines.jsonl" > "$work/out" || [ $? = 1 ]
read -r user sys wall < "$work/time"
denied=$(grep -c '"allowed":false' "$work/out" || true)
answered=$(wc -l < "$work/out")
python3 - "$lines" "$user" "$sys" "$wall" "$denied" "$answered" <<'PY'
import sys
n, user, sys_, wall, denied, answered = int(sys.argv[1]), *map(float, sys.argv[2:5]), int(sys.argv[5]), int(sys.argv[6])
print(f"lines={n} answered={answered} denied={denied} ({100*denied/max(answered,1):.0f}%)")
print(f"user CPU {user:.2f} s, sys {sys_:.2f} s, wall {wall:.2f} s")
print(f"decisions/s (user CPU): {n/max(user,1e-9):,.0f}   (user+sys: {n/max(user+sys_,1e-9):,.0f})")
PY
