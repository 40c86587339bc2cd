//! Every EQL rule of elastic/detection-rules (../shared/corpus) parses and compiles, the rule index
//! never hides a match, and the rules whose regexes use Lucene's `\w` and `\s` classes fire exactly
//! where Elasticsearch would.

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

/// The corpus rule with this id, alone in a rule set.
fn corpus_rule(files: &[PathBuf], id: &str) -> RuleSet {
    let needle = format!("rule_id = \"{id}\"");
    let (path, text) = files
        .iter()
        .map(|f| (f, std::fs::read_to_string(f).unwrap()))
        .find(|(_, text)| text.contains(&needle))
        .unwrap_or_else(|| panic!("no corpus rule {id}"));
    let mut rs = RuleSet::default();
    rs.add_toml(&text, &path.display().to_string()).unwrap();
    rs
}

fn fires(rs: &RuleSet, event: &serde_json::Value) -> bool {
    let text = event.to_string();
    !rs.matches(&rs.read_json(&text).unwrap()).is_empty()
}

/// An ECS process start as Elastic Defend reports it.
fn process_start(os: &str, executable: &str, user_id: &str) -> serde_json::Value {
    let name = executable.rsplit(['/', '\\']).next().unwrap();
    let parent = if os == "windows" { r"C:\Windows\System32\services.exe" } else { "/usr/bin/bash" };
    serde_json::json!({
        "@timestamp": "2024-05-14T09:12:44.112Z",
        "event": { "category": ["process"], "type": ["start"], "kind": "event", "action": "exec",
                   "ingested": "2024-05-14T09:12:45Z", "dataset": "endpoint.events.process" },
        "host": { "name": "node-7", "os": { "type": os, "family": os } },
        "user": { "id": user_id },
        "process": { "pid": 4242, "executable": executable, "name": name, "args": [executable],
                     "parent": { "pid": 1, "executable": parent, "name": parent.rsplit(['/', '\\']).next().unwrap(),
                                 "args": [parent] } }
    })
}

/// Issue 15: Lucene 9 reads `\w` and `\s` as classes, also in brackets; these three rules missed
/// their attacks when eqlite read them as the letters w and s.
#[test]
fn rules_with_regex_classes_fire_where_elasticsearch_does() {
    let Some(files) = corpus_files() else { return };

    // 3688577a, process started from a process ID file: `/var/run/\w+\.(pid|lock|reboot)`, regex~.
    let pid_file = corpus_rule(&files, "3688577a-d196-11ec-90b0-f661ea17fbce");
    for (exe, user, want) in [
        ("/var/run/haldrund.pid", "0", true), // BPFDoor's copy of itself
        ("/var/run/xinetd.lock", "0", true),
        ("/var/run/kdevtmpfsi.reboot", "0", true),
        ("/var/run/Haldrund.PID", "0", true), // `regex~` folds the literal `pid`, `\w` has both cases
        ("/var/run/haldrund.pid", "1000", false), // the rule wants root
        ("/var/run/hald-rund.pid", "0", false), // `\w` has no hyphen
        ("/var/run/user/0/app.pid", "0", false), // nor a slash
        ("/var/run/haldrund", "0", false),
    ] {
        assert_eq!(fires(&pid_file, &process_start("linux", exe, user)), want, "3688577a on {exe} as {user}");
    }

    // f5fb4598, masquerading with a space after the file name: `/[a-z0-9\s_\-\\./]+\s`, regex~.
    let space = corpus_rule(&files, "f5fb4598-4f10-11ed-bdc3-0242ac120002");
    for (os, exe, want) in [
        ("linux", "/dev/shm/.x/passwd ", true),
        ("linux", "/tmp/my files/update.sh ", true), // `\s` inside the brackets too
        ("linux", "/tmp/update\t", true),            // any of [ \t\n\r] at the end
        ("macos", "/private/tmp/invoice.pdf ", true),
        ("linux", "/usr/bin/ps", false), // ends in the letter s, not in whitespace
        ("linux", "/usr/bin/ls", false),
        ("linux", "/tmp/update\u{b}", false), // Lucene's `\s` has no vertical tab
        // `regex~` does not fold the range `[a-z]` (Lucene 9's ASCII_CASE_INSENSITIVE), so
        // Elasticsearch misses names with capitals, and so does eqlite.
        ("macos", "/Users/alice/Downloads/invoice.pdf ", false),
        ("linux", "/opt/nessus_agent/sbin/nessus-service ", false), // excluded by the rule
        ("windows", "/tmp/passwd ", false),
    ] {
        assert_eq!(fires(&space, &process_start(os, exe, "0")), want, "f5fb4598 on {exe:?} ({os})");
    }
    let mut runc = process_start("linux", "/usr/bin/runc ", "0");
    runc["process"]["args"] = serde_json::json!(["runc", "--root", "/run/containerd/runc/k8s.io", "state"]);
    assert!(!fires(&space, &runc), "f5fb4598 excludes runc by its arguments");

    // 12de29d4, unquoted service path: `(C:\\Program Files \(x86\)\\|C:\\Program Files\\)\w+.exe`,
    // case-sensitive, or `process.executable : "?:\\Program.exe"`.
    let unquoted = corpus_rule(&files, "12de29d4-bbb0-4eef-b687-857e8a163870");
    for (os, exe, want) in [
        ("windows", r"C:\Program Files\Common.exe", true), // for "C:\Program Files\Common Files\…"
        ("windows", r"C:\Program Files (x86)\Microsoft.exe", true),
        ("windows", r"C:\Program.exe", true), // the `:` clause
        ("windows", r"C:\Program Files\Common Files\microsoft shared\ClickToRun\OfficeClickToRun.exe", false),
        ("windows", r"C:\Program Files\Mozilla Firefox\firefox.exe", false),
        ("windows", r"C:\Program Files\7-Zip.exe", false), // `\w` has no hyphen
        ("windows", r"c:\program files\common.exe", false), // `regex` is case-sensitive
        ("linux", r"C:\Program Files\Common.exe", false),
    ] {
        assert_eq!(fires(&unquoted, &process_start(os, exe, "S-1-5-18")), want, "12de29d4 on {exe} ({os})");
    }
}
