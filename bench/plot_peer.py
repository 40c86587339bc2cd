#!/usr/bin/env python3
"""Per-event cost against rule count for eqlite and rsigma (the peer kit), as an SVG with no
third-party dependencies.

usage: plot_peer.py RESULTS.json OUT.svg

Reads the `peer` section written by bench/run.py: CPU time of each engine's whole process (start-up,
rule loading and 200,000 events) divided by the events, per rule set of the kit (1 ... 234 rules),
on linear axes, with the eqlite/rsigma ratio written at each point.
"""
import json
import sys


def main():
    res = json.load(open(sys.argv[1]))
    peer = res["peer"]
    sets = sorted(peer["sets"], key=lambda s: s["rules"])
    events = 200_000
    series = [("eqlite scan (EQL from pySigma)", "eqlite_cpu_s", "#1f77b4"),
              ("rsigma engine eval (ECS pipeline)", "rsigma_ecs_cpu_s", "#d62728"),
              ("rsigma, Sigma-named events, no pipeline", "rsigma_sigma_cpu_s", "#ff9896")]
    W, H, L, R, T, B = 760, 440, 70, 260, 40, 56
    x1 = max(s["rules"] for s in sets)
    y1 = max(s[k] for s in sets for _, k, _ in series) / events * 1e6 * 1.1
    px = lambda x: L + x / x1 * (W - L - R)
    py = lambda y: H - B - y / y1 * (H - T - B)
    o = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" '
         'font-family="sans-serif" font-size="12">', f'<rect width="{W}" height="{H}" fill="white"/>',
         f'<text x="{(L + W - R) / 2}" y="22" text-anchor="middle" font-size="15">'
         'CPU per event against rules loaded: eqlite and rsigma, same logic, same events</text>']
    step = 50 if x1 > 100 else 10
    for v in range(0, x1 + 1, step):
        o.append(f'<line x1="{px(v):.1f}" y1="{T}" x2="{px(v):.1f}" y2="{H - B}" stroke="#ddd"/>')
        o.append(f'<text x="{px(v):.1f}" y="{H - B + 16}" text-anchor="middle">{v}</text>')
    ystep = next(s for s in (0.5, 1, 2, 5, 10, 20) if y1 / s <= 8)
    v = 0.0
    while v <= y1:
        o.append(f'<line x1="{L}" y1="{py(v):.1f}" x2="{W - R}" y2="{py(v):.1f}" stroke="#ddd"/>')
        o.append(f'<text x="{L - 6}" y="{py(v) + 4:.1f}" text-anchor="end">{v:g}</text>')
        v += ystep
    o.append(f'<rect x="{L}" y="{T}" width="{W - L - R}" height="{H - T - B}" fill="none" stroke="#333"/>')
    o.append(f'<text x="{(L + W - R) / 2}" y="{H - 16}" text-anchor="middle">rules loaded</text>')
    o.append(f'<text transform="translate(20 {(T + H - B) / 2}) rotate(-90)" text-anchor="middle">'
             'µs of CPU per event (whole process)</text>')
    for i, (label, key, color) in enumerate(series):
        pts = [(px(s["rules"]), py(s[key] / events * 1e6)) for s in sets]
        d = " ".join(f"{'M' if j == 0 else 'L'}{x:.1f},{y:.1f}" for j, (x, y) in enumerate(pts))
        o.append(f'<path d="{d}" fill="none" stroke="{color}" stroke-width="2"/>')
        for x, y in pts:
            o.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{color}"/>')
        ly = T + 10 + i * 22
        o.append(f'<line x1="{W - R + 14}" y1="{ly}" x2="{W - R + 34}" y2="{ly}" stroke="{color}" stroke-width="2"/>')
        o.append(f'<text x="{W - R + 40}" y="{ly + 4}">{label}</text>')
    for s in sets:
        x, y = px(s["rules"]), py(s["eqlite_cpu_s"] / events * 1e6)
        o.append(f'<text x="{x + 4:.1f}" y="{y + 16:.1f}" font-size="10" fill="#1f77b4">{s["ratio"]:.2f}x</text>')
    o.append(f'<text x="{W - R + 14}" y="{T + 90}" font-size="11" fill="#555">labels: eqlite / rsigma (ECS)</text>')
    o.append(f'<text x="{W - R + 14}" y="{H - B - 4}" font-size="10" fill="#555">'
             f'median of {peer["reps"]}; {peer["load"].splitlines()[0]}</text>')
    o.append("</svg>")
    open(sys.argv[2], "w").write("\n".join(o) + "\n")


if __name__ == "__main__":
    main()
