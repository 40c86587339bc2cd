//! The kubelet rule pack against its cases (rules/*.tests.toml) through `eqlite test`, and
//! `eqlite test` itself: case-file errors, exact sequence alerts, benign corpora, JUnit output.

mod common;

use serde::Deserialize;
use std::path::{Path, PathBuf};
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

/// `eqlite test` on a copy of some pack files (rule and case files), each edited by `edit`.
fn test_copy(files: &[&str], edit: impl Fn(&str, String) -> String, args: &[&str]) -> (i32, String, PathBuf) {
    let dir = temp_dir();
    let rules = Path::new(env!("CARGO_MANIFEST_DIR")).join("rules");
    for f in files {
        let text = std::fs::read_to_string(rules.join(f)).unwrap();
        std::fs::write(dir.join(f), edit(f, text)).unwrap();
    }
    let (code, out) = eqlite_test(&[&[dir.to_str().unwrap()], args].concat());
    (code, out, dir)
}

fn temp_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("eqlite-rule-tests-{}-{}", std::process::id(), rand_suffix()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs `eqlite test args…`: (exit code, stdout).
fn eqlite_test(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_eqlite")).arg("test").args(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    (out.status.code().unwrap(), String::from_utf8(out.stdout).unwrap())
}

const CONNECTION: &str = "lateral_movement_kubelet_api_connection_attempt_internal_ip";

#[test]
fn the_pack_passes_its_cases_with_full_decisive_coverage() {
    let rules = Path::new(env!("CARGO_MANIFEST_DIR")).join("rules");
    let args = [rules.to_str().unwrap(), "--min-coverage", "100", "--require-cases", "--format", "json"];
    let (code, out) = eqlite_test(&args);
    let run: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(code, 0, "{out}");
    assert_eq!(run["passed"], true);
    assert_eq!(run["coverage"], 100.0);
    let reports = run["rules"].as_array().unwrap();
    assert_eq!(reports.len(), 20, "every rule of the pack has its case file");
    for r in reports {
        let (fires, silent) = (r["firing_cases"].as_u64().unwrap(), r["silent_cases"].as_u64().unwrap());
        assert!(fires >= 3 && silent >= 4, "{}: needs at least 3 attacks and 4 near misses", r["origin"]);
        assert_eq!(r["coverage"], 100.0, "{}", r["origin"]);
        for c in r["conditions"].as_array().unwrap() {
            assert!(!c["decisive_in"].as_array().unwrap().is_empty() || c["excused"].is_string(), "{c}");
        }
    }
}

/// The JSON fixtures (read by benchmarks, the npm and Fluent Bit tests) hold cases of the case
/// files: the case files are the source, and the fixtures may not drift from them.
#[test]
fn the_fixtures_are_cases_of_the_case_files() {
    use eqlite::testing::{parse_cases, CaseFile, Events, Expect};
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<_> = std::fs::read_dir(root.join("tests/fixtures/kubelet"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    assert_eq!(files.len(), 20, "one fixture file per rule of the pack");
    let case_files: Vec<CaseFile> = eqlite::case_files(&root.join("rules"))
        .unwrap()
        .iter()
        .map(|p| parse_cases(&std::fs::read_to_string(p).unwrap(), &p.display().to_string()).unwrap())
        .collect();
    for f in &files {
        let fx: Fixture = serde_json::from_str(&std::fs::read_to_string(f).unwrap()).unwrap();
        let cf = case_files.iter().find(|c| c.rule_id == fx.rule_id).expect("a case file for the fixture's rule");
        for c in &fx.cases {
            let case =
                cf.cases.iter().find(|k| k.name == c.name).unwrap_or_else(|| panic!("{}: {}", cf.origin, c.name));
            let Events::Inline(text) = &case.events else { panic!("inline events") };
            let events: Vec<serde_json::Value> =
                text.lines().filter(|l| !l.trim().is_empty()).map(|l| serde_json::from_str(l).unwrap()).collect();
            assert_eq!(events, c.events, "{}: {}", cf.origin, c.name);
            let want = match (c.fires, &c.alert_events) {
                (false, _) => Expect::Silent,
                (true, Some(a)) => Expect::Alerts(vec![a.clone()]),
                (true, None) => Expect::Alerts(vec![(0..c.events.len() as u64).collect()]),
            };
            assert_eq!(case.expect, want, "{}: {}", cf.origin, c.name);
        }
    }
}

#[test]
fn a_changed_literal_fails_naming_the_case_the_rule_and_the_deciding_clause() {
    let files = [&format!("{CONNECTION}.toml")[..], &format!("{CONNECTION}.tests.toml")];
    let edit = |f: &str, t: String| {
        if f.ends_with(".tests.toml") {
            t
        } else {
            t.replace("destination.port == 10250", "destination.port == 10251")
        }
    };
    let (code, out, dir) = test_copy(&files, edit, &[]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("✗ Kubelet API Connection Attempt to Internal IP"), "{out}");
    let case = "Elastic Defend: curl connection_attempted to 10.0.1.22:10250 (10.0.0.0/8, name in list)";
    let at = out.find(&format!("✗ {case}")).unwrap_or_else(|| panic!("{out}"));
    let detail: Vec<&str> = out[at..].lines().skip(1).take(8).map(str::trim).collect();
    assert_eq!(detail[0], "expected 1 alert: events [0]");
    assert_eq!(detail[1], "got      no alert");
    assert_eq!(detail[2], "deciding clause (comparison) at 2:65: 10250 is not == 10251");
    let query_line = "2 |   event.action in (\"connected-to\", \"connection_attempted\") and (destination.port == 10251 or destination.port == 10255) and";
    assert_eq!(detail[5], query_line);
    assert_eq!(detail[6], format!("| {}{}", " ".repeat(64), "^".repeat("destination.port == 10251".len())));
    // The same run's JUnit XML, as a real JUnit consumer reads it.
    let junit = dir.join("junit.xml");
    let (code, _) = eqlite_test(&[dir.to_str().unwrap(), "--junit", junit.to_str().unwrap()]);
    assert_eq!(code, 1);
    let script = r#"
import sys, json
from junitparser import JUnitXml, Failure
xml = JUnitXml.fromfile(sys.argv[1])
out = []
for suite in xml:
    for case in suite:
        fails = [r for r in case.result if isinstance(r, Failure)]
        out.append({"suite": suite.name, "name": case.name, "classname": case.classname,
                    "failure": fails[0].message if fails else None, "text": fails[0].text if fails else None})
print(json.dumps({"tests": xml.tests, "failures": xml.failures, "cases": out}))
"#;
    let py = Command::new("python3").args(["-c", script, junit.to_str().unwrap()]).output().expect("python3");
    assert!(py.status.success(), "junitparser (scripts/setup.sh installs it): {}", String::from_utf8_lossy(&py.stderr));
    let parsed: serde_json::Value = serde_json::from_slice(&py.stdout).unwrap();
    let cases = parsed["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 13, "one testcase per case of the rule");
    assert_eq!(parsed["tests"], 13);
    let failed: Vec<&serde_json::Value> = cases.iter().filter(|c| !c["failure"].is_null()).collect();
    assert!(!failed.is_empty());
    assert_eq!(parsed["failures"].as_u64().unwrap() as usize, failed.len());
    let f = failed.iter().find(|c| c["name"] == case).unwrap();
    assert_eq!(f["suite"], "Kubelet API Connection Attempt to Internal IP");
    assert_eq!(f["classname"], "9f420cca-cb27-44db-a13d-c43c7b48e04a");
    assert_eq!(f["failure"], "expected 1 alert: events [0]");
    assert!(f["text"].as_str().unwrap().contains("deciding clause (comparison) at 2:65: 10250 is not == 10251"));
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn deleting_a_case_lowers_coverage_and_names_the_uncovered_condition() {
    let rules = Path::new(env!("CARGO_MANIFEST_DIR")).join("rules");
    let (_, out) = eqlite_test(&[rules.to_str().unwrap(), "--format", "json"]);
    let run: serde_json::Value = serde_json::from_str(&out).unwrap();
    // A condition only one case makes decisive: without that case it is uncovered.
    let (rule, only) = run["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|r| {
            let c =
                r["conditions"].as_array().unwrap().iter().find(|c| c["decisive_in"].as_array().unwrap().len() == 1);
            c.map(|c| (r.clone(), c.clone()))
        })
        .expect("a condition one case decides");
    let conditions = rule["conditions"].as_array().unwrap();
    let case = only["decisive_in"][0].as_str().unwrap().to_string();
    let stem = Path::new(rule["origin"].as_str().unwrap()).file_stem().unwrap().to_str().unwrap().to_string();
    let files = [&format!("{stem}.toml")[..], &format!("{stem}.tests.toml")];
    let edit = |f: &str, t: String| {
        if !f.ends_with(".tests.toml") {
            return t;
        }
        let name = format!("name = {}", serde_json::to_string(&case).unwrap());
        t.split("\n[[case]]\n").filter(|block| !block.starts_with(&name)).collect::<Vec<_>>().join("\n[[case]]\n")
    };
    let (code, out, dir) = test_copy(&files, edit, &["--min-coverage", "100"]);
    assert_eq!(code, 1, "{out}");
    assert!(!out.contains(&case), "the case is gone: {out}");
    let total = conditions.iter().filter(|c| c["excused"].is_null()).count();
    let expect = format!("coverage {:.1}% ({}/{total})", 100.0 * (total - 1) as f64 / total as f64, total - 1);
    assert!(out.contains(&expect), "{expect}\n{out}");
    assert!(out.contains("is below --min-coverage 100%"), "{out}");
    let line = format!(
        "uncovered {} at {}:{} (bytes {}..{}): {}",
        only["kind"].as_str().unwrap(),
        only["line"],
        only["column"],
        only["start"],
        only["end"],
        only["text"].as_str().unwrap().split_whitespace().collect::<Vec<_>>().join(" ")
    );
    assert!(out.contains(&line), "{line}\n{out}");
    std::fs::remove_dir_all(dir).ok();
}

/// A directory with one rule and its case file, for the format tests.
fn write_rule(query: &str, cases: &str) -> PathBuf {
    let dir = temp_dir();
    let rule = format!(
        "[rule]\nrule_id = \"r1\"\nname = \"Test rule\"\nlanguage = \"eql\"\ntype = \"eql\"\nseverity = \"low\"\n\
         query = '''\n{query}\n'''\n"
    );
    std::fs::write(dir.join("r.toml"), rule).unwrap();
    std::fs::write(dir.join("r.tests.toml"), cases).unwrap();
    dir
}

const SEQUENCE: &str = r#"sequence by host.id with maxspan=1m
  [process where process.name == "cat" and file.path == "/var/run/secrets/kubernetes.io/serviceaccount/token"]
  [network where destination.port == 443]"#;

const SEQUENCE_EVENTS: &str = r#"events = '''
{"@timestamp": "2026-08-20T10:00:00Z", "event": {"category": ["process"]}, "host": {"id": "n1"}, "process": {"name": "cat"}, "file": {"path": "/var/run/secrets/kubernetes.io/serviceaccount/token"}}
{"@timestamp": "2026-08-20T10:00:05Z", "event": {"category": ["process"]}, "host": {"id": "n1"}, "process": {"name": "cat"}, "file": {"path": "/var/run/secrets/kubernetes.io/serviceaccount/token"}}
{"@timestamp": "2026-08-20T10:00:07Z", "event": {"category": ["network"]}, "host": {"id": "n2"}, "destination": {"port": 443}}
{"@timestamp": "2026-08-20T10:00:09Z", "event": {"category": ["network"]}, "host": {"id": "n1"}, "destination": {"port": 443}}
'''"#;

#[test]
fn a_sequence_case_checks_the_exact_alerts_in_order() {
    // A newer partial match replaces the older: (1, 3), not (0, 3); n2's request joins nothing.
    let good = format!(
        "rule_id = \"r1\"\n[[case]]\nname = \"token read twice, then the request\"\nalerts = [[1, 3]]\n{SEQUENCE_EVENTS}\n"
    );
    let dir = write_rule(SEQUENCE, &good);
    let (code, out) = eqlite_test(&[dir.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("✓ token read twice, then the request"), "{out}");
    std::fs::write(dir.join("r.tests.toml"), good.replace("[[1, 3]]", "[[0, 3]]")).unwrap();
    let (code, out) = eqlite_test(&[dir.to_str().unwrap(), "--format", "json"]);
    assert_eq!(code, 1, "{out}");
    let run: serde_json::Value = serde_json::from_str(&out).unwrap();
    let case = &run["rules"][0]["cases"][0];
    assert_eq!(case["passed"], false);
    assert_eq!(case["expected"], serde_json::json!({"alerts": [[0, 3]]}));
    assert_eq!(case["got"], serde_json::json!([[1, 3]]));
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn malformed_case_files_are_errors_at_their_position() {
    let ev = r#"events = '{"event": {"category": ["process"]}, "process": {"name": "cat"}}'"#;
    let head = "rule_id = \"r1\"\n[[case]]\nname = \"x\"\n";
    for (text, line_col, message) in [
        (format!("{head}expect = \"maybe\"\n{ev}\n"), "4:10", "`expect` is \"fires\" or \"silent\", not \"maybe\""),
        (format!("{head}expcet = \"fires\"\n{ev}\n"), "4:1", "unknown key `case.expcet`"),
        (format!("{head}expect = \"fires\n"), "4:", "invalid TOML"),
        (format!("{head}expect = \"fires\"\n"), "3:8", "has no `events` or `events_file`"),
        (format!("{head}alerts = [[0, -1]]\n{ev}\n"), "4:15", "expected an array of event positions"),
        (format!("{head}expect = \"silent\"\nalerts = [[0]]\n{ev}\n"), "4:10", "contradicts its `alerts`"),
        (format!("{head}expect = \"fires\"\nevents = '{{\"event\": '\n"), "", "events, line 1"),
    ] {
        let dir = write_rule("process where process.name == \"cat\"", &text);
        let (code, out) = eqlite_test(&[dir.to_str().unwrap()]);
        assert_eq!(code, 1, "{text}\n{out}");
        assert!(out.contains(message), "{message}\n{out}");
        if !line_col.is_empty() {
            assert!(out.contains("r.tests.toml: ") && out.contains(&format!("--> {line_col}")), "{line_col}\n{out}");
        }
        std::fs::remove_dir_all(dir).ok();
    }
}

#[test]
fn a_case_file_for_an_unknown_rule_id_is_an_error_at_the_id() {
    let text = "# cases\nrule_id = \"no-such-rule\"\n[[case]]\nname = \"x\"\nexpect = \"fires\"\nevents = '{}'\n";
    let dir = write_rule("process where process.name == \"cat\"", text);
    let (code, out) = eqlite_test(&[dir.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("no rule with id \"no-such-rule\" is loaded"), "{out}");
    assert!(out.contains("--> 2:11\n"), "{out}");
    // The rule that is loaded still runs, and is reported without cases.
    assert!(out.contains("✓ Test rule") && out.contains("0 cases"), "{out}");
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn a_benign_corpus_fails_on_alerts_but_known_false_positives() {
    let query = "process where process.name == \"kubeletctl\"";
    let cases = "rule_id = \"r1\"\n[[case]]\nname = \"kubeletctl\"\nexpect = \"fires\"\n\
                 events = '{\"event\": {\"category\": [\"process\"]}, \"process\": {\"name\": \"kubeletctl\"}}'\n";
    let dir = write_rule(query, cases);
    let corpus = dir.join("benign.ndjson");
    let lines = [
        r#"{"event": {"category": ["process"]}, "process": {"name": "ls"}}"#,
        r#"{"event": {"category": ["process"]}, "process": {"name": "kubeletctl", "args": ["kubeletctl", "--help"]}}"#,
        r#"{"event": {"category": ["process"]}, "process": {"name": "cat"}}"#,
    ];
    std::fs::write(&corpus, lines.join("\n")).unwrap();
    // On the command line, without a known false positive: the alert fails the run.
    let (code, out) = eqlite_test(&[dir.to_str().unwrap(), "--benign", corpus.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains(&format!("✗ benign: {}", corpus.display())), "{out}");
    assert!(out.contains("1 alert(s) on a benign corpus, not known false positives: events [1]"), "{out}");
    // Declared with its known false positive: it passes, named on the command line too or not.
    let declared = format!(
        "{cases}\n[[benign]]\nfile = \"benign.ndjson\"\n\
         known_false_positives = [{{ events = [1], reason = \"an admin reading kubeletctl --help\" }}]\n"
    );
    std::fs::write(dir.join("r.tests.toml"), &declared).unwrap();
    for extra in [&[][..], &["--benign", corpus.to_str().unwrap()][..]] {
        let (code, out) = eqlite_test(&[&[dir.to_str().unwrap()], extra].concat());
        assert_eq!(code, 0, "{out}");
        assert!(out.contains("✓ benign: benign.ndjson"), "{out}");
        assert_eq!(out.matches("benign:").count(), 1, "the same file runs once: {out}");
    }
    // A known false positive at another event does not excuse this alert.
    std::fs::write(dir.join("r.tests.toml"), declared.replace("events = [1]", "events = [2]")).unwrap();
    let (code, out) = eqlite_test(&[dir.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("not known false positives: events [1]"), "{out}");
    std::fs::remove_dir_all(dir).ok();
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

#[test]
fn case_settings_choose_the_time_field_and_events_come_from_files() {
    let query = "sequence by host.id with maxspan=5s\n  [process where process.name == \"cat\"]\n  [network where destination.port == 443]";
    // 10 s apart by @timestamp, 2 s apart by event.ingested.
    let events = concat!(
        r#"{"@timestamp": "2026-08-20T10:00:00Z", "event": {"category": ["process"], "ingested": "2026-08-20T10:00:30Z"}, "host": {"id": "n1"}, "process": {"name": "cat"}}"#,
        "\n",
        r#"{"@timestamp": "2026-08-20T10:00:10Z", "event": {"category": ["network"], "ingested": "2026-08-20T10:00:32Z"}, "host": {"id": "n1"}, "destination": {"port": 443}}"#,
        "\n"
    );
    let cases = "rule_id = \"r1\"\n\
                 [[case]]\nname = \"by @timestamp the request is too late\"\nexpect = \"silent\"\nevents_file = \"cases/pair.ndjson\"\n\
                 [[case]]\nname = \"by event.ingested it is in time\"\nalerts = [[0, 1]]\nevents_file = \"cases/pair.ndjson\"\n\
                 timestamp_field = \"event.ingested\"\n";
    let dir = write_rule(query, cases);
    std::fs::create_dir_all(dir.join("cases")).unwrap();
    std::fs::write(dir.join("cases/pair.ndjson"), events).unwrap();
    let (code, out) = eqlite_test(&[dir.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("✓ by @timestamp the request is too late") && out.contains("✓ by event.ingested it is in time"),
        "{out}"
    );
    // A file that is not there fails its case, naming it; the other case still runs.
    std::fs::remove_file(dir.join("cases/pair.ndjson")).unwrap();
    let (code, out) = eqlite_test(&[dir.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("cases/pair.ndjson: No such file"), "{out}");
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn a_query_of_thousands_of_clauses_is_run_but_not_covered() {
    let terms: Vec<String> = (0..1500).map(|i| format!("process.name == \"tool{i}\"")).collect();
    let query = format!("process where {}", terms.join(" or "));
    let cases = "rule_id = \"r1\"\n[[case]]\nname = \"tool7\"\nexpect = \"fires\"\n\
                 events = '{\"event\": {\"category\": [\"process\"]}, \"process\": {\"name\": \"tool7\"}}'\n";
    let dir = write_rule(&query, cases);
    let (code, out) = eqlite_test(&[dir.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("✓ tool7"), "{out}");
    assert!(out.contains("coverage is not computed for a query of more than 1000 conditions"), "{out}");
    std::fs::remove_dir_all(dir).ok();
}

/// Runs `eqlite args…`: (exit code, stdout, stderr).
fn eqlite(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_eqlite")).args(args).output().unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(!stderr.contains("panicked"), "{stderr}");
    (out.status.code().unwrap(), String::from_utf8(out.stdout).unwrap(), stderr)
}

/// `eqlite test --init RULE_ID` prints the starter case file of `eqlite synth --init`; written
/// beside a copy of the rule, `eqlite test` passes it: one firing case, the near misses silent.
#[test]
fn test_init_writes_a_case_file_that_eqlite_test_passes() {
    let rules = Path::new(env!("CARGO_MANIFEST_DIR")).join("rules");
    // An event rule from the embedded pack; a sequence and a KQL rule through --rules.
    let picks = [
        ("execution_potential_direct_kubelet_access_via_process_args", "b4bd186b-69c6-45ad-8bef-5c35bbadeaef", false),
        (
            "execution_d4c_k8s_mda_service_account_token_access_followed_by_kubernetes_api_request",
            "4bd306f9-ee89-4083-91af-e61ed5c42b9a",
            true,
        ),
        ("execution_azure_aks_kubelet_proxy_command_endpoint", "4223a0c2-2a96-4742-b6ec-2ce9fa0019ba", true),
    ];
    for (name, id, with_rules) in picks {
        let dir = temp_dir();
        let rule = dir.join(format!("{name}.toml"));
        std::fs::copy(rules.join(format!("{name}.toml")), &rule).unwrap();
        let mut args = vec!["test", "--init", id];
        if with_rules {
            args.extend(["--rules", dir.to_str().unwrap()]);
        }
        let (code, cases, stderr) = eqlite(&args);
        assert_eq!(code, 0, "{name}: {stderr}");
        let (_, synth, _) = eqlite(&["synth", "--rule", id, "--init"]);
        assert_eq!(cases, synth, "{name}: the same file as `eqlite synth --init`");
        assert!(cases.contains(&format!("rule_id = \"{id}\"")), "{cases}");
        std::fs::write(dir.join(format!("{name}.tests.toml")), &cases).unwrap();
        let (code, out) = eqlite_test(&[dir.to_str().unwrap(), "--format", "json"]);
        assert_eq!(code, 0, "{name}: {out}");
        let run: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(run["passed"], true, "{out}");
        let reports = run["rules"].as_array().unwrap();
        assert_eq!(reports.len(), 1);
        let r = &reports[0];
        assert_eq!(r["rule_id"], id);
        assert_eq!(r["firing_cases"], 1, "{name}");
        let silent = r["silent_cases"].as_u64().unwrap();
        assert!(silent >= 3, "{name}: {silent} near misses");
        assert_eq!(r["cases"].as_array().unwrap().len() as u64, 1 + silent);
        assert!(r["cases"].as_array().unwrap().iter().all(|c| c["passed"] == true), "{out}");
        std::fs::remove_dir_all(dir).ok();
    }
}

#[test]
fn test_init_of_an_unknown_rule_id_fails_naming_it() {
    let (code, out, err) = eqlite(&["test", "--init", "no-such-rule"]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(out, "");
    assert_eq!(err, "eqlite: no rule with id `no-such-rule` is loaded (from the embedded kubelet pack)\n");
    let dir = temp_dir();
    let name = format!("{CONNECTION}.toml");
    std::fs::copy(Path::new(env!("CARGO_MANIFEST_DIR")).join("rules").join(&name), dir.join(&name)).unwrap();
    let (code, out, err) = eqlite(&["test", "--init", "no-such-rule", "--rules", dir.to_str().unwrap()]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(out, "");
    assert_eq!(err, format!("eqlite: no rule with id `no-such-rule` is loaded (from {})\n", dir.display()));
    // --init runs no cases: case PATHs and the options of a run are refused.
    let (code, out, err) = eqlite(&["test", "--init", "no-such-rule", dir.to_str().unwrap()]);
    assert_eq!((code, out.as_str()), (2, ""), "{err}");
    assert!(err.contains("'--init <RULE_ID>' cannot be used with '[PATH]...'"), "{err}");
    std::fs::remove_dir_all(dir).ok();
}
