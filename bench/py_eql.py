#!/usr/bin/env python3
"""Baseline (2): the reference implementation, PyPI `eql`, evaluating the kubelet pack's
single-event rules (11 of 16; the 5 sequences are another workload) over the same NDJSON.

Python eql cannot evaluate Elasticsearch arrays: `in` on a list raises and `:` / `==` on a list
never match. So every array of scalars in an event (event.category, event.type, process.args,
host.ip, ...) is joined into one space-separated string before evaluation. That changes verdicts
(documented in BENCHMARKS.md); the point here is throughput on the same rules and bytes.
Queries are parsed in Elasticsearch syntax mode (`elasticsearch_syntax, ignore_missing_fields`);
the one query Python eql refuses is rewritten minimally: `cidrmatch(` -> `cidrMatch(`.

Phases are timed separately per chunk of lines: decode (json.loads), adapt (join arrays, build
eql.Event) and evaluate (PythonEngine.stream_events). Prints one JSON document on stdout with,
per repetition, CPU (thread) and wall seconds of each phase, and the hits per rule.

usage: py_eql.py EVENTS.ndjson [--max-events N] [--reps R] [--rules DIR]
"""
import argparse
import glob
import json
import os
import resource
import sys
import time
import tomllib

import eql
from eql.parser import elasticsearch_syntax, ignore_missing_fields

REWRITES = [("cidrmatch(", "cidrMatch(")]


def load_rules(rules_dir):
    rules, rewritten = [], []
    for path in sorted(glob.glob(os.path.join(rules_dir, "*.toml"))):
        with open(path, "rb") as f:
            rule = tomllib.load(f)["rule"]
        query = rule["query"]
        if query.lstrip().startswith(("sequence", "sample")):
            continue
        for old, new in REWRITES:
            if old in query:
                query = query.replace(old, new)
                rewritten.append({"rule": rule["name"], "rewrite": f"{old} -> {new}"})
        with elasticsearch_syntax, ignore_missing_fields:
            parsed = eql.parse_query(query)
        rules.append((rule["rule_id"], rule["name"], parsed))
    return rules, rewritten


def adapt(value):
    """Arrays of scalars become one space-separated string; objects are walked."""
    if isinstance(value, dict):
        return {k: adapt(v) for k, v in value.items()}
    if isinstance(value, list):
        if all(not isinstance(x, (dict, list)) for x in value):
            return " ".join("" if x is None else str(x) for x in value)
        return [adapt(x) for x in value]
    return value


def run_once(path, rules, max_events, chunk):
    engine = eql.PythonEngine()
    hits = {}

    def hook(output):
        hits[output.analytic_id] = hits.get(output.analytic_id, 0) + 1

    for rule_id, name, query in rules:
        engine.add_analytic(eql.ast.EqlAnalytic(query, metadata={"id": name}))
    engine.add_output_hook(hook)

    phases = {p: [0.0, 0.0] for p in ("read", "decode", "adapt", "evaluate")}

    def timed(phase, fn):
        c0, w0 = time.thread_time(), time.perf_counter()
        out = fn()
        phases[phase][0] += time.thread_time() - c0
        phases[phase][1] += time.perf_counter() - w0
        return out

    n, nbytes, pos = 0, 0, 0
    with open(path, "rb") as f:
        while n < max_events:
            lines = timed("read", lambda: [l for l in (f.readline() for _ in range(min(chunk, max_events - n))) if l])
            if not lines:
                break
            nbytes += sum(len(l) for l in lines)
            docs = timed("decode", lambda: [json.loads(l) for l in lines])

            def build():
                evs = []
                for i, d in enumerate(docs):
                    cat = (d.get("event") or {}).get("category")
                    cat = cat[0] if isinstance(cat, list) and cat else (cat or "generic")
                    evs.append(eql.Event(cat, pos + i, adapt(d)))
                return evs

            events = timed("adapt", build)
            timed("evaluate", lambda: engine.stream_events(events, finalize=False))
            n += len(lines)
            pos += len(lines)
    timed("evaluate", engine.finalize)
    return {"events": n, "bytes": nbytes, "phases": phases, "hits": hits}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("events")
    ap.add_argument("--max-events", type=int, default=50_000)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--chunk", type=int, default=2000)
    ap.add_argument("--rules", default=os.path.join(os.path.dirname(__file__), "..", "rules"))
    a = ap.parse_args()
    rules, rewritten = load_rules(a.rules)
    runs = [run_once(a.events, rules, a.max_events, a.chunk) for _ in range(a.reps)]
    print(json.dumps({
        "eql_version": eql.__version__,
        "python": sys.version.split()[0],
        "rules": [name for _, name, _ in rules],
        "rewritten": rewritten,
        "runs": runs,
        "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }))


if __name__ == "__main__":
    main()
