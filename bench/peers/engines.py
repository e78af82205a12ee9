"""One peer engine in its own process: compile a workload's encoding, decide every request, time it.

    python engines.py cedar|opa|casbin WORKLOAD_DIR --out RESULT.json [--min-seconds S] [--batch B] [--baseline]

Timed sections (`time.perf_counter_ns`):
- compile: from the encoding's text on disk (read outside the timer) to an engine ready to decide — Cedar
  `PolicySet.from_str` + `Entities.from_json_str` (the scope hierarchy; Cedar computes its transitive closure here);
  OPA a fresh `OpaEngine` + `add_policy` + `add_data` + the first evaluation (which compiles and prepares the query);
  Casbin `FastEnforcer(model, policy.csv, cache_key_order=[0])` (loads and indexes the lines, builds the role
  links) plus the set of exact tool names the application routes with. Median of up to 3 fresh compilations;
  the previous one is freed before the timer starts.
- decisions: each engine's fastest batch call on batches of B requests (default 20); a latency sample is the time
  of one batch call divided by B. Cedar `is_authorized_batch`, OPA one `eval_document` of a Rego comprehension over
  `input.requests`, Casbin `batch_enforce`. Passes over all requests repeat until --min-seconds have passed.
- prepared outside the timers, like ScopeGate's resolved grant: Cedar's token and tool entities (added once to the
  entity handle with `with_added_json_str`) and the request dicts; OPA's input dicts; Casbin's `g, <token>, <scope>`
  links for every distinct token (added once) and the request tuples.
Peak memory is this process's VmHWM (/proc/self/status); `--baseline` stops after importing the engine and loading the requests,
so the orchestrator can subtract what every Python worker pays anyway.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from workload import token_ids  # noqa: E402


def read(path: str) -> str:
    with open(path) as f:
        return f.read()


class Cedar:
    def __init__(self, d: str):
        import cedarpy
        self.cedarpy = cedarpy
        self.policy_text = read(os.path.join(d, "cedar.cedar"))
        self.entities_text = read(os.path.join(d, "cedar.entities.json"))

    def release(self):
        self.policies = self.entities = None

    def compile(self):
        self.policies = self.cedarpy.PolicySet.from_str(self.policy_text)
        self.entities = self.cedarpy.Entities.from_json_str(self.entities_text)

    def prepare(self, requests, tokens):
        delta = [{"uid": {"type": "Token", "id": tid}, "attrs": {},
                  "parents": [{"type": "Scope", "id": s} for s in key]} for key, tid in tokens.items()]
        tools = sorted({r["tool"] for r in requests})
        delta += [{"uid": {"type": "Tool", "id": t}, "attrs": {"name": t}, "parents": []} for t in tools]
        self.entities = self.entities.with_added_json_str(json.dumps(delta))
        return [{"principal": {"type": "Token", "id": tokens[tuple(r["scopes"])]},
                 "action": {"type": "Action", "id": "call"},
                 "resource": {"type": "Tool", "id": r["tool"]}, "context": {}} for r in requests]

    def decide(self, batch):
        return [r.allowed for r in self.cedarpy.is_authorized_batch(batch, self.policies, self.entities)]


class OPA:
    def __init__(self, d: str):
        from opa_bindings import OpaEngine
        self.Engine = OpaEngine
        self.rego = read(os.path.join(d, "policy.rego"))
        self.data_text = read(os.path.join(d, "rego.data.json"))

    def release(self):
        self.engine = None

    def compile(self):
        self.engine = self.Engine()
        self.engine.add_policy("scopegate.rego", self.rego)
        self.engine.add_data(json.loads(self.data_text))
        self.engine.eval_document("scopegate.decisions", {"requests": []})   # compile + prepare the query

    def prepare(self, requests, tokens):
        return [{"tool": r["tool"], "scopes": r["scopes"]} for r in requests]

    def decide(self, batch):
        return self.engine.eval_document("scopegate.decisions", {"requests": batch})


class Casbin:
    def __init__(self, d: str):
        import casbin
        self.casbin = casbin
        self.model = os.path.join(d, "casbin.model.conf")
        self.policy = os.path.join(d, "casbin.policy.csv")

    def release(self):
        self.enforcer = self.exact = None

    def compile(self):
        self.enforcer = self.casbin.FastEnforcer(self.model, self.policy, cache_key_order=[0])
        with open(self.policy) as f:   # the application knows its exact tool names (the index buckets)
            self.exact = {line.split(", ")[1] for line in f if line.startswith("p, ") and not line.startswith("p, *,")}

    def prepare(self, requests, tokens):
        links = [[tid, s] for key, tid in tokens.items() for s in dict.fromkeys(key)]
        self.enforcer.add_grouping_policies(links)
        return [(r["tool"] if r["tool"] in self.exact else "*", r["tool"], tokens[tuple(r["scopes"])])
                for r in requests]

    def decide(self, batch):
        return self.enforcer.batch_enforce(batch)


ENGINES = {"cedar": Cedar, "opa": OPA, "casbin": Casbin}


def vm_hwm_kb() -> int:
    """This process's peak resident set (VmHWM, KiB). Not ru_maxrss, which on Linux keeps the parent's peak
    across fork+exec."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def percentile(sorted_values, p):
    if not sorted_values:
        return None
    k = min(len(sorted_values) - 1, max(0, int(round(p / 100 * (len(sorted_values) - 1)))))
    return sorted_values[k]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("engine", choices=sorted(ENGINES))
    ap.add_argument("workload")
    ap.add_argument("--out", required=True)
    ap.add_argument("--min-seconds", type=float, default=2.0)
    ap.add_argument("--batch", type=int, default=20)
    ap.add_argument("--compile-reps", type=int, default=3)
    ap.add_argument("--baseline", action="store_true")
    ap.add_argument("--memory", action="store_true",
                    help="memory run: compile once, prepare, answer every request once, report the peak RSS")
    a = ap.parse_args()

    with open(os.path.join(a.workload, "requests.jsonl")) as f:
        requests = [json.loads(line) for line in f if line.strip()]
    tokens = token_ids(requests)
    engine = ENGINES[a.engine](a.workload)
    result = {"engine": a.engine, "requests": len(requests)}
    if a.baseline:
        result["peak_rss_kb"] = vm_hwm_kb()
        with open(a.out, "w") as f:
            json.dump(result, f)
        return

    if a.memory:
        # What it takes to load the policy and answer the requests, without the timing passes (whose latency
        # sample lists grow with the engine's speed) or repeated compilations (two engines alive at once).
        engine.compile()
        inputs = engine.prepare(requests, tokens)
        for i in range(0, len(inputs), a.batch):
            engine.decide(inputs[i:i + a.batch])
        result["peak_rss_kb"] = vm_hwm_kb()
        with open(a.out, "w") as f:
            json.dump(result, f)
        return

    compile_ns = []
    deadline = time.monotonic() + 60
    for _ in range(max(1, a.compile_reps)):
        engine.release()   # the previous repetition's engine is freed outside the timer (PeerBench does the same)
        t0 = time.perf_counter_ns()
        engine.compile()
        compile_ns.append(time.perf_counter_ns() - t0)
        if time.monotonic() > deadline:
            break
    inputs = engine.prepare(requests, tokens)
    batches = [inputs[i:i + a.batch] for i in range(0, len(inputs), a.batch)]

    samples = []          # ns per decision, one per batch call
    decisions = []
    total_ns = 0
    total_n = 0
    passes = 0
    start = time.monotonic()
    while passes == 0 or time.monotonic() - start < a.min_seconds:
        for b in batches:
            t0 = time.perf_counter_ns()
            out = engine.decide(b)
            dt = time.perf_counter_ns() - t0
            samples.append(dt / len(b))
            total_ns += dt
            total_n += len(b)
            if passes == 0:
                decisions.extend(bool(x) for x in out)
        passes += 1
    samples.sort()
    result.update({
        "compile_ms": statistics.median(compile_ns) / 1e6,
        "compile_ms_all": [c / 1e6 for c in compile_ns],
        "batch": a.batch, "passes": passes, "decisions_timed": total_n,
        "median_us": percentile(samples, 50) / 1e3, "p99_us": percentile(samples, 99) / 1e3,
        "mean_us": total_ns / total_n / 1e3, "throughput_per_s": total_n / (total_ns / 1e9),
        "peak_rss_kb": vm_hwm_kb(),
        "decisions": {r["id"]: d for r, d in zip(requests, decisions)},
    })
    with open(a.out, "w") as f:
        json.dump(result, f)


if __name__ == "__main__":
    main()
