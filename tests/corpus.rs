//! Every EQL rule of elastic/detection-rules (../shared/corpus) parses.

use eqlite::RuleSet;
use eqlite::{parse_rule_toml, Loaded};
use std::path::{Path, PathBuf};

mod common;

/// The corpus's rule files in path order; `None` (skip) when the corpus is absent outside CI.
fn corpus_files() -> Option<Vec<PathBuf>> {
    common::shared("corpus/detection-rules").map(|dir| eqlite::toml_files(&dir).unwrap())
}

#[test]
fn every_corpus_query_parses() {
    let Some(files) = corpus_files() else { return };
    let (mut parsed, mut skipped, mut failed) = (0, 0, Vec::new());
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        match parse_rule_toml(&text, &f.display().to_string()) {
            Ok(Loaded::Rule(r)) => match eqlite::parse_query(&r.query) {
                Ok(_) => parsed += 1,
                Err(d) => failed.push(format!("{}: {}", f.display(), d.rendered())),
            },
            Ok(Loaded::Skipped { .. }) => skipped += 1,
            Err(d) => failed.push(d.rendered()),
        }
    }
    eprintln!("corpus: {} files, {parsed} parsed, {skipped} skipped, {} failed", files.len(), failed.len());
    for f in failed.iter().take(30) {
        eprintln!("{f}\n");
    }
    assert_eq!(files.len(), 1081);
    assert!(failed.is_empty(), "{} corpus rules failed to parse", failed.len());
    assert_eq!(parsed, 1081);
}

#[test]
fn every_corpus_query_compiles_into_one_rule_set() {
    let Some(files) = corpus_files() else { return };
    let mut rs = RuleSet::default();
    let mut failed = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        if let Err(d) = rs.add_toml(&text, &f.display().to_string()) {
            failed.push(d.rendered());
        }
    }
    assert!(failed.is_empty(), "{} rules failed to compile:\n{}", failed.len(), failed.join("\n\n"));
    assert_eq!(rs.len(), 1081);
    let sequences = (0..rs.len()).filter(|&i| rs.kind(i) != Some(eqlite::RuleKind::Event)).count();
    eprintln!(
        "compiled {} rules ({sequences} sequences or samples) sharing {} fields",
        rs.len(),
        eqlite::internals::fields(&rs).len()
    );
}

/// The rule index (which rules an event can match at all) never hides a match: with every corpus
/// rule loaded, `RuleSet::matches` and `matching_stages` equal evaluating every rule and stage in
/// full, on the kubelet fixtures' events and on copies of them set on Windows and macOS hosts.
#[test]
fn the_rule_index_never_hides_a_match() {
    use eqlite::internals::Body;
    let Some(files) = corpus_files() else { return };
    let mut rs = RuleSet::default();
    for f in &files {
        rs.add_toml(&std::fs::read_to_string(f).unwrap(), "corpus").unwrap();
    }
    let mut events: Vec<serde_json::Value> = Vec::new();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/kubelet");
    for entry in std::fs::read_dir(fixtures).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "json") {
            let doc: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            for case in doc["cases"].as_array().unwrap() {
                events.extend(case["events"].as_array().unwrap().iter().cloned());
            }
        }
    }
    for os in ["windows", "macos"] {
        for i in 0..events.len() {
            let mut e = events[i].clone();
            if e["host"].is_object() {
                e["host"]["os"] = serde_json::json!({ "type": os, "family": os });
                events.push(e);
            }
        }
    }
    let cat = eqlite::internals::fields(&rs).lookup("event.category").unwrap();
    let mut cx = eqlite::internals::eval::Scratch::default();
    let (mut single, mut stages) = (0, 0);
    for e in &events {
        let text = e.to_string();
        let ev = rs.read_json(&text).unwrap();
        let mut want = Vec::new();
        let mut want_stages = Vec::new();
        for (i, r) in eqlite::internals::compiled(&rs).iter().enumerate() {
            match &r.body {
                Body::Event(m) => {
                    if eqlite::internals::eval::matches(m, &ev, cat, &mut cx) {
                        want.push(i);
                    }
                }
                Body::Sequence(s) => want_stages.extend(
                    s.matchers()
                        .enumerate()
                        .filter(|(_, m)| eqlite::internals::eval::matches(m, &ev, cat, &mut cx))
                        .map(|(k, _)| (i, k)),
                ),
                Body::Sample(s) => want_stages.extend(
                    s.stages
                        .iter()
                        .enumerate()
                        .filter(|(_, st)| eqlite::internals::eval::matches(&st.matcher, &ev, cat, &mut cx))
                        .map(|(k, _)| (i, k)),
                ),
            }
        }
        assert_eq!(rs.matches(&ev), want, "single-event rules on {text}");
        let mut want_all: Vec<(usize, usize)> =
            want.iter().map(|&i| (i, 0)).chain(want_stages.iter().copied()).collect();
        want_all.sort_unstable();
        assert_eq!(rs.matching(&ev), want_all, "every event query on {text}");
        single += want.len();
        stages += want_stages.len();
    }
    assert!(single > 100 && stages > 100, "{single} single-event matches, {stages} stage matches");
    eprintln!("{} events x {} rules: {single} single-event matches and {stages} stage matches, index and full evaluation agree", events.len(), rs.len());
}
