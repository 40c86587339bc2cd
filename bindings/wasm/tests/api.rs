//! The JavaScript API, exercised from wasm-bindgen-test in Node and in headless Chromium
//! (`WASM_BINDGEN_USE_BROWSER=1`): rules, evaluation, streaming, explanations, errors, and
//! `splitEvents` / `evaluateBatch` against the splitter's shared table.

use eqlite_wasm::{check, check_rule_toml, Engine};
use js_sys::{Array, Reflect, JSON};
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;

const ATTACK: &str = r#"{"@timestamp":"2026-08-20T07:00:00.000Z","event":{"category":["process"],"type":["start"],"action":"exec","ingested":"2026-08-20T07:00:00.500Z"},
  "host":{"os":{"type":"linux"},"name":"worker-3"},"container":{"id":"e73d466206ac0d5af92e51050b95164b29d3a83d73b27333ba5e734faf2c1731"},
  "process":{"name":"curl","executable":"/usr/bin/curl","args":["curl","-sk","-H","Authorization: Bearer eyJh","https://10.0.0.12:10250/pods"]}}"#;
const BENIGN: &str = r#"{"@timestamp":"2026-08-20T07:00:01.000Z","event":{"category":["process"],"type":["start"],"action":"exec"},
  "host":{"os":{"type":"linux"}},"container":{"id":"e73d466206ac0d5af92e51050b95164b29d3a83d73b27333ba5e734faf2c1731"},
  "process":{"name":"curl","args":["curl","-s","https://example.com/healthz"]}}"#;
const D4C_RULE: &str = "b4bd186b-69c6-45ad-8bef-5c35bbadeaef";

fn get(v: &JsValue, key: &str) -> JsValue {
    Reflect::get(v, &JsValue::from_str(key)).unwrap()
}

fn json(v: &JsValue) -> String {
    JSON::stringify(v).unwrap().as_string().unwrap()
}

fn rule_ids(alerts: &JsValue) -> Vec<String> {
    Array::from(alerts).iter().map(|a| get(&a, "ruleId").as_string().unwrap()).collect()
}

fn engine() -> Engine {
    let mut e = Engine::new(None).unwrap();
    assert_eq!(e.load_default_rules().unwrap(), 20);
    e
}

#[wasm_bindgen_test]
fn kubelet_attack_fires_and_benign_does_not() {
    let mut e = engine();
    let alerts = e.evaluate(JsValue::from_str(ATTACK)).unwrap();
    assert!(rule_ids(&alerts).contains(&D4C_RULE.to_string()), "{}", json(&alerts));
    let a = Array::from(&alerts).iter().find(|a| get(a, "ruleId").as_string().unwrap() == D4C_RULE).unwrap();
    assert_eq!(get(&a, "severity").as_string().unwrap(), "high");
    assert_eq!(get(&a, "riskScore").as_f64().unwrap(), 73.0);
    assert!(Array::from(&e.evaluate(JsValue::from_str(BENIGN)).unwrap()).length() == 0);
}

#[wasm_bindgen_test]
fn objects_and_json_text_are_the_same_event() {
    let mut e = engine();
    let object = JSON::parse(ATTACK).unwrap();
    assert_eq!(json(&e.evaluate(object).unwrap()), json(&e.evaluate(JsValue::from_str(ATTACK)).unwrap()));
}

#[wasm_bindgen_test]
fn rules_list_metadata() {
    let e = engine();
    let rules = Array::from(&e.rules().unwrap());
    assert_eq!(rules.length(), 20);
    let r = rules.iter().find(|r| get(r, "ruleId").as_string().unwrap() == D4C_RULE).unwrap();
    assert_eq!(get(&r, "kind").as_string().unwrap(), "event");
    assert!(json(&get(&r, "techniques")).contains("T1059.004"));
    assert!(get(&r, "query").as_string().unwrap().contains("10250"));
    let kinds: Vec<String> = rules.iter().map(|r| get(&r, "kind").as_string().unwrap()).collect();
    assert_eq!(kinds.iter().filter(|k| *k == "sequence").count(), 5);
}

#[wasm_bindgen_test]
fn explanations_have_camel_case_spans_and_deciding_values() {
    let e = engine();
    let reports = Array::from(&e.explain(JsValue::from_str(ATTACK), Some(D4C_RULE.into())).unwrap());
    assert_eq!(reports.length(), 1);
    let r = reports.get(0);
    assert_eq!(get(&r, "matched"), JsValue::TRUE);
    let text = json(&r);
    assert!(
        text.contains(r#""decidedBy":{"pattern":"http*:10250*","value":"https://10.0.0.12:10250/pods"}"#),
        "{text}"
    );
    assert!(text.contains("\"startUtf16\""));
    let benign = json(&e.explain(JsValue::from_str(BENIGN), Some(D4C_RULE.into())).unwrap());
    assert!(benign.contains(r#""matched":false"#));
}

#[wasm_bindgen_test]
fn queries_and_toml_rules_can_be_added_and_removed() {
    let mut e = Engine::new(None).unwrap();
    e.add_query("curl", r#"process where process.name : "CURL""#, None).unwrap();
    assert_eq!(rule_ids(&e.evaluate(JsValue::from_str(ATTACK)).unwrap()), ["curl"]);
    let toml = "[rule]\nrule_id = \"r1\"\nname = \"Wget\"\nseverity = \"low\"\nrisk_score = 21\nlanguage = \"eql\"\ntype = \"eql\"\nquery = '''\nprocess where process.name == \"wget\"\n'''\n";
    assert_eq!(e.add_rule_toml(toml).unwrap(), "r1");
    assert!(e.remove_rule("curl"));
    assert!(!e.remove_rule("curl"));
    assert_eq!(Array::from(&e.rules().unwrap()).length(), 1);
    let kql = "[rule]\nrule_id = \"k\"\nname = \"K\"\nlanguage = \"kuery\"\ntype = \"query\"\nquery = \"a:b\"\n";
    assert_eq!(e.add_rule_toml(kql).unwrap(), "k");
    assert_eq!(rule_ids(&e.evaluate(JsValue::from_str(r#"{"a":"b"}"#)).unwrap()), ["k"]);
    let threshold = kql.replace("\"k\"", "\"t\"").replace("\"query\"", "\"threshold\"");
    let err = e.add_rule_toml(&threshold).unwrap_err();
    assert!(js_sys::Error::from(err).message().as_string().unwrap().contains("KQL `threshold`"));
}

#[wasm_bindgen_test]
fn syntax_errors_throw_errors_with_positions() {
    let mut e = Engine::new(None).unwrap();
    let err = e.add_query("bad", "process where \"é\" == process.name and a === 1", None).unwrap_err();
    assert!(err.is_instance_of::<js_sys::Error>());
    assert!(js_sys::Error::from(err.clone()).message().as_string().unwrap().starts_with("unknown operator `===`"));
    assert_eq!(get(&err, "line").as_f64(), Some(1.0));
    assert_eq!(get(&err, "startUtf16").as_f64(), Some(40.0));
    assert_eq!(get(&err, "endUtf16").as_f64(), Some(43.0));
    assert!(get(&err, "rendered").as_string().unwrap().contains('^'));

    let diags = Array::from(&check("process where").unwrap());
    assert_eq!(diags.length(), 1);
    assert_eq!(Array::from(&check("any where true").unwrap()).length(), 0);
    let toml = "[rule]\nrule_id = \"x\"\nname = \"X\"\nlanguage = \"eql\"\nquery = '''\nprocess where a = 1\n'''\n";
    let d = Array::from(&check_rule_toml(toml).unwrap()).get(0);
    assert_eq!(get(&d, "line").as_f64(), Some(6.0), "positioned in the TOML text");
}

#[wasm_bindgen_test]
fn bad_events_throw_clear_errors() {
    let mut e = engine();
    for bad in [JsValue::from_str("{nope"), JsValue::from_str("[1,2]"), JsValue::from_f64(3.0), JsValue::NULL] {
        let err = e.evaluate(bad).unwrap_err();
        let msg = js_sys::Error::from(err).message().as_string().unwrap();
        assert!(msg.starts_with("invalid event"), "{msg}");
    }
}

#[wasm_bindgen_test]
fn batches_report_bad_items_and_evaluate_the_rest() {
    let mut e = engine();
    let text = format!("{}\n{{\"broken\": }}\n{}\n", ATTACK.replace('\n', ""), BENIGN.replace('\n', ""));
    let r = e.evaluate_batch(JsValue::from_str(&text)).unwrap();
    assert_eq!(get(&r, "events").as_f64(), Some(3.0));
    let errors = Array::from(&get(&r, "errors"));
    assert_eq!(errors.length(), 1);
    assert_eq!(get(&errors.get(0), "line").as_f64(), Some(2.0));
    assert_eq!(get(&errors.get(0), "position").as_f64(), Some(1.0));
    assert!(rule_ids(&get(&r, "alerts")).contains(&D4C_RULE.to_string()));
    // The engine's own splitting, with positions that match the alerts'.
    let items = Array::from(&eqlite_wasm::split_events(&text.as_str().into()).unwrap());
    assert_eq!(items.length(), 3);
    assert!(get(&items.get(1), "error").as_string().is_some());
    assert_eq!(get(&items.get(2), "line").as_f64(), Some(3.0));
    // An array of objects works too.
    let arr = Array::of2(&JSON::parse(ATTACK).unwrap(), &JSON::parse(BENIGN).unwrap());
    let r = e.evaluate_batch(arr.into()).unwrap();
    assert_eq!(get(&r, "events").as_f64(), Some(2.0));
}

/// Issue 14 item 12: `[ev, '{"a":', ev, ev].join("\n")` is 4 items, one invalid, and 3 alerts.
#[wasm_bindgen_test]
fn a_truncated_ndjson_line_is_one_invalid_item() {
    let mut e = engine();
    let ev = ATTACK.replace('\n', "");
    let text = [ev.as_str(), "{\"a\":", &ev, &ev].join("\n");
    let r = e.evaluate_batch(JsValue::from_str(&text)).unwrap();
    assert_eq!(get(&r, "events").as_f64(), Some(4.0));
    let d4c: Vec<String> = Array::from(&get(&r, "alerts"))
        .iter()
        .filter(|a| get(a, "ruleId").as_string().unwrap() == D4C_RULE)
        .map(|a| json(&get(&a, "events")))
        .collect();
    assert_eq!(d4c, ["[0]", "[2]", "[3]"]);
    assert_eq!(
        json(&get(&r, "errors")),
        r#"[{"position":1,"line":2,"column":6,"message":"EOF while parsing a value"}]"#
    );
    let items = Array::from(&eqlite_wasm::split_events(&text.as_str().into()).unwrap());
    assert_eq!(items.length(), 4);
    assert_eq!(get(&items.get(1), "error").as_string().unwrap(), "EOF while parsing a value");
    assert_eq!(get(&items.get(2), "json").as_string().unwrap(), ev);
}

/// Every case of `tests/fixtures/split-cases.json`, through `splitEvents` and `evaluateBatch`.
#[wasm_bindgen_test]
fn split_events_and_batches_follow_the_shared_table() {
    let table: serde_json::Value =
        serde_json::from_str(include_str!("../../../tests/fixtures/split-cases.json")).unwrap();
    let cases = table["cases"].as_array().unwrap();
    assert!(cases.len() >= 30);
    let mut e = Engine::new(None).unwrap();
    e.add_query("all", "any where true", None).unwrap();
    for c in cases {
        let (name, input, want) = (&c["name"], c["input"].as_str().unwrap(), c["items"].as_array().unwrap());
        let items = Array::from(&eqlite_wasm::split_events(&input.into()).unwrap());
        assert_eq!(items.length() as usize, want.len(), "{name}: {}", json(&items.into()));
        let js_input = js_sys::JsString::from(input);
        for (i, (got, want)) in items.iter().zip(want).enumerate() {
            assert_eq!(get(&got, "position").as_f64(), Some(i as f64), "{name}");
            assert_eq!(get(&got, "line").as_f64(), want["line"].as_f64(), "{name}: item {i}");
            assert_eq!(get(&got, "column").as_f64(), want["column"].as_f64(), "{name}: item {i}");
            match want["json"].as_str() {
                Some(j) => {
                    assert_eq!(get(&got, "json").as_string().as_deref(), Some(j), "{name}: item {i}");
                    assert_eq!(get(&got, "origin").as_string().as_deref(), want["origin"].as_str(), "{name}: item {i}");
                    // The UTF-16 offset indexes the JavaScript string.
                    let at = get(&got, "offsetUtf16").as_f64().unwrap() as u32;
                    let len = js_sys::JsString::from(j).length();
                    assert_eq!(String::from(js_input.slice(at, at + len)), j, "{name}: item {i}");
                }
                None => {
                    assert_eq!(get(&got, "error").as_string().as_deref(), want["error"].as_str(), "{name}: item {i}")
                }
            }
        }
        // The batch counts the same items; objects are events, the rest are invalid.
        let r = e.evaluate_batch(JsValue::from_str(input)).unwrap();
        assert_eq!(get(&r, "events").as_f64(), Some(want.len() as f64), "{name}");
        // (The splitter checked the JSON; `Value` would refuse the lone surrogate case.)
        let is_event = |w: &serde_json::Value| w["json"].as_str().is_some_and(|j| j.starts_with('{'));
        let fired: Vec<String> = Array::from(&get(&r, "alerts")).iter().map(|a| json(&get(&a, "events"))).collect();
        let events: Vec<String> = (0..want.len()).filter(|&i| is_event(&want[i])).map(|i| format!("[{i}]")).collect();
        assert_eq!(fired, events, "{name}");
        let errors = Array::from(&get(&r, "errors"));
        let bad: Vec<usize> = (0..want.len()).filter(|&i| !is_event(&want[i])).collect();
        assert_eq!(errors.length() as usize, bad.len(), "{name}: {}", json(&errors.clone().into()));
        for (err, &i) in errors.iter().zip(&bad) {
            assert_eq!(get(&err, "position").as_f64(), Some(i as f64), "{name}");
            if let Some(msg) = want[i]["error"].as_str() {
                assert_eq!(get(&err, "line").as_f64(), want[i]["line"].as_f64(), "{name}: item {i}");
                assert_eq!(get(&err, "column").as_f64(), want[i]["column"].as_f64(), "{name}: item {i}");
                assert_eq!(get(&err, "message").as_string().as_deref(), Some(msg), "{name}: item {i}");
            }
        }
    }
}

#[wasm_bindgen_test]
fn streaming_fires_the_five_run_pod_discovery_sequence_and_survives_a_restore() {
    let mut e = engine();
    let ev = |i: u32, args: &str| {
        format!(
            r#"{{"@timestamp":"2026-08-20T07:00:0{i}.000Z","event":{{"category":["process"],"type":["start"],"action":"exec","ingested":"2026-08-20T07:00:0{i}.100Z"}},
            "host":{{"os":{{"type":"linux"}}}},"container":{{"id":"c1"}},"user":{{"id":"0"}},"process":{{"name":"ls","args":["ls","{args}"]}}}}"#
        )
        .replace('\n', "")
    };
    let pod = "f596175f-b8fd-43ac-b9e9-ea2a96bb55d8";
    for i in 0..4 {
        assert!(
            !rule_ids(&e.push(JsValue::from_str(&ev(i, "/var/lib/kubelet/pods/"))).unwrap()).contains(&pod.to_string())
        );
    }
    // A reload in the middle of the sequence: the state survives.
    let state = e.save_state();
    let mut fresh = engine();
    fresh.restore_state(&state).unwrap();
    let alerts = fresh.push(JsValue::from_str(&ev(4, "/var/lib/kubelet/pods/x"))).unwrap();
    let a = Array::from(&alerts)
        .iter()
        .find(|a| get(a, "ruleId").as_string().unwrap() == pod)
        .expect("fires on the 5th run");
    assert_eq!(json(&get(&a, "events")), "[0,1,2,3,4]");
    let members: Vec<JsValue> = (0..5).map(|i| JsValue::from_str(&ev(i, "/var/lib/kubelet/pods/x"))).collect();
    let stages = Array::from(&fresh.explain_alert(a.clone(), members).unwrap());
    assert_eq!(stages.length(), 5);
    assert_eq!(get(&stages.get(1), "gapMs").as_f64(), Some(1000.0));
    assert!(json(&stages.get(4)).contains(r#""field":"container.id","values":["c1"]"#));
    assert_eq!(get(&fresh.stats().unwrap(), "events").as_f64(), Some(5.0));
    assert!(Array::from(&fresh.flush().unwrap()).length() == 0);
}

/// The spec-like case of the issue on the kubelet pack: a five-run sequence, the engine replaced
/// by a fresh one from a snapshot after every event, gives exactly the alerts of one engine.
#[wasm_bindgen_test]
fn snapshot_after_every_push_restores_into_a_fresh_engine_with_the_same_alerts() {
    let ev = |i: u32, args: &str| {
        format!(
            r#"{{"@timestamp":"2026-08-20T07:00:0{i}.000Z","event":{{"category":["process"],"type":["start"],"action":"exec"}},"host":{{"os":{{"type":"linux"}}}},"container":{{"id":"c1"}},"user":{{"id":"0"}},"process":{{"name":"ls","args":["ls","{args}"]}}}}"#
        )
    };
    let events: Vec<String> = (0..6).map(|i| ev(i, "/var/lib/kubelet/pods/")).chain([ATTACK.to_string()]).collect();
    let mut whole = engine();
    let mut want = Vec::new();
    for e in &events {
        want.push(json(&whole.push(JsValue::from_str(e)).unwrap()));
    }
    want.push(json(&whole.flush().unwrap()));
    let mut current = engine();
    let mut got = Vec::new();
    for e in &events {
        got.push(json(&current.push(JsValue::from_str(e)).unwrap()));
        let bytes = current.snapshot();
        current = engine();
        let r = current.restore(&bytes).unwrap();
        assert_eq!(json(&r), r#"{"dropped":0,"droppedPending":0,"kept":20}"#);
    }
    got.push(json(&current.flush().unwrap()));
    assert_eq!(got, want);
    assert!(want.iter().any(|a| a.contains("f596175f-b8fd-43ac-b9e9-ea2a96bb55d8")), "{want:?}");

    // A changed rule set keeps what it can; a corrupt snapshot throws a `snapshot` error and the
    // stream is empty.
    let mut e = engine();
    e.push(JsValue::from_str(&events[0])).unwrap();
    let bytes = e.snapshot();
    let mut other = Engine::new(None).unwrap();
    other.add_query("q", "process where true", None).unwrap();
    let r = other.restore(&bytes).unwrap();
    assert_eq!(json(&r), r#"{"dropped":20,"droppedPending":1,"kept":0}"#);
    let err = e.restore(&bytes[..bytes.len() - 1]).unwrap_err();
    assert_eq!(get(&err, "kind").as_string().as_deref(), Some("snapshot"));
    let msg = get(&err, "message").as_string().unwrap();
    assert!(msg.starts_with("invalid stream snapshot: truncated"), "{msg}");
    assert_eq!(get(&e.stats().unwrap(), "pending").as_f64(), Some(0.0));
}

#[wasm_bindgen_test]
fn values_are_read_as_their_ecs_types_unless_turned_off() {
    // As auditd sensors write it: the user id a number; a shipper wrote the port as a string.
    const EVENT: &str = r#"{"@timestamp":"2026-08-20T07:00:00.000Z","event":{"category":["process"]},"user":{"id":0},
      "destination":{"port":"10250"},"app":{"port":"8080"}}"#;
    let queries = [
        ("uid", r#"process where user.id == "0""#),
        ("port", "process where destination.port == 10250"),
        ("app", "process where app.port == 8080"),
        ("app-text", r#"process where app.port == "8080""#),
    ];
    let run = |options: Option<&str>| {
        let mut e = Engine::new(options.map(|o| JSON::parse(o).unwrap().into())).unwrap();
        for (id, q) in queries {
            e.add_query(id, q, None).unwrap();
        }
        let mut ids = rule_ids(&e.evaluate(JsValue::from_str(EVENT)).unwrap());
        ids.sort();
        ids
    };
    // `app.port` is no ECS field: its JSON string stays a string.
    assert_eq!(run(None), ["app-text", "port", "uid"]);
    assert_eq!(run(Some(r#"{"ecsTypes": false}"#)), ["app-text"]);
    // Typed, the field reads "8080" as 8080, and so does the literal compared with it.
    assert_eq!(run(Some(r#"{"fieldTypes": "app.port long"}"#)), ["app", "app-text", "port", "uid"]);
    // Later tables override earlier ones; the tables apply without the ECS types too. As a
    // keyword, "8080" is text, and so is the literal 8080 compared with it.
    assert_eq!(
        run(Some(r#"{"fieldTypes": ["app.port long", "app.port keyword"]}"#)),
        ["app", "app-text", "port", "uid"]
    );
    assert_eq!(run(Some(r#"{"fieldTypes": ["app.port long"], "ecsTypes": false}"#)), ["app", "app-text"]);
    for (bad, msg) in [
        (
            r#"{"fieldTypes": ["app.port long", "app.port lng"]}"#,
            "invalid options: fieldTypes[1]: line 1: unknown field type `lng`",
        ),
        (r#"{"fieldTypes": 5}"#, "invalid options: fieldTypes: expected a string or an array of strings"),
        (r#"{"fieldTypes": [5]}"#, "invalid options: fieldTypes: expected a string or an array of strings"),
    ] {
        let err = Engine::new(Some(JSON::parse(bad).unwrap().into())).map(|_| ()).unwrap_err();
        let m: String = err.unchecked_into::<js_sys::Error>().message().into();
        assert!(m.starts_with(msg), "{m}");
    }
    assert!(eqlite_wasm::ecs_version().starts_with(|c: char| c.is_ascii_digit()));
}

#[wasm_bindgen_test]
fn explanations_answer_the_next_question() {
    let mut e = Engine::new(None).unwrap();
    e.add_query("case", r#"process where process.name == "kubeletctl" and process.parent.name == "sshd""#, None)
        .unwrap();
    e.add_query(
        "seq",
        "sequence by host.id with maxspan=10s [process where true] ![file where true] [network where true]",
        None,
    )
    .unwrap();
    let event = r#"{"@timestamp":"2026-12-01T10:00:00Z","event":{"category":"process"},"host":{"id":"h1"},"process":{"name":"KubeletCtl"}}"#;
    let reports = Array::from(&e.explain(JsValue::from_str(event), Some("case".into())).unwrap());
    let and = get(
        &Array::from(&get(&Array::from(&get(&reports.get(0), "explanations")).get(0), "children")).get(1),
        "children",
    );
    let and_node = Array::from(&get(&Array::from(&get(&reports.get(0), "explanations")).get(0), "children")).get(1);
    assert_eq!(get(&and_node, "reason").as_string().unwrap(), "1 false, 1 null: `process.parent.name` is missing");
    let name = Array::from(&and).get(0);
    let case_only = get(&name, "caseOnly");
    assert_eq!(get(&case_only, "value").as_string().unwrap(), "KubeletCtl");
    assert_eq!(get(&case_only, "pattern").as_string().unwrap(), "kubeletctl");
    assert!(get(&name, "reason").as_string().unwrap().contains("would match \"kubeletctl\" with `:` or `in~`"));

    // A file event matches the missing-event stage: it prevents, it does not match.
    let file = r#"{"@timestamp":"2026-12-01T10:00:01Z","event":{"category":"file"},"host":{"id":"h1"}}"#;
    let report = Array::from(&e.explain(JsValue::from_str(file), Some("seq".into())).unwrap()).get(0);
    assert_eq!((get(&report, "matched").as_bool(), get(&report, "prevents").as_bool()), (Some(false), Some(true)));

    let events = [
        event.to_string(),
        file.to_string(),
        r#"{"@timestamp":"2026-12-01T10:00:02Z","event":{"category":"network"},"host":{"id":"h1"}}"#.into(),
        r#"{"@timestamp":"2026-12-01T10:00:00Z","event":{"category":"process"},"host":{"id":"h2"}}"#.into(),
        r#"{"@timestamp":"2026-12-01T10:00:12.5Z","event":{"category":"network"},"host":{"id":"h2"}}"#.into(),
    ];
    let p = e.sequence_progress("seq", &events.join("\n").into()).unwrap();
    assert_eq!(get(&p, "timestampField").as_string().unwrap(), "@timestamp");
    let keys = Array::from(&get(&p, "keys"));
    let by = |h: &str| keys.iter().find(|k| json(&get(k, "key")) == format!("[\"{h}\"]")).unwrap();
    // (Object keys cross the boundary sorted.)
    assert_eq!(json(&get(&by("h1"), "stopped")), r#"{"event":1,"kind":"missing","stage":1}"#);
    assert_eq!(json(&get(&by("h2"), "stopped")), r#"{"event":4,"exceededMs":2500,"kind":"maxspan"}"#);
    assert_eq!(get(&by("h2"), "pending").as_f64(), Some(2.0));
    // Not a sequence: a clear error. The alert's timestamp field.
    assert!(e.sequence_progress("case", &event.into()).is_err());
    let alert = JSON::parse(r#"{"ruleId":"seq","events":[3,4]}"#).unwrap();
    let members = vec![JsValue::from_str(&events[3]), JsValue::from_str(&events[4])];
    let stages = Array::from(&e.explain_alert(alert, members).unwrap());
    assert_eq!(get(&stages.get(0), "timestampField").as_string().unwrap(), "@timestamp");
}

#[wasm_bindgen_test]
fn a_case_file_runs_against_its_rule_with_coverage() {
    let e = engine();
    let attack = ATTACK.replace('\n', "");
    let benign = BENIGN.replace('\n', "");
    let cases = format!(
        "rule_id = \"{D4C_RULE}\"\n[[case]]\nname = \"curl to the kubelet\"\nexpect = \"fires\"\nevents = '{attack}'\n\
         [[case]]\nname = \"curl to a web site\"\nexpect = \"silent\"\nevents_file = \"benign.json\"\n"
    );
    let files = JSON::parse(&format!("{{\"benign.json\": {}}}", serde_json_string(&benign))).unwrap();
    let report = e.test(&cases, Some(files.clone().unchecked_into())).unwrap();
    assert_eq!(get(&report, "ruleId").as_string().unwrap(), D4C_RULE);
    let results = Array::from(&get(&report, "cases"));
    assert_eq!(results.length(), 2);
    assert!(results.iter().all(|c| get(&c, "passed").as_bool() == Some(true)), "{}", json(&report));
    assert_eq!(get(&results.get(0), "expected").as_string().unwrap(), "fires");
    assert_eq!(json(&get(&results.get(0), "got")), "[[0]]");
    // A query of `and`s: the firing case makes every condition decisive. The benign curl differs
    // from the attack in its URL only, so in it the args pattern alone is decisive.
    assert_eq!(get(&report, "coverage").as_f64(), Some(100.0));
    let conditions = Array::from(&get(&report, "conditions"));
    let decisive_in = |case: &str| -> Vec<String> {
        conditions
            .iter()
            .filter(|c| Array::from(&get(c, "decisiveIn")).iter().any(|n| n.as_string().as_deref() == Some(case)))
            .map(|c| get(&c, "text").as_string().unwrap())
            .collect()
    };
    assert_eq!(decisive_in("curl to the kubelet").len() as u32, conditions.length());
    let benign_decisive = decisive_in("curl to a web site");
    assert_eq!(benign_decisive.len(), 1, "{benign_decisive:?}");
    assert!(benign_decisive[0].starts_with("process.args like"), "{benign_decisive:?}");
    // A wrong expectation fails with the deciding clause; a file not given is the case's error.
    let wrong = cases.replacen("expect = \"fires\"", "expect = \"silent\"", 1);
    let report = e.test(&wrong, Some(files.unchecked_into())).unwrap();
    let first = Array::from(&get(&report, "cases")).get(0);
    assert_eq!(get(&first, "passed").as_bool(), Some(false));
    assert!(get(&get(&first, "deciding"), "snippet").as_string().unwrap().contains('^'), "{}", json(&first));
    let report = e.test(&cases, None).unwrap();
    let second = Array::from(&get(&report, "cases")).get(1);
    assert_eq!(get(&second, "error").as_string().unwrap(), "benign.json: not among the files given");
    // Case-file errors throw with their position.
    let err = e.test("rule_id = \"nope\"\n", None).unwrap_err();
    assert_eq!(get(&err, "line").as_f64(), Some(1.0));
    assert!(get(&err, "message").as_string().unwrap().contains("no rule with id \"nope\""));
    let err = e.test("rule_id = \"x\"\n[[case]]\nname = 1\n", None).unwrap_err();
    assert_eq!(get(&err, "line").as_f64(), Some(3.0));
}

fn serde_json_string(s: &str) -> String {
    JSON::stringify(&JsValue::from_str(s)).unwrap().as_string().unwrap()
}

#[wasm_bindgen_test]
fn the_kql_rules_of_the_pack_fire_on_their_attack_audit_events_only() {
    let mut e = engine();
    let fixtures = [
        include_str!("../../../tests/fixtures/kubelet/kubernetes_api_proxy_to_kubelet.json"),
        include_str!("../../../tests/fixtures/kubelet/gke_api_proxy_to_kubelet.json"),
        include_str!("../../../tests/fixtures/kubelet/aks_api_proxy_to_kubelet.json"),
        include_str!("../../../tests/fixtures/kubelet/aks_kubelet_proxy_command_endpoint.json"),
    ];
    for text in fixtures {
        let fx: serde_json::Value = serde_json::from_str(text).unwrap();
        let id = fx["rule_id"].as_str().unwrap().to_string();
        for c in fx["cases"].as_array().unwrap() {
            let event = c["events"][0].to_string();
            let alerts = e.evaluate(JsValue::from_str(&event)).unwrap();
            let fired = rule_ids(&alerts).contains(&id);
            assert_eq!(fired, c["fires"].as_bool().unwrap(), "{id}: {}", c["name"]);
        }
    }
}

#[cfg(feature = "synth")]
#[wasm_bindgen_test]
fn synthesized_events_fire_and_near_misses_do_not() {
    let mut e = engine();
    let s = e.synth(D4C_RULE).unwrap();
    assert_eq!(get(&s, "ruleId").as_string().unwrap(), D4C_RULE);
    let events = Array::from(&get(&s, "events"));
    let first = events.get(0);
    // Field names cross as ECS has them, not camelized.
    assert!(get(&get(&first, "container"), "id").is_string(), "{}", json(&first));
    assert!(rule_ids(&e.evaluate(first.clone()).unwrap()).contains(&D4C_RULE.to_string()));
    let near = Array::from(&get(&s, "nearMisses"));
    assert!(near.length() >= 3, "{}", json(&near));
    for n in near.iter() {
        assert!(get(&n, "condition").is_string() && get(&n, "change").is_string());
        let ev = Array::from(&get(&n, "events")).get(0);
        assert!(!rule_ids(&e.evaluate(ev).unwrap()).contains(&D4C_RULE.to_string()), "{}", json(&n));
    }
    e.add_query(
        "seq",
        r#"sequence by host.id [process where process.name == "a"] [file where file.name == "b"]"#,
        None,
    )
    .unwrap();
    let s = e.synth("seq").unwrap();
    let batch = e.evaluate_batch(get(&s, "events")).unwrap();
    assert!(rule_ids(&get(&batch, "alerts")).contains(&"seq".to_string()), "{}", json(&batch));
    assert!(e.synth("nope").unwrap_err().as_string().is_none());
}
