//! Values read as their fields' Elasticsearch types (ECS by default; a mapping and extra tables
//! over it), on realistic events: through the library, and through the `eqlite` command line.

use eqlite::{FieldType, Options, Pack, RuleSet, Stream, StreamOptions, TypeTable};
use std::process::Command;
use std::sync::Arc;

/// An auditd process event as sensors write it: user and group ids as JSON numbers.
const AUDITD_EXEC: &str = r#"{"@timestamp":"2026-03-02T10:15:00.120Z","event":{"category":["process"],"type":["start"],
    "action":"executed","module":"auditd"},"host":{"name":"web-3","os":{"type":"linux"}},
    "process":{"pid":4182,"name":"bash","executable":"/usr/bin/bash","args":["bash","-i"],"interactive":"true",
    "parent":{"pid":4101,"name":"sshd"},"user":{"id":0,"name":"root"}},
    "user":{"id":0,"name":"root","group":{"id":0,"name":"root"},"effective":{"id":0}},
    "auditd":{"data":{"syscall":"execve","exit":0,"tty":"pts0"},"session":"3"}}"#;

/// A connection attempt to the kubelet API, with the port as a string (as some shippers write it).
const KUBELET_CONNECT: &str = r#"{"@timestamp":"2026-08-20T02:10:00.000Z","event":{"category":["network"],
    "type":["start"],"action":"connection_attempted","ingested":"2026-08-20T02:10:00.400Z"},
    "host":{"os":{"type":"linux"}},"network":{"direction":"egress","transport":"tcp"},
    "source":{"ip":"10.0.3.7","port":"51514"},"destination":{"ip":"10.0.1.22","port":"10250"},
    "process":{"name":"curl","pid":"9120","executable":"/usr/bin/curl"},"container":{"id":"3d6e1c"}}"#;

fn rules(options: Options, queries: &[&str]) -> RuleSet {
    let mut rs = RuleSet::new(options);
    for (i, q) in queries.iter().enumerate() {
        rs.add_query(&format!("q{i}"), q).unwrap();
    }
    rs
}

/// Which of `queries` match `event` (single-event queries).
fn matching(options: Options, queries: &[&str], event: &str) -> Vec<usize> {
    let rs = rules(options, queries);
    let ev = rs.read_json(event).unwrap();
    rs.matches(&ev)
}

fn json_types() -> Options {
    Options { ecs_types: false, ..Options::default() }
}

#[test]
fn numbers_in_keyword_fields_compare_as_their_text() {
    let q = [
        r#"process where user.id == "0""#,
        r#"process where user.group.id : "0" and user.effective.id in ("0", "1000")"#,
        r#"process where process.user.id == "0" and user.name == "root""#,
        // A number literal against a keyword field is read as the field's type too.
        r#"process where user.id == 0"#,
        r#"process where user.id like "0""#,
        r#"process where user.id != "0""#,
    ];
    assert_eq!(matching(Options::default(), &q, AUDITD_EXEC), [0, 1, 2, 3, 4]);
    // Without the ECS types, as before: a number and a string never compare equal.
    assert_eq!(matching(json_types(), &q, AUDITD_EXEC), [3]);
}

#[test]
fn numeric_strings_in_numeric_fields_are_numbers() {
    // The kubelet pack's connection rule: `destination.port == 10250 or destination.port == 10255`.
    let rs = RuleSet::from_pack(&Pack::kubelet(), Options::default()).unwrap();
    let ev = rs.read_json(KUBELET_CONNECT).unwrap();
    let fired: Vec<&str> = rs.matches(&ev).iter().map(|&i| rs.rule(i).unwrap().name.as_str()).collect();
    assert_eq!(fired, ["Kubelet API Connection Attempt to Internal IP"], "{fired:?}");
    let off = RuleSet::from_pack(&Pack::kubelet(), json_types()).unwrap();
    let ev = off.read_json(KUBELET_CONNECT).unwrap();
    assert!(off.matches(&ev).is_empty());

    let q = [
        "network where destination.port == 10250 and source.port > 50000",
        r#"network where destination.port == "10250""#,
        "network where destination.port in (10250, 10255) and process.pid == 9120",
        "network where destination.port + 1 == 10251",
    ];
    assert_eq!(matching(Options::default(), &q, KUBELET_CONNECT), [0, 1, 2, 3]);
    assert_eq!(matching(json_types(), &q, KUBELET_CONNECT), [1]);
}

#[test]
fn fields_outside_ecs_keep_their_json_types() {
    let event = r#"{"event":{"category":"process"},"auditd":{"session":3,"data":{"exit":"0"}},"app":{"port":"8080"}}"#;
    let q = [
        r#"process where auditd.session == "3""#,
        "process where auditd.session == 3",
        "process where auditd.data.exit == 0",
        r#"process where auditd.data.exit == "0""#,
        "process where app.port == 8080",
        r#"process where app.port == "8080""#,
    ];
    assert_eq!(matching(Options::default(), &q, event), [1, 3, 5]);
    assert_eq!(matching(json_types(), &q, event), [1, 3, 5]);
}

#[test]
fn values_their_type_refuses_are_not_indexed_and_the_rest_still_matches() {
    // Elasticsearch with ignore_malformed (the logs-*-* default) indexes the document without them.
    let event = r#"{"event":{"category":"network"},"destination":{"port":"http","ip":"kubelet.local"},
        "source":{"ip":"10.0.3.7"},"process":{"interactive":"maybe","name":"curl"},"@timestamp":true}"#;
    let q = [
        "network where destination.port == null and destination.ip == null",
        r#"network where process.name == "curl" and source.ip == "10.0.3.7""#,
        r#"network where destination.port : "http""#,
        "network where process.interactive == null",
        "network where `@timestamp` == null",
    ];
    assert_eq!(matching(Options::default(), &q, event), [0, 1, 3, 4]);
    assert_eq!(matching(json_types(), &q, event), [1, 2]);
}

#[test]
fn ips_booleans_and_floats_read_as_elasticsearch_indexes_them() {
    let event = r#"{"event":{"category":"network"},"source":{"ip":"::ffff:10.0.3.7"},
        "destination":{"ip":"FE80:0:0:0:0:0:0:1"},"process":{"interactive":"true"},"host":{"cpu":{"usage":"0.75"}},
        "event.risk_score":47}"#;
    let q = [
        r#"network where source.ip == "10.0.3.7" and cidrMatch(source.ip, "10.0.0.0/8")"#,
        r#"network where destination.ip == "fe80::1" and cidrMatch(destination.ip, "fe80::/10")"#,
        "network where process.interactive == true",
        "network where host.cpu.usage > 0.5",
        r#"network where string(host.cpu.usage) == "0.75""#,
        // A float field holds doubles, whatever the JSON wrote.
        r#"network where string(event.risk_score) == "47.0""#,
    ];
    assert_eq!(matching(Options::default(), &q, event), [0, 1, 2, 3, 4, 5]);
    assert_eq!(matching(json_types(), &q, event), [4]);
}

#[test]
fn join_keys_of_mixed_json_types_join_as_keywords() {
    // Two sensors: one writes the user id as a number, the other as a string.
    let query = r#"sequence by user.id with maxspan=1m
        [process where process.name == "id"]
        [network where destination.port == 10250]"#;
    let events = [
        r#"{"@timestamp":"2026-08-20T02:00:00Z","event":{"category":"process"},"process":{"name":"id"},"user":{"id":1000}}"#,
        r#"{"@timestamp":"2026-08-20T02:00:05Z","event":{"category":"network"},"destination":{"port":"10250"},"user":{"id":"1000"}}"#,
    ];
    for (options, want) in [(Options::default(), vec![vec![0u64, 1]]), (json_types(), vec![])] {
        let rs = rules(options, &[query]);
        let mut stream = Stream::new(&rs, StreamOptions::default());
        let mut alerts = Vec::new();
        for (i, e) in events.iter().enumerate() {
            alerts.extend(stream.push(&rs, &rs.read_json(e).unwrap(), i as u64));
        }
        alerts.extend(stream.flush(&rs));
        assert_eq!(alerts.into_iter().map(|a| a.events).collect::<Vec<_>>(), want);
    }
}

#[test]
fn a_mapping_and_extra_tables_extend_and_override_the_ecs_types() {
    let mapping = eqlite::mapping::from_es_json(
        r#"{"mappings":{"properties":{"user":{"properties":{"id":{"type":"long"}}},
            "app":{"properties":{"port":{"type":"integer","null_value":0}}}}}}"#,
    )
    .unwrap();
    let table = Arc::new(TypeTable::parse("app\n port keyword\n build long\ncustom.flag boolean\n").unwrap());
    let options = || Options { field_types: vec![table.clone()], mapping: mapping.clone(), ..Options::default() };
    let rs = RuleSet::new(options());
    assert_eq!(rs.field_type("user.id"), Some(FieldType::Long));
    assert_eq!(rs.field_type("app.port"), Some(FieldType::Integer));
    assert_eq!(rs.field_type("app.build"), Some(FieldType::Long));
    assert_eq!(rs.field_type("user.name"), Some(FieldType::Keyword));
    assert_eq!(rs.field_type("kubernetes.audit.objectRef.resource"), Some(FieldType::Keyword));
    assert_eq!(rs.field_type("my.own"), None);
    let event = r#"{"event":{"category":"process"},"user":{"id":"0"},"app":{"port":null,"build":"42"},"custom":{"flag":"true"}}"#;
    let q = ["process where user.id == 0", "process where app.port == 0 and app.build == 42 and custom.flag == true"];
    assert_eq!(matching(options(), &q, event), [0, 1]);
    // Without the ECS types, the mapping and tables still apply.
    let no_ecs = Options { ecs_types: false, ..options() };
    assert_eq!(RuleSet::new(no_ecs.clone()).field_type("user.name"), None);
    assert_eq!(matching(no_ecs, &q, event), [0, 1]);
}

#[test]
fn explanations_show_values_as_read() {
    let rs = rules(Options::default(), &[r#"process where user.id == "0""#]);
    let ev = rs.read_json(AUDITD_EXEC).unwrap();
    let ex = serde_json::to_value(&rs.explain(0, &ev)[0]).unwrap().to_string();
    assert!(ex.contains(r#""values":["0"]"#), "{ex}");
}

// ---------------------------------------------------------------------------------------------
// The command line

fn eqlite(args: &[&str], stdin: &str) -> (i32, String, String) {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_eqlite"))
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8(out.stdout).unwrap(), String::from_utf8(out.stderr).unwrap())
}

fn alerts(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["rule_id"].as_str().unwrap().to_string())
        .collect()
}

fn one_line(json: &str) -> String {
    serde_json::from_str::<serde_json::Value>(json).unwrap().to_string() + "\n"
}

#[test]
fn cli_reads_ecs_types_by_default_and_not_with_no_ecs_types() {
    let input = one_line(AUDITD_EXEC) + &one_line(KUBELET_CONNECT);
    let q = ["--query", r#"process where user.id == "0""#, "--query", "network where destination.port == 10250"];
    let (code, out, err) = eqlite(&[&["scan", "-"][..], &q].concat(), &input);
    assert_eq!((code, alerts(&out)), (0, vec!["query-0".into(), "query-1".into()]), "{err}");
    let (code, out, _) = eqlite(&[&["scan", "--no-ecs-types", "-"][..], &q].concat(), &input);
    assert_eq!((code, alerts(&out)), (0, vec![]));
    // The default kubelet pack sees the string port as well.
    let (_, out, _) = eqlite(&["scan", "-"], &one_line(KUBELET_CONNECT));
    assert_eq!(alerts(&out).len(), 1, "{out}");
}

#[test]
fn cli_mapping_and_field_type_tables() {
    let dir = std::env::temp_dir().join(format!("eqlite-field-types-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let table = dir.join("app.types");
    std::fs::write(&table, "# my application's fields\napp.port long\n").unwrap();
    let mapping = dir.join("mapping.json");
    std::fs::write(&mapping, r#"{"properties":{"user":{"properties":{"id":{"type":"long"}}}}}"#).unwrap();
    let input = r#"{"event":{"category":"process"},"app":{"port":"8080"},"user":{"id":"0"}}"#;
    let q = ["--query", "process where app.port == 8080", "--query", "process where user.id == 0"];
    let t = table.to_str().unwrap();
    let m = mapping.to_str().unwrap();
    let (_, out, _) = eqlite(&[&["scan", "-"][..], &q].concat(), input);
    assert_eq!(alerts(&out), ["query-1"]);
    let (_, out, _) = eqlite(&[&["scan", "--field-types", t, "--mapping", m, "-"][..], &q].concat(), input);
    assert_eq!(alerts(&out), ["query-0", "query-1"]);
    std::fs::write(&table, "app.port lng\n").unwrap();
    let (code, _, err) = eqlite(&["check", "--field-types", t, "--query", "any where true"], "");
    assert_eq!(code, 1);
    assert!(err.contains("app.types: line 1: unknown field type `lng`"), "{err}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn cli_names_the_ecs_version_of_its_field_types() {
    let ecs = TypeTable::ecs().version().unwrap();
    let (code, out, _) = eqlite(&["--version"], "");
    assert_eq!(
        (code, out.trim().to_string()),
        (0, format!("eqlite {} (Elastic Common Schema field types {ecs})", env!("CARGO_PKG_VERSION")))
    );
    let (_, _, err) = eqlite(&["check", "--verbose"], "");
    assert!(err.contains(&format!("field types: Elastic Common Schema {ecs} and Kubernetes audit logs")), "{err}");
    let (_, _, err) = eqlite(&["check", "--verbose", "--no-ecs-types"], "");
    assert!(err.contains("field types: none built in"), "{err}");
}
