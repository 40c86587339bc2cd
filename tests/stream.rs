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

/// Three rules with pending state: a sequence, a sample and an event rule under `| tail`.
fn three_rules(seq: &str) -> RuleSet {
    let mut rs = RuleSet::default();
    rs.add_query("seq", seq).unwrap();
    rs.add_query("sample", "sample by host.id [process where true] [file where true]").unwrap();
    rs.add_query("tail", "network where true | tail 1").unwrap();
    rs
}

#[test]
fn snapshot_restores_into_a_changed_rule_set_by_id_and_query() {
    let rs = three_rules(SEQ);
    let opts = StreamOptions { lateness_ms: 1_000, ..Default::default() };
    let mut s = Stream::new(&rs, opts.clone());
    for (i, e) in
        [ev(0, "process", "h1", ""), ev(1, "process", "h2", ""), ev(2, "network", "h3", "")].iter().enumerate()
    {
        s.push(&rs, &rs.read_json(e).unwrap(), i as u64);
    }
    let bytes = s.snapshot(&rs);
    assert_eq!(&bytes[..4], b"EQLS");
    let (mut same, report) = Stream::from_snapshot(&three_rules(SEQ), opts.clone(), &bytes).unwrap();
    assert_eq!(report, eqlite::Restored { kept: 3, dropped: 0, dropped_pending: 0 });
    assert_eq!((same.stats(), same.next_position()), (s.stats(), 3));

    // The sequence's query changed (same id), a rule was removed, one added: only the sample's
    // and the tail's state are kept; the three events the sequence held for ordering are counted as dropped.
    let mut changed = three_rules("sequence by host.id [process where true] [network where true]");
    changed.remove("tail");
    changed.add_query("new", "file where true").unwrap();
    let (mut other, report) = Stream::from_snapshot(&changed, opts.clone(), &bytes).unwrap();
    assert_eq!(report, eqlite::Restored { kept: 1, dropped: 2, dropped_pending: 3 });
    let (file, net) = (ev(3, "file", "h1", ""), ev(4, "network", "h1", ""));
    let ids = |a: Vec<Alert>| a.into_iter().map(|a| (a.rule_id, a.events)).collect::<Vec<_>>();
    let mut got = other.push(&changed, &changed.read_json(&file).unwrap(), 3);
    got.extend(other.push(&changed, &changed.read_json(&net).unwrap(), 4));
    got.extend(other.flush(&changed));
    // The sample completes with the event from before the restart; the new sequence starts empty.
    assert_eq!(ids(got), [("new".to_string(), vec![3]), ("sample".to_string(), vec![0, 3])]);
    // The unchanged set: everything carries on, the tail too.
    let mut got = same.push(&rs, &rs.read_json(&file).unwrap(), 3);
    got.extend(same.push(&rs, &rs.read_json(&net).unwrap(), 4));
    got.extend(same.flush(&rs));
    assert_eq!(
        ids(got),
        [("sample".to_string(), vec![0, 3]), ("seq".to_string(), vec![0, 4]), ("tail".to_string(), vec![4])]
    );
}

#[test]
fn truncated_or_corrupt_snapshots_are_clear_errors() {
    let rs = three_rules(SEQ);
    let mut s = Stream::new(&rs, StreamOptions { lateness_ms: 1_000, ..Default::default() });
    for (i, e) in
        [ev(0, "process", "h1", ""), ev(1, "process", "h2", ""), ev(2, "network", "h3", "")].iter().enumerate()
    {
        s.push(&rs, &rs.read_json(e).unwrap(), i as u64);
    }
    let bytes = s.snapshot(&rs);
    let restore = |b: &[u8]| Stream::from_snapshot(&rs, StreamOptions::default(), b).map(|_| ()).unwrap_err();
    for n in 0..bytes.len() {
        let e = restore(&bytes[..n]);
        assert_eq!(e.kind(), eqlite::ErrorKind::Snapshot, "{n}");
        assert!(e.message().starts_with("invalid stream snapshot: "), "{n}: {e}");
        if n >= 14 {
            assert!(e.message().contains(&format!("truncated: {n} of {} bytes", bytes.len())), "{n}: {e}");
        }
    }
    // Any one byte changed, anywhere: refused (the header's fields, or the body's checksum).
    for i in 0..bytes.len() {
        let mut bad = bytes.clone();
        bad[i] ^= 0x20;
        let e = restore(&bad);
        assert_eq!(e.kind(), eqlite::ErrorKind::Snapshot, "byte {i}");
        if i >= 14 {
            assert!(e.message().contains("checksum mismatch"), "byte {i}: {e}");
        }
    }
    let mut longer = bytes.clone();
    longer.push(0);
    assert!(restore(&longer).message().contains("1 bytes after its end"));
    let mut v2 = bytes.clone();
    v2[4] = 2;
    assert_eq!(restore(&v2).message(), "invalid stream snapshot: format version 2; this eqlite reads version 1");
    assert!(restore(s.save().as_bytes()).message().contains("header"), "the JSON state is not a snapshot");
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

mod cli;
mod common;

/// An Elastic Defend export laid out as elastic/endpoint-package's sample files are: one dataset
/// after another (process, network, file, then alerts), so the file is not in time order. Host
/// `b-7` goes silent at 10:12:00 and raises an alert at 10:12:10 (rule fc552f49, "Elastic Defend
/// Alert Followed by Telemetry Loss", must fire); `a-3` keeps reporting after its 10:10 alert and
/// `c-9` sends a DNS lookup 50 s after its 10:20 alert (neither must fire). Returns the lines and
/// the position of `b-7`'s alert.
fn endpoint_export() -> (String, u64) {
    let at = |s: u32| format!("2026-11-30T10:{:02}:{:02}.{:03}Z", s / 60, s % 60, s % 997);
    let ingested = |s: u32| format!("2026-11-30T10:{:02}:{:02}Z", (s + 2) / 60, (s + 2) % 60);
    let host = |h: &str| {
        format!(
            r#""host":{{"id":"{h}","name":"{h}.corp.example","os":{{"type":"linux"}}}},"agent":{{"type":"endpoint","version":"8.19.0"}}"#
        )
    };
    let telemetry = |s: u32, h: &str, dataset: &str, category: &str, extra: &str| {
        format!(
            r#"{{"@timestamp":"{}","event":{{"kind":"event","category":["{category}"],"type":["start"],"dataset":"endpoint.events.{dataset}","module":"endpoint","ingested":"{}"}},"data_stream":{{"type":"logs","dataset":"endpoint.events.{dataset}","namespace":"default"}},{},{extra}}}"#,
            at(s),
            ingested(s),
            host(h)
        )
    };
    let mut lines = Vec::new();
    // Telemetry from 10:00 to 10:30, every 20 s per host; b-7 stops at 10:12:00.
    for (dataset, category, extra) in [
        ("process", "process", r#""process":{"name":"sshd","pid":812,"executable":"/usr/sbin/sshd"}"#),
        ("network", "network", r#""destination":{"ip":"10.0.4.17","port":443},"network":{"transport":"tcp"}"#),
        ("file", "file", r#""file":{"path":"/var/log/auth.log"}"#),
    ] {
        for s in (0..=1800).step_by(20) {
            for h in ["a-3", "b-7", "c-9"] {
                let silent = (h == "b-7" && s > 720) || (h == "c-9" && s > 1200);
                if !silent {
                    lines.push(telemetry(s, h, dataset, category, extra));
                }
            }
        }
    }
    lines.push(telemetry(1250, "c-9", "network", "dns", r#""dns":{"question":{"name":"updates.example.org"}}"#));
    let alert = |s: u32, h: &str| {
        format!(
            r#"{{"@timestamp":"{}","event":{{"kind":"alert","category":["malware"],"type":["creation"],"dataset":"endpoint.alerts","module":"endpoint","ingested":"{}"}},"data_stream":{{"type":"logs","dataset":"endpoint.alerts","namespace":"default"}},{},"file":{{"path":"/tmp/.x/kdevtmpfsi"}},"rule":{{"name":"Linux.Trojan.Generic"}}}}"#,
            at(s),
            ingested(s),
            host(h)
        )
    };
    lines.push(alert(600, "a-3"));
    let b = lines.len() as u64;
    lines.push(alert(730, "b-7"));
    lines.push(alert(1200, "c-9"));
    (lines.join("\n") + "\n", b)
}

#[test]
fn a_whole_file_is_ordered_before_sequences_see_it() {
    let Some(rule) =
        common::shared("corpus/detection-rules/rules/cross-platform/defense_evasion_missing_events_after_alert.toml")
    else {
        return;
    };
    let (text, b7) = endpoint_export();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("endpoint-export.ndjson");
    std::fs::write(&file, &text).unwrap();
    let (rule, file) = (rule.to_str().unwrap(), file.to_str().unwrap());
    let fired = |out: &std::process::Output| -> Vec<u64> {
        cli::alerts(out).iter().map(|a| a["events"][0].as_u64().unwrap()).collect()
    };

    // As a file: ordered whole, the sequence is found, and only for b-7.
    let out = cli::eqlite(&["scan", "--rules", rule, file], b"");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(fired(&out), [b7]);

    // Larger than the in-memory limit: sorted runs of 100 events on disk, the same alert.
    let out = cli::eqlite(&["scan", "--rules", rule, "--sort-memory", "100", "--stats", file], b"");
    assert_eq!(fired(&out), [b7]);
    let stats: serde_json::Value = serde_json::from_str(String::from_utf8_lossy(&out.stderr).trim()).unwrap();
    assert!(stats["spilled"].as_u64().unwrap() > 400, "{stats}");
    assert_eq!(stats["late"], 0);

    // The same lines as a stream keep `--lateness`: each dataset starts 30 minutes behind the
    // newest event of the one before, so with the default minute most events are late (and said
    // to be), the alerts among them; a window of an hour covers it.
    let out = cli::eqlite(&["scan", "--rules", rule], text.as_bytes());
    assert_eq!(fired(&out), [] as [u64; 0]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("374 late events were kept out of sequences"), "{stderr}");
    let out = cli::eqlite(&["scan", "--rules", rule, "--lateness", "1h"], text.as_bytes());
    assert_eq!(fired(&out), [b7]);
}

/// What `held_positions` reports, sorted and deduplicated.
fn held(s: &Stream) -> Vec<u64> {
    let mut v = Vec::new();
    s.held_positions(|p| v.push(p));
    v.sort();
    v.dedup();
    v
}

#[test]
fn held_positions_are_the_events_a_later_alert_can_name() {
    let rs = rules("sequence by host.id with maxspan=1m [process where true] [network where true]");
    let opts = StreamOptions { lateness_ms: 5_000, ..StreamOptions::default() };
    let mut s = Stream::new(&rs, opts);
    let push = |s: &mut Stream, pos: u64, e: String| s.push(&rs, &rs.read_json(&e).unwrap(), pos);
    assert!(push(&mut s, 0, ev(1_000, "process", "h1", "")).is_empty());
    assert!(push(&mut s, 1, ev(2_000, "process", "h2", "")).is_empty());
    // Both wait in the reorder buffer, then as partial matches.
    assert_eq!(held(&s), [0, 1]);
    assert!(push(&mut s, 2, ev(30_000, "network", "h1", "")).is_empty());
    assert!(held(&s).contains(&0) && held(&s).contains(&2));
    // Far later: h1's sequence completes and its events are let go (h2's partial goes when
    // expired partials are next purged).
    let alerts = push(&mut s, 3, ev(200_000, "process", "h3", ""));
    assert_eq!(alerts.iter().map(|a| a.events.clone()).collect::<Vec<_>>(), [vec![0, 2]]);
    let now = held(&s);
    assert!(now.contains(&3) && !now.contains(&0) && !now.contains(&2), "{now:?}");
    // A `tail` holds its alerts until the end.
    let rs = rules("process where true | tail 2");
    let mut s = Stream::new(&rs, StreamOptions::default());
    for (i, ts) in [1_000, 2_000, 3_000].into_iter().enumerate() {
        s.push(&rs, &rs.read_json(&ev(ts, "process", "h", "")).unwrap(), i as u64);
    }
    assert_eq!(held(&s), [1, 2]);
}
