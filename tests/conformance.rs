//! Elasticsearch's EQL QA specs (../shared/testdata/es-eql-qa), run the way Elasticsearch runs
//! them: events sorted by (`@timestamp`, tiebreaker), the category in `event_type`, results as the
//! events' ids in output order (sequences flattened; `-1` for a missing-event slot).
//! Prints a pass/fail table per suite and fails on any failure.

use eqlite::ast::QueryBody;
use eqlite::{Options, RuleSet};
use eqlite::{Stream, StreamOptions};
use serde::Deserialize;
use std::path::PathBuf;

mod common;

fn dir() -> Option<PathBuf> {
    common::shared("testdata")
}

#[derive(Deserialize)]
struct Suite {
    queries: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    name: Option<String>,
    query: String,
    expected_event_ids: Vec<i64>,
}

/// Events as JSON text, in evaluation order, with their ids.
struct Data {
    events: Vec<String>,
    ids: Vec<i64>,
    mapping: Vec<eqlite::mapping::MappedField>,
    /// Shuffled data: each event's place in time order.
    rank: Option<Vec<usize>>,
}

fn load_data(path: &PathBuf, id_field: &str, filetime: bool) -> Data {
    let text = std::fs::read_to_string(path).unwrap();
    // missing-events.data carries `////` comment lines.
    let text: String = text.lines().filter(|l| !l.trim_start().starts_with("////")).collect::<Vec<_>>().join("\n");
    let mut docs: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap();
    for d in &mut docs {
        if filetime {
            // Windows FILETIME (100 ns ticks since 1601) → epoch milliseconds, as Elasticsearch's loader does.
            let ft = d["timestamp"].as_i64().unwrap();
            d["@timestamp"] = serde_json::json!((ft - 116_444_736_000_000_000) / 10_000);
        }
    }
    let ts = |d: &serde_json::Value| -> i64 {
        match &d["@timestamp"] {
            serde_json::Value::String(s) => {
                s.parse().unwrap_or_else(|_| eqlite::internals::parse_time(s).unwrap() / 1_000_000)
            }
            v => v.as_i64().unwrap(),
        }
    };
    docs.sort_by_key(|d| (ts(d), d[id_field].as_i64().unwrap()));
    // The index mapping beside the data file, when there is one: field types and `null_value`s.
    // Elasticsearch's test framework replaces the placeholder type with a random keyword-family type.
    let mut mapping = std::fs::read_to_string(path.with_extension("mapping"))
        .map(|m| eqlite::mapping::from_es_json(&m.replace("[runtime_random_keyword_type]", "keyword")).unwrap())
        .unwrap_or_default();
    if text.contains("\"version\"") {
        // test_extra.toml's version-range queries (sequenceWithVersionRangeCheck*) compare
        // "1.11.3" > "1.5.0", which only holds for the `version` field type; the saved
        // extra.mapping has no entry for `version`, so the runner declares it.
        mapping.push(eqlite::mapping::MappedField {
            path: "version".into(),
            ty: Some(eqlite::FieldType::Version),
            null_value: None,
        });
    }
    Data {
        ids: docs.iter().map(|d| d[id_field].as_i64().unwrap()).collect(),
        events: docs.iter().map(|d| d.to_string()).collect(),
        mapping,
        rank: None,
    }
}

/// Expanded slot layout of a sequence: `true` for a missing-event slot.
fn missing_slots(rs: &RuleSet) -> Option<Vec<bool>> {
    match &eqlite::parse_query(&rs.rule(0)?.query).ok()?.body {
        QueryBody::Sequence(s) => {
            Some(s.stages.iter().flat_map(|st| std::iter::repeat_n(st.missing, st.runs as usize)).collect())
        }
        _ => None,
    }
}

impl Data {
    /// The same events in a scrambled input order (a fixed permutation, so failures reproduce).
    fn shuffled(&self) -> Data {
        let n = self.events.len();
        let mut order: Vec<usize> = (0..n).collect();
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for i in (1..n).rev() {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            order.swap(i, (x % (i as u64 + 1)) as usize);
        }
        Data {
            events: order.iter().map(|&i| self.events[i].clone()).collect(),
            ids: order.iter().map(|&i| self.ids[i]).collect(),
            mapping: self.mapping.clone(),
            rank: Some(order),
        }
    }
}

/// Records sorted on disk by the whole-input runs, over all queries.
static SPILLED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

fn compile(case: &Case, data: &Data, id_field: &str) -> Result<RuleSet, String> {
    let mut rs = RuleSet::new(Options {
        category_field: "event_type".into(),
        timestamp_field: "@timestamp".into(),
        tiebreaker_field: Some(id_field.into()),
        mapping: data.mapping.clone(),
        ..Options::default()
    });
    rs.add_query("q", &case.query).map_err(|d| d.rendered())?;
    Ok(rs)
}

/// How a case's events go through the stream.
#[derive(Clone, Copy, PartialEq)]
enum Mode {
    /// One stream, start to end.
    Uninterrupted,
    /// After every event: a snapshot, restored into a stream of a freshly compiled rule set.
    Restarted,
}

fn run(case: &Case, data: &Data, id_field: &str, mode: Mode, opts: &StreamOptions) -> Result<Vec<i64>, String> {
    let mut rs = compile(case, data, id_field)?;
    let mut stream = Stream::new(&rs, opts.clone());
    let mut alerts = Vec::new();
    for (i, text) in data.events.iter().enumerate() {
        let ev = rs.read_json(text).map_err(|e| e.to_string())?;
        alerts.extend(stream.push(&rs, &ev, i as u64));
        if mode == Mode::Restarted {
            let bytes = stream.snapshot(&rs);
            rs = compile(case, data, id_field)?;
            let (restored, report) = Stream::from_snapshot(&rs, opts.clone(), &bytes).map_err(|e| e.to_string())?;
            assert_eq!((report.kept, report.dropped), (1, 0), "{}", case.query);
            assert_eq!(restored.next_position(), i as u64 + 1);
            stream = restored;
        }
    }
    alerts.extend(stream.flush(&rs));
    SPILLED.fetch_add(stream.stats().spilled, std::sync::atomic::Ordering::Relaxed);
    // A whole input's single-event alerts (without head or tail) come as their events are read;
    // Elasticsearch lists them in time order.
    if let (Some(rank), true) = (&data.rank, rs.kind(0) == Some(eqlite::RuleKind::Event)) {
        alerts.sort_by_key(|a| rank[a.events[0] as usize]);
    }
    let slots = missing_slots(&rs);
    let mut out = Vec::new();
    for a in alerts {
        let mut ids = a.events.iter().map(|&p| data.ids[p as usize]);
        match &slots {
            Some(slots) => {
                for &missing in slots {
                    out.push(if missing { -1 } else { ids.next().unwrap_or(-2) });
                }
            }
            None => out.extend(ids),
        }
    }
    Ok(out)
}

struct Tally {
    rows: Vec<(String, &'static str, String)>,
}

fn run_suite(tally: &mut Tally, suite_file: &str, data: &Data, id_field: &str, opts: &StreamOptions) -> (usize, usize) {
    let d = dir().unwrap();
    let text = std::fs::read_to_string(d.join("es-eql-qa").join(suite_file)).unwrap();
    // test_extra.toml writes `join_keys = [null, …]`, which is not TOML; eqlite does not need them.
    let mut cleaned = String::new();
    let mut in_keys = false;
    for l in text.lines() {
        in_keys |= l.trim_start().starts_with("join_keys");
        if !in_keys {
            cleaned.push_str(l);
            cleaned.push('\n');
        }
        in_keys &= !l.contains(']');
    }
    let suite: Suite = toml::from_str(&cleaned).unwrap_or_else(|e| panic!("{suite_file}: {e}"));
    let (mut pass, mut total) = (0, 0);
    for case in &suite.queries {
        total += 1;
        let name = format!("{suite_file}: {}", case.name.clone().unwrap_or_else(|| case.query.trim().to_string()));
        match run(case, data, id_field, Mode::Uninterrupted, opts) {
            Ok(got) if got == case.expected_event_ids => {
                pass += 1;
                tally.rows.push((name, "pass", String::new()));
            }
            Ok(got) => tally.rows.push((
                name,
                "FAIL",
                format!(
                    "expected {:?}\n        got {:?}\n        query: {}",
                    case.expected_event_ids,
                    got,
                    case.query.trim()
                ),
            )),
            Err(e) => tally.rows.push((name, "FAIL", format!("error: {e}\n        query: {}", case.query.trim()))),
        }
    }
    (pass, total)
}

#[test]
fn elasticsearch_qa_specs() {
    conformance(false, &StreamOptions::default());
}

/// A whole input in any order gives what Elasticsearch returns for it as an index: the same data
/// shuffled, ordered by the stream with sorted runs of at most 16 events per rule on disk.
#[test]
fn elasticsearch_qa_specs_on_shuffled_input() {
    conformance(true, &StreamOptions { whole_input: true, sort_memory: 16, ..StreamOptions::default() });
    // Many queries match more than 16 of the events: their order came through runs on disk.
    let spilled = SPILLED.load(std::sync::atomic::Ordering::Relaxed);
    assert!(spilled > 1_000, "{spilled}");
}

fn conformance(shuffle: bool, opts: &StreamOptions) {
    let Some(d) = dir() else { return };
    let load = |path: &str, id: &str, filetime: bool| {
        let data = load_data(&d.join(path), id, filetime);
        if shuffle {
            data.shuffled()
        } else {
            data
        }
    };
    let endgame = load("python-eql/test_data.json", "serial_event_id", true);
    let extra = load("es-eql-qa/data/extra.data", "sequence", false);
    let missing = load("es-eql-qa/data/missing-events.data", "sequence", false);
    if shuffle {
        assert_ne!(endgame.ids, load_data(&d.join("python-eql/test_data.json"), "serial_event_id", true).ids);
    }
    let mut tally = Tally { rows: vec![] };
    let results = [
        ("test_queries.toml", run_suite(&mut tally, "test_queries.toml", &endgame, "serial_event_id", opts)),
        (
            "additional_test_queries.toml",
            run_suite(&mut tally, "additional_test_queries.toml", &endgame, "serial_event_id", opts),
        ),
        ("test_extra.toml", run_suite(&mut tally, "test_extra.toml", &extra, "sequence", opts)),
        ("test_missing_events.toml", run_suite(&mut tally, "test_missing_events.toml", &missing, "sequence", opts)),
    ];
    let verbose = std::env::var_os("EQLITE_CONFORMANCE_VERBOSE").is_some();
    for (name, status, detail) in &tally.rows {
        if verbose || status != &"pass" {
            eprintln!("{status}  {name}");
            if !detail.is_empty() {
                eprintln!("        {detail}");
            }
        }
    }
    eprintln!("\n{:<32} {:>6} {:>6}", "suite", "pass", "total");
    for (name, (p, t)) in &results {
        eprintln!("{name:<32} {p:>6} {t:>6}");
    }
    let failed: usize = results.iter().map(|(_, (p, t))| t - p).sum();
    assert_eq!(failed, 0, "{failed} conformance queries failed");
}

/// The sequences of the specs (and the missing-event ones) through a stream that is snapshotted
/// after every event and restored into a fresh engine: exactly the alerts of an uninterrupted run.
/// With a day of lateness every event waits in the reorder buffer until the end, so the buffer is
/// in the snapshots too.
#[test]
fn sequences_survive_a_restart_at_every_event() {
    let Some(d) = dir() else { return };
    let endgame = load_data(&d.join("python-eql/test_data.json"), "serial_event_id", true);
    let missing = load_data(&d.join("es-eql-qa/data/missing-events.data"), "sequence", false);
    let mut checked = 0;
    for (suite_file, data, id_field) in
        [("test_queries.toml", &endgame, "serial_event_id"), ("test_missing_events.toml", &missing, "sequence")]
    {
        let text = std::fs::read_to_string(d.join("es-eql-qa").join(suite_file)).unwrap();
        let suite: Suite = toml::from_str(&text).unwrap();
        for case in suite.queries.iter().filter(|c| c.query.trim_start().starts_with("sequence")) {
            for lateness_ms in [0, 86_400_000] {
                let opts = StreamOptions { lateness_ms, ..StreamOptions::default() };
                let whole = run(case, data, id_field, Mode::Uninterrupted, &opts).unwrap();
                assert_eq!(whole, case.expected_event_ids, "{}", case.query);
                let restarted = run(case, data, id_field, Mode::Restarted, &opts).unwrap();
                assert_eq!(restarted, whole, "restarted at every event, lateness {lateness_ms} ms: {}", case.query);
            }
            checked += 1;
        }
    }
    eprintln!("{checked} sequence queries, restarted at every event");
    assert_eq!(checked, 39 + 26, "the sequence queries of the two suites");
}
