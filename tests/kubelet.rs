//! The kubelet rule pack against its attack and benign events (tests/fixtures/kubelet), through
//! the `eqlite scan` command line, each case on a fresh engine.

mod common;

use serde::Deserialize;
use std::path::Path;
use std::process::Command;

#[derive(Deserialize)]
struct Fixture {
    rule_id: String,
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    name: String,
    fires: bool,
    events: Vec<serde_json::Value>,
    alert_events: Option<Vec<u64>>,
}

#[derive(Deserialize)]
struct Alert {
    rule_id: String,
    events: Vec<u64>,
}

fn scan(ndjson: &str, extra: &[&str]) -> Vec<Alert> {
    let dir = std::env::temp_dir().join(format!("eqlite-kubelet-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join(format!("case-{}.ndjson", rand_suffix()));
    std::fs::write(&file, ndjson).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_eqlite")).arg("scan").args(extra).arg(&file).output().unwrap();
    std::fs::remove_file(&file).ok();
    assert!(out.status.success(), "eqlite scan failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

fn rand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

#[test]
fn every_rule_fires_on_its_attacks_and_not_on_near_misses() {
    let files = common::kubelet_fixtures();
    assert_eq!(files.len(), 20, "one fixture file per rule of the pack");
    let (mut cases, mut failures) = (0, Vec::new());
    let mut covered = std::collections::BTreeSet::new();
    for f in &files {
        let fx: Fixture = serde_json::from_str(&std::fs::read_to_string(f).unwrap()).unwrap();
        covered.insert(fx.rule_id.clone());
        let (mut pos, mut neg) = (0, 0);
        for c in &fx.cases {
            cases += 1;
            if c.fires {
                pos += 1
            } else {
                neg += 1
            }
            let ndjson: String = c.events.iter().map(|e| e.to_string() + "\n").collect();
            let alerts: Vec<Alert> = scan(&ndjson, &[]).into_iter().filter(|a| a.rule_id == fx.rule_id).collect();
            let want: Vec<Vec<u64>> = if c.fires {
                vec![c.alert_events.clone().unwrap_or_else(|| (0..c.events.len() as u64).collect())]
            } else {
                vec![]
            };
            let got: Vec<Vec<u64>> = alerts.into_iter().map(|a| a.events).collect();
            if got != want {
                failures.push(format!(
                    "{}: {}\n    expected {want:?}, got {got:?}",
                    f.file_name().unwrap().to_string_lossy(),
                    c.name
                ));
            }
        }
        assert!(pos >= 3 && neg >= 4, "{}: needs at least 3 attacks and 4 near misses", f.display());
    }
    eprintln!("{cases} cases over {} rules", covered.len());
    assert!(failures.is_empty(), "{} of {cases} cases failed:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn the_embedded_pack_is_the_rules_directory() {
    let out = Command::new(env!("CARGO_BIN_EXE_eqlite")).arg("check").output().unwrap();
    assert!(out.status.success());
    let summary = String::from_utf8(out.stdout).unwrap();
    assert!(summary.starts_with("20 rules compiled (15 single-event, 5 sequence"), "{summary}");
}

#[test]
fn seed_rules_with_interactive_clause_still_compile_and_need_it() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/seed-rules");
    let out = Command::new(env!("CARGO_BIN_EXE_eqlite")).args(["check", "--rules"]).arg(&dir).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8(out.stdout).unwrap().starts_with("3 rules compiled"));
    // The seed version of b4bd186b requires process.interactive == true; HEAD's does not.
    let event =
        r#"{"@timestamp":"2026-08-20T07:00:00Z","event":{"category":["process"],"type":["start"],"action":"exec"},
        "host":{"os":{"type":"linux"}},"container":{"id":"c0ffee"},"process":{"name":"curl","interactive":false,
        "args":["curl","-k","https://10.0.0.12:10250/pods"]}}"#
            .replace('\n', "");
    let seed = dir.join("execution_potential_direct_kubelet_access_via_process_args.toml");
    let seed_alerts = scan(&event, &["--rules", seed.to_str().unwrap()]);
    assert!(seed_alerts.is_empty(), "the seed rule needs an interactive process");
    let head_alerts = scan(&event, &[]);
    assert!(head_alerts.iter().any(|a| a.rule_id == "b4bd186b-69c6-45ad-8bef-5c35bbadeaef"));
    let interactive =
        scan(&event.replace("\"interactive\":false", "\"interactive\":true"), &["--rules", seed.to_str().unwrap()]);
    assert_eq!(interactive.len(), 1);
}
