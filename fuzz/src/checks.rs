//! What each fuzz target does with its input, as plain functions that panic on a finding, so that
//! the native tests (`tests/hostile.rs`, which includes this file with `#[path]`) can replay the
//! committed regression inputs (`fuzz/regressions/<target>/*`) through exactly the same checks.

use crate::naive::{Doc, Naive};
use eqlite::internals::{self, Body};
use eqlite::{Options, Pack, RuleKind, RuleSet, Stream, StreamOptions};
use std::sync::OnceLock;

fn kubelet() -> &'static RuleSet {
    static RS: OnceLock<RuleSet> = OnceLock::new();
    RS.get_or_init(|| RuleSet::from_pack(&Pack::kubelet(), Options::default()).expect("the kubelet pack compiles"))
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

/// Any bytes as input text against the kubelet pack: every item is read, matched, explained and
/// streamed; the stream state survives a save/restore round trip.
pub fn eval_event(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let rs = kubelet();
    let mut stream = Stream::new(rs, StreamOptions { lateness_ms: 5_000, max_pending: 8, ..StreamOptions::default() });
    for (pos, item) in eqlite::input::split(&text).into_iter().enumerate() {
        let Ok(raw) = item else { continue };
        let Ok(ev) = rs.read_json(raw.json) else { continue };
        let fast = rs.matches(&ev);
        for i in 0..rs.len() {
            let ex = rs.explain(i, &ev);
            if rs.kind(i) == Some(RuleKind::Event) {
                assert_eq!(
                    fast.contains(&i),
                    ex[0].result == Some(true),
                    "rule {} on {}",
                    rs.rule(i).unwrap().id,
                    raw.json
                );
            }
        }
        stream.push(rs, &ev, pos as u64);
    }
    let saved = stream.save();
    let mut restored = Stream::restore(&saved).expect("saved state restores");
    let a = restored.flush(rs);
    let b = stream.flush(rs);
    assert_eq!(a, b, "a restored stream flushes like the original");
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
