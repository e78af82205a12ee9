"""Orchestrates the side-by-side run (called by bench/peers/run.sh; see that script and docs/performance.md).

    python peers.py --scopegate BIN [--peerbench BIN] [--ci] [--out DIR] [--doc-table FILE] [--plot FILE]

For each size: generate the workload (workload.py), lint the ScopeGate policy, take ScopeGate's decisions from
`scopegate check --batch` (the reference), time the CLI end to end, run PeerBench (the library path) and each peer
in its own process (engines.py), compare every decision with ScopeGate's, then the batch row (`batch_row`: the CLI
on lines that each carry their own grant against each peer's batch API), and write results.json, the markdown
table and the plot. Any mismatch is printed and makes the run exit 1.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import workload  # noqa: E402

PEERS = ["cedar", "opa", "casbin"]
FULL_SIZES = [(100, 2000), (2000, 1000), (10000, 500)]    # (tools, requests)
CI_SIZES = [(100, 400)]
TARGET_RATIO = {"cedar": 20, "opa": 100, "casbin": 100}
# The batch row: `check --batch` end to end on BATCH_LINES lines that each carry their own grant, against each peer's
# batch API (batches of BATCH_SIZE) on the first PEER_BATCH_LINES[tools] of the same lines (the peers take
# 0.1–20 ms per decision, so all of them would take hours at 10,000 tools). Target: ≥ 20× Cedar.
BATCH_LINES = 100_000
BATCH_SIZE = 1000
PEER_BATCH_LINES = {100: 20_000, 2000: 2_000, 10000: 400}
BATCH_TARGET = {"cedar": 20}


def run_measured(cmd: list[str], stdout_path: str | None = None, timeout: float = 900) -> dict:
    """Runs cmd in its own process; returns wall seconds, exit code, peak RSS (KiB, from wait4) and stdout."""
    out = open(stdout_path, "wb") if stdout_path else subprocess.PIPE
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=out, stderr=subprocess.PIPE)
    deadline = t0 + timeout
    hwm = 0
    while True:
        pid, status, usage = os.wait4(p.pid, os.WNOHANG)
        if pid:
            break
        hwm = max(hwm, vm_hwm_kb(p.pid))
        if time.perf_counter() > deadline:
            p.kill()
            pid, status, usage = os.wait4(p.pid, 0)
            raise SystemExit(f"timeout: {' '.join(cmd)}")
        time.sleep(0.002)
    wall = time.perf_counter() - t0
    stdout = b"" if stdout_path else p.stdout.read()
    stderr = p.stderr.read()
    if stdout_path:
        out.close()
    # Not ru_maxrss: on Linux it survives fork+exec, so a child would report this (bigger) process's peak.
    # VmHWM is per address space; it is polled until the child exits (children that can report their own do).
    return {"wall_s": wall, "cpu_s": usage.ru_utime + usage.ru_stime, "rc": os.waitstatus_to_exitcode(status),
            "peak_rss_kb": hwm,
            "stdout": stdout, "stderr": stderr.decode(errors="replace")}


def vm_hwm_kb(pid: int | str = "self") -> int:
    """Peak resident set size (VmHWM, KiB) of a live process; 0 when it has gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def fmt_us(us: float | None) -> str:
    if us is None:
        return "—"
    if us < 1:
        return f"{us * 1000:.0f} ns"
    if us < 1000:
        return f"{us:.1f} µs" if us < 100 else f"{us:.0f} µs"
    return f"{us / 1000:.1f} ms"


def fmt_ms(ms: float | None) -> str:
    return "—" if ms is None else (f"{ms:.1f} ms" if ms < 100 else f"{ms:,.0f} ms")


def fmt_mb(kb: float | None) -> str:
    return "—" if kb is None else f"{kb / 1024:.1f} MB"


def fmt_rate(r: float | None) -> str:
    return "—" if r is None else f"{r:,.0f}/s"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scopegate", required=True, help="the scopegate CLI (release build for measurements)")
    ap.add_argument("--peerbench", help="Benchmarks' PeerBench executable (the library path); omitted in --ci")
    ap.add_argument("--ci", action="store_true", help="agreement only, one small workload, no timing passes")
    ap.add_argument("--out", default=os.path.join(HERE, "out"))
    ap.add_argument("--doc-table", help="write the markdown results here")
    ap.add_argument("--plot", help="write the latency plot (PNG) here")
    ap.add_argument("--min-seconds", type=float, default=2.0, help="timing passes per engine and size")
    ap.add_argument("--sizes", help="comma-separated tool counts (default 100,2000,10000)")
    a = ap.parse_args()
    py = sys.executable
    sizes = CI_SIZES if a.ci else FULL_SIZES
    if a.sizes:
        wanted = {int(x) for x in a.sizes.split(",")}
        sizes = [s for s in FULL_SIZES + CI_SIZES if s[0] in wanted][: len(wanted)]
    min_seconds = 0.0 if a.ci else a.min_seconds
    os.makedirs(a.out, exist_ok=True)
    started = time.time()
    load_before = os.getloadavg()
    results = {"started": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
               "machine": machine(), "load_before": load_before, "sizes": {}, "mismatches": 0, "ci": a.ci}
    mismatches = 0

    for tools, n_requests in sizes:
        t_size = time.time()
        d = os.path.join(a.out, f"w{tools}")
        w = workload.generate(tools, seed=42, requests=n_requests)
        workload.write(w, d)
        meta = json.load(open(os.path.join(d, "meta.json")))
        policy, reqs_path = os.path.join(d, "policy.yaml"), os.path.join(d, "requests.jsonl")
        size = {"meta": meta}
        print(f"== {tools} tools: {meta['scopes']} scopes, {meta['wildcards']} wildcards, {meta['globs']} globs, "
              f"{meta['requests']} requests, {meta['distinct_tokens']} tokens", flush=True)

        lint = run_measured([a.scopegate, "lint", policy], timeout=300)
        size["lint"] = {"rc": lint["rc"], "summary": (lint["stdout"].decode().strip().splitlines() or [""])[-1]}
        if lint["rc"] != 0:
            print(lint["stdout"].decode()[-3000:], lint["stderr"][-2000:])
            raise SystemExit(f"the generated ScopeGate policy does not lint clean (exit {lint['rc']})")

        # ScopeGate's decisions: the CLI batch path (the reference for agreement).
        ref_path = os.path.join(d, "scopegate.decisions.jsonl")
        ref = run_measured([a.scopegate, "check", "--policy", policy, "--batch", reqs_path], stdout_path=ref_path)
        if ref["rc"] != 0:
            raise SystemExit(f"scopegate check --batch exited {ref['rc']}: {ref['stderr'][-2000:]}")
        reference = {}
        records = {}
        for line in open(ref_path):
            rec = json.loads(line)
            reference[rec["id"]] = rec["allowed"]
            records[rec["id"]] = rec
        allowed = sum(reference.values())
        size["allowed"] = allowed
        size["denied"] = len(reference) - allowed
        print(f"   scopegate CLI: {allowed} allowed, {len(reference) - allowed} denied", flush=True)
        engines = {}

        if not a.ci:
            # CLI end to end: the same requests repeated to ≥ 50,000 lines, minus a run on an empty file
            # (process start + policy load and compile), divided by the number of lines.
            reps = max(1, -(-50_000 // n_requests))
            rep_path = os.path.join(d, "requests.repeated.jsonl")
            body = open(reqs_path).read()
            with open(rep_path, "w") as f:
                f.write(body * reps)
            empty_path = os.path.join(d, "empty.jsonl")
            open(empty_path, "w").close()
            devnull = os.devnull
            empty = [run_measured([a.scopegate, "check", "--policy", policy, "--batch", empty_path],
                                  stdout_path=devnull) for _ in range(2)]
            full = run_measured([a.scopegate, "check", "--policy", policy, "--batch", rep_path], stdout_path=devnull)
            # CPU time (user + sys, from wait4) rather than wall time: on a loaded machine the wall time of one
            # long process is mostly time spent waiting for a core; the wall-clock figure is kept beside it.
            startup = min(e["wall_s"] for e in empty)
            startup_cpu = min(e["cpu_s"] for e in empty)
            lines = n_requests * reps
            per = max(1e-9, full["cpu_s"] - startup_cpu) / lines
            per_wall = max(1e-9, full["wall_s"] - startup) / lines
            engines["scopegate-cli"] = {"compile_ms": startup * 1000, "mean_us": per * 1e6,
                                        "mean_wall_us": per_wall * 1e6, "cpu_s": full["cpu_s"],
                                        "median_us": None, "p99_us": None, "throughput_per_s": 1 / per,
                                        "peak_rss_kb": full["peak_rss_kb"], "baseline_rss_kb": None,
                                        "startup_rss_kb": min(e["peak_rss_kb"] for e in empty),
                                        "lines": lines, "wall_s": full["wall_s"]}
            print(f"   scopegate CLI: {lines} lines in {full['wall_s']:.2f} s wall, {full['cpu_s']:.2f} s CPU "
                  f"(startup+compile {startup:.2f} s)", flush=True)

        if a.peerbench:
            pb = run_measured([a.peerbench, policy, reqs_path, "--min-seconds", str(min_seconds),
                               "--compile-reps", "1" if a.ci else "3"])
            if pb["rc"] != 0:
                raise SystemExit(f"PeerBench failed: {pb['stderr'][-2000:]}")
            r = json.loads(pb["stdout"])
            base = json.loads(run_measured([a.peerbench, policy, reqs_path, "--baseline"])["stdout"])
            memory = json.loads(run_measured([a.peerbench, policy, reqs_path, "--memory"])["stdout"])
            for mode in ("cached", "per_request", "decide"):
                m = dict(r[mode])
                m.update(compile_ms=r["compile_ms"], compile_ms_all=r["compile_ms_all"],
                         peak_rss_kb=memory["peak_rss_kb"], timing_peak_rss_kb=r["peak_rss_kb"],
                         baseline_rss_kb=base["peak_rss_kb"])
                if mode == "cached":
                    m["split"] = r.get("split")
                engines[f"scopegate-lib-{mode}"] = m
            mismatches += compare("scopegate-lib", r["decisions"], reference, records, w)
            print(f"   scopegate lib: compile {r['compile_ms']:.1f} ms, isAllowed {fmt_us(r['cached']['median_us'])} "
                  f"(grant+isAllowed {fmt_us(r['per_request']['median_us'])}, full decide "
                  f"{fmt_us(r['decide']['median_us'])})", flush=True)

        for e in PEERS:
            res_path = os.path.join(d, f"{e}.result.json")
            cmd = [py, os.path.join(HERE, "engines.py"), e, d, "--out", res_path, "--min-seconds", str(min_seconds)]
            if a.ci:
                cmd += ["--compile-reps", "1"]
            t0 = time.time()
            run = run_measured(cmd, timeout=900)
            if run["rc"] != 0:
                raise SystemExit(f"{e} failed:\n{run['stderr'][-3000:]}")
            r = json.load(open(res_path))
            decisions = r.pop("decisions")
            mismatches += compare(e, decisions, reference, records, w)
            if not a.ci:
                base_path = os.path.join(d, f"{e}.baseline.json")
                run_measured(cmd[:4] + ["--out", base_path, "--baseline"], timeout=300)
                r["baseline_rss_kb"] = json.load(open(base_path))["peak_rss_kb"]
                # Memory is compared from a separate run that compiles once and answers each request once (the
                # timing run's peak also holds its latency samples, whose count grows with the engine's speed).
                mem_path = os.path.join(d, f"{e}.memory.json")
                run_measured(cmd[:4] + ["--out", mem_path, "--memory"], timeout=600)
                r["timing_peak_rss_kb"] = r["peak_rss_kb"]
                r["peak_rss_kb"] = json.load(open(mem_path))["peak_rss_kb"]
            engines[e] = r
            print(f"   {e}: compile {r['compile_ms']:.1f} ms, median {fmt_us(r['median_us'])}, "
                  f"{sum(decisions.values())} allowed, {time.time() - t0:.1f} s", flush=True)
        size["engines"] = engines
        if not a.ci:
            batch, bad = batch_row(a, tools, d, py)
            size["batch"] = batch
            mismatches += bad
        size["seconds"] = time.time() - t_size
        results["sizes"][str(tools)] = size

    results["mismatches"] = mismatches
    results["load_after"] = os.getloadavg()
    results["seconds"] = time.time() - started
    with open(os.path.join(a.out, "results.json"), "w") as f:
        json.dump(results, f, indent=1)
    print(f"== {mismatches} mismatches; {results['seconds']:.0f} s", flush=True)
    if not a.ci:
        table = render(results)
        print(table)
        if a.doc_table:
            with open(a.doc_table, "w") as f:
                f.write(table)
        if a.plot:
            plot(results, a.plot)
    return 1 if mismatches else 0


def batch_row(a, tools: int, d: str, py: str) -> tuple[dict, int]:
    """`scopegate check --batch` end to end (process start, policy load and compile included; CPU time) on
    BATCH_LINES lines that each carry their own grant, and each peer's batch API on the first lines of the same file
    (compile and token preparation outside its timer, as engines.py does). Returns the results and the mismatches."""
    w = workload.generate(tools, seed=42, requests=BATCH_LINES, reuse=0.0)
    bd = d + "-distinct"
    workload.write(w, bd)
    policy, all_path = os.path.join(bd, "policy.yaml"), os.path.join(bd, "requests.all.jsonl")
    os.replace(os.path.join(bd, "requests.jsonl"), all_path)
    peer_lines = PEER_BATCH_LINES.get(tools, 1000)
    with open(all_path) as src, open(os.path.join(bd, "requests.jsonl"), "w") as dst:
        for i, line in enumerate(src):
            if i >= peer_lines:
                break
            dst.write(line)
    out_path = os.path.join(bd, "scopegate.decisions.jsonl")
    cli = run_measured([a.scopegate, "check", "--policy", policy, "--batch", all_path], stdout_path=out_path)
    if cli["rc"] not in (0, 1):
        raise SystemExit(f"scopegate check --batch exited {cli['rc']}: {cli['stderr'][-2000:]}")
    reference, records = {}, {}
    for line in open(out_path):
        rec = json.loads(line)
        reference[rec["id"]] = rec["allowed"]
        records[rec["id"]] = rec
    distinct = len(workload.token_ids(w.requests))
    result = {"lines": BATCH_LINES, "distinct_tokens": distinct, "peer_lines": peer_lines,
              "cli": {"cpu_s": cli["cpu_s"], "wall_s": cli["wall_s"], "peak_rss_kb": cli["peak_rss_kb"],
                      "per_s": BATCH_LINES / max(cli["cpu_s"], 1e-9),
                      "mean_us": cli["cpu_s"] / BATCH_LINES * 1e6},
              "peers": {}}
    print(f"   batch row: {BATCH_LINES:,} lines ({distinct:,} distinct grants), CLI {cli['cpu_s']:.2f} s CPU "
          f"({result['cli']['per_s']:,.0f} decisions/s end to end)", flush=True)
    bad = 0
    head = {rid: reference[rid] for rid in [r["id"] for r in w.requests[:peer_lines]]}
    for e in PEERS:
        res_path = os.path.join(bd, f"{e}.result.json")
        run = run_measured([py, os.path.join(HERE, "engines.py"), e, bd, "--out", res_path, "--min-seconds", "0",
                            "--batch", str(BATCH_SIZE), "--compile-reps", "1"], timeout=1200)
        if run["rc"] != 0:
            raise SystemExit(f"{e} failed:\n{run['stderr'][-3000:]}")
        r = json.load(open(res_path))
        bad += compare(f"{e} (batch row)", r.pop("decisions"), head, records, w)
        result["peers"][e] = {"mean_us": r["mean_us"], "per_s": r["throughput_per_s"], "compile_ms": r["compile_ms"]}
        print(f"   batch row, {e}: {r['throughput_per_s']:,.0f} decisions/s ({fmt_us(r['mean_us'])} each)", flush=True)
    return result, bad


def compare(engine: str, decisions: dict, reference: dict, records: dict, w) -> int:
    bad = 0
    rules = {name: clauses for name, clauses, _ in w.exact + w.globs}
    requests = {r["id"]: r for r in w.requests}
    for rid, expected in reference.items():
        got = decisions.get(rid)
        if got is None or bool(got) != bool(expected):
            bad += 1
            if bad <= 20:
                req = requests.get(rid, {})
                tool = req.get("tool", "")
                rule = rules.get(tool) or next((c for p, c in rules.items() if p.endswith("*") and tool.startswith(p[:-1])), None)
                print(f"MISMATCH {engine} {rid}: scopegate={expected} {engine}={got}\n  request: {json.dumps(req)}\n"
                      f"  rule clauses: {rule}\n  scopegate: {json.dumps(records.get(rid))}", flush=True)
    if len(decisions) != len(reference):
        print(f"MISMATCH {engine}: {len(decisions)} decisions for {len(reference)} requests")
        bad += 1
    return bad


def machine() -> dict:
    cpu = ""
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        for line in open("/proc/meminfo"):
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.0f} GiB"
    except OSError:
        pass
    versions = {}
    try:
        from importlib.metadata import version
        for pkg in ("cedarpy", "opa-golib-python-bindings", "pycasbin", "matplotlib"):
            versions[pkg] = version(pkg)
    except Exception:
        pass
    swift = subprocess.run(["swift", "--version"], capture_output=True, text=True).stdout.strip().splitlines()
    return {"cpu": cpu, "cores": os.cpu_count(), "memory": mem, "os": f"{platform.system()} {platform.release()}",
            "python": platform.python_version(), "swift": swift[0] if swift else "", "packages": versions}


ENGINE_LABELS = {
    "scopegate-lib-cached": "ScopeGate library, `isAllowed` (grant resolved once per token)",
    "scopegate-lib-per_request": "ScopeGate library, grant + `isAllowed` per request",
    "scopegate-lib-decide": "ScopeGate library, full `decide` (reason + cheapest completion; grant once per token)",
    "scopegate-cli": "ScopeGate CLI `check --batch` (end to end, JSON in/out; CPU time)",
    "cedar": "Cedar (cedarpy `is_authorized_batch`)",
    "opa": "OPA (opa-golib-python-bindings, one eval per batch)",
    "casbin": "Casbin (pycasbin `FastEnforcer.batch_enforce`)",
}


def render(results: dict) -> str:
    m = results["machine"]
    out = [f"Generated by `bench/peers/run.sh` on {results['started']} ({results['seconds']:.0f} s). "
           f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory']}, {m['os']}, {m['swift']}, Python {m['python']}; "
           f"packages {', '.join(f'{k} {v}' for k, v in m['packages'].items())}. "
           f"Load average (1/5/15 min) before: {' / '.join(f'{x:.1f}' for x in results['load_before'])}, after: "
           f"{' / '.join(f'{x:.1f}' for x in results['load_after'])}. **Mismatches: {results['mismatches']}.**", "",
           "Peak RSS: for the library and the peers, from a separate memory run of each (compile once, answer every "
           "request once, no timing passes); Δ is over the same process stopped after reading the requests. For the "
           "CLI, the whole `check --batch` process on the repeated requests.", ""]
    for tools, size in results["sizes"].items():
        meta = size["meta"]
        out += [f"**{int(tools):,} tools** ({meta['scopes']:,} scopes, {meta['wildcards']} wildcards, {meta['globs']} "
                f"globs; {meta['requests']:,} requests, {meta['distinct_tokens']} distinct tokens, "
                f"{size['allowed']} allowed / {size['denied']} denied)", "",
                "| Engine | Compile | Median / decision | p99 / decision | Mean | Throughput | Peak RSS | Δ over baseline |",
                "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
        for key, label in ENGINE_LABELS.items():
            e = size["engines"].get(key)
            if not e:
                continue
            delta = e["peak_rss_kb"] - e["baseline_rss_kb"] if e.get("baseline_rss_kb") is not None else None
            out.append(f"| {label} | {fmt_ms(e.get('compile_ms'))} | {fmt_us(e.get('median_us'))} | "
                       f"{fmt_us(e.get('p99_us'))} | {fmt_us(e.get('mean_us'))} | {fmt_rate(e.get('throughput_per_s'))} | "
                       f"{fmt_mb(e.get('peak_rss_kb'))} | {fmt_mb(delta)} |")
        split = size["engines"].get("scopegate-lib-cached", {}).get("split")
        if split:
            out.append("")
            out.append(f"ScopeGate library, grants resolved once, each decision timed alone: allows median "
                       f"{fmt_us(split['allow_median_us'])} (p99 {fmt_us(split['allow_p99_us'])}), denials median "
                       f"{fmt_us(split['deny_median_us'])} (p99 {fmt_us(split['deny_p99_us'])}); a denial also "
                       f"computes `missing` (the cheapest completion), which no peer does.")
        batch = size.get("batch")
        if batch:
            c = batch["cli"]
            out += ["", f"Batch row, each line its own grant: {batch['lines']:,} lines ({batch['distinct_tokens']:,} "
                    f"distinct grants); the peers' batch APIs (batches of {BATCH_SIZE}) on the first "
                    f"{batch['peer_lines']:,} of the same lines.", "",
                    "| Engine | Decisions/s | Per decision | Ratio (peer ÷ CLI) |", "| --- | ---: | ---: | ---: |",
                    f"| ScopeGate CLI `check --batch` (end to end: start, compile, JSON in/out; CPU time) | "
                    f"{fmt_rate(c['per_s'])} | {fmt_us(c['mean_us'])} | — |"]
            for p, r in batch["peers"].items():
                out.append(f"| {ENGINE_LABELS[p]} (decisions only) | {fmt_rate(r['per_s'])} | {fmt_us(r['mean_us'])} | "
                           f"{r['mean_us'] / c['mean_us']:,.1f}× |")
        cli = size["engines"].get("scopegate-cli")
        if cli:
            out.append("")
            out.append(f"ScopeGate CLI: {cli['lines']:,} lines; per decision {fmt_us(cli['mean_us'])} of CPU time "
                       f"(user + sys, the figure in the table), {fmt_us(cli['mean_wall_us'])} of wall time; compile = "
                       f"wall time of a run on an empty file (process start + policy load and compile).")
        out.append("")
    out += targets(results)
    return "\n".join(out) + "\n"


def targets(results: dict) -> list[str]:
    lines = ["Targets (library ratios use the median per-decision latency of `isAllowed` with the grant resolved once "
             "per token — the yes/no answer every peer gives; in brackets the ratios for grant + `isAllowed` per "
             "request and for the full `decide`, which also computes the reason and, for a denial, the cheapest "
             "completion):", "",
             "| Target | Size | ScopeGate | Peer | Ratio | Met? |", "| --- | ---: | ---: | ---: | ---: | --- |"]
    for tools, size in results["sizes"].items():
        e = size["engines"]
        lib, lib2, cli = e.get("scopegate-lib-cached"), e.get("scopegate-lib-per_request"), e.get("scopegate-cli")
        lib3 = e.get("scopegate-lib-decide") or lib
        for p in PEERS:
            if p not in e or not lib:
                continue
            need = TARGET_RATIO[p]
            ratio = e[p]["median_us"] / lib["median_us"]
            ratio2 = e[p]["median_us"] / lib2["median_us"]
            ratio3 = e[p]["median_us"] / lib3["median_us"]
            met = "yes" if ratio >= need else f"**no** ({ratio / need:.2f} of the target)"
            lines.append(f"| library ≥ {need}× faster than {p} | {int(tools):,} | {fmt_us(lib['median_us'])} "
                         f"(grant+isAllowed {fmt_us(lib2['median_us'])}; decide {fmt_us(lib3['median_us'])}) | "
                         f"{fmt_us(e[p]['median_us'])} | {ratio:,.0f}× ({ratio2:,.0f}×; {ratio3:,.0f}×) | {met} |")
        for p in PEERS:
            if p not in e or not cli:
                continue
            ratio = e[p]["mean_us"] / cli["mean_us"]
            met = "yes" if ratio > 1 else f"**no** (peer {1 / ratio:.1f}× faster)"
            lines.append(f"| CLI end to end faster than {p} (mean) | {int(tools):,} | {fmt_us(cli['mean_us'])} | "
                         f"{fmt_us(e[p]['mean_us'])} | {ratio:,.1f}× | {met} |")
    for tools, size in results["sizes"].items():
        batch = size.get("batch")
        if not batch:
            continue
        for p, need in BATCH_TARGET.items():
            if p not in batch["peers"]:
                continue
            ratio = batch["peers"][p]["mean_us"] / batch["cli"]["mean_us"]
            met = "yes" if ratio >= need else f"**no** ({ratio / need:.2f} of the target)"
            lines.append(f"| CLI `check --batch`, own grant per line, ≥ {need}× {p}'s batch API | {int(tools):,} | "
                         f"{fmt_us(batch['cli']['mean_us'])} | {fmt_us(batch['peers'][p]['mean_us'])} | "
                         f"{ratio:,.1f}× | {met} |")
    big = results["sizes"].get("10000")
    if big:
        e = big["engines"]
        lib = e.get("scopegate-lib-cached")
        if lib:
            for p in PEERS:
                if p not in e:
                    continue
                c = lib["compile_ms"] / e[p]["compile_ms"]
                met = "yes" if c < 1 else f"**no** ({c:.1f}× slower)"
                lines.append(f"| compile below {p} | 10,000 | {fmt_ms(lib['compile_ms'])} | {fmt_ms(e[p]['compile_ms'])} "
                             f"| {1 / c:.2f}× | {met} |")
            for p in PEERS:
                if p not in e:
                    continue
                ours = lib["peak_rss_kb"] - lib["baseline_rss_kb"]
                theirs = e[p]["peak_rss_kb"] - e[p]["baseline_rss_kb"]
                met = "yes" if ours < theirs else f"**no** ({ours / max(1, theirs):.1f}× more)"
                lines.append(f"| memory (Δ peak RSS) below {p} | 10,000 | {fmt_mb(ours)} | {fmt_mb(theirs)} | "
                             f"{theirs / max(1, ours):.1f}× | {met} |")
    return lines + [""]


def plot(results: dict, path: str) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    sizes = sorted(int(t) for t in results["sizes"])
    fig, ax = plt.subplots(figsize=(8, 5), dpi=120)
    series = [("scopegate-lib-cached", "ScopeGate library isAllowed (grant once per token)", "median_us", "o-"),
              ("scopegate-lib-per_request", "ScopeGate library (grant + isAllowed)", "median_us", "o--"),
              ("scopegate-lib-decide", "ScopeGate library full decide (with missing)", "median_us", "o:"),
              ("scopegate-cli", "ScopeGate CLI check --batch (mean CPU time, end to end)", "mean_us", "s-"),
              ("cedar", "Cedar (cedarpy)", "median_us", "^-"),
              ("opa", "OPA (Go OPA via Python bindings)", "median_us", "v-"),
              ("casbin", "Casbin (pycasbin)", "median_us", "d-")]
    for key, label, field, style in series:
        xs, ys = [], []
        for t in sizes:
            e = results["sizes"][str(t)]["engines"].get(key)
            if e and e.get(field):
                xs.append(t)
                ys.append(e[field])
        if xs:
            ax.plot(xs, ys, style, label=label)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("policy size (tools)")
    ax.set_ylabel("latency per decision (µs, log)")
    ax.set_title(f"Per-decision latency vs policy size ({results['started'][:10]}, "
                 f"{results['machine']['cores']} cores, load {results['load_before'][0]:.1f})")
    ax.set_xticks(sizes)
    ax.set_xticklabels([f"{t:,}" for t in sizes])
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path)


if __name__ == "__main__":
    sys.exit(main())
