//! The streaming engine: ordering within the lateness window, late events, bounded state with
//! counted evictions, persistence, pipes, samples and alert explanations.

use eqlite::{Alert, RuleSet};
use eqlite::{Stream, StreamOptions};

fn ev(ts: u64, cat: &str, key: &str, extra: &str) -> String {
    format!(r#"{{"@timestamp":{ts},"event":{{"category":["{cat}"]}},"host":{{"id":"{key}"}}{extra}}}"#)
}

fn rules(q: &str) -> RuleSet {
    let mut rs = RuleSet::default();
    rs.add_query("q", q).unwrap();
    rs
}

fn run(rs: &RuleSet, events: &[String], opts: StreamOptions) -> (Vec<Alert>, Stream) {
    let mut s = Stream::new(rs, opts);
    let mut out = Vec::new();
    for (i, e) in events.iter().enumerate() {
        out.extend(s.push(rs, &rs.read_json(e).unwrap(), i as u64));
    }
    out.extend(s.flush(rs));
    (out, s)
}

const SEQ: &str = "sequence by host.id with maxspan=10s [process where true] [network where true]";

#[test]
fn out_of_order_events_within_lateness_are_reordered() {
    let rs = rules(SEQ);
    // The network event arrives before the process event that precedes it in time.
    let events = [ev(2000, "network", "h1", ""), ev(1000, "process", "h1", ""), ev(9000, "file", "h1", "")];
    let (alerts, s) = run(&rs, &events, StreamOptions { lateness_ms: 5_000, ..Default::default() });
    assert_eq!(alerts.iter().map(|a| a.events.clone()).collect::<Vec<_>>(), [vec![1, 0]]);
    assert_eq!(s.stats().late, 0);

    // Without a lateness window the same input is late, reported, and not mis-joined.
    let (alerts, s) = run(&rs, &events, StreamOptions::default());
    assert!(alerts.is_empty());
    assert_eq!(s.stats().late, 1);
}

#[test]
fn maxspan_and_keys_are_respected() {
    let rs = rules(SEQ);
    let events = [
        ev(0, "process", "h1", ""),
        ev(11_000, "network", "h1", ""), // too late for the first
        ev(12_000, "process", "h2", ""),
        ev(13_000, "network", "h1", ""), // wrong key
        ev(14_000, "network", "h2", ""),
    ];
    let (alerts, s) = run(&rs, &events, StreamOptions::default());
    assert_eq!(alerts.iter().map(|a| a.events.clone()).collect::<Vec<_>>(), [vec![2, 4]]);
    assert!(s.stats().expired >= 1);
}

#[test]
fn pending_state_is_capped_and_evictions_counted() {
    let rs = rules("sequence by host.id [process where true] [network where true]");
    let events: Vec<String> = (0..5_000).map(|i| ev(i, "process", &format!("h{i}"), "")).collect();
    let (alerts, s) = run(&rs, &events, StreamOptions { max_pending: 1_000, ..Default::default() });
    assert!(alerts.is_empty());
    let st = s.stats();
    assert!(st.pending <= 1_000, "{st:?}");
    assert!(st.evicted >= 4_000, "{st:?}");
}

#[test]
fn state_survives_save_and_restore() {
    let rs = rules(SEQ);
    let mut s = Stream::new(&rs, StreamOptions::default());
    assert!(s.push(&rs, &rs.read_json(&ev(0, "process", "h1", "")).unwrap(), 0).is_empty());
    let saved = s.save();
    let mut restored = Stream::restore(&saved).unwrap();
    let alerts = restored.push(&rs, &rs.read_json(&ev(5, "network", "h1", "")).unwrap(), 1);
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].events, [0, 1]);
    assert!(Stream::restore("{not state").is_err());
}

#[test]
fn head_and_tail_apply_to_sequences_and_events() {
    let events: Vec<String> =
        (0..6).flat_map(|i| [ev(i * 100, "process", "h", ""), ev(i * 100 + 1, "network", "h", "")]).collect();
    let (a, _) = run(&rules(&format!("{SEQ} | head 2")), &events, StreamOptions::default());
    assert_eq!(a.iter().map(|a| a.events[0]).collect::<Vec<_>>(), [0, 2]);
    let (a, _) = run(&rules(&format!("{SEQ} | tail 2")), &events, StreamOptions::default());
    assert_eq!(a.iter().map(|a| a.events[0]).collect::<Vec<_>>(), [8, 10]);
    let (a, _) = run(&rules("process where true | head 4 | tail 2"), &events, StreamOptions::default());
    assert_eq!(a.iter().map(|a| a.events[0]).collect::<Vec<_>>(), [4, 6]);
}

#[test]
fn until_ends_pending_matches_and_runs_repeat_a_stage() {
    let rs = rules("sequence by host.id [process where true] [network where true] until [file where true]");
    let events = [ev(0, "process", "h", ""), ev(1, "file", "h", ""), ev(2, "network", "h", "")];
    assert!(run(&rs, &events, StreamOptions::default()).0.is_empty());
    let rs = rules("sequence by host.id with maxspan=1s [process where true] with runs=3");
    let events: Vec<String> = (0..4).map(|i| ev(i * 100, "process", "h", "")).collect();
    let (a, _) = run(&rs, &events, StreamOptions::default());
    // As for `[a][a][a]`: each event starts a new partial match, so windows overlap.
    assert_eq!(a.iter().map(|a| a.events.clone()).collect::<Vec<_>>(), [vec![0, 1, 2], vec![1, 2, 3]]);
}

#[test]
fn samples_join_unordered_events_by_key() {
    let rs = rules("sample by host.id [network where true] [process where true]");
    let events = [ev(5, "process", "h1", ""), ev(1, "process", "h2", ""), ev(0, "network", "h1", "")];
    let (a, _) = run(&rs, &events, StreamOptions::default());
    assert_eq!(a.iter().map(|a| a.events.clone()).collect::<Vec<_>>(), [vec![2, 0]]);
}

#[test]
fn multi_valued_and_optional_join_keys() {
    let rs = rules("sequence [process where true] by ?user.id, host.id [network where true] by ?user.id, host.id");
    let with_tags =
        |ts, cat, host: &str| format!(r#"{{"@timestamp":{ts},"event":{{"category":"{cat}"}},"host":{{"id":{host}}}}}"#);
    let events = [with_tags(0, "process", r#"["a","b"]"#), with_tags(1, "network", r#""b""#)];
    let (a, _) = run(&rs, &events, StreamOptions::default());
    assert_eq!(a.len(), 1, "every value of a multi-valued key is a key; a missing optional key joins null");
}

#[test]
fn alert_explanations_cover_each_member_with_keys_and_gaps() {
    let rs = rules(SEQ);
    let events: Vec<_> = [ev(1000, "process", "h1", ""), ev(3500, "network", "h1", "")]
        .iter()
        .map(|e| rs.read_json(e).unwrap().into_owned())
        .collect();
    let (alerts, _) =
        run(&rs, &[ev(1000, "process", "h1", ""), ev(3500, "network", "h1", "")], StreamOptions::default());
    let stages = rs.explain_alert(&alerts[0], |p| events.get(p as usize));
    assert_eq!(stages.len(), 2);
    assert_eq!((stages[0].stage, stages[1].stage), (0, 1));
    assert_eq!(stages[1].gap_ms, Some(2500.0));
    assert_eq!(stages[1].keys[0].field, "host.id");
    assert!(stages.iter().all(|s| s.explanation.result == Some(true)));
}
