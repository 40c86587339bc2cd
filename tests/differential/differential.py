#!/usr/bin/env python3
"""Differential test of eqlite against Python `eql` 1.0.1 (the Endgame reference implementation).

Generates random EQL queries, deterministically from a seed, over the scalar fields of the
Python suite's event data (`../shared/testdata/python-eql/test_data.json`, 102 events), restricted
to the part of the language where Elasticsearch EQL (eqlite) and Python `eql` agree (see
`../shared/docs/eql-semantics.md` §7 and §9):

  * `:`, `like~` and `in~` (case-insensitive in both), with `*` wildcards only (`?` is a
    wildcard only in Elasticsearch), on string fields;
  * `regex~` with patterns ending in `.*` (Python's `re.match` is anchored at the start only);
  * `==`, `!=`, `<`, `<=`, `>`, `>=`, `in`, `not in` on numbers only (Python folds case when
    comparing strings), and `+`, `-`, `*` by small integers (division and modulo round
    differently);
  * `== null` / `!= null`, `length()` of strings, `and`, `or`, `not`, `any where`;
  * no arrays or objects (`bytes_written_string_list`, `mysterious_field` are not used).

Every query is evaluated on every event by both engines: eqlite through its command line (all
queries in one `eqlite scan` run, one `--query` each), Python `eql` through `PythonEngine`. The
match sets must be identical; each disagreeing (query, event) pair is printed and the exit status
is 1. Usage: differential.py --eqlite target/debug/eqlite [--queries 100] [--seed 9]
"""

import argparse
import json
import os
import random
import re
import sys

from eql import Event, PythonEngine, parse_query
from eqlite_scan import scan
from eql.parser import elasticsearch_syntax, ignore_missing_fields, skip_optimizations

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "..", "..", "shared", "testdata", "python-eql", "test_data.json")


def quote(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def recase(rng, s):
    """The same text with the case of some letters flipped: every operator used is insensitive."""
    return "".join(c.swapcase() if c.isalpha() and rng.random() < 0.3 else c for c in s)


class Generator:
    def __init__(self, events, rng):
        self.rng = rng
        types = {}
        for e in events:
            for k, v in e.items():
                types.setdefault(k, set()).add(type(v).__name__)
        self.strings = sorted(k for k, t in types.items() if t == {"str"})
        self.numbers = sorted(k for k, t in types.items() if t == {"int"})
        self.fields = self.strings + self.numbers
        self.values = {k: sorted({e[k] for e in events if k in e}) for k in self.fields}
        self.events = events

    def field(self, kinds):
        """A field of the given kind, picked from a random event so that common fields (and
        categories) come up as often as they occur: more queries match something."""
        e = self.rng.choice(self.events)
        present = [k for k in kinds if k in e]
        return self.rng.choice(present if present and self.rng.random() < 0.8 else kinds)

    def string_value(self, field):
        # `*` and `?` would be wildcards in one dialect and not the other.
        vals = [v for v in self.values[field] if "*" not in v and "?" not in v]
        return self.rng.choice(vals) if vals else "x"

    def wildcard(self, field):
        r = self.rng
        s = self.string_value(field)
        if not s:
            return "*"
        i = r.randrange(len(s))
        j = r.randrange(i, len(s)) + 1
        sub = recase(r, s[i:j])
        kind = r.choice(["exact", "prefix", "suffix", "contains", "two", "miss"])
        if kind == "exact":
            return recase(r, s)
        if kind == "prefix":
            return recase(r, s[:j]) + "*"
        if kind == "suffix":
            return "*" + recase(r, s[i:])
        if kind == "contains":
            return "*" + sub + "*"
        if kind == "two":
            return recase(r, s[: max(1, i)]) + "*" + recase(r, s[j - 1 :])
        return "*" + sub + "zq*"

    def number(self, field):
        v = self.rng.choice(self.values[field])
        return v + self.rng.choice([0, 0, 0, -1, 1])

    def atom(self):
        r = self.rng
        kind = r.choices(
            ["null", "cmp", "in", "arith", "colon", "like", "in~", "regex", "length"],
            weights=[2, 4, 2, 1, 4, 3, 3, 2, 1],
        )[0]
        if kind == "null":
            return f"{self.field(self.fields)} {r.choice(['==', '!='])} null"
        if kind in ("cmp", "in", "arith"):
            f = self.field(self.numbers)
            if kind == "cmp":
                return f"{f} {r.choice(['==', '!=', '<', '<=', '>', '>='])} {self.number(f)}"
            if kind == "in":
                vals = ", ".join(str(self.number(f)) for _ in range(r.randint(1, 4)))
                return f"{f} {r.choice(['in', 'not in'])} ({vals})"
            op, k = r.choice(["+", "-", "*"]), r.randint(1, 3)
            target = {"+": self.number(f) + k, "-": self.number(f) - k, "*": self.number(f) * k}[op]
            return f"{f} {op} {k} {r.choice(['==', '!=', '<', '>='])} {target}"
        f = self.field(self.strings)
        if kind in ("colon", "like"):
            op = ":" if kind == "colon" else "like~"
            pats = [quote(self.wildcard(f)) for _ in range(r.choice([1, 1, 2, 3]))]
            return f"{f} {op} {pats[0] if len(pats) == 1 else '(' + ', '.join(pats) + ')'}"
        if kind == "in~":
            vals = [quote(recase(r, self.string_value(f))) for _ in range(r.randint(1, 3))]
            if r.random() < 0.3:
                vals.append(quote("no-such-value"))
            return f"{f} {r.choice(['in~', 'not in~'])} ({', '.join(vals)})"
        if kind == "regex":
            s = self.string_value(f)
            words = re.findall(r"[A-Za-z0-9]+", s) or ["x"]
            lit = recase(r, r.choice(words))
            pat = r.choice([lit + ".*", ".*" + lit + ".*"])
            return f"{f} regex~ {quote(pat)}"
        return f"length({f}) {r.choice(['==', '<', '>'])} {r.randint(0, 40)}"

    def expr(self, depth):
        r = self.rng
        if depth == 0 or r.random() < 0.35:
            a = self.atom()
            return f"not ({a})" if r.random() < 0.15 else a
        op = r.choice(["and", "or", "or", "not"])
        if op == "not":
            return f"not ({self.expr(depth - 1)})"
        return f"({self.expr(depth - 1)} {op} {self.expr(depth - 1)})"

    def query(self):
        cat = self.rng.choice(["any", self.rng.choice(self.events)["event_type"]])
        return f"{cat} where {self.expr(3)}"


def python_matches(query, events):
    # Python eql's optimizer is off: it folds `x in (44, 40) or x <= 6` into `x in (44, 40, 6)`
    # (eql 1.0.1), which the differential test found; the query is evaluated as written.
    with elasticsearch_syntax, ignore_missing_fields, skip_optimizations:
        q = parse_query(query)
    engine = PythonEngine()
    hits = set()
    engine.add_output_hook(lambda out: hits.update(e.data["_i"] for e in out.events))
    engine.add_query(q)
    engine.stream_events([Event.from_data(dict(e, _i=i)) for i, e in enumerate(events)])
    return hits


def eqlite_matches(binary, queries, events):
    args = ["--category-field", "event_type"]
    for q in queries:
        args += ["--query", q]
    found = {i: set() for i in range(len(queries))}
    for a in scan(binary, args, events):
        found[int(a["rule_id"].removeprefix("query-"))].update(a["events"])
    return found


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--eqlite", required=True, help="the eqlite binary")
    ap.add_argument("--queries", type=int, default=100, help="number of generated queries (default 100)")
    ap.add_argument("--seed", type=int, default=9)
    ap.add_argument("--data", default=DATA)
    args = ap.parse_args()

    with open(args.data) as f:
        events = json.load(f)
    gen = Generator(events, random.Random(args.seed))
    queries = [gen.query() for _ in range(args.queries)]

    ours = eqlite_matches(args.eqlite, queries, events)
    disagreements, matched, errors = [], 0, []
    for i, q in enumerate(queries):
        try:
            theirs = python_matches(q, events)
        except Exception as e:  # the generator must only produce queries both accept
            errors.append((q, f"{type(e).__name__}: {e}"))
            continue
        matched += len(theirs & ours[i])
        for pos in sorted(theirs ^ ours[i]):
            disagreements.append((i, q, pos, pos in ours[i], pos in theirs))

    cases = len(queries) * len(events)
    queries_matching = sum(1 for i in range(len(queries)) if ours[i])
    for q, e in errors:
        print(f"PYTHON ERROR on {q}\n  {e}")
    for i, q, pos, mine, python in disagreements[:200]:
        ev = events[pos]
        print(f"DISAGREE query-{i}: {q}\n  event {pos} (serial_event_id {ev.get('serial_event_id')}): "
              f"eqlite {'matches' if mine else 'does not match'}, Python eql {'matches' if python else 'does not'}\n"
              f"  {json.dumps({k: v for k, v in ev.items() if k in q})}")
    print(f"differential: {len(queries)} queries x {len(events)} events = {cases} (query, event) cases; "
          f"{matched} matches in both, {queries_matching} queries match something; "
          f"{len(disagreements)} disagreements, {len(errors)} Python errors (seed {args.seed})")
    sys.exit(1 if disagreements or errors else 0)


if __name__ == "__main__":
    main()
