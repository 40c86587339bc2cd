//! Synthesized events fire their rule and near misses do not, checked here through the public
//! API alone (a fresh rule set holding just the rule, a stream over the printed JSON), for every
//! rule of the detection-rules corpus and of the kubelet pack.

use eqlite::{synthesize, Pack, RuleSet, Stream, StreamOptions, Synthesis};

mod cli;
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

/// `eqlite synth` prints events that `eqlite scan` alerts on, and near misses it does not.
#[test]
fn the_cli_prints_events_that_scan_alerts_on() {
    let id = "b4bd186b-69c6-45ad-8bef-5c35bbadeaef";
    let out = cli::eqlite(&["synth", "--rule", id, "--near-misses"], b"");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let s: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(s["rule_id"], id);
    let ndjson = |evs: &serde_json::Value| -> Vec<u8> {
        evs.as_array().unwrap().iter().map(|e| format!("{e}\n")).collect::<String>().into_bytes()
    };
    let fired = |evs: &serde_json::Value| {
        cli::alerts(&cli::eqlite(&["scan", "-"], &ndjson(evs))).iter().any(|a| a["rule_id"] == id)
    };
    assert!(fired(&s["events"]));
    let near = s["near_misses"].as_array().unwrap();
    assert!(near.len() >= 3, "{near:?}");
    for n in near {
        assert!(!fired(&n["events"]), "near miss {} fires", n["condition"]);
    }
    let out = cli::eqlite(&["synth", "--rule", "no-such-rule"], b"");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no rule with id `no-such-rule`"));
}

fn synth(query: &str) -> Synthesis {
    let mut rules = RuleSet::default();
    rules.add_query("q", query).unwrap();
    let s = synthesize(&rules, 0).unwrap_or_else(|e| panic!("{query}: {e}"));
    assert!(alerts(&rules, &s.events) > 0);
    for n in &s.near_misses {
        assert_eq!(alerts(&rules, &n.events), 0, "{}", n.condition);
    }
    s
}

fn changes(s: &Synthesis) -> Vec<&str> {
    s.near_misses.iter().map(|n| n.change.as_str()).collect()
}

#[test]
fn values_come_from_the_operators() {
    let s = synth(
        r#"process where process.name like~ "pwsh*.EXE" and process.command_line regex "[a-z]+ -enc [A-Za-z0-9]{4,}"
           and cidrMatch(source.ip, "192.168.0.0/16") and startsWith(process.executable, "C:\\Windows\\")
           and length(user.name) == 5 and process.pid > 1000 and process.args == "-nop" and process.args == "-w"
           and ?process.parent.name != null and not process.parent.name in ("explorer.exe", "cmd.exe")"#,
    );
    let e = &s.events[0];
    assert_eq!(e["event"]["category"], "process");
    assert_eq!(e["process"]["name"], "pwshx.EXE");
    assert_eq!(e["process"]["command_line"], "a -enc aaaa");
    assert_eq!(e["source"]["ip"], "192.168.0.1");
    assert_eq!(e["process"]["executable"], "C:\\Windows\\x");
    assert_eq!(e["user"]["name"], "aaaaa");
    // ECS says process.pid is a long: a number, not text.
    assert_eq!(e["process"]["pid"], 1001);
    assert_eq!(e["process"]["args"], serde_json::json!(["-nop", "-w"]));
    assert!(e["process"]["parent"]["name"].is_string());
    // The exclusion made true is a near miss.
    assert!(
        s.near_misses.iter().any(|n| n.events[0]["process"]["parent"]["name"] == "explorer.exe"),
        "{:?}",
        changes(&s)
    );
    assert!(s.near_misses.len() >= 10, "{:?}", changes(&s));
}

#[test]
fn sequences_keep_keys_equal_times_within_maxspan_and_until_silent() {
    let s = synth(
        r#"sequence by host.id, user.name with maxspan=30s
             [process where process.name == "curl"] with runs=2
             ![file where file.name == "cancel"]
             [network where destination.port == 10250]
           until [process where process.name == "logout"]"#,
    );
    assert_eq!(s.events.len(), 3);
    let ids: Vec<&serde_json::Value> = s.events.iter().map(|e| &e["host"]["id"]).collect();
    assert!(ids.iter().all(|i| *i == ids[0] && i.is_string()), "{ids:?}");
    let times: Vec<&str> = s.events.iter().map(|e| e["@timestamp"].as_str().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] < w[1]), "{times:?}");
    let c = changes(&s);
    for want in ["join key host.id differs", "maxspan", "other order", "`until` event added", "missing stage"] {
        assert!(c.iter().any(|x| x.contains(want)), "no near miss for {want}: {c:?}");
    }
    assert!(c.iter().any(|x| x.contains("left out")), "{c:?}");
}

#[test]
fn samples_share_their_keys() {
    let s = synth(r#"sample by host.id [process where process.name == "a"] [file where file.path : "/etc/*"]"#);
    assert_eq!(s.events.len(), 2);
    assert_eq!(s.events[0]["host"]["id"], s.events[1]["host"]["id"]);
    assert!(changes(&s).iter().any(|x| x.contains("join key host.id differs")));
}

#[test]
fn a_rule_that_cannot_fire_is_reported_not_printed() {
    let mut rules = RuleSet::default();
    rules
        .add_query("q", r#"process where process.name == "a" and process.name == "b" and not process.name : "*""#)
        .unwrap();
    let e = synthesize(&rules, 0).unwrap_err();
    assert!(e.reason.contains("no combination of values satisfies"), "{}", e.reason);
}

/// `--init` writes the test-case format of `eqlite test`: the firing events as a case that fires,
/// each near miss as a silent case, and each case does what it says.
#[test]
fn the_starter_case_file_has_a_firing_case_and_silent_near_misses() {
    let mut rules = RuleSet::default();
    let q = r#"sequence by host.id with maxspan=1m [process where process.name == "cat" and process.args : "*/token"] [network where destination.port == 443 and not process.name in ("kubelet")]"#;
    rules.add_query("tok", q).unwrap();
    let text = synthesize(&rules, 0).unwrap().case_file();
    let out = cli::eqlite(&["synth", "--query", q, "--rule", "query-0", "--init"], b"");
    assert!(out.status.success());
    let from_cli = String::from_utf8(out.stdout).unwrap();
    assert_eq!(from_cli, text.replace("rule_id = \"tok\"", "rule_id = \"query-0\""));
    let doc: toml::Table = toml::from_str(&text).unwrap();
    assert_eq!(doc["rule_id"].as_str(), Some("tok"));
    let cases = doc["case"].as_array().unwrap();
    assert!(cases.len() >= 6, "{text}");
    for (k, c) in cases.iter().enumerate() {
        let expect = c["expect"].as_str().unwrap();
        assert_eq!(expect, if k == 0 { "fires" } else { "silent" });
        assert!(c["name"].as_str().is_some_and(|n| !n.is_empty()));
        let events: Vec<serde_json::Value> =
            c["events"].as_str().unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(alerts(&rules, &events) > 0, expect == "fires", "{:?}", c["name"]);
    }
}
