//! Explanations that answer the analyst's next question (issue 15 §4), in the library and through
//! `eqlite explain`: case-only mismatches, null operands counted apart, the timestamp field of a
//! sequence, missing-event stages as preventing, and per join key how far a sequence got.

use eqlite::{sequence_progress, Explanation, RuleSet, Stop, Stream, StreamOptions};

mod cli;

fn rules(q: &str) -> RuleSet {
    let mut rs = RuleSet::default();
    rs.add_query("q", q).unwrap();
    rs
}

/// Every node of a tree, depth first.
fn nodes(e: &Explanation) -> Vec<&Explanation> {
    let mut out = vec![e];
    for c in &e.children {
        out.extend(nodes(c));
    }
    out
}

fn explain_cli(args: &[&str], input: &str) -> Vec<serde_json::Value> {
    let out = cli::eqlite(&[&["explain"], args].concat(), input.as_bytes());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    cli::alerts(&out)
}

/// A kubelet client run by hand: the rule spells the binary in lower case, the sensor does not.
const KUBELETCTL: &str = r#"{"@timestamp":"2026-12-01T10:00:00Z","event":{"category":["process"],"type":["start"]},"host":{"id":"node-2"},"process":{"name":"KubeletCtl","args":["KubeletCtl","scan","--server","10.0.0.7"],"executable":"/tmp/KubeletCtl"}}"#;

#[test]
fn a_comparison_failing_only_by_case_says_so_with_both_spellings() {
    let cases = [
        (r#"process.name == "kubeletctl""#, "kubeletctl", "`:` or `in~`"),
        (r#"process.name in ("kubectl", "kubeletctl")"#, "kubeletctl", "`in~`"),
        (r#"process.executable like "/tmp/kubelet*""#, "/tmp/kubelet*", "`like~` or `:`"),
        (r#"process.args regex "SCAN""#, "SCAN", "`regex~`"),
    ];
    for (cond, pattern, with) in cases {
        let rs = rules(&format!("process where {cond}"));
        let ev = rs.read_json(KUBELETCTL).unwrap();
        let tree = &rs.explain(0, &ev)[0];
        assert_eq!(tree.result, Some(false), "{cond}");
        let leaf = nodes(tree).into_iter().find(|n| n.case_only.is_some()).unwrap_or_else(|| panic!("{cond}"));
        let d = leaf.case_only.as_ref().unwrap();
        assert_eq!(d.pattern.as_ref().unwrap().as_str(), Some(pattern), "{cond}");
        let value = d.value.as_str().unwrap();
        assert!(value != pattern && value.eq_ignore_ascii_case(pattern) || pattern.contains(['*', '.']), "{cond}");
        assert!(leaf.reason.contains(&format!("would match \"{pattern}\" with {with}")), "{}", leaf.reason);
    }
    // A real difference is not a case difference, and a match needs no hint.
    for cond in [r#"process.name == "kubectl""#, r#"process.name : "kubeletctl""#] {
        let rs = rules(&format!("process where {cond}"));
        let ev = rs.read_json(KUBELETCTL).unwrap();
        assert!(nodes(&rs.explain(0, &ev)[0]).iter().all(|n| n.case_only.is_none()), "{cond}");
    }

    let out = explain_cli(&["--query", r#"process where process.name == "kubeletctl""#], KUBELETCTL);
    let leaf = &out[0]["explanations"][0]["children"][1];
    assert_eq!(leaf["case_only"], serde_json::json!({"value": "KubeletCtl", "pattern": "kubeletctl"}));
    assert!(leaf["reason"]
        .as_str()
        .unwrap()
        .ends_with(r#""KubeletCtl" would match "kubeletctl" with `:` or `in~` (only the case differs)"#));
}

#[test]
fn null_operands_are_counted_apart_and_named() {
    let q = r#"process where process.name == "bash" and process.parent.name == "sshd" and process.args == "-c""#;
    let rs = rules(q);
    let ev = rs.read_json(KUBELETCTL).unwrap();
    let and = &rs.explain(0, &ev)[0].children[1];
    assert_eq!(and.kind, "and");
    assert_eq!(and.reason, "2 false, 1 null: `process.parent.name` is missing");
    let out = explain_cli(&["--query", q], KUBELETCTL);
    assert_eq!(out[0]["explanations"][0]["children"][1]["reason"], "2 false, 1 null: `process.parent.name` is missing");
    // Without nulls the count stays as it was.
    let rs = rules(r#"process where process.name == "bash" and process.args == "-c""#);
    assert_eq!(rs.explain(0, &rs.read_json(KUBELETCTL).unwrap())[0].children[1].reason, "2 of 2 operands false");
}

/// Rule fc552f49's query, with the rule's `timestamp_override`.
const TELEMETRY_LOSS: &str = r#"
[rule]
rule_id = "fc552f49-8f1c-409b-90f8-6f5b9869b6c4"
name = "Elastic Defend Alert Followed by Telemetry Loss"
description = "An endpoint alert not followed by telemetry."
risk_score = 73
severity = "high"
type = "eql"
language = "eql"
timestamp_override = "event.ingested"
query = '''
sequence by host.id with maxspan=5m
 [any where data_stream.dataset == "endpoint.alerts"]
 ![any where event.category in ("process", "library", "registry", "network", "dns", "file")]
'''
"#;

fn endpoint(at: &str, ingested: Option<&str>, host: &str, dataset: &str, category: &str) -> String {
    let ingested = ingested.map_or(String::new(), |i| format!(r#","ingested":"{i}""#));
    format!(
        r#"{{"@timestamp":"2026-11-30T{at}Z","event":{{"category":["{category}"],"dataset":"{dataset}"{ingested}}},"data_stream":{{"dataset":"{dataset}"}},"host":{{"id":"{host}"}}}}"#
    )
}

#[test]
fn sequence_explanations_name_the_timestamp_field_and_missing_stages_prevent() {
    let mut rs = RuleSet::default();
    rs.add_toml(TELEMETRY_LOSS, "telemetry_loss.toml").unwrap();
    let lines = [
        endpoint("10:00:00", Some("2026-11-30T10:00:02Z"), "b-7", "endpoint.alerts", "malware"),
        endpoint("10:20:00", None, "a-3", "endpoint.alerts", "malware"),
        endpoint("10:21:00", None, "a-3", "endpoint.events.process", "process"),
    ];
    let events: Vec<_> = lines.iter().map(|l| rs.read_json(l).unwrap()).collect();
    let mut stream = Stream::new(&rs, StreamOptions { whole_input: true, ..StreamOptions::default() });
    let mut alerts: Vec<_> = events.iter().enumerate().flat_map(|(i, e)| stream.push(&rs, e, i as u64)).collect();
    alerts.extend(stream.flush(&rs));
    assert_eq!(alerts.len(), 1);
    let stages = rs.explain_alert(&alerts[0], |p| events.get(p as usize));
    assert_eq!(stages[0].timestamp_field, "event.ingested");
    assert_eq!(stages[0].timestamp.as_ref().unwrap().as_str(), Some("2026-11-30T10:00:02Z"));

    // a-3's telemetry matches the missing-event stage: it prevents, it does not match.
    let trees = rs.explain(0, &events[2]);
    assert_eq!(trees.len(), 2);
    assert!(!trees[0].prevents && trees[0].result == Some(false));
    assert!(trees[1].prevents && trees[1].result == Some(true));
    assert!(trees[1].reason.contains("missing-event stage 1: it prevents"), "{}", trees[1].reason);

    let dir = tempfile::tempdir().unwrap();
    let rule = dir.path().join("telemetry_loss.toml");
    std::fs::write(&rule, TELEMETRY_LOSS).unwrap();
    let rule = rule.to_str().unwrap();
    let input = lines.join("\n");
    let out = explain_cli(&["--rules", rule], &input);
    assert_eq!((&out[2]["matched"], &out[2]["prevents"]), (&serde_json::json!(false), &serde_json::json!(true)));
    assert_eq!((&out[0]["matched"], out[0].get("prevents")), (&serde_json::json!(true), None));
    // a-3's alert has no event.ingested: the override falls back to @timestamp, and says so.
    let lines_a3 = [lines[1].clone()].join("\n");
    let out = explain_cli(&["--rules", rule, "--alerts"], &lines_a3);
    assert_eq!(out[0]["stages"][0]["timestamp_field"], "@timestamp");
    let out = explain_cli(&["--rules", rule, "--alerts"], &input);
    assert_eq!(out[0]["stages"][0]["timestamp_field"], "event.ingested");
}

/// One host per way of not firing, and one that fires.
const HOSTS: &str = r#"{"@timestamp":"2026-12-01T10:00:00Z","event":{"category":"process"},"host":{"id":"fires"}}
{"@timestamp":"2026-12-01T10:00:04Z","event":{"category":"network"},"host":{"id":"fires"}}
{"@timestamp":"2026-12-01T10:00:01Z","event":{"category":"process"},"host":{"id":"late"}}
{"@timestamp":"2026-12-01T10:00:13.5Z","event":{"category":"network"},"host":{"id":"late"}}
{"@timestamp":"2026-12-01T10:00:01Z","event":{"category":"process"},"host":{"id":"gap"}}
{"@timestamp":"2026-12-01T10:00:02Z","event":{"category":"file"},"host":{"id":"gap"}}
{"@timestamp":"2026-12-01T10:00:03Z","event":{"category":"network"},"host":{"id":"gap"}}
{"@timestamp":"2026-12-01T10:00:01Z","event":{"category":"process"},"host":{"id":"ended"}}
{"@timestamp":"2026-12-01T10:00:02Z","event":{"category":"dns"},"host":{"id":"ended"}}
{"@timestamp":"2026-12-01T10:00:03Z","event":{"category":"network"},"host":{"id":"ended"}}
{"@timestamp":"2026-12-01T10:00:05Z","event":{"category":"process"},"host":{"id":"waiting"}}
"#;

const SEQ: &str =
    "sequence by host.id with maxspan=10s [process where true] ![file where true] [network where true] until [dns where true]";

#[test]
fn why_a_sequence_did_not_fire_per_join_key() {
    let rs = rules(SEQ);
    // Shuffled: the progress is in time order, as the alerts are.
    let mut lines: Vec<&str> = HOSTS.lines().collect();
    lines.reverse();
    let events: Vec<_> = lines.iter().map(|l| rs.read_json(l).unwrap()).collect();
    let pos = |host: &str, cat: &str| {
        lines.iter().position(|l| l.contains(&format!(r#""{host}""#)) && l.contains(&format!(r#""{cat}""#))).unwrap()
            as u64
    };
    let p = sequence_progress(&rs, 0, events.iter().enumerate().map(|(i, e)| (i as u64, e))).unwrap();
    assert_eq!((p.timestamp_field.as_str(), p.key_fields.as_slice()), ("@timestamp", &["host.id".to_string()][..]));
    let key = |h: &str| p.keys.iter().find(|k| k.key[0].as_str() == Some(h)).unwrap();
    let fires = key("fires");
    assert!(fires.fired && fires.stopped.is_none());
    assert_eq!(
        fires.filled.iter().map(|f| (f.stage, f.event)).collect::<Vec<_>>(),
        [(0, pos("fires", "process")), (2, pos("fires", "network"))]
    );
    let late = key("late");
    assert_eq!(late.stopped, Some(Stop::Maxspan { event: pos("late", "network"), exceeded_ms: 2_500.0 }));
    assert_eq!((late.filled.len(), late.pending), (1, Some(2)));
    assert!(late.reason.contains("exceeds maxspan by 2500 ms"), "{}", late.reason);
    assert_eq!(key("gap").stopped, Some(Stop::Missing { stage: 1, event: pos("gap", "file") }));
    assert_eq!(key("ended").stopped, Some(Stop::Until { event: pos("ended", "dns") }));
    let waiting = key("waiting");
    assert_eq!((waiting.stopped.as_ref(), waiting.pending, waiting.filled.len()), (None, Some(2), 1));
    assert_eq!(waiting.reason, "1 stage filled; no event came for stage 2");
    // What the stream finds is what the progress says fired.
    let (alerts, _) = eqlite::run_all(&rs, &events, StreamOptions { whole_input: true, ..StreamOptions::default() });
    let fired: Vec<_> =
        p.keys.iter().filter(|k| k.fired).map(|k| k.filled.iter().map(|f| f.event).collect::<Vec<_>>()).collect();
    assert_eq!(alerts.iter().map(|a| a.events.clone()).collect::<Vec<_>>(), fired);

    // A `runs` stage short of its count.
    let rs = rules("sequence by host.id [process where true] with runs=3 [network where true]");
    let events: Vec<_> = HOSTS.lines().take(2).map(|l| rs.read_json(l).unwrap()).collect();
    let p = sequence_progress(&rs, 0, events.iter().enumerate().map(|(i, e)| (i as u64, e))).unwrap();
    assert_eq!(p.keys[0].stopped, Some(Stop::RunsShort { stage: 0, seen: 1, needed: 3 }));
    assert_eq!(p.keys[0].reason, "1 stage filled; stage 0 needs 3 runs and 1 came");

    // The CLI: one line per sequence rule.
    let out = explain_cli(&["--progress", "--query", SEQ], &lines.join("\n"));
    assert_eq!(out.len(), 1);
    let late = out[0]["keys"].as_array().unwrap().iter().find(|k| k["key"][0] == "late").unwrap();
    assert_eq!(
        late["stopped"],
        serde_json::json!({"kind": "maxspan", "event": pos("late", "network"), "exceeded_ms": 2500.0})
    );
    assert_eq!(late["pending"], 2);
    let out = cli::eqlite(&["explain", "--progress", "--query", "process where true", "--rule", "query-0"], b"{}");
    assert!(!out.status.success());
}
