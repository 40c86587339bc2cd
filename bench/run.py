#!/usr/bin/env python3
"""The benchmark driver behind bench/run.sh (standard library only).

Runs every comparison of issue 8 on one generated NDJSON file, side by side, and prints a table:
throughput (events/s, MB/s), the ratio to each baseline measured in the same run, peak memory,
and each target met or missed. Everything is also written to bench/out/results.json, and the
rule-scaling plot to bench/out/rule_scaling.svg (or --svg PATH).

Times: processes run through examples/peak_rss.rs (wall clock here; user+system CPU and peak RSS
from getrusage(RUSAGE_CHILDREN) there); in-process loops use thread CPU time. The machine is shared,
so every comparison is interleaved rep by rep and the median is reported; ratios use CPU time
(the cost) and wall-clock ratios are printed next to them.
"""
import argparse
import gzip
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import threading
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
OUT = os.path.join(ROOT, "bench", "out")
EQLITE = os.path.join(ROOT, "target", "release", "eqlite")
EX = os.path.join(ROOT, "target", "release", "examples")
CORPUS = os.path.abspath(os.path.join(ROOT, "..", "shared", "corpus", "detection-rules"))
VENV_PY = os.path.join(ROOT, "bench", ".venv", "bin", "python")


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def run(cmd, stdin=None, stdout=None, env=None):
    """Runs a command through the peak_rss shim; returns wall, cpu (user+sys), maxrss_kb, rc and,
    when stdout is None, what the command printed."""
    cap = stdout is None
    outf = open(os.path.join(OUT, ".stdout"), "w+b") if cap else None
    inf = open(stdin, "rb") if isinstance(stdin, str) else stdin
    ru_path = os.path.join(OUT, ".rusage.json")
    w0 = time.perf_counter()
    p = subprocess.Popen([os.path.join(EX, "peak_rss"), ru_path] + cmd, stdin=inf, stdout=outf if cap else stdout, env=env)
    p.wait()
    wall = time.perf_counter() - w0
    if isinstance(stdin, str):
        inf.close()
    text = ""
    if cap:
        outf.seek(0)
        text = outf.read().decode()
        outf.close()
    ru = json.load(open(ru_path))
    return {"wall": wall, "cpu": ru.get("user_s", 0) + ru.get("sys_s", 0), "maxrss_kb": ru.get("maxrss_kb", 0),
            "rc": p.returncode, "stdout": text}


def med(xs):
    return statistics.median(xs) if xs else float("nan")


def sh_out(cmd):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=60).stdout.strip()
    except Exception:
        return ""


def machine():
    lscpu = sh_out("lscpu")
    model = next((l.split(":", 1)[1].strip() for l in lscpu.splitlines() if l.startswith("Model name")), platform.processor())
    mem_kb = int(next((l.split()[1] for l in open("/proc/meminfo") if l.startswith("MemTotal")), 0))
    os_name = next((l.split("=", 1)[1].strip().strip('"') for l in open("/etc/os-release") if l.startswith("PRETTY_NAME")), platform.platform())
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "memory_gib": round(mem_kb / 1024 / 1024, 1),
        "os": os_name,
        "kernel": platform.release(),
        "rustc": sh_out("rustc --version"),
        "node": sh_out("node --version"),
        "python": sh_out(f"{VENV_PY if os.path.exists(VENV_PY) else 'python3'} --version"),
        "git": os.environ.get("EQLITE_REV") or ((sh_out(f"git -C {ROOT} rev-parse --short HEAD") or "not a git checkout")
                                                + (" (src modified)" if sh_out(f"git -C {ROOT} status --porcelain src") else "")),
        "loadavg_start": open("/proc/loadavg").read().split()[:3],
    }


def events_file(n, seed, soak=False):
    path = os.path.join(OUT, f"events-{n}-s{seed}.ndjson")
    if not os.path.exists(path):
        log(f"generating {path}")
        tmp = path + ".tmp"
        with open(tmp, "wb") as f:
            r = subprocess.run([os.path.join(EX, "gen_events"), "--count", str(n), "--seed", str(seed), "--stats"], stdout=f, stderr=subprocess.PIPE)
        if r.returncode != 0:
            sys.exit(f"gen_events failed: {r.stderr.decode()}")
        with open(path + ".stats.json", "wb") as f:
            f.write(r.stderr)
        os.replace(tmp, path)
    return path


def prefix_file(src, n):
    """The first n lines of src, as their own file (for CLI runs on the same events as a baseline)."""
    path = src.replace(".ndjson", f".head{n}.ndjson")
    if not os.path.exists(path):
        with open(src, "rb") as f, open(path + ".tmp", "wb") as g:
            for i, line in enumerate(f):
                if i >= n:
                    break
                g.write(line)
        os.replace(path + ".tmp", path)
    return path


def count_lines(path):
    n, b = 0, 0
    with open(path, "rb") as f:
        while True:
            chunk = f.read(1 << 20)
            if not chunk:
                break
            n += chunk.count(b"\n")
            b += len(chunk)
    return n, b


def rule_dir(name, files):
    d = os.path.join(OUT, "rules-" + name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    for f in files:
        os.symlink(f, os.path.join(d, os.path.basename(f)))
    return d


def kubelet_single_files():
    out = []
    for f in sorted(os.listdir(os.path.join(ROOT, "rules"))):
        if f.endswith(".toml"):
            text = open(os.path.join(ROOT, "rules", f)).read()
            q = text.split("query = '''", 1)[-1].lstrip()
            if not q.startswith(("sequence", "sample")):
                out.append(os.path.join(ROOT, "rules", f))
    return out


# --------------------------------------------------------------------------------------------


def bench_native(path, reps):
    """(1) eqlite scan (kubelet pack) against serde_json::Value parsing of the same NDJSON."""
    n, nbytes = count_lines(path)
    r = {"scan": [], "json": [], "floor": []}
    # warm the page cache
    count_lines(path)
    for i in range(reps):
        order = [("json", [os.path.join(EX, "json_baseline"), path]), ("scan", [EQLITE, "scan", "--lateness", "1m", path]),
                 ("floor", [os.path.join(EX, "json_baseline"), "--floor", path])]
        order = order[i % 3:] + order[:i % 3]
        for name, cmd in order:
            res = run(cmd, stdout=subprocess.DEVNULL if name == "scan" else None)
            if res["rc"] not in (0,):
                sys.exit(f"{cmd} exited {res['rc']}")
            if name != "scan":
                inner = json.loads(res["stdout"])
                res["inner_seconds"] = inner["seconds"]
            res.pop("stdout", None)
            r[name].append(res)
            log(f"  (1) rep {i + 1}/{reps} {name:5} wall {res['wall']:.3f}s cpu {res['cpu']:.3f}s rss {res['maxrss_kb'] / 1024:.1f} MiB")
    alerts = run([EQLITE, "scan", "--lateness", "1m", path])["stdout"].count("\n")
    summary = {"events": n, "bytes": nbytes, "alerts": alerts, "reps": reps}
    for k, v in r.items():
        summary[k] = {
            "wall_s": med([x["wall"] for x in v]),
            "cpu_s": med([x["cpu"] for x in v]),
            "maxrss_kb": max(x["maxrss_kb"] for x in v),
            "all_cpu_s": [round(x["cpu"], 4) for x in v],
            "all_wall_s": [round(x["wall"], 4) for x in v],
        }
    summary["ratio_cpu"] = summary["scan"]["cpu_s"] / summary["json"]["cpu_s"]
    summary["ratio_wall"] = summary["scan"]["wall_s"] / summary["json"]["wall_s"]
    # The I/O floor: reading the file and finding its newlines, nothing parsed.
    summary["ratio_floor"] = summary["scan"]["cpu_s"] / summary["floor"]["cpu_s"]
    # Noise on a shared machine only adds time: the fastest runs bound the intrinsic cost.
    summary["ratio_cpu_min"] = min(x["cpu"] for x in r["scan"]) / min(x["cpu"] for x in r["json"])
    # Paired ratios (scan and parse of the same repetition ran back to back).
    summary["ratio_cpu_paired_median"] = med([a["cpu"] / b["cpu"] for a, b in zip(r["scan"], r["json"])])
    return summary


def bench_python(path, events, reps):
    """(2) Python eql on the 11 single-event rules against eqlite on the same events."""
    head = prefix_file(path, events)
    n, nbytes = count_lines(head)
    single = rule_dir("kubelet-single", kubelet_single_files())
    py_runs, eq_single, eq_pack = [], [], []
    for i in range(reps):
        res = run([VENV_PY, os.path.join(ROOT, "bench", "py_eql.py"), head, "--max-events", str(events), "--reps", "1"])
        if res["rc"] != 0:
            sys.exit("py_eql.py failed")
        doc = json.loads(res["stdout"])
        doc["process"] = {k: res[k] for k in ("wall", "cpu", "maxrss_kb")}
        py_runs.append(doc)
        for name, cmd, acc in (("eqlite-single", [EQLITE, "scan", "--lateness", "1m", "--rules", single, head], eq_single),
                               ("eqlite-pack", [EQLITE, "scan", "--lateness", "1m", head], eq_pack)):
            x = run(cmd, stdout=subprocess.DEVNULL)
            acc.append(x)
        ph = doc["runs"][0]["phases"]
        log(f"  (2) rep {i + 1}/{reps} python eval {ph['evaluate'][0]:.2f}s total {sum(p[0] for p in ph.values()):.2f}s;"
            f" eqlite single {eq_single[-1]['cpu']:.3f}s pack {eq_pack[-1]['cpu']:.3f}s")
    phase = lambda k: med([d["runs"][0]["phases"][k][0] for d in py_runs])
    py_eval = phase("evaluate")
    py_total = sum(phase(k) for k in ("read", "decode", "adapt", "evaluate"))
    single_alerts = run([EQLITE, "scan", "--lateness", "1m", "--rules", single, head])["stdout"].count("\n")
    out = {
        "events": n, "bytes": nbytes, "reps": reps,
        "eql_version": py_runs[0]["eql_version"], "rewritten": py_runs[0]["rewritten"],
        "python_hits": py_runs[0]["runs"][0]["hits"], "python_hits_total": sum(py_runs[0]["runs"][0]["hits"].values()),
        "eqlite_single_alerts": single_alerts,
        "python_cpu_s": {k: phase(k) for k in ("read", "decode", "adapt", "evaluate")},
        "python_total_cpu_s": py_total,
        "python_maxrss_kb": max(d["process"]["maxrss_kb"] for d in py_runs),
        "eqlite_single_cpu_s": med([x["cpu"] for x in eq_single]),
        "eqlite_single_wall_s": med([x["wall"] for x in eq_single]),
        "eqlite_single_maxrss_kb": max(x["maxrss_kb"] for x in eq_single),
        "eqlite_pack_cpu_s": med([x["cpu"] for x in eq_pack]),
    }
    out["python_decode_eval_cpu_s"] = sum(phase(k) for k in ("read", "decode", "evaluate"))
    out["speedup_decode_eval"] = out["python_decode_eval_cpu_s"] / out["eqlite_single_cpu_s"]
    out["speedup_total"] = py_total / out["eqlite_single_cpu_s"]
    out["speedup_eval_only"] = py_eval / out["eqlite_single_cpu_s"]
    out["speedup_total_vs_pack"] = py_total / out["eqlite_pack_cpu_s"]
    return out


def bench_node(path, events, reps):
    """(3) the npm package in Node: evaluate(jsonString), evaluate(object) against JSON.parse."""
    res = run(["node", os.path.join(ROOT, "bench", "node_bench.mjs"), path, "--max-events", str(events), "--reps", str(reps)])
    if res["rc"] != 0:
        sys.exit("node_bench.mjs failed")
    doc = json.loads(res["stdout"])
    runs = doc["runs"]
    m = lambda k, i=0: med([r["seconds"][k][i] for r in runs])
    n = runs[0]["events"]
    out = {
        "events": n, "bytes": runs[0]["bytes"], "reps": reps, "node": doc["node"],
        "cpu_s": {k: m(k) for k in ("parse", "string", "object", "batch")},
        "wall_s": {k: m(k, 1) for k in ("parse", "string", "object", "batch")},
        "hits": runs[0]["hits"], "maxrss_kb": doc["maxrss_kb"],
    }
    out["ratio_string_vs_parse"] = out["cpu_s"]["string"] / out["cpu_s"]["parse"]
    out["ratio_object_vs_parse"] = out["cpu_s"]["object"] / out["cpu_s"]["parse"]
    out["ratio_batch_vs_parse"] = out["cpu_s"]["batch"] / out["cpu_s"]["parse"]
    out["ratio_parse_plus_object_vs_parse"] = (out["cpu_s"]["object"] + out["cpu_s"]["parse"]) / out["cpu_s"]["parse"]
    out["ratio_string_vs_parse_wall"] = out["wall_s"]["string"] / out["wall_s"]["parse"]
    return out


def bench_scaling(path, events, reps, compile_reps, counts):
    """(4) compile time of the corpus and per-event cost with 16 -> 100 -> 1000 rules."""
    cmd = [os.path.join(EX, "rule_scaling"), "--events", path, "--max-events", str(events), "--reps", str(reps),
           "--compile-reps", str(compile_reps), "--counts", counts, "--corpus", CORPUS]
    res = run(cmd)
    if res["rc"] != 0:
        sys.exit("rule_scaling failed")
    doc = json.loads(res["stdout"])
    doc["maxrss_kb"] = res["maxrss_kb"]
    by = {s["name"]: s for s in doc["sets"]}
    base = by["kubelet"]["push_ns"]
    for s in doc["sets"]:
        s["push_vs_kubelet"] = s["push_ns"] / base
    # CLI end to end: `eqlite check` of the whole corpus, and scans with the corpus loaded.
    if os.path.isdir(CORPUS):
        head = prefix_file(path, events)
        check, scan_all, scan_pack = [], [], []
        for _ in range(reps):
            check.append(run([EQLITE, "check", "--rules", CORPUS], stdout=subprocess.DEVNULL))
            scan_all.append(run([EQLITE, "scan", "--lateness", "1m", "--rules", CORPUS, head], stdout=subprocess.DEVNULL))
            scan_pack.append(run([EQLITE, "scan", "--lateness", "1m", head], stdout=subprocess.DEVNULL))
        doc["cli"] = {
            "check_corpus_wall_s": med([x["wall"] for x in check]),
            "check_corpus_cpu_s": med([x["cpu"] for x in check]),
            "scan_corpus_cpu_s": med([x["cpu"] for x in scan_all]),
            "scan_corpus_maxrss_kb": max(x["maxrss_kb"] for x in scan_all),
            "scan_pack_cpu_s": med([x["cpu"] for x in scan_pack]),
        }
        doc["cli"]["scan_corpus_vs_pack"] = doc["cli"]["scan_corpus_cpu_s"] / doc["cli"]["scan_pack_cpu_s"]
    return doc


def bench_jobs(path, events, reps):
    """(6) eqlite scan -j 1 against -j 2 with the corpus rules: the same bytes out, and the speed-up."""
    if not os.path.isdir(CORPUS):
        return None
    head = prefix_file(path, events)
    out1, out2 = os.path.join(OUT, "jobs-1.ndjson"), os.path.join(OUT, "jobs-2.ndjson")
    walls = {1: [], 2: []}
    cpus = {1: [], 2: []}
    for _ in range(reps):
        for j, dest in ((1, out1), (2, out2)):
            with open(dest, "wb") as f:
                r = run([EQLITE, "scan", "--lateness", "1m", "--rules", CORPUS, "-j", str(j), head], stdout=f)
            if r["rc"] != 0:
                sys.exit(f"eqlite scan -j {j} failed")
            walls[j].append(r["wall"])
            cpus[j].append(r["cpu"])
    identical = open(out1, "rb").read() == open(out2, "rb").read()
    if not identical:
        sys.exit(f"eqlite scan -j 1 and -j 2 differ: {out1} {out2}")
    return {"events": events, "alerts": open(out1, "rb").read().count(b"\n"), "identical": identical,
            "wall_s": {str(j): med(walls[j]) for j in walls}, "cpu_s": {str(j): med(cpus[j]) for j in cpus},
            "speedup": med(walls[1]) / med(walls[2])}


PEER_KIT = os.path.abspath(os.path.join(ROOT, "..", "shared", "bench", "peer-rsigma"))


def bench_peer(reps, sets):
    """(7) the peer kit (../shared/bench/peer-rsigma): eqlite scan against rsigma 0.26.0 on the same
    SigmaHQ logic and the same 200,000 ECS events; needs RSIGMA (see the kit's README)."""
    rsigma = os.environ.get("RSIGMA")
    if not rsigma or not os.path.isdir(PEER_KIT):
        log("  (7) skipped: set RSIGMA to the rsigma binary (../shared/bench/peer-rsigma/README.md installs it)")
        return None
    work = os.path.join(ROOT, "target", "peer-rsigma")
    env = dict(os.environ, EQLITE=EQLITE, RSIGMA=rsigma, PYTHON=os.environ.get("PYTHON", sys.executable))
    r = subprocess.run(["bash", os.path.join(PEER_KIT, "run.sh"), work, str(reps), sets], env=env, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    if r.returncode != 0:
        sys.exit(f"peer kit failed:\n{r.stdout[-2000:]}")
    lines = open(os.path.join(work, "results", "bench.tsv")).read().splitlines()
    head = lines[0].split("\t")
    rows = [dict(zip(head, l.split("\t"))) for l in lines[1:]]
    out = {"reps": reps, "load": open(os.path.join(work, "results", "bench-load.txt")).read().strip(), "sets": []}
    for n in sets.split():
        cpu = lambda eng: med([float(x["user_s"]) + float(x["sys_s"]) for x in rows if x["set"] == n and x["engine"] == eng])
        e, rs, rsig = cpu("eqlite"), cpu("rsigma-ecs"), cpu("rsigma-sigma")
        out["sets"].append({"rules": int(n), "eqlite_cpu_s": e, "rsigma_ecs_cpu_s": rs, "rsigma_sigma_cpu_s": rsig,
                            "ratio": e / rs, "ratio_vs_sigma_named": e / rsig})
    # Rules evaluated per event on the kit's events, in process.
    ecs = os.path.join(work, "data", "ecs.ndjson")
    counts = ",".join(x if x != "234" else "all" for x in sets.split())
    res = run([os.path.join(EX, "rule_scaling"), "--events", ecs, "--max-events", "20000", "--reps", "1",
               "--compile-reps", "1", "--counts", counts, "--corpus", os.path.join(work, "sets", "eql-234")])
    if res["rc"] == 0:
        doc = json.loads(res["stdout"])
        out["in_process"] = [{k: s[k] for k in ("name", "rules", "evaluated_mean", "evaluated_p95", "push_ns")}
                             for s in doc["sets"]]
    return out


def targets(res):
    """Issue 20's targets: (name, measured, target, met) for what this run measured."""
    t = []
    nat = res.get("native")
    if nat:
        t.append(("(1) scan (kubelet pack) / serde_json::Value parse", f"{nat['ratio_cpu']:.2f}x", "<= 0.22x",
                  nat["ratio_cpu"] <= 0.22))
        t.append(("(1) scan / I/O floor (read + memchr newlines)", f"{nat['ratio_floor']:.1f}x", "(reported)", None))
    sc = res.get("scaling")
    if sc:
        by = {s["name"]: s for s in sc["sets"]}
        c1000 = by.get("corpus-1000")
        if c1000:
            t.append(("(2) 1,000 corpus rules / kubelet pack, per event in process", f"{c1000['push_vs_kubelet']:.2f}x",
                      "<= 2x", c1000["push_vs_kubelet"] <= 2))
        call = next((s for s in sc["sets"] if s["name"].startswith("corpus-") and s["name"][7:].isdigit()
                     and int(s["name"][7:]) > 1000), None)
        if call and "cli" in sc:
            c = sc["cli"]
            r = c["scan_corpus_vs_pack"] / call["push_vs_kubelet"]
            t.append((f"(2) CLI corpus/pack ratio / in-process ({sc['events']:,} events)", f"{r:.2f}x", "<= 1.2x", r <= 1.2))
            no_compile = (c["scan_corpus_cpu_s"] - c["check_corpus_cpu_s"]) / c["scan_pack_cpu_s"] / call["push_vs_kubelet"]
            t.append(("(2) the same without loading the corpus (minus `eqlite check`)", f"{no_compile:.2f}x", "(reported)", None))
    peer = res.get("peer")
    if peer:
        for s in peer["sets"]:
            goal = 0.35 if s["rules"] <= 10 else 0.5 if s["rules"] >= 234 else None
            if goal:
                t.append((f"(2) peer kit, {s['rules']} rules: eqlite / rsigma (CPU)", f"{s['ratio']:.2f}x", f"<= {goal}x",
                          s["ratio"] <= goal))
    nd = res.get("node")
    if nd:
        t.append(("(3) npm evaluate(text) / JSON.parse", f"{nd['ratio_string_vs_parse']:.2f}x", "<= 0.7x",
                  nd["ratio_string_vs_parse"] <= 0.7))
        t.append(("(3) npm evaluate(object) / JSON.parse", f"{nd['ratio_object_vs_parse']:.2f}x", "<= 1.2x",
                  nd["ratio_object_vs_parse"] <= 1.2))
        if "ratio_batch_vs_parse" in nd:
            t.append(("(3) npm evaluateBatch(ndjson) / JSON.parse, per event", f"{nd['ratio_batch_vs_parse']:.2f}x",
                      "<= 0.5x", nd["ratio_batch_vs_parse"] <= 0.5))
    py = res.get("python")
    if py:
        t.append(("(4) eqlite vs Python eql, end to end", f"{py['speedup_total']:.1f}x", ">= 100x", py["speedup_total"] >= 100))
    ws = res.get("wasm_size")
    if ws:
        t.append(("(5) npm wasm, gzip -9", f"{ws['gzip9'] / 1000:.0f} KB", "<= 400 KB", ws["gzip9"] <= 400_000))
    return t


def targets_table(t):
    w = max(len(x[0]) for x in t)
    return "\n".join(f"{n.ljust(w)}  {m:>8}  {g:>10}  {'' if ok is None else verdict(ok)}" for n, m, g, ok in t)


def wasm_size():
    p = os.path.join(ROOT, "pkg", "eqlite_bg.wasm")
    if not os.path.exists(p):
        return None
    data = open(p, "rb").read()
    return {"raw": len(data), "gzip9": len(gzip.compress(data, 9))}


def bench_soak(events_list, keys, max_pending):
    """Sequence soak: --soak events streamed into eqlite scan --stats; peak RSS per size."""
    queries = {
        "kubelet-pack": [],
        "custom-seq": ["--query", 'sequence by container.id with maxspan=5s [process where event.action == "exec"] [file where event.action == "open"]'],
    }
    out = []
    for name, extra in queries.items():
        for n in events_list:
            gen = subprocess.Popen([os.path.join(EX, "gen_events"), "--soak", "--count", str(n), "--keys", str(keys), "--seed", "7"],
                                   stdout=subprocess.PIPE)
            errf = open(os.path.join(OUT, ".stderr"), "w+")
            w0 = time.perf_counter()
            ru_path = os.path.join(OUT, ".rusage-soak.json")
            scan = subprocess.Popen([os.path.join(EX, "peak_rss"), ru_path, EQLITE, "scan", "--stats", "--lateness", "1m",
                                     "--max-pending", str(max_pending)] + extra + ["-"],
                                    stdin=gen.stdout, stdout=subprocess.DEVNULL, stderr=errf)
            gen.stdout.close()
            samples = []
            stop = threading.Event()

            def sample(shim=scan.pid):
                pid = None
                while not stop.is_set():
                    try:
                        if pid is None:  # eqlite is the shim's child
                            kids = open(f"/proc/{shim}/task/{shim}/children").read().split()
                            if not kids:
                                stop.wait(0.1)
                                continue
                            pid = kids[0]
                        for l in open(f"/proc/{pid}/status"):
                            if l.startswith("VmRSS"):
                                samples.append((round(time.perf_counter() - w0, 1), int(l.split()[1])))
                    except OSError:
                        return
                    stop.wait(2.0)

            th = threading.Thread(target=sample, daemon=True)
            th.start()
            scan.wait()
            wall = time.perf_counter() - w0
            stop.set()
            gen.wait()
            ru = json.load(open(ru_path))
            errf.seek(0)
            err = errf.read()
            stats = next((json.loads(l) for l in err.splitlines() if l.startswith("{")), {})
            row = {"rules": name, "events": n, "keys": keys, "max_pending": max_pending, "wall_s": wall,
                   "cpu_s": ru["user_s"] + ru["sys_s"], "maxrss_kb": ru["maxrss_kb"], "stats": stats,
                   "rss_samples_kb": samples[:: max(1, len(samples) // 40)]}
            log(f"  soak {name} {n} events: wall {wall:.1f}s peak RSS {ru['maxrss_kb'] / 1024:.1f} MiB stats {stats}")
            out.append(row)
    return out


# --------------------------------------------------------------------------------------------


def fmt_rate(n, s):
    return f"{n / s:,.0f}" if s > 0 else "-"


def verdict(ok):
    return "met" if ok else "MISSED"


def table(res):
    rows = []
    nat = res.get("native")
    if nat:
        n, b = nat["events"], nat["bytes"]
        for k, label in (("floor", "I/O floor: read + memchr newlines"), ("json", "serde_json::Value parse (baseline)"),
                         ("scan", "eqlite scan, kubelet pack")):
            s = nat[k]
            rows.append([f"(1) {label}", fmt_rate(n, s["cpu_s"]), f"{b / s['cpu_s'] / 1e6:.0f}", fmt_rate(n, s["wall_s"]),
                         f"{s['maxrss_kb'] / 1024:.1f} MiB", ""])
        rows[-1][5] = (f"{nat['ratio_cpu']:.2f}x time of parse (paired {nat['ratio_cpu_paired_median']:.2f}x, fastest runs "
                       f"{nat['ratio_cpu_min']:.2f}x, wall {nat['ratio_wall']:.2f}x); target <= 1.0: {verdict(nat['ratio_cpu'] <= 1.0)}")
    py = res.get("python")
    if py:
        n, b = py["events"], py["bytes"]
        c = py["python_cpu_s"]
        rows.append(["(2) Python eql, evaluate only", fmt_rate(n, c["evaluate"]), f"{b / c['evaluate'] / 1e6:.1f}", "", "", ""])
        rows.append(["(2) Python eql, json.loads+evaluate", fmt_rate(n, py["python_decode_eval_cpu_s"]),
                     f"{b / py['python_decode_eval_cpu_s'] / 1e6:.1f}", "", "", ""])
        rows.append(["(2) Python eql, json.loads+adapt+evaluate", fmt_rate(n, py["python_total_cpu_s"]), f"{b / py['python_total_cpu_s'] / 1e6:.1f}", "",
                     f"{py['python_maxrss_kb'] / 1024:.1f} MiB", ""])
        rows.append(["(2) eqlite scan, same 11 rules", fmt_rate(n, py["eqlite_single_cpu_s"]), f"{b / py['eqlite_single_cpu_s'] / 1e6:.0f}",
                     fmt_rate(n, py["eqlite_single_wall_s"]), f"{py['eqlite_single_maxrss_kb'] / 1024:.1f} MiB",
                     f"{py['speedup_total']:.1f}x Python end to end ({py['speedup_decode_eval']:.1f}x without adapt), "
                     f"{py['speedup_eval_only']:.1f}x its evaluation alone; target >= 30: "
                     f"{verdict(py['speedup_total'] >= 30)} (end to end) / {verdict(py['speedup_eval_only'] >= 30)} (eval only)"])
    nd = res.get("node")
    if nd:
        n, b = nd["events"], nd["bytes"]
        for k, label in (("parse", "JSON.parse (baseline)"), ("string", "evaluate(jsonString)"), ("object", "evaluate(object), parsed beforehand")):
            rows.append([f"(3) Node {label}", fmt_rate(n, nd["cpu_s"][k]), f"{b / nd['cpu_s'][k] / 1e6:.0f}", fmt_rate(n, nd["wall_s"][k]),
                         f"{nd['maxrss_kb'] / 1024:.0f} MiB" if k == "parse" else "", ""])
        rows[-2][5] = f"{nd['ratio_string_vs_parse']:.2f}x JSON.parse"
        rows[-1][5] = f"{nd['ratio_object_vs_parse']:.2f}x JSON.parse (parse + evaluate(object): {nd['ratio_parse_plus_object_vs_parse']:.2f}x)"
        if "batch" in nd["cpu_s"]:
            rows.append(["(3) Node evaluateBatch(ndjson), per event", fmt_rate(n, nd["cpu_s"]["batch"]),
                         f"{b / nd['cpu_s']['batch'] / 1e6:.0f}", fmt_rate(n, nd["wall_s"]["batch"]), "",
                         f"{nd['ratio_batch_vs_parse']:.2f}x JSON.parse"])
    sc = res.get("scaling")
    if sc:
        b_ev = sc["bytes"] / sc["events"]
        for s in sc["sets"]:
            note = (f"{s['push_vs_kubelet']:.1f}x kubelet per event; evaluated per event: "
                    f"{s.get('evaluated_mean', float('nan')):.1f} mean, {s.get('evaluated_p95', '-')} p95")
            rows.append([f"(4) {s['name']} ({s['rules']} rules, {s['sequences']} seq)", f"{1e9 / s['push_ns']:,.0f}",
                         f"{b_ev * 1e3 / s['push_ns']:.0f}", f"{1e9 / s['push_wall_ns']:,.0f}", "", note])
        ca = sc["compile"]["corpus_all"]
        if ca["rules"]:
            t = ca["times"]["cpu_s_median"]
            rows.append([f"(4) compile all {ca['rules']} corpus rules", "", "", "", "", f"{t * 1000:.0f} ms CPU "
                         f"(wall {ca['times']['wall_s_median'] * 1000:.0f} ms); target < 1 s: {verdict(t < 1.0)}"])
        rows.append([f"(4) compile the kubelet pack", "", "", "", "", f"{sc['compile']['kubelet']['times']['cpu_s_median'] * 1000:.1f} ms CPU"])
        if "cli" in sc:
            c = sc["cli"]
            rows.append(["(4) eqlite check --rules corpus (CLI)", "", "", "", "", f"{c['check_corpus_cpu_s'] * 1000:.0f} ms CPU, {c['check_corpus_wall_s'] * 1000:.0f} ms wall"])
            rows.append(["(4) eqlite scan --rules corpus (CLI)", fmt_rate(sc["events"], c["scan_corpus_cpu_s"]), "", "",
                         f"{c['scan_corpus_maxrss_kb'] / 1024:.1f} MiB", f"{c['scan_corpus_vs_pack']:.1f}x the kubelet-pack scan"])
    jb = res.get("jobs")
    if jb:
        for j in ("1", "2"):
            rows.append([f"(6) eqlite scan --rules corpus -j {j}", fmt_rate(jb["events"], jb["cpu_s"][j]), "", fmt_rate(jb["events"], jb["wall_s"][j]), "",
                         "" if j == "1" else f"speed-up {jb['speedup']:.2f}x (wall of -j 1 / wall of -j 2), byte-identical output ({jb['alerts']} alerts); "
                         f"target >= 1.8: {verdict(jb['speedup'] >= 1.8)}"])
    ws = res.get("wasm_size")
    if ws:
        rows.append(["(5) pkg/eqlite_bg.wasm", "", "", "", "", f"{ws['raw'] / 1024:.0f} KiB raw, {ws['gzip9'] / 1024:.0f} KiB gzip -9"])
    for s in res.get("soak", []):
        st = s["stats"]
        rows.append([f"soak {s['rules']} {s['events']:,} events", fmt_rate(s["events"], s["cpu_s"]), "", fmt_rate(s["events"], s["wall_s"]),
                     f"{s['maxrss_kb'] / 1024:.1f} MiB",
                     f"alerts {st.get('alerts')}, pending {st.get('pending')}, evicted {st.get('evicted')}, expired {st.get('expired')}, late {st.get('late')}"])
    head = ["benchmark", "events/s (CPU)", "MB/s (CPU)", "events/s (wall)", "peak RSS", "ratio / target"]
    widths = [max(len(str(r[i])) for r in rows + [head]) for i in range(5)]
    lines = [" | ".join(str(h).ljust(w) for h, w in zip(head[:5], widths)) + " | " + head[5]]
    lines.append("-+-".join("-" * w for w in widths) + "-+-" + "-" * 20)
    for r in rows:
        lines.append(" | ".join(str(c).ljust(w) if i == 0 or i == 4 else str(c).rjust(w) for i, (c, w) in enumerate(zip(r[:5], widths))) + " | " + r[5])
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description="eqlite benchmarks (issue 8)")
    ap.add_argument("--events", type=int, default=200_000, help="events in the generated file (default 200000)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--file", help="use this NDJSON instead of generating one")
    ap.add_argument("--reps", type=int, default=5, help="repetitions of (1) (default 5)")
    ap.add_argument("--py-events", type=int, default=50_000, help="events for Python eql and the eqlite runs beside it")
    ap.add_argument("--py-reps", type=int, default=3)
    ap.add_argument("--node-events", type=int, default=50_000)
    ap.add_argument("--node-reps", type=int, default=3)
    ap.add_argument("--scaling-events", type=int, default=10_000)
    ap.add_argument("--scaling-reps", type=int, default=3)
    ap.add_argument("--compile-reps", type=int, default=5)
    ap.add_argument("--jobs-events", type=int, default=20_000, help="events for (6), -j 1 against -j 2 with the corpus")
    ap.add_argument("--jobs-reps", type=int, default=3)
    ap.add_argument("--counts", default="50,100,250,500,1000,all", help="corpus rule counts for (4)")
    ap.add_argument("--only", default="native,python,node,scaling,jobs,size,peer",
                    help="comma list of: native,python,node,scaling,jobs,size,peer,soak (peer needs RSIGMA)")
    ap.add_argument("--peer-reps", type=int, default=3)
    ap.add_argument("--peer-sets", default="1 10 50 100 234")
    ap.add_argument("--soak", action="store_true", help="also run the sequence soak (10M events, several minutes)")
    ap.add_argument("--soak-events", default="1000000,10000000")
    ap.add_argument("--soak-keys", type=int, default=200_000)
    ap.add_argument("--max-pending", type=int, default=100_000)
    ap.add_argument("--svg", default=os.path.join(OUT, "rule_scaling.svg"))
    ap.add_argument("--json", default=os.path.join(OUT, "results.json"))
    a = ap.parse_args()
    os.makedirs(OUT, exist_ok=True)
    only = set(a.only.split(","))
    if a.soak:
        only.add("soak")

    res = {"machine": machine(), "args": vars(a)}
    path = a.file or events_file(a.events, a.seed)
    stats_path = path + ".stats.json"
    if os.path.exists(stats_path):
        try:
            res["generator"] = json.load(open(stats_path))
        except ValueError:
            pass
    res["file"] = os.path.relpath(path, ROOT)
    log(f"events: {path}")
    if "native" in only:
        log("(1) eqlite scan vs serde_json::Value")
        res["native"] = bench_native(path, a.reps)
    if "python" in only:
        log("(2) Python eql")
        res["python"] = bench_python(path, a.py_events, a.py_reps)
    if "node" in only:
        log("(3) wasm in Node")
        res["node"] = bench_node(path, a.node_events, a.node_reps)
    if "scaling" in only:
        log("(4) rule-set scaling and compile time")
        res["scaling"] = bench_scaling(path, a.scaling_events, a.scaling_reps, a.compile_reps, a.counts)
    if "jobs" in only:
        log("(6) eqlite scan -j 1 vs -j 2, corpus rules")
        res["jobs"] = bench_jobs(path, a.jobs_events, a.jobs_reps)
    if "size" in only:
        res["wasm_size"] = wasm_size()
    if "peer" in only:
        log("(7) peer kit: eqlite against rsigma")
        res["peer"] = bench_peer(a.peer_reps, a.peer_sets)
    if "soak" in only:
        log("sequence soak")
        res["soak"] = bench_soak([int(x) for x in a.soak_events.split(",")], a.soak_keys, a.max_pending)
    res["machine"]["loadavg_end"] = open("/proc/loadavg").read().split()[:3]
    res["targets"] = [{"name": n, "measured": m, "target": g, "met": ok} for n, m, g, ok in targets(res)]
    with open(a.json, "w") as f:
        json.dump(res, f, indent=1)
    if "scaling" in res:
        subprocess.run([sys.executable, os.path.join(ROOT, "bench", "plot.py"), a.json, a.svg], check=True)
    if res.get("peer"):
        subprocess.run([sys.executable, os.path.join(ROOT, "bench", "plot_peer.py"), a.json,
                        os.path.join(OUT, "peer_rsigma.svg")], check=True)
    m = res["machine"]
    print(f"\nmachine: {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB, {m['os']}; {m['rustc']}; node {m['node']}; {m['python']}")
    print(f"load average at start {' '.join(m['loadavg_start'])}, at end {' '.join(m['loadavg_end'])}; eqlite {m['git']}")
    g = res.get("generator", {})
    print(f"events: {res['file']} ({g.get('events', '?')} events, mean {g.get('mean_bytes', '?')} bytes, {g.get('attack_events', '?')} attack events)\n")
    print(table(res))
    peer = res.get("peer")
    if peer:
        print(f"\npeer kit ({peer['load']}): CPU seconds for 200,000 events")
        for x in peer["sets"]:
            print(f"  {x['rules']:>4} rules: eqlite {x['eqlite_cpu_s']:.2f} s, rsigma {x['rsigma_ecs_cpu_s']:.2f} s "
                  f"(Sigma-named events {x['rsigma_sigma_cpu_s']:.2f} s): {x['ratio']:.2f}x")
        for x in peer.get("in_process", []):
            print(f"  in process {x['name']}: {x['push_ns'] / 1000:.2f} us/event, evaluated {x['evaluated_mean']:.2f} mean, "
                  f"{x['evaluated_p95']} p95")
    print("\ntargets (issue 20):")
    print(targets_table(targets(res)))
    print(f"\nresults: {os.path.relpath(a.json, ROOT)}" + (f"; plot: {os.path.relpath(a.svg, ROOT)}" if "scaling" in res else ""))


if __name__ == "__main__":
    main()
