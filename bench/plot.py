#!/usr/bin/env python3
"""Throughput against rule count, as an SVG with no third-party dependencies.

usage: plot.py RESULTS.json OUT.svg [EARLIER.json LABEL]

Reads the `scaling` section written by bench/run.py (the `rule_scaling` example's sets) and draws,
on log-log axes, events/s per CPU-second for the whole engine (`push`: read + all rules, sequences
included), for single-event rules only (`match`), and for reading the needed fields alone (`read`).
With EARLIER.json, that run's whole-engine curve is drawn too, dashed, labelled LABEL.
"""
import json
import math
import sys


def main():
    src, out = sys.argv[1], sys.argv[2]
    with open(src) as f:
        res = json.load(f)
    earlier = None
    if len(sys.argv) > 4:
        with open(sys.argv[3]) as f:
            earlier = (sorted((s for s in json.load(f)["scaling"]["sets"] if s["name"].startswith("corpus-")),
                              key=lambda s: s["rules"]), sys.argv[4])
    sets = res["scaling"]["sets"]
    pts = {"kubelet": None, "corpus": []}
    for s in sets:
        if s["name"] == "kubelet":
            pts["kubelet"] = s
        elif s["name"].startswith("corpus-"):
            pts["corpus"].append(s)
    corpus = sorted(pts["corpus"], key=lambda s: s["rules"])
    series = [
        ("read + all rules (Stream::push, as eqlite scan)", "push_ns", "#1f77b4"),
        ("read + single-event rules (RuleSet::matches)", "match_ns", "#ff7f0e"),
        ("read the needed fields only (RuleSet::read_json)", "read_ns", "#2ca02c"),
    ]
    W, H = 760, 470
    L, R, T, B = 80, 250, 40, 60
    xs = [s["rules"] for s in corpus] + ([pts["kubelet"]["rules"]] if pts["kubelet"] else [])
    ys = [1e9 / s[k] for s in corpus + ([pts["kubelet"]] if pts["kubelet"] else []) for _, k, _ in series]
    def nice_up(v):
        e = 10 ** math.floor(math.log10(v))
        return next(m * e for m in (1, 2, 5, 10) if m * e >= v)

    x0, x1 = 10 ** math.floor(math.log10(min(xs))), nice_up(max(xs))
    target = 1e9 / pts["kubelet"]["push_ns"] / 10 if pts["kubelet"] else None
    if target:
        ys.append(target)
    if earlier:
        ys += [1e9 / s["push_ns"] for s in earlier[0]]
    y0, y1 = 10 ** math.floor(math.log10(min(ys))), 10 ** math.ceil(math.log10(max(ys)))

    def px(x):
        return L + (math.log10(x) - math.log10(x0)) / (math.log10(x1) - math.log10(x0)) * (W - L - R)

    def py(y):
        return H - B - (math.log10(y) - math.log10(y0)) / (math.log10(y1) - math.log10(y0)) * (H - T - B)

    o = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" '
         'font-family="sans-serif" font-size="12">',
         f'<rect width="{W}" height="{H}" fill="white"/>',
         f'<text x="{W / 2 - R / 2 + L / 2}" y="22" text-anchor="middle" font-size="15">'
         'eqlite: throughput against rules loaded (one core, events in memory)</text>']
    def ticks(lo, hi):
        """1-2-5 values of each decade from lo to hi (log scale)."""
        e = math.log10(lo)
        while e <= math.log10(hi) + 1e-9:
            yield from (v for v in (m * 10 ** e for m in (1, 2, 5)) if lo <= v <= hi)
            e += 1

    # grid and ticks
    for v in ticks(x0, x1):
        x = px(v)
        o.append(f'<line x1="{x:.1f}" y1="{T}" x2="{x:.1f}" y2="{H - B}" stroke="#ddd"/>')
        o.append(f'<text x="{x:.1f}" y="{H - B + 16}" text-anchor="middle">{v:g}</text>')
    for v in ticks(y0, y1):
        y = py(v)
        o.append(f'<line x1="{L}" y1="{y:.1f}" x2="{W - R}" y2="{y:.1f}" stroke="#ddd"/>')
        label = f"{v / 1e6:g}M" if v >= 1e6 else f"{v / 1e3:g}k" if v >= 1e3 else f"{v:g}"
        o.append(f'<text x="{L - 6}" y="{y + 4:.1f}" text-anchor="end">{label}</text>')
    o.append(f'<rect x="{L}" y="{T}" width="{W - L - R}" height="{H - T - B}" fill="none" stroke="#333"/>')
    o.append(f'<text x="{(L + W - R) / 2}" y="{H - 18}" text-anchor="middle">rules loaded (log scale)</text>')
    o.append(f'<text transform="translate(20 {(T + H - B) / 2}) rotate(-90)" text-anchor="middle">'
             'events/s per CPU core (log scale)</text>')
    if target:
        y = py(target)
        o.append(f'<line x1="{L}" y1="{y:.1f}" x2="{W - R}" y2="{y:.1f}" stroke="#d62728" stroke-dasharray="6 4"/>')
        o.append(f'<text x="{L + 6}" y="{y - 5:.1f}" fill="#d62728">target with ~1000 rules: at least 1/10 of the kubelet-pack rate</text>')
    for i, (label, key, color) in enumerate(series):
        line = [(px(s["rules"]), py(1e9 / s[key])) for s in corpus]
        if len(line) > 1:
            d = " ".join(f"{'M' if j == 0 else 'L'}{x:.1f},{y:.1f}" for j, (x, y) in enumerate(line))
            o.append(f'<path d="{d}" fill="none" stroke="{color}" stroke-width="2"/>')
        for x, y in line:
            o.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{color}"/>')
        if pts["kubelet"]:
            k = pts["kubelet"]
            x, y = px(k["rules"]), py(1e9 / k[key])
            o.append(f'<rect x="{x - 4:.1f}" y="{y - 4:.1f}" width="8" height="8" fill="none" '
                     f'stroke="{color}" stroke-width="2"/>')
        ly = T + 10 + i * 36
        o.append(f'<line x1="{W - R + 14}" y1="{ly}" x2="{W - R + 34}" y2="{ly}" stroke="{color}" stroke-width="2"/>')
        words, cur, rows = label.split(), "", []
        for w in words:
            if len(cur) + len(w) > 30:
                rows.append(cur)
                cur = w
            else:
                cur = f"{cur} {w}".strip()
        rows.append(cur)
        for j, r in enumerate(rows):
            o.append(f'<text x="{W - R + 40}" y="{ly + 4 + j * 14}">{r}</text>')
    ly = T + 10 + len(series) * 36
    if earlier:
        line = [(px(s["rules"]), py(1e9 / s["push_ns"])) for s in earlier[0]]
        d = " ".join(f"{'M' if j == 0 else 'L'}{x:.1f},{y:.1f}" for j, (x, y) in enumerate(line))
        o.append(f'<path d="{d}" fill="none" stroke="#1f77b4" stroke-width="1.5" stroke-dasharray="4 3" opacity="0.7"/>')
        o.append(f'<line x1="{W - R + 14}" y1="{ly}" x2="{W - R + 34}" y2="{ly}" stroke="#1f77b4" stroke-width="1.5" '
                 'stroke-dasharray="4 3"/>')
        o.append(f'<text x="{W - R + 40}" y="{ly + 4}">{earlier[1]}</text>')
        ly += 26
    o.append(f'<rect x="{W - R + 20}" y="{ly - 4}" width="8" height="8" fill="none" stroke="#333" stroke-width="2"/>')
    o.append(f'<text x="{W - R + 40}" y="{ly + 4}">kubelet pack (16 rules)</text>')
    o.append(f'<circle cx="{W - R + 24}" cy="{ly + 22}" r="3.5" fill="#333"/>')
    o.append(f'<text x="{W - R + 40}" y="{ly + 26}">N corpus rules (even stride)</text>')
    meta = res.get("scaling", {})
    o.append(f'<text x="{W - R + 14}" y="{H - B - 4}" font-size="10" fill="#555">'
             f'{meta.get("events", "?")} generated events, median of {meta.get("reps", "?")}</text>')
    o.append("</svg>")
    with open(out, "w") as f:
        f.write("\n".join(o) + "\n")


if __name__ == "__main__":
    main()
