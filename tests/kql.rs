//! KQL: every KQL rule of the detection-rules corpus loads, the conformance cases of
//! detection-rules' own KQL package (`../shared/testdata/detection-rules-kql/tests-kuery`), and
//! KQL's semantics where they differ from EQL's.

mod common;

use eqlite::{ErrorKind, RuleSet};
use serde_json::json;

/// Whether a KQL query matches a document.
fn eval(query: &str, doc: &serde_json::Value) -> Result<bool, eqlite::Error> {
    let mut rs = RuleSet::default();
    rs.add_kql("q", query)?;
    let text = doc.to_string();
    let ev = rs.read_json(&text)?;
    Ok(!rs.matches(&ev).is_empty())
}

#[test]
fn every_kql_corpus_rule_loads() {
    let Some(dir) = common::shared("corpus/detection-rules-kuery") else { return };
    let pack = eqlite::Pack::read(&dir).unwrap();
    assert_eq!(pack.len(), 792);
    let mut rs = RuleSet::default();
    let report = rs.load(&pack);
    assert!(report.errors.is_empty(), "{}", eqlite::render_all(&report.errors));
    assert_eq!(report.loaded.len(), 507, "every KQL `query` rule");
    // The query of every other KQL rule (threshold, new_terms, threat_match) parses and compiles
    // too.
    let mut all = RuleSet::default();
    for f in pack.files() {
        let doc: toml::Table = toml::from_str(&f.text).unwrap();
        let query = doc["rule"]["query"].as_str().unwrap();
        all.add_kql(&f.origin, query).unwrap_or_else(|e| panic!("{}: {e}", f.origin));
    }
    assert_eq!(all.len(), 792);
}

/// test_evaluator.py's document.
fn document() -> serde_json::Value {
    json!({
        "number": 1,
        "boolean": true,
        "ip": "192.168.16.3",
        "string": "hello world",
        "string_list": ["hello world", "example"],
        "number_list": [1, 2, 3],
        "boolean_list": [true, false],
        "structured": [{"a": [{"b": 1}]}],
    })
}

/// test_evaluator.py, case by case (its free-text and nested cases are below, as deviations).
const EVALUATOR_CASES: &[(&str, bool)] = &[
    // test_single_value
    ("number:1", true),
    ("number:\"1\"", true),
    ("boolean:true", true),
    ("string:\"hello world\"", true),
    ("number:0", false),
    ("boolean:false", false),
    ("string:\"missing\"", false),
    // test_list_value
    ("number_list:1", true),
    ("number_list:2", true),
    ("number_list:3", true),
    ("boolean_list:true", true),
    ("boolean_list:false", true),
    ("string_list:\"hello world\"", true),
    ("string_list:example", true),
    ("number_list:4", false),
    ("string_list:\"missing\"", false),
    // test_and_values
    ("number_list:(1 and 2)", true),
    ("boolean_list:(false and true)", true),
    ("string:(\"missing\" and \"hello world\")", false),
    ("number:(0 and 1)", false),
    ("boolean:(false and true)", false),
    // test_not_value
    ("not number_list:1", false),
    ("number_list:(not 1)", false),
    // test_or_values
    ("number:(0 or 1)", true),
    ("number:(1 or 2)", true),
    ("boolean:(false or true)", true),
    ("string:(\"missing\" or \"hello world\")", true),
    ("number:(0 or 3)", false),
    // test_and_expr, test_or_expr
    ("number:1 and boolean:true", true),
    ("number:1 and boolean:false", false),
    ("number:1 or boolean:false", true),
    ("number:0 or boolean:false", false),
    // test_range
    ("number < 2", true),
    ("number > 2", false),
    // test_cidr_match
    ("ip:192.168.0.0/16", true),
    ("ip:10.0.0.0/8", false),
    // test_quoted_wildcard (single quotes are ordinary characters in KQL)
    ("string:'*'", false),
    ("string:'?'", false),
    // test_wildcard
    ("string:hello*", true),
    ("string:*world", true),
    ("string:foobar*", false),
    // test_field_exists
    ("number:*", true),
    ("boolean:*", true),
    ("ip:*", true),
    ("string:*", true),
    ("string_list:*", true),
    ("number_list:*", true),
    ("boolean_list:*", true),
    ("a:*", false),
    // test_flattening
    ("structured.a.b:*", true),
    ("structured.a.b:1", true),
    ("structured.a.b:2", false),
    // test_nested_query (one object: same-object semantics and flattening agree)
    ("structured:{ a:{ b:1 } }", true),
    ("structured:{ a:{ b:2 } }", false),
];

#[test]
fn detection_rules_evaluator_cases() {
    let doc = document();
    for (q, want) in EVALUATOR_CASES {
        assert_eq!(eval(q, &doc).unwrap_or_else(|e| panic!("{q}: {e}")), *want, "{q}");
    }
}

#[test]
fn deviation_free_text_is_refused_with_its_position() {
    // detection-rules searches every leaf of the document; eqlite reads only the fields a
    // query names, so a value without a field is an error at the value (see README).
    for (q, at) in [("\"hello world\"", 0), ("example", 0), ("hello*", 0), ("number:1 and \"missing\"", 13)] {
        let e = eval(q, &document()).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Parse, "{q}");
        assert_eq!(e.span().start, at, "{q}");
        assert!(e.message().contains("free text"), "{q}: {e}");
    }
}

#[test]
fn deviation_nested_queries_read_arrays_of_objects_flattened() {
    // test_evaluator.py's NestedEvaluatorTests: with a `nested` mapping Elasticsearch matches
    // only when one object satisfies the whole inner query. eqlite reads arrays of objects
    // flattened (as for an `object` mapping), so the cross-object case matches (see README).
    let doc =
        json!({"deltas": [{"action": "ADD", "role": "roles/target"}, {"action": "REMOVE", "role": "roles/other"}]});
    assert!(eval("deltas:{ action:ADD and role:\"roles/target\" }", &doc).unwrap());
    assert!(eval("deltas:{ action:ADD and role:\"roles/other\" }", &doc).unwrap(), "flattened");
    assert!(!eval("deltas:{ action:ADD and role:\"roles/none\" }", &doc).unwrap());
}

#[test]
fn not_of_a_missing_field_is_true_unlike_eql() {
    let doc = json!({"event": {"category": "process"}, "process": {"name": "curl"}});
    // KQL's `not` is `must_not`: an event without `user.name` is not `root`.
    assert!(eval("not user.name: root", &doc).unwrap());
    assert!(eval("process.name: curl and not user.name: (root or admin)", &doc).unwrap());
    assert!(eval("user.name: (not root)", &doc).unwrap());
    assert!(eval("not user.id > 10", &doc).unwrap());
    assert!(!eval("not process.name: curl", &doc).unwrap());
    // EQL's `not` of a missing field is null, so no match.
    let mut rs = RuleSet::default();
    rs.add_query("e", r#"any where not user.name == "root""#).unwrap();
    assert!(rs.matches(&rs.read_json(&doc.to_string()).unwrap()).is_empty());
}

#[test]
fn keyword_values_are_exact_and_case_sensitive_text_values_are_analysed() {
    let doc = json!({"process": {"name": "Curl", "args": ["curl", "-k", "https://h:10250/pods?x=1"]},
                     "message": "loading out-of-tree module taints kernel."});
    assert!(eval("process.name: Curl", &doc).unwrap());
    assert!(!eval("process.name: curl", &doc).unwrap(), "keyword: case-sensitive");
    assert!(!eval("process.name: Cur", &doc).unwrap(), "keyword: exact");
    assert!(eval("process.name: C*", &doc).unwrap());
    assert!(!eval("process.name: c*", &doc).unwrap(), "keyword wildcards are case-sensitive");
    assert!(!eval("process.name: \"C*\"", &doc).unwrap(), "quoted: no wildcard");
    // `?` is an ordinary character in KQL (Kibana escapes it for Elasticsearch).
    assert!(eval("process.args: *pods?x=1", &doc).unwrap());
    assert!(!eval("process.args: *pods?x=?", &doc).unwrap());
    // `message` is `match_only_text`: analysed words.
    assert!(eval("message: \"Module Taints\"", &doc).unwrap());
    assert!(!eval("message: \"taints module\"", &doc).unwrap(), "a phrase keeps its order");
    assert!(eval("message: KERNEL", &doc).unwrap());
    assert!(eval("message: *taint*", &doc).unwrap());
}

#[test]
fn escapes_field_patterns_and_ranges() {
    let doc = json!({"user": {"name": "system:node:gke-1"}, "file": {"hash": {"sha256": "ab"}},
                     "destination": {"port": 10250, "ip": "10.1.2.3"}, "@timestamp": "2026-01-02T00:00:00Z"});
    assert!(eval(r"user.name: system\:node\:*", &doc).unwrap());
    assert!(eval(r#"user.name: "system:node:gke-1""#, &doc).unwrap());
    assert!(eval("file.hash.*: *", &doc).unwrap(), "expanded over the ECS fields");
    assert!(!eval("process.hash.*: *", &doc).unwrap());
    assert!(eval("destination.port >= 10250 and destination.port < 10251", &doc).unwrap());
    assert!(eval("destination.port: \"10250\"", &doc).unwrap(), "read as the field's type");
    assert!(eval("destination.port > \"10249\"", &doc).unwrap());
    assert!(eval("kq.n < \"5\"", &json!({"kq": {"n": 4}})).unwrap(), "a quoted number on an untyped field");
    assert!(eval("destination.ip: 10.0.0.0/8 and not destination.ip: 192.168.0.0/16", &doc).unwrap());
    assert!(eval("@timestamp >= \"2026-01-01\"", &doc).unwrap());
}

/// Whether a KQL query matches a document, under these options.
fn eval_with(options: eqlite::Options, query: &str, doc: &serde_json::Value) -> bool {
    let mut rs = RuleSet::new(options);
    rs.add_kql("q", query).unwrap();
    let text = doc.to_string();
    !rs.matches(&rs.read_json(&text).unwrap()).is_empty()
}

/// A field pattern stands for the fields of the type tables it matches (Kibana: of the data
/// view), not for the event's own keys; one that matches no known field names the field with `*`
/// in its path, so it matches no usual event, and its `not` every one (see README, deliberate
/// deviations).
#[test]
fn field_patterns_expand_over_the_type_tables_only() {
    let curl = json!({"process": {"name": "curl"}});
    let custom = json!({"process": {"custom_x": "curl"}});
    assert!(eval("process.*: curl", &curl).unwrap(), "process.name, an ECS field");
    assert!(!eval("process.*: curl", &custom).unwrap(), "process.custom_x is in no table");
    let table = eqlite::TypeTable::parse("process.custom_x keyword").unwrap();
    let typed = || eqlite::Options { field_types: vec![std::sync::Arc::new(table.clone())], ..Default::default() };
    assert!(eval_with(typed(), "process.*: curl", &custom), "a --field-types table names it");
    let untyped = eqlite::Options { ecs_types: false, ..Default::default() };
    assert!(!eval_with(untyped, "process.*: curl", &curl), "no ECS table, no expansion");
    let foo = json!({"foo": {"a": "bar"}});
    assert!(!eval("foo.*: bar", &foo).unwrap(), "matches no known field");
    assert!(!eval("foo.*: *", &foo).unwrap());
    assert!(eval("not foo.*: bar", &foo).unwrap(), "must_not of nothing");
    assert!(eval("foo.*: bar", &json!({"foo": {"*": "bar"}})).unwrap(), "the key `*` itself");
}

#[test]
fn errors_are_positioned() {
    for (q, at, msg) in [
        ("process.name: (curl or", 22, "expected"),
        ("process.name: curl and ", 23, "expected"),
        (r"process.name: cu\qrl", 16, "expected"),
        ("a: b or\"c\"", 7, "expected"),
        ("not not a: b", 4, "expected"),
        (":x", 0, "expected"),
    ] {
        let e = eval(q, &json!({})).err().unwrap_or_else(|| panic!("{q} parsed"));
        assert_eq!(e.kind(), ErrorKind::Parse, "{q}: {e}");
        assert_eq!(e.span().start, at, "{q}: {e}");
        assert!(e.message().contains(msg), "{q}: {e}");
    }
}

/// test_parser.py's syntax cases (with a field: free text is a deviation, above), each checked by
/// what it matches.
#[test]
fn detection_rules_parser_cases() {
    let doc = |v: &str| json!({ "field": v, "app_message": v, "process": {"args": [v]}, "other": "value" });
    for (q, value, want) in [
        ("field: *S3 Browser*", "my S3 Browser x", true),
        ("field: *S3 Browser", "x S3 Browser", true),
        ("field: S3 Browser*", "S3 Browser 1", true),
        ("field: S3 B*owser", "S3 Bxowser", true),
        ("field: S3* Browser", "S3x Browser", true),
        ("field: foo* bar* baz", "foo1 bar2 baz", true),
        (r"field: *\: No such file*", "cat: No such file or directory", true),
        (r"field: *foo\(bar baz*", "xfoo(bar baz", true),
        (r"field: foo* bar\:baz", "foo1 bar:baz", true),
        (r"app_message : *\: No such file or app_message : directory", "directory", true),
        (r"field: *foo\<bar baz*", "foo<bar baz", true),
        ("field: *S3 Browser* and other: value", "S3 Browser", true),
        ("field: *or something*", "more or something", true),
        ("field: *not this*", "why not this", true),
        ("process.args: not /test/go-build*", "/test/go-build123", false),
        ("process.args: not /test/go-build*", "/usr/bin/go", true),
        ("field: \"*text*\"", "*text*", true),
        ("field: \"*text*\"", "some text here", false),
        (r"process.args:/lockscreenurl\:http*", "/lockscreenurl:https://x", true),
        (r"field:\*", "*", true),
        (r"field:\*", "anything", false),
        (r"field:foo\*bar", "foo*bar", true),
        (r"field:foo\*bar*", "foo*barbaz", true),
        ("field: not not not foo", "foo", false),
        ("field: not not not foo", "bar", true),
        ("\"field\": foo", "foo", true),
    ] {
        assert_eq!(eval(q, &doc(value)).unwrap_or_else(|e| panic!("{q}: {e}")), want, "{q} on {value:?}");
    }
    // Rejected by both (test_blank_space, invalid escapes, unescaped `<` `>`).
    for q in [
        r#"field: "Test-ServiceDaclPermission" or"Update-ExeFunctions""#,
        r"field: foo\'bar",
        r"field: *foo\' bar",
        r"field: foo\qbar*",
        r"field: *foo\q bar*",
        "field: foo<bar*",
        "field: *foo bar<baz*",
        "field: *foo bar>baz*",
    ] {
        assert_eq!(eval(q, &doc("x")).map_err(|e| e.kind()), Err(ErrorKind::Parse), "{q}");
    }
}
