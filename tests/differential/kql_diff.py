#!/usr/bin/env python3
"""Differential test of eqlite's KQL against detection-rules' KQL evaluator (kql.get_evaluator).

Generates random KQL queries and documents, deterministically from a seed, over fields that have
no ECS type (so eqlite reads them as their JSON values, as the Python evaluator does), within the
part of KQL where the two agree with each other and with Kibana:

  * `field: value` with quoted and unquoted values, escapes (`\\:`, `\\(`, `\\*`, quoted `\\"`),
    lists `field: (a or b and not c)`, `field: not v`, `*` (exists), wildcards on string fields;
  * ranges `<`, `<=`, `>`, `>=` on number fields, numbers quoted or not;
  * `and`, `or`, `not` (lowercase: detection-rules' lexer refuses `AND`), parentheses;
  * multi-valued fields (lists of strings and numbers) and arrays of objects read flattened;
  * not: free text (eqlite refuses it), nested `{}` across objects (Elasticsearch's nested
    semantics, which eqlite does not have), CIDR blocks, wildcards on numbers (the Python
    evaluator raises), floats written as `1.0`, and the string "true" in documents: the Python
    evaluator compares unquoted `true` with a string as Python's `str(True)`, "True", so
    `f: true` misses "true", where Kibana's term query (and eqlite) matches it.

Every query is evaluated on every document by both: eqlite through `eqlite scan` (one `--kql`
per query, all in one run), Python through `kql.get_evaluator`. The match sets must be
identical; each disagreeing (query, document) pair is printed and the exit status is 1.
Usage: kql_diff.py --eqlite target/debug/eqlite [--queries 100] [--docs 30] [--seed 7]
"""

import argparse
import json
import random
import sys

import kql
from eqlite_scan import scan

STRINGS = ["foo", "Foo", "bar", "foo bar", "a:b", "x*y", "(p)", 'say "hi"', "node:1", "fo", "o", "a b c", "1"]
STRING_FIELDS = ["kq.s", "kq.t", "kq.list", "kq.objs.name"]
NUMBER_FIELDS = ["kq.n", "kq.nums", "kq.objs.size"]
BOOL_FIELDS = ["kq.b"]


def quote(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def unquoted(s):
    """The value as an unquoted KQL literal: every special character escaped."""
    out = []
    for c in s:
        if c in '\\():<>"*{}':
            out.append("\\" + c)
        else:
            out.append(c)
    return "".join(out)


class Generator:
    def __init__(self, rng):
        self.rng = rng

    def kw(self, word):
        # Kibana takes keywords in any case; detection-rules' lexer only lowercase ones.
        return word

    def string_value(self):
        r = self.rng.random()
        s = self.rng.choice(STRINGS)
        if r < 0.45 or " " in s:
            return quote(s)
        if r < 0.75:
            return unquoted(s)
        # A wildcard: a piece of a known string with `*` around or inside it.
        t = s
        i = self.rng.randrange(len(t) + 1)
        j = self.rng.randrange(i, len(t) + 1)
        pieces = [unquoted(t[:i]), unquoted(t[j:])]
        w = "*".join(pieces)
        if self.rng.random() < 0.3:
            w = "*" + w
        return w if w.strip("*") else "*" + unquoted(t) + "*"

    def number_value(self):
        n = self.rng.randrange(0, 6)
        return quote(str(n)) if self.rng.random() < 0.3 else str(n)

    def values(self, make, depth):
        if depth > 1 or self.rng.random() < 0.5:
            v = make()
            return ("not " + v) if self.rng.random() < 0.1 else v
        n = self.rng.randrange(2, 4)
        parts = []
        for _ in range(n):
            p = make() if self.rng.random() < 0.8 else "(" + self.values(make, depth + 1) + ")"
            if self.rng.random() < 0.2:
                p = self.kw("not") + " " + p
            parts.append(p)
        out = parts[0]
        for p in parts[1:]:
            out += " " + self.kw(self.rng.choice(["or", "and"])) + " " + p
        return "(" + out + ")"

    def leaf(self):
        r = self.rng.random()
        if r < 0.1:
            return self.rng.choice(STRING_FIELDS + NUMBER_FIELDS + BOOL_FIELDS + ["kq.none"]) + ": *"
        if r < 0.5:
            return self.rng.choice(STRING_FIELDS) + ": " + self.values(self.string_value, 0)
        if r < 0.7:
            return self.rng.choice(NUMBER_FIELDS) + ": " + self.values(self.number_value, 0)
        if r < 0.8:
            return self.rng.choice(BOOL_FIELDS) + ": " + self.rng.choice(["true", "false", '"true"'])
        op = self.rng.choice(["<", "<=", ">", ">="])
        return self.rng.choice(NUMBER_FIELDS) + " " + op + " " + self.number_value()

    def query(self, depth=0):
        if depth > 2 or self.rng.random() < 0.35:
            q = self.leaf()
        else:
            n = self.rng.randrange(2, 4)
            joiner = " " + self.kw(self.rng.choice(["and", "or"])) + " "
            q = joiner.join(self.query(depth + 1) for _ in range(n))
            q = "(" + q + ")" if depth > 0 else q
        if self.rng.random() < 0.2:
            q = self.kw("not") + " " + (q if q.startswith("(") or ":" in q and " " not in q.split(":", 1)[1].strip() else "(" + q + ")")
        return q

    def document(self):
        rng = self.rng
        doc = {"kq": {}}
        kq = doc["kq"]
        if rng.random() < 0.8:
            kq["s"] = rng.choice(STRINGS)
        if rng.random() < 0.5:
            kq["t"] = rng.choice(STRINGS)
        if rng.random() < 0.6:
            kq["list"] = rng.sample(STRINGS, rng.randrange(0, 4))
        if rng.random() < 0.8:
            kq["n"] = rng.randrange(0, 6)
        if rng.random() < 0.5:
            kq["nums"] = [rng.randrange(0, 6) for _ in range(rng.randrange(0, 4))]
        if rng.random() < 0.5:
            kq["b"] = rng.random() < 0.5
        if rng.random() < 0.5:
            kq["objs"] = [
                {"name": rng.choice(STRINGS), "size": rng.randrange(0, 6)} for _ in range(rng.randrange(1, 3))
            ]
        return doc


def eqlite_matches(binary, queries, docs):
    args = []
    for q in queries:
        args += ["--kql", q]
    return {(int(a["rule_id"].split("-")[1]), a["events"][0]) for a in scan(binary, args, docs)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--eqlite", required=True)
    ap.add_argument("--queries", type=int, default=100)
    ap.add_argument("--docs", type=int, default=30)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    gen = Generator(random.Random(args.seed))
    queries, evaluators, refused = [], [], 0
    while len(queries) < args.queries:
        q = gen.query()
        try:
            evaluators.append(kql.get_evaluator(q, optimize=False))
        except kql.KqlParseError:  # a generated query the Python parser refuses is not a case
            refused += 1
            continue
        queries.append(q)
    docs = [gen.document() for _ in range(args.docs)]
    ours = eqlite_matches(args.eqlite, queries, docs)
    theirs = {(i, j) for i, ev in enumerate(evaluators) for j, d in enumerate(docs) if ev(d)}
    bad = sorted(ours ^ theirs)
    for i, j in bad[:50]:
        mine = (i, j) in ours
        print(f"DISAGREE {queries[i]!r} on {json.dumps(docs[j])}: eqlite {'matches' if mine else 'does not match'}, "
              f"detection-rules {'matches' if not mine else 'does not'}")
    cases = len(queries) * len(docs)
    print(f"KQL differential: {len(queries)} queries x {len(docs)} documents = {cases} cases, "
          f"{len(theirs)} matches, {len(bad)} disagreements ({refused} generated queries the Python parser "
          "refuses were left out)")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
