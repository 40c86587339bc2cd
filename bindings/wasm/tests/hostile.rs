//! Hostile input through the JavaScript API, under wasm-bindgen-test (Node by default): every
//! failure is a thrown `Error` with a message, never a trap, and the engine keeps working after
//! it (a trap would leave the instance unusable). Limits are the library's defaults.
//!
//! Run: CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
//!      cargo test -p eqlite-wasm --target wasm32-unknown-unknown --test hostile

use eqlite_wasm::{check, check_rule_toml, split_events, Engine};
use js_sys::{Array, Object, Reflect, JSON};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

const CURL: &str = r#"{"event":{"category":"process"},"process":{"name":"curl"}}"#;

fn get(v: &JsValue, key: &str) -> JsValue {
    Reflect::get(v, &JsValue::from_str(key)).unwrap()
}

fn json(v: &JsValue) -> String {
    JSON::stringify(v).unwrap().as_string().unwrap()
}

fn engine(query: &str) -> Engine {
    let mut e = Engine::new(None).unwrap();
    e.add_query("q", query, None).unwrap();
    e.add_query("curl", r#"process where process.name == "curl""#, None).unwrap();
    e
}

fn ids(alerts: &JsValue) -> Vec<String> {
    Array::from(alerts).iter().map(|a| get(&a, "ruleId").as_string().unwrap()).collect()
}

/// The thrown value is an `Error` whose message contains `want`.
fn thrown(r: Result<JsValue, JsValue>, want: &str) -> String {
    let e = r.expect_err("expected an Error");
    assert!(e.is_instance_of::<js_sys::Error>(), "not an Error: {e:?}");
    let m: String = e.unchecked_into::<js_sys::Error>().message().into();
    assert!(m.contains(want), "{m:?} does not contain {want:?}");
    m
}

/// The engine still answers correctly (no trap, no stuck borrow).
fn still_works(e: &mut Engine) {
    assert!(ids(&e.evaluate(JsValue::from_str(CURL)).unwrap()).contains(&"curl".to_string()));
    assert!(
        !ids(&e.evaluate(JsValue::from_str(r#"{"process":{"name":"wget"}}"#)).unwrap()).contains(&"curl".to_string())
    );
}

#[wasm_bindgen_test]
fn hostile_queries_are_diagnostics_not_traps() {
    let deep = format!("any where {}a{}", "(".repeat(10_000), ")".repeat(10_000));
    let long = format!("any where a == \"{}\"", "x".repeat(1 << 20));
    let stars = format!("any where a regex \"a{}\"", "*".repeat(100_000));
    let groups = format!("any where a regex \"{}a{}\"", "(".repeat(10_000), ")".repeat(10_000));
    let huge = r#"any where a regex "(a{1000}){1000}""#.to_string();
    let many = format!("any where a in ({})", (0..65_537).map(|i| i.to_string()).collect::<Vec<_>>().join(","));
    for (q, want) in [
        (&deep, "more than 32 levels deep"),
        (&long, "the limit is 1048576"),
        (&stars, "nests more than 256 levels"),
        (&groups, "nests more than 64 groups"),
        (&huge, "too large"),
        (&many, "the limit is 65536"),
    ] {
        let d = Array::from(&check(q).unwrap());
        assert_eq!(d.length(), 1);
        let m = get(&d.get(0), "message").as_string().unwrap();
        assert!(m.contains(want), "{m}");
        let mut e = engine("any where true");
        thrown(e.add_query("bad", q, None).map(|_| JsValue::UNDEFINED), want);
        still_works(&mut e);
    }
    // NUL bytes and lone surrogates cannot reach Rust as such: JS strings are converted to UTF-8.
    assert_eq!(Array::from(&check("any where a == \"\0\"").unwrap()).length(), 0);
    let mut e = engine("any where a == \"\0\"");
    assert_eq!(ids(&e.evaluate(JsValue::from_str(r#"{"a":"\u0000"}"#)).unwrap()), ["q"]);
    // A JS string holding a lone surrogate (from JSON.parse here) reads as U+FFFD, whether the
    // event comes as an object (JSON.stringify escapes it) or as text.
    let mut e = engine("any where a == \"x\u{fffd}\"");
    let obj = js_sys::JSON::parse(r#"{"a":"x\ud800"}"#).unwrap();
    assert_eq!(ids(&e.evaluate(obj).unwrap()), ["q"]);
    assert_eq!(ids(&e.evaluate(JsValue::from_str(r#"{"a":"x\udfff"}"#)).unwrap()), ["q"]);
}

#[wasm_bindgen_test]
fn hostile_rule_toml() {
    let deep = format!("a = {}1{}\n", "[".repeat(100_000), "]".repeat(100_000));
    let mut e = engine("any where true");
    thrown(e.add_rule_toml(&deep).map(JsValue::from), "recurse");
    thrown(e.add_rule_toml("[rule]\nrule_id = \"\0\"").map(JsValue::from), "invalid rule TOML");
    thrown(e.add_rule_toml("").map(JsValue::from), "no `[rule]` table");
    let d = Array::from(&check_rule_toml(&deep).unwrap());
    assert!(json(&d).contains("recurse"));
    still_works(&mut e);
}

#[wasm_bindgen_test]
fn hostile_event_text() {
    let mut e = engine("any where a == 1");
    let over = format!("{{\"m\":\"{}\"}}", "x".repeat(16 << 20));
    let deep = format!("{{\"a\":{}1{}}}", "[".repeat(10_000), "]".repeat(10_000));
    for (ev, want) in [
        ("{\"a\":\"\0\"}".to_string(), "control character"),
        (deep, "invalid event"),
        (r#"{"a":1e400}"#.to_string(), "number out of range"),
        (over, "the limit is 16777216 bytes"),
        ("[1]".to_string(), "must be a JSON object"),
        ("{".to_string(), "EOF"),
    ] {
        thrown(e.evaluate(JsValue::from_str(&ev)), want);
        thrown(e.push(JsValue::from_str(&ev)), want);
        thrown(e.explain(JsValue::from_str(&ev), None), want);
        still_works(&mut e);
    }
    // Big numbers become doubles; duplicate keys give a multi-valued field; 1 MB strings work.
    let mut big = engine("any where a > 9223372036854775807");
    assert_eq!(ids(&big.evaluate(JsValue::from_str(r#"{"a":123456789012345678901234567890}"#)).unwrap()), ["q"]);
    assert_eq!(ids(&e.evaluate(JsValue::from_str(r#"{"a":2,"a":1}"#)).unwrap()), ["q"]);
    let mut m = engine(r#"any where a like~ "*NEEDLE""#);
    let mb = format!("{{\"a\":\"{}needle\"}}", "x".repeat(1 << 20));
    assert_eq!(ids(&m.evaluate(JsValue::from_str(&mb)).unwrap()), ["q"]);
}

#[wasm_bindgen_test]
fn hostile_event_objects() {
    let mut e = engine("any where __proto__.x == 1 or a == 1");
    // `__proto__` as an own key (what JSON.parse makes) is an ordinary field.
    let proto = JSON::parse(r#"{"__proto__":{"x":1}}"#).unwrap();
    assert_eq!(ids(&e.evaluate(proto).unwrap()), ["q"]);
    // 10,000 levels of nesting (JSON.parse makes them): an Error (JSON.stringify's stack, or the
    // 128-level limit of the fields that are read).
    for key in ["a", "unread"] {
        let deep = JSON::parse(&format!("{{\"{key}\":{}1{}}}", "[".repeat(10_000), "]".repeat(10_000))).unwrap();
        thrown(e.evaluate(deep), "invalid event");
        still_works(&mut e);
    }
    let deep = JSON::parse(&format!("{{\"a\":{}1{}}}", "[".repeat(1_000), "]".repeat(1_000))).unwrap();
    thrown(e.evaluate(deep), "recursion limit exceeded");
    let skipped = JSON::parse(&format!("{{\"zz\":{}1{}, \"a\":1}}", "[".repeat(1_000), "]".repeat(1_000))).unwrap();
    assert_eq!(ids(&e.evaluate(skipped).unwrap()), ["q"]);
    // Objects are read as their JSON text: a cycle anywhere is an Error, not a hang.
    let arr = Array::new();
    arr.push(&arr);
    for key in ["a", "unread"] {
        let cyc = Object::new();
        Reflect::set(&cyc, &key.into(), &arr).unwrap();
        thrown(e.evaluate(cyc.into()), "invalid event: Converting circular structure to JSON");
        still_works(&mut e);
    }
    // Numbers JSON cannot hold (Infinity, NaN) are null, as in JSON.stringify; BigInts an Error.
    let mut inf = engine("any where a == null");
    for x in [f64::INFINITY, f64::NAN, f64::NEG_INFINITY] {
        let o = Object::new();
        Reflect::set(&o, &"a".into(), &JsValue::from_f64(x)).unwrap();
        assert_eq!(ids(&inf.evaluate(o.into()).unwrap()), ["q"]);
    }
    let o = Object::new();
    Reflect::set(&o, &"a".into(), &JsValue::bigint_from_str("123456789012345678901234567890")).unwrap();
    thrown(inf.evaluate(o.into()), "invalid event");
    // Not objects.
    for bad in [JsValue::NULL, JsValue::UNDEFINED, JsValue::from_f64(1.0), Array::new().into(), JsValue::TRUE] {
        thrown(e.evaluate(bad), "invalid event");
    }
    still_works(&mut e);
}

#[wasm_bindgen_test]
fn blow_up_patterns_finish() {
    let a50k = format!("{{\"a\":\"{}\"}}", "a".repeat(50_000));
    for q in [
        r#"any where a regex "(a+)+b""#,
        r#"any where a regex~ "(a|aa)*b""#,
        r#"any where a like "*a*a*a*a*a*a*a*b""#,
        r#"any where a : "*a?a*a?a*a?a*b""#,
    ] {
        let mut e = engine(q);
        assert!(ids(&e.evaluate(JsValue::from_str(&a50k)).unwrap()).is_empty(), "{q}");
    }
    let mut e = engine(r#"any where a regex "(a+)+""#);
    assert_eq!(ids(&e.evaluate(JsValue::from_str(&a50k)).unwrap()), ["q"]);
}

#[wasm_bindgen_test]
fn batches_of_garbage() {
    let mut e = engine("any where a == 1");
    let mut text = String::new();
    text.push_str("{\"a\":1}\n");
    text.push_str("\u{0}\u{1}garbage\n");
    text.push_str(&format!("{{\"a\":{}1{}}}\n", "[".repeat(10_000), "]".repeat(10_000)));
    text.push_str("{\"a\":1e400}\n");
    text.push_str(&"[".repeat(100_000));
    let r = e.evaluate_batch(JsValue::from_str(&text)).unwrap();
    assert_eq!(ids(&get(&r, "alerts")), ["q"]);
    assert!(Array::from(&get(&r, "errors")).length() >= 3, "{}", json(&get(&r, "errors")));
    let items = Array::from(&split_events(&text.as_str().into()).unwrap());
    assert!(items.length() >= 4);
    // A JS array with hostile members.
    let list = Array::new();
    list.push(&JSON::parse(r#"{"a":1}"#).unwrap());
    list.push(&JsValue::NULL);
    list.push(&JsValue::from_str("{"));
    list.push(&JSON::parse(&format!("{{\"a\":{}1{}}}", "[".repeat(10_000), "]".repeat(10_000))).unwrap());
    let r = e.evaluate_batch(list.into()).unwrap();
    assert_eq!(ids(&get(&r, "alerts")), ["q"]);
    assert_eq!(Array::from(&get(&r, "errors")).length(), 3);
    thrown(e.evaluate_batch(JsValue::from_f64(1.0)), "evaluateBatch takes");
    still_works(&mut e);
}

#[wasm_bindgen_test]
fn hostile_state_and_options() {
    let mut e = engine("sequence [any where a == 1] [any where a == 2]");
    for bad in ["", "x", "1\n{", "1\nnull", &format!("1\n{}", "[".repeat(10_000)), "99999999999999999999999\n{}"] {
        thrown(e.restore_state(bad).map(|_| JsValue::UNDEFINED), "invalid stream snapshot");
        still_works(&mut e);
    }
    // Options of the wrong type are an Error; absurd numbers are clamped.
    let o = JSON::parse(r#"{"categoryField": 5}"#).unwrap();
    thrown(Engine::new(Some(o.into())).map(|_| JsValue::UNDEFINED), "invalid options");
    let o = JSON::parse(r#"{"maxPending": -1e300, "latenessMs": 1e300}"#).unwrap();
    let mut e = Engine::new(Some(o.into())).unwrap();
    e.add_query("curl", r#"process where process.name == "curl""#, None).unwrap();
    still_works(&mut e);
    // Alerts and metadata of the wrong shape.
    thrown(e.explain_alert(JsValue::NULL, vec![]), "invalid alert");
    let alert = JSON::parse(r#"{"ruleId":"curl","events":[0, 1]}"#).unwrap();
    thrown(e.explain_alert(alert, vec![JsValue::from_str(CURL)]), "the alert has 2 events");
    still_works(&mut e);
}

#[wasm_bindgen_test]
fn many_rules() {
    let mut e = Engine::new(None).unwrap();
    for i in 0..10_000 {
        e.add_query(&format!("r{i}"), &format!("process where process.pid == {i}"), None).unwrap();
    }
    thrown(e.add_query("one-more", "any where true", None).map(|_| JsValue::UNDEFINED), "at most 10000 rules");
    let hit = e.evaluate(JsValue::from_str(r#"{"event":{"category":"process"},"process":{"pid":9999}}"#)).unwrap();
    assert_eq!(ids(&hit), ["r9999"]);
}

#[wasm_bindgen_test]
fn the_deepest_accepted_query_fits_the_stack() {
    // 32 levels of brackets (the default limit): the parser recurses on them, which takes about
    // 512 KiB of the 1 MiB wasm stack in the release build (the npm package; see also
    // tests/js/hostile.test.mjs). Unoptimised test builds need 8 times as much: they go 8 deep.
    let d = if cfg!(debug_assertions) { 8 } else { 32 };
    let parens = format!("any where {}a == 1{}", "(".repeat(d), ")".repeat(d));
    let calls = format!("any where {}a{} == 1", "length(".repeat(d - 1), ")".repeat(d - 1));
    let seq = format!("sequence [any where {}a{}] [any where b]", "(".repeat(d - 1), ")".repeat(d - 1));
    for q in [&parens, &calls, &seq] {
        assert_eq!(Array::from(&check(q).unwrap()).length(), 0, "{q}");
    }
    let mut e = engine(&parens);
    assert_eq!(ids(&e.evaluate(JsValue::from_str(r#"{"a":1}"#)).unwrap()), ["q"]);
    let explained = e.explain(JsValue::from_str(r#"{"a":1}"#), Some("q".into())).unwrap();
    assert!(json(&explained).contains("\"matched\":true"));
}
