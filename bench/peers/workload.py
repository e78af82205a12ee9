"""Neutral workload generator and encoders for the side-by-side comparison (bench/peers/run.sh).

One seeded workload (Python's `random.Random(seed)`, so the same seed gives the same files everywhere) is written
four ways: a ScopeGate policy, a Cedar policy set plus entities, a Rego module plus a data document, and a Casbin
model plus a policy CSV. Every engine evaluates the scope hierarchy itself; the only thing expanded here is
wildcard *coverage* (`p:*` covers every defined scope under `p:`), because none of the peers derives it from
names. Nothing here computes a closure.

Shape (all sizes):
- Scopes: services `s<i>`, each with areas `s<i>:a<j>` of resources `s<i>:a<j>:r<k>`, each resource a chain
  `…:admin` → `…:write` → `…:read`; an area's `…:manage` implies its resources' `admin`; a service's
  `s<i>:owner` implies its areas' `manage` (depth 5), and some `write` scopes also imply a `read` of another
  resource of the same service (a DAG, not a tree). Every third service defines the wildcard `s<i>:*`, every
  fourth area `s<i>:a<j>:*`.
- Tools: exact names `t<n>` with a requirement: one scope (35%), `all` of two (20%), or `any` of 2–4 clauses, each
  one scope or `all` of two (45%); and about 1% globs `g<k>_*` (distinct literal prefixes, so no two globs overlap
  and no glob overlaps an exact name: tool resolution needs no specificity ranking, which the peers could not
  express idiomatically).
- Not in the workload (documented in docs/performance.md): `actions`, `when` argument conditions, public tools,
  deprecated scopes, prefix stripping — either some peer has no idiomatic form, or they do not touch the hierarchy.
- Requests: 80% exact tools, 15% names a glob matches, 5% unknown names (deny). Tokens of 1–20 scopes: about half
  built to satisfy one clause of the tool (each scope granted as itself, through an ancestor that implies it, or
  through a wildcard that covers it) plus unrelated padding, the rest random scopes of the tool's service (mostly
  denials, some allows); 3% of tokens carry a string the policy does not define (`*` or an unknown scope). Half the
  requests reuse an earlier token, as real clients do (`reuse`; the batch row uses 0: every line its own token).
"""

from __future__ import annotations

import json
import os
import random
from dataclasses import dataclass, field

SIZES = {"100": 100, "2000": 2000, "10000": 10000}


@dataclass
class Workload:
    tools: int
    seed: int
    concrete: list[str] = field(default_factory=list)          # concrete scopes, definition order
    implies: dict[str, list[str]] = field(default_factory=dict)  # scope -> scopes it implies (concrete only)
    wildcards: list[str] = field(default_factory=list)          # defined wildcard scopes `p:*`
    service_scopes: dict[int, list[str]] = field(default_factory=dict)
    exact: list[tuple[str, list[list[str]], str]] = field(default_factory=list)  # (name, clauses, kind)
    globs: list[tuple[str, list[list[str]], str]] = field(default_factory=list)  # (pattern, clauses, kind)
    requests: list[dict] = field(default_factory=list)

    # -- derived views ---------------------------------------------------------------------------------------

    def coverage(self, wildcard: str) -> list[str]:
        """The concrete scopes a defined wildcard covers (by name prefix): the only expansion peers are given."""
        prefix = wildcard[:-1]
        return [s for s in self.concrete if s.startswith(prefix)]

    def implied_by(self) -> dict[str, list[str]]:
        parents: dict[str, list[str]] = {}
        for a, bs in self.implies.items():
            for b in bs:
                parents.setdefault(b, []).append(a)
        for w in self.wildcards:
            for s in self.coverage(w):
                parents.setdefault(s, []).append(w)
        return parents


def generate(tools: int, seed: int = 42, requests: int = 1000, reuse: float = 0.5) -> Workload:
    rng = random.Random(seed * 1_000_003 + tools)
    w = Workload(tools=tools, seed=seed)
    areas, resources = 4, 4
    services = max(3, round(tools / 2 / (areas * (3 * resources + 1) + 1)))
    for i in range(services):
        svc: list[str] = []
        owner = f"s{i}:owner"
        manages = []
        for j in range(areas):
            manage = f"s{i}:a{j}:manage"
            admins = []
            for k in range(resources):
                base = f"s{i}:a{j}:r{k}"
                w.implies[f"{base}:admin"] = [f"{base}:write"]
                w.implies[f"{base}:write"] = [f"{base}:read"]
                w.implies[f"{base}:read"] = []
                svc += [f"{base}:admin", f"{base}:write", f"{base}:read"]
                admins.append(f"{base}:admin")
            w.implies[manage] = admins
            svc.append(manage)
            manages.append(manage)
            if j % 4 == (i % 4):
                w.wildcards.append(f"s{i}:a{j}:*")
        w.implies[owner] = manages
        svc.append(owner)
        if i % 3 == 0:
            w.wildcards.append(f"s{i}:*")
        # cross links: some writes also imply another resource's read (same service, reads imply nothing: acyclic)
        writes = [s for s in svc if s.endswith(":write")]
        reads = [s for s in svc if s.endswith(":read")]
        for s in writes:
            if rng.random() < 0.15:
                r = rng.choice(reads)
                if r != s[: -len("write")] + "read":
                    w.implies[s].append(r)
        w.service_scopes[i] = svc
        w.concrete += svc

    def pick(svc: int) -> str:
        # requirements mostly name leaf-ish scopes (read/write), sometimes admin/manage
        scopes = w.service_scopes[svc]
        r = rng.random()
        pool = [s for s in scopes if s.endswith(":read")] if r < 0.5 else \
               [s for s in scopes if s.endswith(":write")] if r < 0.85 else \
               [s for s in scopes if s.endswith(":admin") or s.endswith(":manage")]
        return rng.choice(pool)

    def requirement(svc: int) -> tuple[list[list[str]], str]:
        r = rng.random()
        if r < 0.35:
            return [[pick(svc)]], "one"
        if r < 0.55:
            a, b = pick(svc), pick(svc)
            while b == a:
                b = pick(svc)
            return [[a, b]], "all"
        clauses: list[list[str]] = []
        for _ in range(rng.randint(2, 4)):
            if rng.random() < 0.3:
                a, b = pick(svc), pick(svc)
                c = [a] if a == b else [a, b]
            else:
                c = [pick(svc)]
            if c not in clauses:
                clauses.append(c)
        if len(clauses) == 1:
            return clauses, "one" if len(clauses[0]) == 1 else "all"
        return clauses, "any"

    n_globs = max(1, tools // 100)
    tool_service = {}
    for n in range(tools - n_globs):
        svc = rng.randrange(services)
        clauses, kind = requirement(svc)
        w.exact.append((f"t{n}", clauses, kind))
        tool_service[f"t{n}"] = svc
    for k in range(n_globs):
        svc = rng.randrange(services)
        clauses, kind = requirement(svc)
        w.globs.append((f"g{k}_*", clauses, kind))
        tool_service[f"g{k}_*"] = svc

    implied_by = w.implied_by()

    def grant_for(scope: str) -> str:
        r = rng.random()
        if r < 0.5:
            return scope
        ups = implied_by.get(scope, [])
        if not ups:
            return scope
        s = rng.choice(ups)
        while r > 0.8 and implied_by.get(s) and rng.random() < 0.5:   # sometimes further up
            s = rng.choice(implied_by[s])
        return s

    tokens: list[list[str]] = []
    all_rules = w.exact + w.globs
    for n in range(requests):
        r = rng.random()
        if r < 0.8:
            name, clauses, _ = rng.choice(w.exact)
            svc = tool_service[name]
        elif r < 0.95:
            pattern, clauses, _ = rng.choice(w.globs)
            name = pattern[:-1] + rng.choice(["run", "list", "x", "report_42", ""])
            svc = tool_service[pattern]
        else:
            name = rng.choice(["unknown", "t", "g", "tool_x", f"t{tools + 7}", "g_"]) + str(rng.randrange(100))
            if name in tool_service:
                name = "nope_" + name
            clauses, svc = rng.choice(all_rules)[1], rng.randrange(services)
        if tokens and rng.random() < reuse:
            scopes = rng.choice(tokens)
        else:
            size = min(20, 1 + int(rng.expovariate(1 / 4)))
            scopes: list[str] = []
            if rng.random() < 0.5:
                for s in rng.choice(clauses):
                    g = grant_for(s)
                    if g not in scopes:
                        scopes.append(g)
            own = w.service_scopes[svc]
            while len(scopes) < size:
                s = rng.choice(own) if rng.random() < 0.6 else rng.choice(w.concrete)
                if rng.random() < 0.05 and w.wildcards:
                    s = rng.choice(w.wildcards)
                if s not in scopes:
                    scopes.append(s)
            if rng.random() < 0.03:
                scopes.insert(rng.randrange(len(scopes) + 1), rng.choice(["*", f"s{svc}:bogus", "s0:a9:*"]))
            tokens.append(scopes)
        w.requests.append({"id": f"r{n}", "tool": name, "scopes": scopes})
    return w


# -- encoders ------------------------------------------------------------------------------------------------------

def q(s: str) -> str:
    """A YAML double-quoted scalar (names are plain ASCII; quoting keeps `*` and `:` safe)."""
    return json.dumps(s)


def scopegate_yaml(w: Workload) -> str:
    """ScopeGate: the hierarchy as `implies`, wildcards as defined `p:*` scopes, requirements as all/any trees."""
    out = ["version: 1", "# generated by bench/peers/workload.py — do not edit", "scopes:"]
    for s in w.concrete:
        imp = w.implies.get(s, [])
        out.append(f"  {q(s)}: " + ("{}" if not imp else "{ implies: [" + ", ".join(q(x) for x in imp) + "] }"))
    for wc in w.wildcards:
        out.append(f"  {q(wc)}: {{}}")
    out.append("tools:")

    def req(clauses: list[list[str]]) -> str:
        def clause(c: list[str]) -> str:
            return q(c[0]) if len(c) == 1 else "{ all: [" + ", ".join(q(x) for x in c) + "] }"
        if len(clauses) == 1:
            return clause(clauses[0])
        return "{ any: [" + ", ".join(clause(c) for c in clauses) + "] }"

    for name, clauses, _ in w.exact + w.globs:
        out.append(f"  {q(name)}: {{ requires: {req(clauses)} }}")
    return "\n".join(out) + "\n"


def cedar(w: Workload) -> tuple[str, list[dict]]:
    """Cedar: scopes are `Scope` entities whose parents are the scopes they imply (A implies B ⇒ A `in` B; a
    wildcard's parents are the scopes it covers); a token is a `Token` entity whose parents are its granted scopes,
    so `principal in Scope::"x"` asks whether the token's closure holds x, and Cedar computes that closure itself
    (entity-hierarchy transitive closure). One `permit` per tool rule: exact tools by `resource ==`, globs by
    `resource.name like "g3_*"`; clauses as `&&` inside `||`. Unknown tools match no permit: default deny."""
    def cond(clauses: list[list[str]]) -> str:
        parts = [" && ".join(f'principal in Scope::{q(s)}' for s in c) for c in clauses]
        return parts[0] if len(parts) == 1 else " || ".join(f"({p})" for p in parts)

    policies = []
    for name, clauses, _ in w.exact:
        policies.append(f'@id({q(name)})\npermit (principal is Token, action == Action::"call", '
                        f'resource == Tool::{q(name)})\nwhen {{ {cond(clauses)} }};')
    for pattern, clauses, _ in w.globs:
        policies.append(f'@id({q(pattern)})\npermit (principal is Token, action == Action::"call", resource is Tool)\n'
                        f'when {{ resource.name like {q(pattern)} && ({cond(clauses)}) }};')
    entities = []
    for s in w.concrete:
        entities.append({"uid": {"type": "Scope", "id": s}, "attrs": {},
                         "parents": [{"type": "Scope", "id": x} for x in w.implies.get(s, [])]})
    for wc in w.wildcards:
        entities.append({"uid": {"type": "Scope", "id": wc}, "attrs": {},
                         "parents": [{"type": "Scope", "id": x} for x in w.coverage(wc)]})
    return "\n\n".join(policies) + "\n", entities


REGO = """\
# generated by bench/peers/workload.py — do not edit
# data.sg.implies: scope -> the scopes it implies (a wildcard: the scopes it covers); every defined scope is a key.
# data.sg.tools:   exact tool name -> clauses (any clause suffices; every scope of a clause is needed).
# data.sg.globs:   [{pattern, clauses}] for tool-name globs (tried only when no exact name matches).
package scopegate

import rego.v1

clauses_for(tool) := data.sg.tools[tool]

clauses_for(tool) := g.clauses if {
	not data.sg.tools[tool]
	some g in data.sg.globs
	glob.match(g.pattern, null, tool)
}

allowed(req) if {
	clauses := clauses_for(req.tool)
	closure := graph.reachable(data.sg.implies, req.scopes)
	some clause in clauses
	every s in clause { s in closure }
}

decide(req) := true if allowed(req)
else := false

# one request
allow := decide(input)

# a batch: input.requests -> [bool]
decisions := [decide(r) | some r in input.requests]
"""


def rego_data(w: Workload) -> dict:
    implies = {s: list(w.implies.get(s, [])) for s in w.concrete}
    for wc in w.wildcards:
        implies[wc] = w.coverage(wc)
    return {"sg": {"implies": implies,
                   "tools": {name: clauses for name, clauses, _ in w.exact},
                   "globs": [{"pattern": p, "clauses": c} for p, c, _ in w.globs]}}


CASBIN_MODEL = """\
# generated by bench/peers/workload.py — do not edit
# r.key: the policy index bucket — the tool name when the policy has lines for that exact name, else `*` (the glob
#        lines); the application picks it with one dict lookup, and pycasbin's FastEnforcer (cache_key_order=[0])
#        then scans only that bucket instead of every line.
# r.obj: the tool name; r.sub: a token id (its granted scopes are `g, <token>, <scope>` links, added when the token
#        is first seen). A policy line is one clause of a tool rule: (bucket, tool name or keyMatch pattern, scope,
#        scope) — a one-scope clause repeats its scope. `g` is the scope hierarchy: `g, A, B` = A implies B (a
#        wildcard: covers B), so the role manager walks the hierarchy. Any matching line allows: `any` = several lines.
[request_definition]
r = key, obj, sub

[policy_definition]
p = key, obj, s1, s2

[role_definition]
g = _, _

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = keyMatch(r.obj, p.obj) && g(r.sub, p.s1) && g(r.sub, p.s2)
"""


def casbin_policy(w: Workload) -> str:
    lines = []
    for name, clauses, _ in w.exact + w.globs:
        bucket = "*" if name.endswith("*") else name
        for c in clauses:
            lines.append(f"p, {bucket}, {name}, {c[0]}, {c[1] if len(c) > 1 else c[0]}")
    for s in w.concrete:
        for x in w.implies.get(s, []):
            lines.append(f"g, {s}, {x}")
    for wc in w.wildcards:
        for x in w.coverage(wc):
            lines.append(f"g, {wc}, {x}")
    return "\n".join(lines) + "\n"


def token_ids(requests: list[dict]) -> dict[tuple, str]:
    ids: dict[tuple, str] = {}
    for r in requests:
        key = tuple(r["scopes"])
        if key not in ids:
            ids[key] = f"tok{len(ids)}"
    return ids


def write(w: Workload, out: str) -> None:
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "policy.yaml"), "w") as f:
        f.write(scopegate_yaml(w))
    with open(os.path.join(out, "requests.jsonl"), "w") as f:
        for r in w.requests:
            f.write(json.dumps(r, separators=(",", ":")) + "\n")
    policies, entities = cedar(w)
    with open(os.path.join(out, "cedar.cedar"), "w") as f:
        f.write(policies)
    with open(os.path.join(out, "cedar.entities.json"), "w") as f:
        json.dump(entities, f)
    with open(os.path.join(out, "policy.rego"), "w") as f:
        f.write(REGO)
    with open(os.path.join(out, "rego.data.json"), "w") as f:
        json.dump(rego_data(w), f)
    with open(os.path.join(out, "casbin.model.conf"), "w") as f:
        f.write(CASBIN_MODEL)
    with open(os.path.join(out, "casbin.policy.csv"), "w") as f:
        f.write(casbin_policy(w))
    kinds = {}
    for _, _, k in w.exact + w.globs:
        kinds[k] = kinds.get(k, 0) + 1
    meta = {"tools": w.tools, "exact_tools": len(w.exact), "globs": len(w.globs), "scopes": len(w.concrete),
            "wildcards": len(w.wildcards), "requirement_kinds": kinds, "requests": len(w.requests),
            "distinct_tokens": len(token_ids(w.requests)), "seed": w.seed,
            "mean_token_size": sum(len(r["scopes"]) for r in w.requests) / max(1, len(w.requests))}
    with open(os.path.join(out, "meta.json"), "w") as f:
        json.dump(meta, f, indent=1)


if __name__ == "__main__":
    import sys
    t = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    wl = generate(t, requests=n)
    write(wl, sys.argv[3] if len(sys.argv) > 3 else f"out/w{t}")
    print(json.dumps(json.load(open(os.path.join(sys.argv[3] if len(sys.argv) > 3 else f"out/w{t}", "meta.json")))))
