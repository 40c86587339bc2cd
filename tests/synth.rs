//! Synthesized events fire their rule and near misses do not, checked here through the public
//! API alone (a fresh rule set holding just the rule, a stream over the printed JSON), for every
//! rule of the detection-rules corpus and of the kubelet pack.

use eqlite::{synthesize, Pack, RuleSet, Stream, StreamOptions, Synthesis};

mod common;

/// Alerts of the rule alone over these events, as printed.
fn alerts(rule: &RuleSet, events: &[serde_json::Value]) -> usize {
    let mut s = Stream::new(rule, StreamOptions::default());
    let texts: Vec<String> = events.iter().map(|e| e.to_string()).collect();
    let mut n = 0;
    for (i, t) in texts.iter().enumerate() {
        let ev = rule.read_json(t).expect("a synthesized event reads");
        n += s.push(rule, &ev, i as u64).len();
    }
    n + s.flush(rule).len()
}

/// Synthesizes every rule of `all`; returns (done, near misses, failures with reasons).
fn check_all(all: &RuleSet) -> (usize, usize, Vec<String>) {
    let (mut done, mut near, mut failed) = (0, 0, Vec::new());
    for i in 0..all.len() {
        let rule = all.rule(i).unwrap();
        let mut alone = RuleSet::default();
        alone.add(rule.clone()).unwrap();
        match synthesize(all, i) {
            Ok(Synthesis { events, near_misses, .. }) => {
                assert!(alerts(&alone, &events) > 0, "{}: the synthesized events do not fire: {events:?}", rule.id);
                for n in &near_misses {
                    assert_eq!(
                        alerts(&alone, &n.events),
                        0,
                        "{}: near miss `{}` fires: {:?}",
                        rule.id,
                        n.condition,
                        n.events
                    );
                }
                done += 1;
                near += near_misses.len();
            }
            Err(e) => {
                let origin = rule.origin.rsplit('/').next().unwrap_or_default();
                let reason: String = e.reason.split_whitespace().collect::<Vec<_>>().join(" ");
                failed.push(format!("{} ({origin}): {}", rule.id, reason.chars().take(160).collect::<String>()))
            }
        }
    }
    (done, near, failed)
}

#[test]
fn every_kubelet_rule_fires_and_its_near_misses_do_not() {
    let rules = RuleSet::from_pack(&Pack::kubelet(), Default::default()).unwrap();
    let (done, near, failed) = check_all(&rules);
    eprintln!("kubelet pack: {done}/{} rules synthesized, {near} near misses", rules.len());
    assert!(failed.is_empty(), "{failed:#?}");
    assert!(near >= 2 * done, "at least two near misses per rule: {near} for {done}");
}

#[test]
fn corpus_rules_fire_with_their_synthesized_events() {
    let Some(dir) = common::shared("corpus/detection-rules") else { return };
    let mut rules = RuleSet::default();
    for f in eqlite::toml_files(&dir).unwrap() {
        rules.add_toml(&std::fs::read_to_string(&f).unwrap(), &f.display().to_string()).unwrap();
    }
    let start = std::time::Instant::now();
    let (done, near, failed) = check_all(&rules);
    let total = rules.len();
    eprintln!(
        "corpus: {done}/{total} rules synthesized ({:.1}%), {near} near misses ({:.1} per rule), {:.1} s with the checks",
        100.0 * done as f64 / total as f64,
        near as f64 / done.max(1) as f64,
        start.elapsed().as_secs_f64()
    );
    for f in &failed {
        eprintln!("  cannot synthesize {f}");
    }
    assert_eq!(total, 1081);
    assert!(done * 100 >= total * 99, "{done} of {total} rules synthesized, fewer than 99%");
}
