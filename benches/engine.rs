//! Criterion benchmarks of the core: compiling rules, reading and evaluating one event, explaining
//! one event. `cargo bench` (all) or `cargo bench -- evaluate` (a group). End-to-end throughput
//! against baselines is `bash bench/run.sh`; see BENCHMARKS.md.
//!
//! The corpus group reads ../shared/corpus/detection-rules at run time and is skipped without it.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use eqlite::internals::eval::Scratch;
use eqlite::RuleSet;
use eqlite::{Stream, StreamOptions};
use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/kubelet");
const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpus/detection-rules");

/// The first event of the first case of a fixture file whose verdict is `fires`, as JSON text.
fn fixture_event(file: &str, fires: bool) -> String {
    let text = std::fs::read_to_string(Path::new(FIXTURES).join(file)).expect("fixture");
    let doc: serde_json::Value = serde_json::from_str(&text).expect("fixture JSON");
    let case = doc["cases"].as_array().expect("cases").iter().find(|c| c["fires"] == fires).expect("a case");
    serde_json::to_string(&case["events"][0]).expect("serialises")
}

fn corpus_texts() -> Vec<(String, String)> {
    let files = eqlite::toml_files(Path::new(CORPUS)).unwrap_or_default();
    files.iter().filter_map(|f| Some((f.display().to_string(), std::fs::read_to_string(f).ok()?))).collect()
}

fn compile(c: &mut Criterion) {
    let mut g = c.benchmark_group("compile");
    g.bench_function("kubelet_pack_16_rules", |b| {
        b.iter(|| black_box(RuleSet::from_pack(&eqlite::Pack::kubelet(), eqlite::Options::default()).unwrap()))
    });
    let texts = corpus_texts();
    if texts.is_empty() {
        eprintln!("compile/corpus: skipped (no corpus at {CORPUS})");
    } else {
        g.sample_size(10).measurement_time(Duration::from_secs(15));
        g.bench_function(format!("corpus_all_{}_rules", texts.len()), |b| {
            b.iter(|| {
                let mut rs = RuleSet::default();
                for (origin, text) in &texts {
                    let _ = rs.add_toml(text, origin);
                }
                black_box(rs)
            })
        });
    }
    g.finish();
}

fn evaluate(c: &mut Criterion) {
    let rs = RuleSet::from_pack(&eqlite::Pack::kubelet(), eqlite::Options::default()).unwrap();
    let events = [
        // A benign near miss: an interactive curl in a pod that none of the rules flags.
        ("near_miss", fixture_event("direct_k8s_api_request_d4c.json", false)),
        // An attack: an interactive curl with a bearer token against the API server.
        ("firing", fixture_event("direct_k8s_api_request_d4c.json", true)),
        // A Kubernetes audit event (sequence second stages).
        ("audit", {
            let text =
                std::fs::read_to_string(Path::new(FIXTURES).join("forbidden_k8s_api_request.json")).expect("fixture");
            let doc: serde_json::Value = serde_json::from_str(&text).expect("fixture JSON");
            serde_json::to_string(&doc["cases"][0]["events"][1]).expect("serialises")
        }),
    ];
    let mut g = c.benchmark_group("evaluate_kubelet_pack");
    for (name, json) in &events {
        g.throughput(Throughput::Bytes(json.len() as u64));
        // The baseline: the whole document into a serde_json::Value.
        g.bench_function(format!("{name}/serde_json_value"), |b| {
            b.iter(|| black_box(serde_json::from_str::<serde_json::Value>(black_box(json)).expect("valid")))
        });
        g.bench_function(format!("{name}/read_json"), |b| {
            b.iter(|| black_box(rs.read_json(black_box(json)).expect("valid")))
        });
        let mut cx = Scratch::default();
        g.bench_function(format!("{name}/read_json+matches"), |b| {
            b.iter(|| {
                let ev = rs.read_json(black_box(json)).expect("valid");
                black_box(eqlite::internals::matches_with(&rs, &ev, &mut cx))
            })
        });
        // The same event again and again: with no lateness allowance each push is released at
        // once (a lateness window would buffer every copy, since the time never advances).
        g.bench_function(format!("{name}/read_json+stream_push"), |b| {
            let mut stream = Stream::new(&rs, StreamOptions { lateness_ms: 0, ..StreamOptions::default() });
            let mut pos = 0u64;
            b.iter(|| {
                let ev = rs.read_json(black_box(json)).expect("valid");
                pos += 1;
                black_box(stream.push(&rs, &ev, pos))
            })
        });
    }
    g.finish();
}

fn explain(c: &mut Criterion) {
    let rs = RuleSet::from_pack(&eqlite::Pack::kubelet(), eqlite::Options::default()).unwrap();
    let json = fixture_event("direct_k8s_api_request_d4c.json", true);
    let mut g = c.benchmark_group("explain");
    g.bench_function("one_event_all_16_rules", |b| {
        b.iter_batched(
            || rs.read_json(&json).expect("valid"),
            |ev| {
                let trees: Vec<_> = (0..rs.len()).map(|i| rs.explain(i, &ev)).collect();
                black_box(trees)
            },
            BatchSize::SmallInput,
        )
    });
    let rule = rs.position("26a989d2-010e-4dae-b46b-689d03cc22b3").unwrap_or(0);
    g.bench_function("one_event_one_rule", |b| {
        let ev = rs.read_json(&json).expect("valid");
        b.iter(|| black_box(rs.explain(rule, &ev)))
    });
    g.finish();
}

criterion_group!(benches, compile, evaluate, explain);
criterion_main!(benches);
