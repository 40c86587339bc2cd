//! Rule-set scaling and compile time, through the library (no process start-up, events in
//! memory). Used by `bench/run.sh`; prints one JSON document on stdout.
//!
//! ```sh
//! cargo run --release --example rule_scaling -- --events bench/out/events-200000-s1.ndjson \
//!     [--max-events 20000] [--counts 100,1000,all] [--reps 3] [--compile-reps 5] [--corpus DIR]
//! ```
//!
//! * `compile`: parse + compile of the 16-rule kubelet pack and of every corpus rule into one
//!   set (TOML texts read beforehand; the median of `--compile-reps`).
//! * `scaling`: per rule set — `kubelet` (16 rules), `kubelet-single` (its 11 single-event
//!   rules), and `corpus-N`: N corpus rules taken at an even stride over the sorted file list
//!   (so every N mixes Windows, Linux, macOS, cloud and deprecated rules as the corpus does) — the
//!   per-event cost of `read` (`RuleSet::read_json` only), `match` (read + `RuleSet::matches`,
//!   single-event rules) and `push` (read + `Stream::push`, sequences included, what
//!   `eqlite scan` does). Sets are interleaved within each repetition; medians are reported.
//!
//! Times are CPU time of this thread (`CLOCK_THREAD_CPUTIME_ID`), so that other load on a shared
//! machine inflates them less than wall time; wall time is reported too.

use eqlite::internals::eval::Scratch;
use eqlite::RuleSet;
use eqlite::{Stream, StreamOptions};
use std::path::PathBuf;
use std::time::Instant;

extern "C" {
    fn clock_gettime(clock: i32, tp: *mut [std::ffi::c_long; 2]) -> i32;
}

/// CPU time of this thread in nanoseconds (`CLOCK_THREAD_CPUTIME_ID`, Linux), if available.
fn cpu_ns() -> Option<u64> {
    const CLOCK_THREAD_CPUTIME_ID: i32 = 3;
    let mut ts = [0; 2];
    // SAFETY: `ts` is a `struct timespec` (two longs on Linux) that clock_gettime fills in.
    let ok = unsafe { clock_gettime(CLOCK_THREAD_CPUTIME_ID, &mut ts) } == 0;
    ok.then(|| ts[0] as u64 * 1_000_000_000 + ts[1] as u64)
}

struct Timer {
    wall: Instant,
    cpu: Option<u64>,
}

impl Timer {
    fn start() -> Timer {
        Timer { cpu: cpu_ns(), wall: Instant::now() }
    }
    /// (cpu seconds, wall seconds)
    fn stop(&self) -> (f64, f64) {
        let wall = self.wall.elapsed().as_secs_f64();
        let cpu = match (self.cpu, cpu_ns()) {
            (Some(a), Some(b)) => (b - a) as f64 / 1e9,
            _ => wall,
        };
        (cpu, wall)
    }
}

fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(|a, b| a.total_cmp(b));
    if s.is_empty() {
        return f64::NAN;
    }
    let n = s.len();
    if n % 2 == 1 {
        s[n / 2]
    } else {
        (s[n / 2 - 1] + s[n / 2]) / 2.0
    }
}

struct Set {
    name: String,
    rs: RuleSet,
}

fn kubelet_single() -> RuleSet {
    let mut rs = RuleSet::default();
    for f in eqlite::Pack::kubelet().files() {
        let mut probe = RuleSet::default();
        probe.add_toml(&f.text, &f.origin).expect("kubelet rule compiles");
        if probe.kind(0) == Some(eqlite::RuleKind::Event) {
            rs.add_toml(&f.text, &f.origin).expect("kubelet rule compiles");
        }
    }
    rs
}

fn corpus_set(texts: &[(String, String)], n: usize) -> RuleSet {
    let mut rs = RuleSet::default();
    let total = texts.len();
    for i in 0..n.min(total) {
        let (origin, text) = &texts[i * total / n.min(total)];
        if let Err(d) = rs.add_toml(text, origin) {
            eprintln!("rule_scaling: {origin}: {}", d.message());
        }
    }
    rs
}

#[derive(Default)]
struct Samples {
    read: Vec<(f64, f64)>,
    matches: Vec<(f64, f64)>,
    push: Vec<(f64, f64)>,
    alerts: usize,
    single_hits: usize,
    /// Event queries passed by the prefilter to evaluation, per event.
    evaluated: Vec<usize>,
}

fn main() {
    let mut events_path = None;
    let mut max_events = 20_000usize;
    let mut counts = "100,1000,all".to_string();
    let mut reps = 3usize;
    let mut compile_reps = 5usize;
    let mut corpus = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpus/detection-rules"));
    let mut per_rule = 0usize;
    let mut only: Option<String> = None;
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut v = || it.next().unwrap_or_else(|| panic!("{a} needs a value"));
        match a.as_str() {
            "--events" => events_path = Some(PathBuf::from(v())),
            "--max-events" => max_events = v().parse().expect("--max-events N"),
            "--counts" => counts = v(),
            "--reps" => reps = v().parse().expect("--reps N"),
            "--compile-reps" => compile_reps = v().parse().expect("--compile-reps N"),
            "--corpus" => corpus = PathBuf::from(v()),
            "--per-rule" => per_rule = v().parse().expect("--per-rule TOP"),
            "--only" => only = Some(v()),
            _ => {
                eprintln!("usage: rule_scaling --events FILE [--max-events N] [--counts 100,1000,all] [--reps N] [--compile-reps N] [--corpus DIR] [--per-rule TOP] [--only SET,...]");
                std::process::exit(2);
            }
        }
    }

    // Corpus texts, sorted by path.
    let files = eqlite::toml_files(&corpus).unwrap_or_default();
    let texts: Vec<(String, String)> =
        files.iter().filter_map(|f| std::fs::read_to_string(f).ok().map(|t| (f.display().to_string(), t))).collect();
    if texts.is_empty() {
        eprintln!("rule_scaling: no corpus at {}; corpus sets skipped", corpus.display());
    }

    // Compile times.
    let mut out = String::from("{");
    let mut kub = Vec::new();
    let mut all = Vec::new();
    let mut all_rules = 0;
    let mut all_fields = 0;
    for _ in 0..compile_reps {
        let t = Timer::start();
        let rs = RuleSet::from_pack(&eqlite::Pack::kubelet(), eqlite::Options::default()).unwrap();
        kub.push(t.stop());
        std::hint::black_box(&rs);
        if !texts.is_empty() {
            let t = Timer::start();
            let mut rs = RuleSet::default();
            for (origin, text) in &texts {
                let _ = rs.add_toml(text, origin);
            }
            all.push(t.stop());
            all_rules = rs.len();
            all_fields = eqlite::internals::fields(&rs).len();
        }
    }
    let fmt_times = |v: &[(f64, f64)]| {
        let cpu: Vec<f64> = v.iter().map(|x| x.0).collect();
        let wall: Vec<f64> = v.iter().map(|x| x.1).collect();
        format!(
            "{{\"cpu_s_median\":{:.6},\"wall_s_median\":{:.6},\"cpu_s\":[{}]}}",
            median(&cpu),
            median(&wall),
            cpu.iter().map(|x| format!("{x:.6}")).collect::<Vec<_>>().join(",")
        )
    };
    out.push_str(&format!(
        "\"compile\":{{\"kubelet\":{{\"rules\":16,\"times\":{}}},\"corpus_all\":{{\"rules\":{all_rules},\"files\":{},\"fields\":{all_fields},\"times\":{}}}}}",
        fmt_times(&kub),
        texts.len(),
        fmt_times(&all)
    ));

    // Events.
    let Some(events_path) = events_path else {
        out.push('}');
        println!("{out}");
        return;
    };
    let text = std::fs::read_to_string(&events_path).expect("events file");
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).take(max_events).collect();
    let bytes: usize = lines.iter().map(|l| l.len() + 1).sum();

    let mut sets = vec![
        Set {
            name: "kubelet".into(),
            rs: RuleSet::from_pack(&eqlite::Pack::kubelet(), eqlite::Options::default()).unwrap(),
        },
        Set { name: "kubelet-single".into(), rs: kubelet_single() },
    ];
    if !texts.is_empty() {
        for c in counts.split(',').filter(|c| !c.is_empty()) {
            let n = if c == "all" { texts.len() } else { c.parse().expect("--counts: numbers or all") };
            let name = format!("corpus-{n}");
            if only.as_ref().is_none_or(|o| o.split(',').any(|x| x == name)) {
                sets.push(Set { name, rs: corpus_set(&texts, n) });
            }
        }
    }
    if let Some(only) = &only {
        // Only these sets (e.g. for instruction counts under valgrind, one set per run).
        let keep: Vec<&str> = only.split(',').collect();
        sets.retain(|s| keep.contains(&s.name.as_str()));
    }
    let mut samples: Vec<Samples> = sets.iter().map(|_| Samples::default()).collect();
    let mut cx = Scratch::default();
    // Warm-up: page in the events and warm the caches and allocator.
    for s in &sets {
        for l in lines.iter().take(2000) {
            let ev = s.rs.read_json(l).expect("valid event");
            std::hint::black_box(eqlite::internals::matches_with(&s.rs, &ev, &mut cx));
        }
    }
    for l in lines.iter().filter(|_| !sets.is_empty()) {
        std::hint::black_box(sets[0].rs.read_json(l).expect("valid event"));
    }
    for (s, smp) in sets.iter().zip(samples.iter_mut()) {
        smp.evaluated = lines
            .iter()
            .map(|l| eqlite::internals::evaluated(&s.rs, &s.rs.read_json(l).expect("valid event"), &mut cx))
            .collect();
        smp.evaluated.sort_unstable();
    }
    for _ in 0..reps {
        for (s, smp) in sets.iter().zip(samples.iter_mut()) {
            let rs = &s.rs;
            // read only
            let t = Timer::start();
            let mut n = 0usize;
            for l in &lines {
                let ev = rs.read_json(l).expect("valid event");
                n += ev.get(0).len();
            }
            smp.read.push(t.stop());
            std::hint::black_box(n);
            // read + single-event matches
            let t = Timer::start();
            let mut hits = 0usize;
            for l in &lines {
                let ev = rs.read_json(l).expect("valid event");
                hits += eqlite::internals::matches_with(rs, &ev, &mut cx).len();
            }
            smp.matches.push(t.stop());
            smp.single_hits = hits;
            // read + stream push (what the CLI does)
            let t = Timer::start();
            let mut stream = Stream::new(rs, StreamOptions { lateness_ms: 60_000, ..StreamOptions::default() });
            let mut alerts = 0usize;
            for (i, l) in lines.iter().enumerate() {
                let ev = rs.read_json(l).expect("valid event");
                alerts += stream.push(rs, &ev, i as u64).len();
            }
            alerts += stream.flush(rs).len();
            smp.push.push(t.stop());
            smp.alerts = alerts;
        }
    }
    let n = lines.len() as f64;
    let per = |v: &[(f64, f64)], cpu: bool| {
        median(&v.iter().map(|x| if cpu { x.0 } else { x.1 }).collect::<Vec<_>>()) / n * 1e9
    };
    out.push_str(&format!(",\"events\":{},\"bytes\":{bytes},\"reps\":{reps},\"sets\":[", lines.len()));
    for (k, (s, smp)) in sets.iter().zip(&samples).enumerate() {
        if k > 0 {
            out.push(',');
        }
        let seqs = (0..s.rs.len()).filter(|&i| s.rs.kind(i) != Some(eqlite::RuleKind::Event)).count();
        out.push_str(&format!(
            "{{\"name\":\"{}\",\"rules\":{},\"sequences\":{seqs},\"fields\":{},\"alerts\":{},\"single_hits\":{},\
             \"evaluated_mean\":{:.2},\"evaluated_p95\":{},\"read_ns\":{:.1},\"match_ns\":{:.1},\"push_ns\":{:.1},\"push_wall_ns\":{:.1},\"push_ns_all\":[{}]}}",
            s.name,
            s.rs.len(),
            eqlite::internals::fields(&s.rs).len(),
            smp.alerts,
            smp.single_hits,
            smp.evaluated.iter().sum::<usize>() as f64 / n,
            smp.evaluated.get(smp.evaluated.len() * 95 / 100).copied().unwrap_or(0),
            per(&smp.read, true),
            per(&smp.matches, true),
            per(&smp.push, true),
            per(&smp.push, false),
            smp.push.iter().map(|x| format!("{:.1}", x.0 / n * 1e9)).collect::<Vec<_>>().join(",")
        ));
    }
    out.push(']');
    if per_rule > 0 {
        if let Some(s) = sets.last() {
            out.push_str(&format!(",\"per_rule\":{}", per_rule_costs(&s.name, &s.rs, &lines, per_rule)));
        }
    }
    out.push('}');
    println!("{out}");
}

/// Where the time goes in one rule set: each rule's event matchers (the single-event query, or
/// every stage of a sequence) timed alone over all events, read beforehand. Reports the costliest
/// rules and totals by the operating system a rule tests (`host.os.type == "…"` in its query).
fn per_rule_costs(name: &str, rs: &RuleSet, lines: &[&str], top: usize) -> String {
    use eqlite::internals::Body;
    let events: Vec<eqlite::Event> = lines.iter().map(|l| rs.read_json(l).expect("valid event")).collect();
    let cat = eqlite::internals::fields(rs).lookup("event.category").unwrap_or(0);
    let mut cx = Scratch::default();
    let mut rows = Vec::new();
    for r in eqlite::internals::compiled(rs) {
        let matchers: Vec<&eqlite::internals::EventMatcher> = r.matchers().collect();
        let t = Timer::start();
        let mut hits = 0usize;
        for ev in &events {
            for m in &matchers {
                hits += usize::from(eqlite::internals::eval::matches(m, ev, cat, &mut cx));
            }
        }
        let (cpu, _) = t.stop();
        let q = &r.rule.query;
        let os = ["windows", "linux", "macos"]
            .into_iter()
            .find(|o| q.contains(&format!("host.os.type == \"{o}\"")) || q.contains(&format!("host.os.type : \"{o}\"")))
            .unwrap_or("other");
        let category = match &r.body {
            Body::Event(m) => m.category.clone().unwrap_or_else(|| "any".into()),
            _ => "sequence".into(),
        };
        rows.push((
            cpu / events.len() as f64 * 1e9,
            r.rule.name.clone(),
            category,
            os,
            hits,
            !matches!(r.body, Body::Event(_)),
        ));
    }
    let total: f64 = rows.iter().map(|r| r.0).sum();
    let mut by_os: Vec<(&str, f64, usize)> = Vec::new();
    for r in &rows {
        match by_os.iter_mut().find(|x| x.0 == r.3) {
            Some(x) => {
                x.1 += r.0;
                x.2 += 1;
            }
            None => by_os.push((r.3, r.0, 1)),
        }
    }
    let mut by_kind: Vec<(String, f64, usize)> = Vec::new();
    for r in &rows {
        match by_kind.iter_mut().find(|x| x.0 == r.2) {
            Some(x) => {
                x.1 += r.0;
                x.2 += 1;
            }
            None => by_kind.push((r.2.clone(), r.0, 1)),
        }
    }
    by_kind.sort_by(|a, b| b.1.total_cmp(&a.1));
    rows.sort_by(|a, b| b.0.total_cmp(&a.0));
    let top10: f64 = rows.iter().take(rows.len().div_ceil(10)).map(|r| r.0).sum();
    let esc = |s: &str| s.replace('\\', "\\\\").replace('"', "\\\"");
    format!(
        "{{\"set\":\"{name}\",\"events\":{},\"total_ns\":{total:.1},\"top_10pct_share\":{:.3},\"by_os\":[{}],\"by_kind\":[{}],\"top\":[{}]}}",
        events.len(),
        top10 / total,
        by_os.iter().map(|x| format!("{{\"os\":\"{}\",\"ns\":{:.1},\"rules\":{}}}", x.0, x.1, x.2)).collect::<Vec<_>>().join(","),
        by_kind.iter().map(|x| format!("{{\"kind\":\"{}\",\"ns\":{:.1},\"rules\":{}}}", esc(&x.0), x.1, x.2)).collect::<Vec<_>>().join(","),
        rows.iter()
            .take(top)
            .map(|r| format!(
                "{{\"ns\":{:.1},\"rule\":\"{}\",\"kind\":\"{}\",\"os\":\"{}\",\"matches\":{}}}",
                r.0,
                esc(&r.1),
                esc(&r.2),
                r.3,
                r.4
            ))
            .collect::<Vec<_>>()
            .join(",")
    )
}
