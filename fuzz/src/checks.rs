//! What each fuzz target does with its input, as plain functions that panic on a finding, so that
//! the native tests (`tests/hostile.rs`, which includes this file with `#[path]`) can replay the
//! committed regression inputs (`fuzz/regressions/<target>/*`) through exactly the same checks.

use crate::naive::{Doc, Naive};
use eqlite::internals::{self, Body};
use eqlite::{Options, Pack, RuleKind, RuleSet, Stream, StreamOptions};
use std::sync::OnceLock;

/// The rule sets the event targets run: the kubelet pack, and the sequences of Elasticsearch's EQL
/// specs (`test_queries.toml`, `test_missing_events.toml`) over their data's fields when
/// `../shared` is beside the repository. Compiled once per process; `fresh` is a second, separate
/// compilation of the same rules (a restarted engine).
fn engines(fresh: bool) -> &'static [RuleSet] {
    static A: OnceLock<Vec<RuleSet>> = OnceLock::new();
    static B: OnceLock<Vec<RuleSet>> = OnceLock::new();
    let compile = || {
        let mut sets =
            vec![RuleSet::from_pack(&Pack::kubelet(), Options::default()).expect("the kubelet pack compiles")];
        if let Some(specs) = shared("testdata/es-eql-qa") {
            let mut rs = RuleSet::new(Options {
                category_field: "event_type".into(),
                tiebreaker_field: Some("serial_event_id".into()),
                ..Options::default()
            });
            for suite in ["test_queries.toml", "test_missing_events.toml"] {
                let text = std::fs::read_to_string(specs.join(suite)).expect("a spec suite reads");
                let doc: toml::Table = toml::from_str(&text).expect("a spec suite parses");
                let queries = doc["queries"].as_array().into_iter().flatten();
                for q in
                    queries.filter_map(|q| q.get("query")?.as_str()).filter(|q| q.trim_start().starts_with("sequence"))
                {
                    rs.add_query(&format!("spec-{}", rs.len()), q).expect("a spec sequence compiles");
                }
            }
            sets.push(rs);
        }
        sets
    };
    if fresh {
        B.get_or_init(compile)
    } else {
        A.get_or_init(compile)
    }
}

/// The rule set an input is for: the specs' when it speaks of their `event_type` field, else the
/// kubelet pack (one set per input halves the work of an execution).
fn engine_for(text: &str, fresh: bool) -> &'static RuleSet {
    let sets = engines(fresh);
    sets.get(1).filter(|_| text.contains("event_type")).unwrap_or(&sets[0])
}

/// `../shared/<rel>` beside the repository (from the fuzz crate or from the root crate's tests).
pub fn shared(rel: &str) -> Option<std::path::PathBuf> {
    let here = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    [here.join("../shared"), here.join("../../shared")].into_iter().map(|d| d.join(rel)).find(|p| p.exists())
}

/// Small caps, so that eviction and lateness paths are reached with small inputs.
fn stream_options() -> StreamOptions {
    StreamOptions { lateness_ms: 5_000, max_pending: 8, ..StreamOptions::default() }
}

/// Any text: parse, verify, compile; a diagnostic must point inside the text.
pub fn parse_query(data: &[u8]) {
    let Ok(src) = std::str::from_utf8(data) else { return };
    match eqlite::parse_query(src) {
        Ok(q) => {
            if eqlite::internals::verify(src, &q).is_ok() {
                let mut rs = RuleSet::default();
                if let Err(d) = rs.add_query("fuzz", src) {
                    check_diagnostic(src, &d);
                }
            }
        }
        Err(d) => check_diagnostic(src, &d),
    }
}

fn check_diagnostic(src: &str, d: &eqlite::Error) {
    let p = d.position().expect("a query error has a position");
    assert!(
        p.start <= p.end && p.end <= src.len(),
        "diagnostic span {}..{} outside {} bytes",
        p.start,
        p.end,
        src.len()
    );
    assert!(!d.message().is_empty());
    assert!(d.rendered().contains(d.message()));
}

/// Any text as a detection-rules TOML document.
pub fn rule_toml(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let mut rs = RuleSet::default();
    match rs.add_toml(text, "fuzz.toml") {
        Ok(_) => {}
        Err(d) => {
            let p = d.position().unwrap_or_default();
            assert!(p.end <= text.len().max(p.start), "diagnostic span {}..{}", p.start, p.end)
        }
    }
}

/// Any bytes as input text against the event targets' rule sets: every item is read, matched and
/// streamed; the prefiltered verdicts (`matches`, `matching`) agree with evaluating every event
/// query of every rule in full, and with the explanation of one rule per event (explanations are
/// costly: all of them would cut the executions per second tenfold; the differential target
/// checks them thoroughly). Snapshots have their own target.
pub fn eval_event(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let items = eqlite::input::split(&text);
    let mut cx = internals::eval::Scratch::default();
    let rs = engine_for(&text, false);
    let mut stream = Stream::new(rs, stream_options());
    let cat = internals::fields(rs).lookup(&rs.options().category_field).expect("the category field is interned");
    let full = |i: usize, ev: &eqlite::Event, cx: &mut internals::eval::Scratch| -> Vec<bool> {
        internals::compiled(rs)[i].matchers().map(|m| internals::eval::matches(m, ev, cat, cx)).collect()
    };
    for (pos, item) in items.iter().enumerate() {
        let Ok(raw) = item else { continue };
        let Ok(ev) = rs.read_json(raw.json) else { continue };
        let (fast, stages) = (rs.matches(&ev), rs.matching(&ev));
        for i in 0..rs.len() {
            let id = &rs.rule(i).unwrap().id;
            for (k, hit) in full(i, &ev, &mut cx).into_iter().enumerate() {
                assert_eq!(stages.contains(&(i, k)), hit, "rule {id} stage {k} on {}", raw.json);
                if rs.kind(i) == Some(RuleKind::Event) {
                    assert_eq!(fast.contains(&i), hit, "rule {id} on {}", raw.json);
                }
            }
        }
        let i = pos % rs.len();
        let explained: Vec<bool> = rs.explain(i, &ev).iter().map(|e| e.result == Some(true)).collect();
        assert_eq!(explained, full(i, &ev, &mut cx), "rule {} explained on {}", rs.rule(i).unwrap().id, raw.json);
        stream.push(rs, &ev, pos as u64);
    }
    stream.flush(rs);
}

/// Any bytes three ways: as a snapshot (an error, or a stream that works); as the body of a
/// well-framed snapshot (the same); as input events pushed through a stream that is snapshotted
/// after every event and restored into the other compilation of its rules, which must give
/// exactly the alerts and counters of an uninterrupted stream.
pub fn snapshot(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let items = eqlite::input::split(&text);
    let (rs, other) = (engine_for(&text, false), engine_for(&text, true));
    let framed = internals::snapshot_frame(data);
    for bytes in [data, &framed[..]] {
        if let Ok((mut s, _)) = Stream::from_snapshot(rs, stream_options(), bytes) {
            for (pos, raw) in items.iter().flatten().enumerate() {
                if let Ok(ev) = rs.read_json(raw.json) {
                    s.push(rs, &ev, pos as u64);
                }
            }
            s.flush(rs);
            s.snapshot(rs);
        }
    }
    let mut whole = Stream::new(rs, stream_options());
    let mut restarted = Stream::new(rs, stream_options());
    let (mut want, mut got) = (Vec::new(), Vec::new());
    let mut current = (rs, other);
    for (pos, item) in items.iter().enumerate() {
        let Ok(raw) = item else { continue };
        let (Ok(ev), Ok(ev2)) = (current.0.read_json(raw.json), rs.read_json(raw.json)) else { continue };
        want.extend(whole.push(rs, &ev2, pos as u64));
        got.extend(restarted.push(current.0, &ev, pos as u64));
        let bytes = restarted.snapshot(current.0);
        current = (current.1, current.0);
        let (s, report) = Stream::from_snapshot(current.0, stream_options(), &bytes).expect("a snapshot restores");
        assert_eq!((report.kept, report.dropped), (current.0.len(), 0));
        restarted = s;
    }
    want.extend(whole.flush(rs));
    got.extend(restarted.flush(current.0));
    assert_eq!(got, want, "restarted at every event");
    assert_eq!(restarted.stats(), whole.stats());
}

/// The input splitter two ways. Any text: split at once and read as a stream in chunks of any
/// size, the same items. Items made from the bytes (one per line, as objects), written in a form
/// chosen by the last byte (NDJSON, CRLF NDJSON with blank lines, pretty-printed, an array, a
/// search response, an EQL search response, NDJSON with its last line cut short): each found
/// exactly once, in order, and nothing else (the cut line is one error).
pub fn split(data: &[u8]) {
    use eqlite::input::{self, Item, SplitOptions};
    use serde_json::{json, Value};
    type Owned = Result<(String, usize, usize, usize, eqlite::input::Origin), input::InputError>;
    let own = |item: Item| -> Owned { item.map(|r| (r.json.to_string(), r.line, r.column, r.offset, r.origin)) };
    let text = String::from_utf8_lossy(data);
    let whole: Vec<Owned> = input::split(&text).into_iter().map(own).collect();
    struct Chunks<'a>(&'a [u8], usize);
    impl std::io::Read for Chunks<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.1.min(buf.len()).min(self.0.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }
    let chunk = 1 + usize::from(data.first().copied().unwrap_or(0)) % 97;
    let mut streamed = Vec::new();
    input::read(Chunks(text.as_bytes(), chunk), &SplitOptions::default(), |i| streamed.push(own(i))).unwrap();
    assert_eq!(streamed, whole, "read in chunks of {chunk} bytes vs split at once");

    let Some((&form, body)) = data.split_last() else { return };
    let items: Vec<Value> = body
        .split(|&b| b == b'\n')
        .take(64)
        .enumerate()
        .map(|(i, line)| match serde_json::from_slice::<serde_json::Map<String, Value>>(line) {
            // A `hits` field could make the item a search response; the forms nest items up to
            // four levels deeper, within serde_json's 128.
            Ok(m) if !m.contains_key("hits") && depth(&Value::Object(m.clone())) < 100 => Value::Object(m),
            _ => json!({ "i": i, "text": String::from_utf8_lossy(line) }),
        })
        .collect();
    let compact: Vec<String> = items.iter().map(Value::to_string).collect();
    let hits = || items.iter().map(|i| json!({ "_index": "logs", "_source": i })).collect::<Vec<_>>();
    let (doc, want, errors) = match form % 7 {
        0 => (compact.join("\n"), items.clone(), 0),
        1 => (compact.join("\r\n\r\n") + "\r\n", items.clone(), 0),
        2 => (
            items.iter().map(|i| serde_json::to_string_pretty(i).unwrap()).collect::<Vec<_>>().join("\n"),
            items.clone(),
            0,
        ),
        3 => (format!("[{}]", compact.join(",\n ")), items.clone(), 0),
        4 => {
            (json!({ "took": 1, "hits": { "total": { "value": items.len() }, "hits": hits() } }).to_string(), hits(), 0)
        }
        5 => {
            let all = hits();
            let (events, rest) = all.split_at(all.len() / 2);
            let seqs = json!([{ "join_keys": ["h"], "events": rest }]);
            (json!({ "hits": { "events": events, "sequences": seqs } }).to_string(), hits(), 0)
        }
        _ => {
            let mut lines = compact.clone();
            let Some(last) = lines.last_mut() else { return };
            let mut cut = (last.len() / 2).max(1);
            while !last.is_char_boundary(cut) {
                cut -= 1;
            }
            last.truncate(cut.max(1));
            (lines.join("\n"), items[..items.len() - 1].to_vec(), 1)
        }
    };
    let found = input::split(&doc);
    let ok: Vec<Value> =
        found.iter().flatten().map(|r| serde_json::from_str(r.json).expect("a found item is JSON")).collect();
    assert_eq!(ok, want, "form {}: {doc}", form % 7);
    assert_eq!(found.iter().filter(|i| i.is_err()).count(), errors, "form {}: {doc}", form % 7);
}

/// `query \0 event`: the compiled matcher, the explanation tree and the naive evaluator agree on
/// every event query of the rule (each stage of a sequence or sample).
pub fn differential(data: &[u8]) {
    let Some(sep) = data.iter().position(|&b| b == 0) else { return };
    let (Ok(query), Ok(event)) = (std::str::from_utf8(&data[..sep]), std::str::from_utf8(&data[sep + 1..])) else {
        return;
    };
    differential_case(query, event);
}

/// One (query, event) pair; returns whether the query compiled and the event was read.
pub fn differential_case(query: &str, event: &str) -> bool {
    // The naive evaluator models JSON types only, so values are read as JSON here too (the ECS
    // types are tested in tests/field_types.rs).
    let mut rs = RuleSet::new(Options { category_field: "event_type".into(), ecs_types: false, ..Options::default() });
    if rs.add_query("q", query).is_err() {
        return false;
    }
    let Ok(ev) = rs.read_json(event) else { return false };
    // eqlite only checks the syntax of fields no rule reads (`1e999` there is fine); the naive
    // reader converts everything, so it may refuse what eqlite reads. Nothing to compare then.
    let Some(doc) = Doc::parse(event) else { return false };
    let naive = Naive { doc: &doc, category_field: vec!["event_type".into()] };
    let r = &internals::compiled(&rs)[0];
    let ex = rs.explain(0, &ev);
    let queries = r.query.event_queries();
    assert_eq!(ex.len(), queries.len());
    let mut cx = internals::eval::Scratch::default();
    let cat = internals::fields(&rs).lookup("event_type").expect("the category field is interned");
    let matchers: Vec<&internals::EventMatcher> = r.matchers().collect();
    for (k, q) in queries.iter().enumerate() {
        let want = naive.event_query(q);
        let fast = internals::eval::matches(matchers[k], &ev, cat, &mut cx);
        let explained = ex[k].result;
        assert_eq!(explained, want, "explanation vs naive, stage {k}\nquery: {query}\nevent: {event}");
        assert_eq!(fast, want == Some(true), "matcher vs naive, stage {k}\nquery: {query}\nevent: {event}");
    }
    // The rule set's prefiltered paths: single-event rules, and the stages of sequences and samples.
    if let Body::Event(_) = r.body {
        let fast = rs.matches(&ev).contains(&0);
        assert_eq!(fast, ex[0].result == Some(true), "rule set index vs explanation\nquery: {query}\nevent: {event}");
    } else {
        let stages = rs.matching(&ev);
        for (k, e) in ex.iter().enumerate() {
            assert_eq!(
                stages.contains(&(0, k)),
                e.result == Some(true),
                "stage index vs explanation, stage {k}\nquery: {query}\nevent: {event}"
            );
        }
    }
    true
}

fn depth(v: &serde_json::Value) -> usize {
    match v {
        serde_json::Value::Array(a) => 1 + a.iter().map(depth).max().unwrap_or(0),
        serde_json::Value::Object(o) => 1 + o.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}
