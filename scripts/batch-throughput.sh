#!/usr/bin/env bash
# Measures `scopegate check --batch` end to end (JSON Lines in, Decision records out, policy compile included) on
# one core, as reported in docs/performance.md: user CPU time (the machine is shared, so wall time mostly measures
# queueing).
#
#   scripts/batch-throughput.sh [LINES] [BINARY]
#
# Two workloads over one generated policy (5,000 tools, about 1,000 scopes in read → write → admin → manage
# chains, some wildcards), both generated with a fixed seed, LINES lines each (default 100000):
#   distinct: every line carries its own grant, a list of 4 to 10 scopes (about one in eight unknown), as when
#             replaying an audit log or a test matrix: the grant cache never hits;
#   repeated: the same tools, with grants drawn from six scope lists (the same few unknown scopes recur).
# BINARY defaults to the release build as deployed (scripts/build-release.sh: Swift runtime linked statically).
# REPEAT=N sets the runs averaged for the CPU time (default 10); INSTRUCTIONS=1 adds callgrind instruction counts.
set -euo pipefail
export SWIFT_BACKTRACE=enable=no
cd "$(dirname "$0")/.."
lines=${1:-100000}
bin=${2:-$(bash scripts/build-release.sh scopegate)}
# BATCH_WORK=DIR keeps the generated policy and lines there (for profiling); a temporary directory otherwise.
if [ -n "${BATCH_WORK:-}" ]; then
  work=$BATCH_WORK
  mkdir -p "$work"
else
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
fi
python3 - "$lines" "$work" <<'PY'
import json, random, sys
n, work = int(sys.argv[1]), sys.argv[2]
rng = random.Random(19)
scopes, concrete = [], []
out = ["version: 1", "", "scopes:"]
for s in range(10):
    if s % 5 == 0:
        out.append(f'  "svc{s}:*": {{risk: normal}}')
    for a in range(5):
        admins = []
        for r in range(5):
            base = f"svc{s}:area{a}:res{r}"
            out.append(f'  "{base}:read": {{risk: low}}')
            out.append(f'  "{base}:write": {{risk: normal, implies: ["{base}:read"]}}')
            out.append(f'  "{base}:admin": {{risk: admin, implies: ["{base}:write"]}}')
            concrete += [f"{base}:read", f"{base}:write", f"{base}:admin"]
            admins.append(f'"{base}:admin"')
        out.append(f'  "svc{s}:area{a}:manage": {{risk: admin, implies: [{", ".join(admins)}]}}')
        concrete.append(f"svc{s}:area{a}:manage")
reads = [c for c in concrete if c.endswith(":read") or c.endswith(":write")]
out += ["", "tools:"]
tools = []
for t in range(5000):
    name = f"tool_{t}"
    kind = t % 5
    if kind == 0:
        req = f'"{rng.choice(reads)}"'
    elif kind == 1:
        req = f'{{all: ["{rng.choice(reads)}", "{rng.choice(reads)}"]}}'
    elif kind == 2:
        req = f'{{any: ["{rng.choice(concrete)}", {{all: ["{rng.choice(reads)}", "{rng.choice(reads)}"]}}]}}'
    else:
        req = f'{{any: ["{rng.choice(reads)}", "{rng.choice(reads)}", "{rng.choice(reads)}"]}}'
    out.append(f"  {name}: {{requires: {req}}}")
    tools.append(name)
open(f"{work}/policy.yaml", "w").write("\n".join(out) + "\n")

def grant():
    g = [rng.choice(concrete) for _ in range(rng.randint(4, 10))]
    for i in range(len(g)):
        if rng.random() < 0.125:
            g[i] = f"unknown:scope{rng.randint(0, 999)}"
    if rng.random() < 0.05:
        g[0] = f"svc{5 * rng.randint(0, 1)}:*"
    return g

pool = [grant() for _ in range(6)]
for workload in ("distinct", "repeated"):
    rng.seed(4)
    with open(f"{work}/{workload}.jsonl", "w") as f:
        for i in range(n):
            g = grant() if workload == "distinct" else rng.choice(pool)
            req = {"id": i if i % 3 else f"r{i}", "tool": rng.choice(tools), "scopes": g if i % 2 else " ".join(g)}
            f.write(json.dumps(req, separators=(",", ":")) + "\n")
PY
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
# CPU time: with `perf`, the mean task-clock of REPEAT runs (default 10; it moves by about 1% between repeats);
# without it, one run's user+sys from /usr/bin/time, in 10 ms steps.
repeat=${REPEAT:-10}
perf_works=0
if command -v perf >/dev/null 2>&1 && perf stat -x, -e task-clock true >/dev/null 2>&1; then perf_works=1; fi
for workload in distinct repeated; do
  timeout 600 "$bin" check --policy "$work/policy.yaml" --batch "$work/$workload.jsonl" > "$work/out"
  denied=$(grep -c '"allowed":false' "$work/out" || true)
  answered=$(wc -l < "$work/out")
  if [[ $perf_works == 1 ]]; then
    perf stat -x, -r "$repeat" -e task-clock -o "$work/stat" \
      timeout 600 "$bin" check --policy "$work/policy.yaml" --batch "$work/$workload.jsonl" > /dev/null
    cpu_ms=$(awk -F, '/task-clock/ { print $1 }' "$work/stat")
    measure="task-clock, mean of $repeat runs"
  else
    /usr/bin/time -f "%U %S" -o "$work/time" \
      timeout 600 "$bin" check --policy "$work/policy.yaml" --batch "$work/$workload.jsonl" > /dev/null
    read -r user sys < "$work/time"
    cpu_ms=$(python3 -c "print(1000 * ($user + $sys))")
    measure="user+sys, one run"
  fi
  python3 - "$workload" "$lines" "$cpu_ms" "$measure" "$denied" "$answered" <<'PY'
import sys
w, n, cpu_ms, measure, denied, answered = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4], int(sys.argv[5]), int(sys.argv[6])
print(f"{w}: lines={n} answered={answered} denied={denied} ({100*denied/max(answered,1):.0f}%)"
      f"  CPU {cpu_ms:.1f} ms ({measure})  decisions/s: {n/max(cpu_ms/1000,1e-9):,.0f}")
PY
done

# INSTRUCTIONS=1: also count the instructions of each workload under valgrind's callgrind (the same count on every
# run, whatever the machine's load). callgrind cannot read this toolchain's DWARF, so it runs a copy of the binary
# without debug information; an empty input gives the cost of start-up and compiling the policy.
if [[ ${INSTRUCTIONS:-0} == 1 ]]; then
  command -v valgrind >/dev/null 2>&1 || { echo "INSTRUCTIONS=1 needs valgrind (apt-get install valgrind)" >&2; exit 1; }
  strip --strip-debug -o "$work/scopegate" "$bin"
  : > "$work/empty.jsonl"
  for workload in empty distinct repeated; do
    timeout 1800 valgrind --tool=callgrind --callgrind-out-file=/dev/null "$work/scopegate" check \
      --policy "$work/policy.yaml" --batch "$work/$workload.jsonl" 2> "$work/callgrind" > /dev/null
    count=$(sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$work/callgrind")
    [[ -n $count ]] || { cat "$work/callgrind" >&2; exit 1; }
    echo "$workload: $count instructions"
    [[ $workload == empty ]] && base=$count
    [[ $workload != empty ]] && echo "  per line, start-up and compile excluded: $(( (count - base) / lines ))"
  done
fi
