//! Runs the built filter module in WAMR, the runtime Fluent Bit embeds (see `wamr/mod.rs`), as
//! Fluent Bit's `filter_wasm` does (JSON event format), with Fluent Bit's default 8 KiB
//! `wasm_stack_size` and `wasm_heap_size`:
//!
//! * WAMR refuses SIMD (built without it, as in Fluent Bit); the module must export `malloc`/`free`
//!   (else WAMR would squeeze records into its 8 KiB app heap) and be a WASI reactor;
//! * tag and record are copied with a trailing NUL (`len + 1` bytes) through the module's
//!   `malloc`, the filter is called with the six i32 arguments, the NUL-terminated result read
//!   (invalid: skip; empty: drop), and only then the copies freed; a trap fails the test (Fluent
//!   Bit would log it and lose the record);
//! * one instance serves many records.
//!
//! Every result is checked exactly against an oracle made here from the core library (the native
//! streaming engine over the same records) and the alert field shape the README documents.
//!
//! The module is built by the test itself (`cargo build --target … --profile fluent-bit`, into
//! `target/plugin-build`, so as not to wait on the lock of the build running this test). A missing
//! wasm target skips the tests, unless `EQLITE_REQUIRE_WASM=1` (test.sh and CI set it). So does a
//! debug build of this harness (WAMR is then built unoptimised too), unless
//! `EQLITE_HARNESS_DEBUG=1`: run it with `--release`, as test.sh does.

use eqlite::{Alert, RuleSet};
use eqlite::{Stream, StreamOptions};
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use std::time::Instant;
use wamr::{Settings, Wamr};

mod wamr;

const WASIP1: &str = "wasm32-wasip1";
const UNKNOWN: &str = "wasm32-unknown-unknown";
const MAX_RECORD_BYTES: usize = 16 << 20;
const MAX_NESTING: usize = eqlite_fluent_bit::MAX_NESTING;
const ALERT_KEYS: &[&str] = &[
    "rule.id",
    "rule.name",
    "rule.ruleset",
    "event.severity",
    "event.risk_score",
    "threat.framework",
    "threat.technique.id",
    "threat.tactic.id",
    "eqlite",
];

// ---------------------------------------------------------------------------------------------
// Building the module

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

/// Built modules by target (None: target not installed).
type Built = Mutex<HashMap<&'static str, Option<&'static [u8]>>>;

/// The built module for `target`, or None when the target is not installed (and not required),
/// or when this harness is an unoptimised build (WAMR then runs unoptimised too, and the
/// throughput figures mean nothing), so the tests skip, loudly, unless `EQLITE_HARNESS_DEBUG=1`.
/// test.sh runs them with `--release`.
fn module_bytes(target: &'static str) -> Option<&'static [u8]> {
    if cfg!(debug_assertions) && std::env::var("EQLITE_HARNESS_DEBUG").as_deref() != Ok("1") {
        eprintln!("SKIPPED: the wasm harness needs an optimised build: cargo test -p eqlite-fluent-bit --release");
        return None;
    }
    static BUILT: OnceLock<Built> = OnceLock::new();
    let mut built = BUILT.get_or_init(Default::default).lock().unwrap_or_else(|e| e.into_inner());
    *built.entry(target).or_insert_with(|| build(target).map(|b| &*Vec::leak(b)))
}

fn build(target: &str) -> Option<Vec<u8>> {
    let root = workspace_root();
    let target_dir = root.join("target/plugin-build");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| env!("CARGO").to_string());
    let started = Instant::now();
    let out = std::process::Command::new(cargo)
        .current_dir(&root)
        .args(["build", "--quiet", "-p", "eqlite-fluent-bit", "--lib", "--target", target, "--profile", "fluent-bit"])
        .env("CARGO_TARGET_DIR", &target_dir)
        .env_remove("EQLITE_FLUENT_BIT_RULES")
        .env_remove("CARGO_BUILD_TARGET")
        .output()
        .expect("cargo runs");
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let missing = err.contains("may not be installed") || err.contains("can't find crate for `core`");
        let required = std::env::var("EQLITE_REQUIRE_WASM").is_ok_and(|v| v == "1");
        if missing && !required {
            eprintln!("SKIPPED: the {target} target is not installed (rustup target add {target})");
            return None;
        }
        panic!("building the {target} module failed:\n{err}");
    }
    let path = target_dir.join(target).join("fluent-bit/eqlite_fluent_bit.wasm");
    let bytes = std::fs::read(&path).unwrap();
    eprintln!("{target}: {} ({} bytes, built in {:.1?})", path.display(), bytes.len(), started.elapsed());
    Some(bytes)
}

// ---------------------------------------------------------------------------------------------
// The host

/// What the host makes of one call.
#[derive(Debug, PartialEq)]
enum Res {
    /// NULL or an invalid pointer: Fluent Bit skips the record.
    Skip,
    /// The empty string.
    Drop,
    /// The returned string (without its NUL).
    Record(Vec<u8>),
}

/// One `wasm` filter instance: a module instance under Fluent Bit's default settings.
struct Host {
    wamr: Wamr,
    calls: u64,
}

impl Host {
    fn new(bytes: &[u8]) -> Host {
        Host::with(bytes, &Settings::default())
    }

    fn with(bytes: &[u8], settings: &Settings) -> Host {
        Host { wamr: Wamr::new(bytes, settings).unwrap_or_else(|e| panic!("{e}")), calls: 0 }
    }

    /// One record; a trap fails the test (Fluent Bit would log it and lose the record).
    fn call(&mut self, function: &str, tag: &str, record: &[u8]) -> Res {
        self.try_call(function, tag, record).unwrap_or_else(|e| panic!("Got exception running wasm code: {e}"))
    }

    fn try_call(&mut self, function: &str, tag: &str, record: &[u8]) -> Result<Res, String> {
        self.calls += 1;
        let time = (1_787_000_000 + self.calls as u32, 0);
        Ok(match self.wamr.call_json(function, tag, time, record)? {
            wamr::Call::Invalid => Res::Skip,
            wamr::Call::Str(s) if s.is_empty() => Res::Drop,
            wamr::Call::Str(s) => Res::Record(s),
        })
    }

    fn tag(&mut self, record: &[u8]) -> Res {
        self.call("eqlite_tag", "kube.var.log.containers.app", record)
    }

    fn match_only(&mut self, record: &[u8]) -> Res {
        self.call("eqlite_match_only", "kube.var.log.containers.app", record)
    }

    fn stats(&mut self) -> Value {
        let p = self.wamr.call("eqlite_stats", &[]).unwrap();
        serde_json::from_slice(&self.wamr.c_str(p).unwrap()).unwrap()
    }

    /// The module's `eqlite_reset`: a fresh engine, rules kept.
    fn reset(&mut self) {
        self.wamr.call("eqlite_reset", &[]).unwrap();
    }

    fn memory_bytes(&self) -> u64 {
        self.wamr.memory_bytes()
    }

    fn stderr(&mut self) -> String {
        self.wamr.stderr()
    }
}

/// A host over the module built for `target` (None: target not installed).
fn host(target: &'static str) -> Option<Host> {
    Some(Host::new(module_bytes(target)?))
}

// ---------------------------------------------------------------------------------------------
// The oracle: what the module must return, from the core library

fn rules() -> &'static RuleSet {
    static RS: OnceLock<RuleSet> = OnceLock::new();
    RS.get_or_init(|| RuleSet::from_pack(&eqlite::Pack::kubelet(), eqlite_fluent_bit::options()).unwrap())
}

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Tag,
    MatchOnly,
}

struct Oracle {
    stream: Stream,
    pos: u64,
    /// The counters `eqlite_stats` must report (the engine's own come from `stream`).
    counts: Map<String, Value>,
}

#[derive(Debug)]
enum Expect {
    Unchanged,
    Drop,
    /// The alerts, and the record they are added to when it is not the input: the input with its
    /// bare non-finite numbers as `null`.
    Tagged(Vec<Alert>, Option<Vec<u8>>),
    /// No alert, but the record comes back repaired (non-finite numbers as `null`).
    Repaired(Vec<u8>),
}

impl Oracle {
    fn new() -> Oracle {
        Oracle { stream: Stream::new(rules(), StreamOptions::default()), pos: 0, counts: Map::new() }
    }

    fn count(&mut self, what: &str) {
        let v = self.counts.entry(what).or_insert(Value::from(0u64));
        *v = Value::from(v.as_u64().unwrap() + 1);
    }

    fn expect(&mut self, record: &[u8], mode: Mode) -> Expect {
        self.count("records");
        let want = self.judge(record, mode);
        if matches!(want, Expect::Drop) {
            self.count("dropped");
        }
        want
    }

    fn judge(&mut self, record: &[u8], mode: Mode) -> Expect {
        let miss = if mode == Mode::Tag { Expect::Unchanged } else { Expect::Drop };
        if record.is_empty() {
            self.count("bad");
            return Expect::Drop;
        }
        if record.len() > MAX_RECORD_BYTES {
            self.count("bad");
            self.count("oversize");
            return miss;
        }
        if record.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
            self.count("bad");
            if matches!(record[0], 0x80..=0x8f | 0xde | 0xdf) {
                self.count("msgpack");
            }
            return miss;
        }
        let text = String::from_utf8_lossy(record);
        let fixed = match rules().read_json(&text) {
            Ok(_) => None,
            Err(_) => eqlite_fluent_bit::non_finite_as_null(&text),
        };
        let text = fixed.clone().map_or(text, std::borrow::Cow::Owned);
        let Ok(ev) = rules().read_json(&text) else {
            self.count("bad");
            return miss;
        };
        if fixed.is_some() {
            self.count("repaired");
        }
        if std::str::from_utf8(record).is_err() {
            self.count("lossy_utf8");
        }
        let alerts = self.stream.push(rules(), &ev, self.pos);
        self.pos += 1;
        if alerts.is_empty() {
            return match (fixed, mode) {
                (Some(f), Mode::Tag) => Expect::Repaired(f.into_bytes()),
                _ => miss,
            };
        }
        self.count("matched");
        for _ in &alerts {
            self.count("alerts");
        }
        // Keys only: values may hold numbers beyond f64, which a `Value` cannot.
        let top: std::collections::HashMap<String, serde::de::IgnoredAny> = serde_json::from_str(&text).unwrap();
        if top.keys().any(|k| ALERT_KEYS.contains(&k.as_str())) {
            self.count("replaced_keys");
        }
        Expect::Tagged(alerts, fixed.map(String::into_bytes))
    }

    /// The whole `eqlite_stats` object expected now.
    fn stats(&self) -> Value {
        let st = self.stream.stats();
        let mut m = Map::new();
        for k in [
            "records",
            "matched",
            "alerts",
            "bad",
            "oversize",
            "lossy_utf8",
            "repaired",
            "msgpack",
            "dropped",
            "replaced_keys",
        ] {
            m.insert(k.into(), self.counts.get(k).cloned().unwrap_or(Value::from(0u64)));
        }
        for (k, v) in [
            ("late", st.late),
            ("untimed", st.untimed),
            ("evicted", st.evicted),
            ("expired", st.expired),
            ("pending", st.pending),
            ("rules", rules().len() as u64),
            ("rule_errors", 0),
        ] {
            m.insert(k.into(), v.into());
        }
        Value::Object(m)
    }
}

fn sev(label: &str) -> i64 {
    match label {
        "low" => 21,
        "medium" => 47,
        "high" => 73,
        "critical" => 99,
        _ => 0,
    }
}

/// The alert members the README documents, built independently of the module's code.
fn alert_fields(alerts: &[Alert]) -> Map<String, Value> {
    let rs = rules();
    let rule = |id: &str| rs.rule(rs.position(id).unwrap()).unwrap();
    let mut ids: Vec<String> = vec![];
    let mut names: Vec<String> = vec![];
    let (mut techniques, mut tactics): (Vec<String>, Vec<String>) = (vec![], vec![]);
    let mut objects = vec![];
    let mut top: Option<(i64, i64, String)> = None;
    for a in alerts {
        let r = rule(&a.rule_id);
        if !ids.contains(&r.id) {
            ids.push(r.id.clone());
            names.push(r.name.clone());
        }
        let mut t_ids: Vec<String> = vec![];
        for t in r.technique_ids() {
            if !t_ids.contains(&t) {
                t_ids.push(t);
            }
        }
        let mut ta_ids: Vec<String> = vec![];
        for t in r.tactic_ids() {
            if !ta_ids.contains(&t) {
                ta_ids.push(t);
            }
        }
        for t in &t_ids {
            if !techniques.contains(t) {
                techniques.push(t.clone());
            }
        }
        for t in &ta_ids {
            if !tactics.contains(t) {
                tactics.push(t.clone());
            }
        }
        let key = (sev(&r.severity), r.risk_score, r.severity.clone());
        if top.as_ref().is_none_or(|t| (key.0, key.1) >= (t.0, t.1)) {
            top = Some(key);
        }
        objects.push(serde_json::json!({
            "rule_id": r.id, "rule_name": r.name, "severity": r.severity, "risk_score": r.risk_score,
            "technique_ids": t_ids, "tactic_ids": ta_ids, "sequence_events": a.events.len(),
        }));
    }
    let (sev_num, _, label) = top.unwrap();
    let risk = alerts.iter().map(|a| rule(&a.rule_id).risk_score).max().unwrap();
    let mut m = Map::new();
    m.insert("rule.id".into(), ids.into());
    m.insert("rule.name".into(), names.into());
    m.insert("rule.ruleset".into(), "eqlite".into());
    m.insert("event.severity".into(), sev_num.into());
    m.insert("event.risk_score".into(), risk.into());
    if !techniques.is_empty() || !tactics.is_empty() {
        m.insert("threat.framework".into(), "MITRE ATT&CK".into());
    }
    m.insert("threat.technique.id".into(), techniques.into());
    m.insert("threat.tactic.id".into(), tactics.into());
    m.insert("eqlite".into(), serde_json::json!({"severity": label, "alerts": objects}));
    m
}

/// Checks one result exactly; returns the alerts it carried.
fn check(record: &[u8], got: &Res, want: &Expect, what: &str) -> Vec<Alert> {
    match (want, got) {
        (Expect::Unchanged, Res::Record(out)) => {
            // The host reads the result as a C string, so a raw NUL ends it. (Fluent Bit never
            // sends one: it escapes control characters when it writes a record as JSON.)
            let record = record.iter().position(|&b| b == 0).map_or(record, |i| &record[..i]);
            assert!(out == record, "{what}: expected the record unchanged, got {}", preview(out));
            vec![]
        }
        (Expect::Drop, Res::Drop) => vec![],
        (Expect::Repaired(fixed), Res::Record(out)) => {
            assert!(out == fixed, "{what}: expected the repaired record, got {}", preview(out));
            serde_json::from_slice::<serde::de::IgnoredAny>(out).unwrap_or_else(|e| panic!("{what}: not JSON: {e}"));
            vec![]
        }
        (Expect::Tagged(alerts, base), Res::Record(out)) => {
            let record = base.as_deref().unwrap_or(record);
            // Compared member by member, values as raw text: records may hold numbers beyond f64
            // and duplicate keys, which a `Value` cannot.
            let text = String::from_utf8_lossy(out);
            let got = eqlite_fluent_bit::members(&text)
                .unwrap_or_else(|| panic!("{what}: the result is not a JSON object: {}", preview(out)));
            let input =
                eqlite_fluent_bit::members(&String::from_utf8_lossy(record)).expect("the input is a JSON object");
            let collides = input.iter().any(|(k, _)| ALERT_KEYS.contains(&k.as_str()));
            let raw = |m: &[(String, Box<serde_json::value::RawValue>)]| -> Vec<(String, String)> {
                m.iter()
                    .filter(|(k, _)| !ALERT_KEYS.contains(&k.as_str()))
                    .map(|(k, v)| (k.clone(), v.get().into()))
                    .collect()
            };
            assert_eq!(raw(&got), raw(&input), "{what}: the record's own members differ");
            let added: Map<String, Value> = got
                .iter()
                .filter(|(k, _)| ALERT_KEYS.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), serde_json::from_str(v.get()).unwrap()))
                .collect();
            assert_eq!(added, alert_fields(alerts), "{what}: alert fields differ");
            for k in ALERT_KEYS {
                assert!(text.matches(&format!("\"{k}\":")).count() <= 1, "{what}: key {k} appears twice");
            }
            if !collides {
                // Inserted, not re-serialised: the original text up to its closing brace is kept.
                let close = record.iter().rposition(|b| *b == b'}').unwrap();
                assert_eq!(&out[..close], &record[..close], "{what}: the original text was not kept");
            }
            alerts.clone()
        }
        _ => panic!("{what}: expected {want:?}, got {}", res_preview(got)),
    }
}

fn preview(b: &[u8]) -> String {
    if b.len() > 300 {
        format!("{}… ({} bytes)", String::from_utf8_lossy(&b[..300]), b.len())
    } else {
        String::from_utf8_lossy(b).into_owned()
    }
}

fn res_preview(r: &Res) -> String {
    match r {
        Res::Record(b) => format!("Record({})", preview(b)),
        other => format!("{other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Fixtures

struct Case {
    file: String,
    rule_id: String,
    name: String,
    fires: bool,
    events: Vec<String>,
    alert_events: Option<Vec<u64>>,
}

fn fixtures() -> &'static [Case] {
    static CASES: OnceLock<Vec<Case>> = OnceLock::new();
    CASES.get_or_init(|| {
        let dir = workspace_root().join("tests/fixtures/kubelet");
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        files.sort();
        let mut cases = vec![];
        for f in files {
            let fx: Value = serde_json::from_str(&std::fs::read_to_string(&f).unwrap()).unwrap();
            for c in fx["cases"].as_array().unwrap() {
                cases.push(Case {
                    file: f.file_name().unwrap().to_string_lossy().into_owned(),
                    rule_id: fx["rule_id"].as_str().unwrap().to_string(),
                    name: c["name"].as_str().unwrap().to_string(),
                    fires: c["fires"].as_bool().unwrap(),
                    events: c["events"].as_array().unwrap().iter().map(|e| e.to_string()).collect(),
                    alert_events: c.get("alert_events").map(|a| serde_json::from_value(a.clone()).unwrap()),
                });
            }
        }
        assert!(cases.len() > 50, "the kubelet fixtures are there");
        cases
    })
}

fn case<'a>(rule_prefix: &str, fires: bool) -> &'a Case {
    fixtures()
        .iter()
        .find(|c| c.rule_id.starts_with(rule_prefix) && c.fires == fires && (!fires || c.alert_events.is_none()))
        .unwrap()
}

// ---------------------------------------------------------------------------------------------
// The tests

/// Every fixture case on a fresh engine (the fixtures' contract), one call per record: the case's
/// rule fires exactly as the fixture says, and every result matches the oracle. One instance
/// serves all cases, reset between them with `eqlite_reset` (compiling the rules takes a quarter
/// of a second in the interpreter); the first cases also run on brand-new instances.
fn fixture_cases(target: &'static str) {
    let Some(bytes) = module_bytes(target) else { return };
    let (mut fired, mut quiet) = (0, 0);
    let mut shared = Host::new(bytes);
    for (n, c) in fixtures().iter().enumerate() {
        let mut fresh = (n < 3).then(|| Host::new(bytes));
        let host = match &mut fresh {
            Some(h) => h,
            None => {
                shared.reset();
                &mut shared
            }
        };
        let mut oracle = Oracle::new();
        let mut got_alerts = vec![];
        for (i, e) in c.events.iter().enumerate() {
            let what = format!("{target} {} / {} / event {i}", c.file, c.name);
            let res = host.tag(e.as_bytes());
            let alerts = check(e.as_bytes(), &res, &oracle.expect(e.as_bytes(), Mode::Tag), &what);
            got_alerts.extend(alerts.into_iter().filter(|a| a.rule_id == c.rule_id).map(|a| (i, a)));
        }
        let what = format!("{target} {} / {}", c.file, c.name);
        if c.fires {
            fired += 1;
            let want = c.alert_events.clone().unwrap_or_else(|| (0..c.events.len() as u64).collect());
            assert_eq!(got_alerts.len(), 1, "{what}: expected one alert of {}", c.rule_id);
            let (at, a) = &got_alerts[0];
            assert_eq!(a.events, want, "{what}");
            // The alert rides on the record that completes it: its last event.
            assert_eq!(*at as u64, *want.last().unwrap(), "{what}");
        } else {
            quiet += 1;
            assert!(got_alerts.is_empty(), "{what}: expected no alert of {}", c.rule_id);
        }
        assert_eq!(host.stderr(), "", "{what}: the module wrote to stderr");
    }
    eprintln!("{target}: {} fixture cases ({fired} attacks, {quiet} benign) pass through the plugin", fired + quiet);
}

#[test]
fn fixtures_wasip1() {
    fixture_cases(WASIP1);
}

#[test]
fn fixtures_unknown_unknown() {
    fixture_cases(UNKNOWN);
}

/// `event` with its `process.args` array inside `extra` more arrays: the array itself is at level 3
/// (record, `process`, `args`), so its strings are at level `extra + 3`.
fn nested_args(event: &str, extra: usize) -> Vec<u8> {
    let mut v: Value = serde_json::from_str(event).unwrap();
    let args = v["process"]["args"].to_string();
    v["process"]["args"] = Value::from("ARGS");
    let deep = format!("{}{args}{}", "[".repeat(extra), "]".repeat(extra));
    v.to_string().replace("\"ARGS\"", &deep).into_bytes()
}

fn with_message(event: &str, message: &str) -> String {
    event.replacen('{', &format!("{{\"message\":{},", serde_json::to_string(message).unwrap()), 1)
}

/// Kubelet attacks, benign records, a sequence across calls, big, bad and odd records, on one
/// instance, in tag mode; then the counters.
fn edge_cases(target: &'static str) {
    let Some(mut host) = host(target) else { return };
    let mut oracle = Oracle::new();
    let attack = &case("b4bd186b", true).events[0];
    let benign = &case("b4bd186b", false).events[0];
    let discovery = case("f596175f", true);
    assert_eq!(discovery.events.len(), 5);

    let mut records: Vec<(&str, Vec<u8>)> = vec![
        ("benign", benign.clone().into_bytes()),
        ("app log line", br#"{"log":"GET /healthz 200","stream":"stdout","kubernetes":{"pod_name":"web-1"}}"#.to_vec()),
        ("curl to the kubelet API from a container", attack.clone().into_bytes()),
        ("1 MB benign", with_message(benign, &"x".repeat(1 << 20)).into_bytes()),
        ("1 MB attack", with_message(attack, &"y".repeat(1 << 20)).into_bytes()),
        ("invalid JSON", br#"{"event": {"category": ["process"]"#.to_vec()),
        ("trailing garbage", b"{} {}".to_vec()),
        ("an array", b"[1,2,3]".to_vec()),
        ("a string", br#""curl -k https://10.0.0.12:10250/pods""#.to_vec()),
        ("a number", b"42".to_vec()),
        ("null", b"null".to_vec()),
        ("empty object", b"{}".to_vec()),
        ("attack with trailing newline", format!("{attack}\n").into_bytes()),
        ("attack that already has rule.id and eqlite keys", {
            attack.replacen('{', r#"{"rule.id":["upstream"],"eqlite":{"seen":true},"#, 1).into_bytes()
        }),
        ("attack with nested rule and threat objects", {
            attack.replacen('{', r#"{"rule":{"id":"other"},"threat":{"indicator":{"ip":"1.2.3.4"}},"#, 1).into_bytes()
        }),
        ("benign with non-UTF-8 bytes", {
            let mut r = with_message(benign, "AAAA").into_bytes();
            let at = r.windows(4).position(|w| w == b"AAAA").unwrap();
            r[at..at + 4].copy_from_slice(b"\xff\xfe\xc3\x28");
            r
        }),
        ("attack with non-UTF-8 bytes", {
            let mut r = with_message(attack, "BBBB").into_bytes();
            let at = r.windows(4).position(|w| w == b"BBBB").unwrap();
            r[at..at + 4].copy_from_slice(b"\x80ok\xff");
            r
        }),
        ("escaped unicode keys and values", br#"{"k\u00e9y":"v\u0000al\"ue","n":[1.5e3,-0,true,null,{}]}"#.to_vec()),
        ("empty record", vec![]),
        ("deeply nested", format!("{}1{}", "{\"a\":".repeat(200), "}".repeat(200)).into_bytes()),
        (
            "10k-deep arrays in a field no rule reads",
            format!("{{\"a\":{}1{}}}", "[".repeat(10_000), "]".repeat(10_000)).into_bytes(),
        ),
        ("attack with 10k-deep objects", {
            attack
                .replacen('{', &format!("{{\"deep\":{}1{},", "{\"a\":".repeat(10_000), "}".repeat(10_000)), 1)
                .into_bytes()
        }),
        ("raw NUL byte in a string", with_message(benign, "a@b").replacen("a@b", "a\0b", 1).into_bytes()),
        ("attack with numbers beyond i64 and f64 in fields no rule reads", {
            attack
                .replacen('{', r#"{"big":1e400,"huge":123456789012345678901234567890,"tiny":-1e-400,"#, 1)
                .into_bytes()
        }),
        ("a number beyond f64 where the rules read", {
            let mut v: Value = serde_json::from_str(attack).unwrap();
            v["event"]["category"] = Value::from(0);
            v.to_string().replace("\"category\":0", "\"category\":1e400").into_bytes()
        }),
        (
            "attack behind a duplicate key",
            attack.replacen('{', r#"{"process":{"name":"sleep","args":["1"]},"#, 1).into_bytes(),
        ),
        ("attack with NaN and infinities as Fluent Bit writes them", {
            attack.replacen('{', r#"{"score":nan,"ratio":-inf,"v":[inf,-nan],"s":"nan","#, 1).into_bytes()
        }),
        ("benign with an infinity", br#"{"log":"nan and inf in a string","v":inf}"#.to_vec()),
        ("a msgpack map (event_format msgpack)", b"\x82\xa3log\xa2hi\xa1n\x00".to_vec()),
        ("attack with process.args nested as deep as the module follows", nested_args(attack, MAX_NESTING - 3)),
        ("attack with process.args nested one level deeper", nested_args(attack, MAX_NESTING - 2)),
        ("attack with process.args nested 60 levels deeper (Fluent Bit passes up to 63)", nested_args(attack, 60)),
        ("attack with a 1 MB argument built to slow wildcards", {
            let mut v: Value = serde_json::from_str(attack).unwrap();
            let args = v["process"]["args"].as_array_mut().unwrap();
            args.insert(1, Value::from("http:10250".repeat(100_000)));
            v.to_string().into_bytes()
        }),
        ("kubelet connection with the port as a string", {
            // destination.port is an ECS long: Elasticsearch indexes "10250" as the number.
            let mut v: Value = serde_json::from_str(&case("9f420cca", true).events[0]).unwrap();
            v["destination"]["port"] = Value::from("10250");
            v.to_string().into_bytes()
        }),
    ];
    for (i, e) in discovery.events.iter().enumerate() {
        records.push((
            ["pod discovery 1/5", "2/5", "3/5", "4/5", "pod discovery 5/5: the sequence fires"][i],
            e.clone().into_bytes(),
        ));
    }
    let mut over = with_message(benign, "").into_bytes();
    over.splice(12..12, std::iter::repeat_n(b'z', MAX_RECORD_BYTES + 1 - over.len()));
    assert_eq!(over.len(), MAX_RECORD_BYTES + 1);
    records.push(("over the 16 MiB cap", over));

    let mut tagged = 0;
    let mut seq_fired_at = None;
    for (i, (what, r)) in records.iter().enumerate() {
        let res = host.tag(r);
        let want = oracle.expect(r, Mode::Tag);
        let alerts = check(r, &res, &want, &format!("{target} {what}"));
        tagged += (!alerts.is_empty()) as u64;
        if alerts.iter().any(|a| a.rule_id.starts_with("f596175f")) {
            seq_fired_at = Some((i, alerts.iter().find(|a| a.rule_id.starts_with("f596175f")).unwrap().events.len()));
        }
        match *what {
            "curl to the kubelet API from a container"
            | "1 MB attack"
            | "attack with non-UTF-8 bytes"
            | "attack with numbers beyond i64 and f64 in fields no rule reads"
            | "attack behind a duplicate key"
            | "attack with 10k-deep objects"
            | "attack with process.args nested as deep as the module follows"
            | "attack with a 1 MB argument built to slow wildcards" => {
                assert!(alerts.iter().any(|a| a.rule_id.starts_with("b4bd186b")), "{what}: b4bd186b fires")
            }
            "kubelet connection with the port as a string" => {
                assert!(alerts.iter().any(|a| a.rule_id.starts_with("9f420cca")), "{what}: 9f420cca fires")
            }
            "benign"
            | "app log line"
            | "1 MB benign"
            | "benign with non-UTF-8 bytes"
            | "10k-deep arrays in a field no rule reads"
            | "a number beyond f64 where the rules read"
            | "attack with process.args nested one level deeper"
            | "attack with process.args nested 60 levels deeper (Fluent Bit passes up to 63)" => {
                assert_eq!(res, Res::Record(r.clone()), "{what}: unchanged")
            }
            "benign with an infinity" => {
                assert_eq!(res, Res::Record(br#"{"log":"nan and inf in a string","v":null}"#.to_vec()))
            }
            "attack with NaN and infinities as Fluent Bit writes them" => {
                let Res::Record(out) = &res else { panic!("{what}: {res:?}") };
                assert!(alerts.iter().any(|a| a.rule_id.starts_with("b4bd186b")), "{what}: b4bd186b fires");
                let v: Value = serde_json::from_slice(out).expect("Fluent Bit can read it back");
                assert_eq!(
                    (&v["score"], &v["ratio"], &v["v"], &v["s"]),
                    (&Value::Null, &Value::Null, &serde_json::json!([null, null]), &Value::from("nan"))
                );
            }
            "raw NUL byte in a string" => {
                assert!(matches!(&res, Res::Record(o) if r.starts_with(o) && o.len() < r.len()))
            }
            _ => {}
        }
    }
    let last_discovery = records.iter().position(|(w, _)| w.starts_with("pod discovery 5/5")).unwrap();
    assert_eq!(seq_fired_at, Some((last_discovery, 5)), "the 5-run sequence fires on its 5th record");

    // Growth is bounded: the same big records again do not grow memory further.
    let before = host.memory_bytes();
    for _ in 0..3 {
        for (what, r) in &records {
            let res = host.tag(r);
            check(r, &res, &oracle.expect(r, Mode::Tag), &format!("{target} again: {what}"));
        }
    }
    assert_eq!(host.memory_bytes(), before, "memory grew when the same records came again");

    let n = records.len() as u64 * 4;
    let stats = host.stats();
    assert_eq!(stats, oracle.stats());
    // Spelled out for the cases above (per round): the 13 bad ones are invalid JSON, trailing
    // garbage, an array, a string, a number, null, the empty record, the oversize one, the raw NUL,
    // the number beyond f64 and the two nestings beyond MAX_NESTING in a field the rules read, and
    // the msgpack map. Deep nesting and huge numbers in fields
    // no rule reads are skipped, so they cannot hide an attack.
    assert_eq!(stats["records"], n, "{stats}");
    assert_eq!(stats["bad"], 13 * 4, "{stats}");
    assert_eq!(stats["msgpack"], 4, "{stats}");
    assert_eq!(stats["repaired"], 2 * 4, "{stats}");
    assert_eq!(stats["oversize"], 4, "{stats}");
    assert_eq!(stats["lossy_utf8"], 2 * 4, "{stats}");
    assert_eq!(stats["dropped"], 4, "{stats}: only the empty record");
    assert_eq!(stats["replaced_keys"], 4, "{stats}");
    assert_eq!(stats["rules"], 20, "{stats}");
    assert!(stats["matched"].as_u64().unwrap() > tagged, "{stats}");
    // The msgpack record is reported once, on Fluent Bit's log (wasip1 has a stderr).
    let notice =
        if target == WASIP1 { format!("[eqlite] {}\n", eqlite_fluent_bit::MSGPACK_NOTICE) } else { String::new() };
    assert_eq!(host.stderr(), notice);
    eprintln!("{target}: {n} edge-case records checked; stats {stats}");
}

#[test]
fn edge_cases_wasip1() {
    edge_cases(WASIP1);
}

#[test]
fn edge_cases_unknown_unknown() {
    edge_cases(UNKNOWN);
}

/// Match-only mode keeps only matching records (tagged as in tag mode) and drops the rest, bad
/// records included.
#[test]
fn match_only_drops_what_matches_nothing() {
    let Some(mut host) = host(WASIP1) else { return };
    let mut oracle = Oracle::new();
    let mut kept = 0;
    let mut all: Vec<Vec<u8>> =
        fixtures().iter().flat_map(|c| c.events.iter().map(|e| e.clone().into_bytes())).collect();
    all.extend([b"{".to_vec(), b"[]".to_vec(), vec![], b"{}".to_vec(), br#"{"log":"hello"}"#.to_vec()]);
    for (i, r) in all.iter().enumerate() {
        let res = host.match_only(r);
        let want = oracle.expect(r, Mode::MatchOnly);
        if matches!(want, Expect::Tagged(..)) {
            kept += 1;
        }
        check(r, &res, &want, &format!("match-only record {i}"));
    }
    let stats = host.stats();
    assert_eq!(stats, oracle.stats());
    assert_eq!(stats["records"], all.len() as u64);
    assert_eq!(stats["dropped"], (all.len() - kept) as u64, "{stats}");
    assert!(kept > 30 && kept < all.len() - 30, "a real mix: kept {kept} of {}", all.len());
    eprintln!("match-only: kept {kept} of {} records", all.len());
}

/// The number of imports of a module (its import section's count).
fn import_count(wasm: &[u8]) -> u32 {
    let leb = |b: &[u8], at: &mut usize| {
        let (mut v, mut shift) = (0u32, 0);
        loop {
            let byte = b[*at];
            *at += 1;
            v |= u32::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return v;
            }
            shift += 7;
        }
    };
    let mut at = 8;
    while at < wasm.len() {
        let id = wasm[at];
        at += 1;
        let size = leb(wasm, &mut at) as usize;
        if id == 2 {
            return leb(wasm, &mut at);
        }
        at += size;
    }
    0
}

/// WAMR as Fluent Bit builds it refuses SIMD; the module uses none, exports its own allocator (so
/// WAMR copies records with it, not into the 8 KiB app heap), and is a WASI reactor when it imports
/// WASI: WAMR's loader warns on every start about a module with WASI imports and neither `_start`
/// nor `_initialize`, and calls `_initialize` after instantiation.
#[test]
fn module_shape() {
    // A function using v128.const.
    let mut simd = b"\0asm\x01\0\0\0\x01\x04\x01\x60\0\0\x03\x02\x01\0\x0a\x17\x01\x15\0\xfd\x0c".to_vec();
    simd.extend([0u8; 16]);
    simd.extend(b"\x1a\x0b");
    assert!(Wamr::new(&simd, &Settings::default()).is_err_and(|e| e.starts_with("Load wasm module failed")));
    for target in [WASIP1, UNKNOWN] {
        let Some(bytes) = module_bytes(target) else { continue };
        let w = Wamr::new(bytes, &Settings::default()).unwrap();
        assert!(w.has("malloc") && w.has("free"), "{target}: malloc and free are exported");
        let imports = import_count(bytes);
        match target {
            WASIP1 => assert!(imports > 0 && w.has("_initialize") && !w.has("_start"), "{target}: a reactor"),
            _ => assert_eq!(imports, 0, "{target} imports nothing"),
        }
    }
}

/// Fluent Bit pre-opens every `accessible_paths` directory when it instantiates the module, and a
/// missing one fails the filter's start (Fluent Bit then exits 255): the README says so.
#[test]
fn a_missing_accessible_path_fails_instantiation() {
    let Some(bytes) = module_bytes(WASIP1) else { return };
    let missing = std::env::temp_dir().join(format!("eqlite-fb-missing-{}", std::process::id()));
    let settings = Settings { accessible_paths: vec![missing.display().to_string()], ..Settings::default() };
    let err = Wamr::new(bytes, &settings).err().expect("instantiation fails");
    assert!(err.contains("error while pre-opening directory"), "{err}");
    std::fs::create_dir_all(&missing).unwrap();
    assert!(Wamr::new(bytes, &settings).is_ok());
    std::fs::remove_dir_all(&missing).ok();
}

fn rule_toml(id: &str, query: &str) -> String {
    let head = format!("[rule]\nrule_id = \"{id}\"\nname = \"Extra {id}\"\nlanguage = \"eql\"\ntype = \"eql\"\n");
    format!("{head}severity = \"low\"\nrisk_score = 5\nquery = '''\n{query}\n'''\n")
}

/// Rule files in `/etc/eqlite/rules` are parsed on the first call, which needs more than the default
/// 8 KiB stack: that call traps (Fluent Bit logs the exception and loses that record); the next
/// ones run with the embedded rules and the module says why on stderr, once. With
/// `wasm_stack_size 65536` they load, including a copy of the pack's most deeply nested rule.
/// Re-instantiating the module (what Fluent Bit's hot reload does) reads them again and starts
/// with no sequence state.
#[test]
fn extra_rules_at_run_time() {
    let Some(bytes) = module_bytes(WASIP1) else { return };
    let root = std::env::temp_dir().join(format!("eqlite-fb-etc-{}", std::process::id()));
    let rules_dir = root.join("rules");
    std::fs::create_dir_all(&rules_dir).unwrap();
    std::fs::write(rules_dir.join("evil.toml"), rule_toml("x-evil", r#"process where process.name == "evil""#))
        .unwrap();
    let deepest = rules().rules().find(|r| r.id.starts_with("f596175f")).unwrap();
    std::fs::write(rules_dir.join("copy.toml"), rule_toml("x-copy", &deepest.query)).unwrap();
    let settings = |stack: u32| Settings {
        wasm_stack_size: stack,
        mapped_dirs: vec![("/etc/eqlite".into(), root.clone())],
        ..Settings::default()
    };
    let evil = br#"{"event":{"category":["process"]},"process":{"name":"evil"}}"#;

    let mut host = Host::with(bytes, &settings(wamr::DEFAULT_STACK_SIZE));
    let err = host.try_call("eqlite_tag", "t", evil).expect_err("the first call traps");
    assert!(err.contains("wasm operand stack overflow"), "{err}");
    assert_eq!(host.tag(evil), Res::Record(evil.to_vec()), "embedded rules only");
    let stderr = host.stderr();
    assert!(stderr.contains("2 rule files in /etc/eqlite/rules not loaded") && stderr.contains("65536"), "{stderr}");
    // There is no /etc/eqlite/state: said once, and sequence state is not kept.
    assert_eq!(stderr.lines().count(), 2, "{stderr}");
    assert_eq!(stderr.lines().nth(1), Some(NO_STATE_DIR), "{stderr}");
    let stats = host.stats();
    assert_eq!((stats["rules"].as_u64(), stats["rule_errors"].as_u64()), (Some(20), Some(1)), "{stats}");

    let mut host = Host::with(bytes, &settings(65536));
    let Res::Record(out) = host.tag(evil) else { panic!("tagged") };
    let v: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["rule.id"], serde_json::json!(["x-evil"]));
    assert_eq!(host.stats()["rules"], 22);
    assert_eq!(host.stderr().trim_end(), NO_STATE_DIR);
    // Half of a sequence, then a reload (a new instance) with one more rule file: the new rule is
    // there, the sequence starts over.
    let discovery = &case("f596175f", true).events;
    for e in &discovery[..4] {
        host.tag(e.as_bytes());
    }
    std::fs::write(rules_dir.join("more.toml"), rule_toml("x-more", r#"process where process.name == "more""#))
        .unwrap();
    let mut reloaded = Host::with(bytes, &settings(65536));
    let Res::Record(out) = reloaded.tag(discovery[4].as_bytes()) else { panic!() };
    assert!(!String::from_utf8_lossy(&out).contains("f596175f"), "no sequence state across a reload");
    assert_eq!(reloaded.stats()["rules"], 23);
    let Res::Record(out) = host.tag(discovery[4].as_bytes()) else { panic!() };
    assert!(String::from_utf8_lossy(&out).contains("f596175f"), "the old instance completes it");
    std::fs::remove_dir_all(&root).ok();
}

/// What the module logs once when `/etc/eqlite` is reachable but has no `state` directory.
const NO_STATE_DIR: &str = "[eqlite] /etc/eqlite/state/eqlite_tag.state: the directory does not exist; sequence state \
     is not kept across a hot reload or restart (create /etc/eqlite/state writable to keep it)";

/// A hot reload (Fluent Bit instantiates the module anew) keeps pending sequences when
/// `/etc/eqlite/state` exists: a firing sequence case of the pack's own case files, pushed one
/// record per instance (each destroyed before the next is made, with Fluent Bit's default 8 KiB
/// stack), gives every record exactly as one uninterrupted instance does, the alert on the record
/// that completes the sequence. A truncated state file is reported once and tagging goes on; a
/// missing state directory too.
#[test]
fn sequence_state_survives_a_new_instance_per_record() {
    use eqlite::testing::{parse_cases, Events, Expect};
    let Some(bytes) = module_bytes(WASIP1) else { return };
    let file = workspace_root().join("rules/discovery_kubelet_pod_discovery_via_builtin_utilities.tests.toml");
    let cases = parse_cases(&std::fs::read_to_string(&file).unwrap(), &file.display().to_string()).unwrap();
    let seq = cases.cases.iter().find(|c| c.name.starts_with("two containers interleaved")).unwrap();
    let Events::Inline(text) = &seq.events else { panic!("inline events") };
    let events: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let Expect::Alerts(alerts) = &seq.expect else { panic!("alerts listed") };
    let completes = *alerts[0].last().unwrap() as usize;
    let rule = &cases.rule_id;

    let mut whole = Host::new(bytes);
    let want: Vec<Res> = events.iter().map(|e| whole.tag(e.as_bytes())).collect();
    let fired = |r: &Res| matches!(r, Res::Record(b) if String::from_utf8_lossy(b).contains(rule.as_str()));
    let at: Vec<usize> = (0..want.len()).filter(|&i| fired(&want[i])).collect();
    assert_eq!(at, [completes], "the uninterrupted run fires on the completing record");

    let root = std::env::temp_dir().join(format!("eqlite-fb-state-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(root.join("state")).unwrap();
    let settings = Settings { mapped_dirs: vec![("/etc/eqlite".into(), root.clone())], ..Settings::default() };
    for (i, e) in events.iter().enumerate() {
        let mut host = Host::with(bytes, &settings);
        assert_eq!(host.tag(e.as_bytes()), want[i], "record {i} on a new instance");
        assert_eq!(host.stderr(), "", "record {i}");
    }
    let state = root.join("state/eqlite_tag.state");
    assert!(state.exists() && !root.join("state/eqlite_tag.state.tmp").exists());

    // The state as it was before the completing record, then cut short.
    std::fs::remove_file(&state).unwrap();
    for e in &events[..completes] {
        let mut host = Host::with(bytes, &settings);
        host.tag(e.as_bytes());
    }
    let good = std::fs::read(&state).unwrap();
    let mut host = Host::with(bytes, &settings);
    assert_eq!(host.tag(events[completes].as_bytes()), want[completes], "the state before it completes it");
    // The stack of a first call that restores this state, compiles the rules, completes the
    // sequence and writes the state back (the deepest path state adds), to 64 bytes.
    let ok = |stack: u32| {
        std::fs::write(&state, &good).unwrap();
        let mut w = Wamr::new(bytes, &settings).unwrap();
        w.set_exec_stack(stack);
        w.call_json("eqlite_tag", "t", (1, 0), events[completes].as_bytes()).is_ok()
    };
    assert!(ok(wamr::DEFAULT_STACK_SIZE), "fits the default stack");
    let hi = least_stack(wamr::DEFAULT_STACK_SIZE, &ok);
    eprintln!("wasm32-wasip1: WAMR stack needed by a first call restoring and writing state: {hi} bytes");
    println!("STACK wasm32-wasip1 state_first_call={hi} default={}", wamr::DEFAULT_STACK_SIZE);
    std::fs::write(&state, &good).unwrap();
    std::fs::write(&state, &good[..good.len() - 9]).unwrap();
    let mut host = Host::with(bytes, &settings);
    assert!(!fired(&host.tag(events[completes].as_bytes())), "the partial matches were lost");
    let attack = &case("b4bd186b", true).events[0];
    assert!(matches!(host.tag(attack.as_bytes()), Res::Record(r) if r != attack.as_bytes()), "tagging goes on");
    let stderr = host.stderr();
    assert_eq!(stderr.lines().count(), 1, "said once: {stderr}");
    assert!(stderr.contains("eqlite_tag.state: invalid stream snapshot: truncated"), "{stderr}");
    assert!(stderr.contains("starting with no sequence state"), "{stderr}");
    // It was overwritten whole: the next instance reads it without a word.
    let mut host = Host::with(bytes, &settings);
    host.tag(attack.as_bytes());
    assert_eq!(host.stderr(), "");

    // No state directory: said once, records still tagged.
    std::fs::remove_dir_all(root.join("state")).unwrap();
    let mut host = Host::with(bytes, &settings);
    assert!(matches!(host.tag(attack.as_bytes()), Res::Record(r) if r != attack.as_bytes()));
    assert!(matches!(host.tag(attack.as_bytes()), Res::Record(r) if r != attack.as_bytes()));
    assert_eq!(host.stderr().trim_end(), NO_STATE_DIR);
    std::fs::remove_dir_all(&root).ok();
}

/// Throughput through the plugin for a realistic mix: 99% benign (app log lines, benign and
/// near-miss ECS events), 1% kubelet attacks, one instance. Every result is checked afterwards.
fn throughput(target: &'static str) {
    let Some(mut first) = host(target) else { return };
    let n: usize = if cfg!(debug_assertions) { 100 } else { 5_000 };
    let attacks: Vec<&String> =
        fixtures().iter().filter(|c| c.fires && c.events.len() == 1).map(|c| &c.events[0]).collect();
    // Near misses that fire no rule at all (some near misses of one rule are another's attack).
    let mut benign: Vec<String> = fixtures()
        .iter()
        .filter(|c| !c.fires && c.events.len() == 1)
        .map(|c| c.events[0].clone())
        .filter(|e| matches!(Oracle::new().expect(e.as_bytes(), Mode::Tag), Expect::Unchanged))
        .collect();
    let apps = ["web", "api", "worker", "redis"];
    for i in 0..40 {
        benign.push(format!(
            r#"{{"log":"10.244.1.{i} - - [20/Aug/2026:02:00:{:02} +0000] \"GET /api/v1/items/{i} HTTP/1.1\" 200 {} \"-\" \"Mozilla/5.0\"","stream":"stdout","time":"2026-08-20T02:00:{:02}.123Z","kubernetes":{{"pod_name":"{}-{i}","namespace_name":"shop","container_name":"{}","labels":{{"app":"{}"}},"host":"worker-{}"}}}}"#,
            i % 60,
            512 + i * 7,
            i % 60,
            apps[i % 4],
            apps[i % 4],
            apps[i % 4],
            i % 3
        ));
    }
    let records: Vec<&[u8]> = (0..n)
        .map(|i| {
            if i % 100 == 99 {
                attacks[(i / 100) % attacks.len()].as_bytes()
            } else {
                benign[i % benign.len()].as_bytes()
            }
        })
        .collect();
    let bytes: usize = records.iter().map(|r| r.len()).sum();

    // Each module runs the records on a fresh instance in each of ROUNDS rounds, in turn, and its
    // fastest round counts: the machine is shared, and the best round is the least disturbed.
    // Beside the module: a module that does nothing, in the same host (what Fluent Bit's
    // filter_wasm costs by itself: the copies in and out, the call), optionally an earlier build
    // of the module (EQLITE_FB_BASELINE_WASM=path, run with a 64 KiB stack, which builds before
    // this one needed), and the filter natively.
    const ROUNDS: usize = 3;
    let noop_bytes = noop_module();
    let baseline_bytes = std::env::var_os("EQLITE_FB_BASELINE_WASM")
        .map(|p| std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.to_string_lossy())));
    let (mut noop_secs, mut wasm_secs, mut native_secs, mut baseline_secs) = (f64::MAX, f64::MAX, f64::MAX, f64::MAX);
    let mut results: Vec<Res> = vec![];
    for round in 0..ROUNDS {
        let mut noop = Wamr::new(&noop_bytes, &Settings::default()).unwrap();
        let started = Instant::now();
        for r in &records {
            let out = noop.call_json("noop", "kube.var.log.containers.app", (1, 0), r).unwrap();
            assert!(matches!(out, wamr::Call::Str(ref s) if s == r));
        }
        noop_secs = noop_secs.min(started.elapsed().as_secs_f64());

        let mut fresh = if round == 0 { None } else { host(target) };
        let h = fresh.as_mut().unwrap_or(&mut first);
        h.tag(b"{}"); // compile the rules outside the timing
        let started = Instant::now();
        let out: Vec<Res> = records.iter().map(|r| h.tag(r)).collect();
        wasm_secs = wasm_secs.min(started.elapsed().as_secs_f64());
        if round == 0 {
            results = out;
        }

        if let Some(bytes) = &baseline_bytes {
            let mut old = Wamr::new(bytes, &Settings { wasm_stack_size: 65536, ..Settings::default() }).unwrap();
            old.call_json("eqlite_tag", "t", (1, 0), b"{}").unwrap();
            let started = Instant::now();
            for r in &records {
                old.call_json("eqlite_tag", "kube.var.log.containers.app", (1, 0), r).unwrap();
            }
            baseline_secs = baseline_secs.min(started.elapsed().as_secs_f64());
        }

        let mut native = eqlite_fluent_bit::Filter::embedded();
        let started = Instant::now();
        for r in &records {
            std::hint::black_box(native.process(r, eqlite_fluent_bit::Mode::Tag));
        }
        native_secs = native_secs.min(started.elapsed().as_secs_f64());
    }

    let mut oracle = Oracle::new();
    oracle.expect(b"{}", Mode::Tag);
    let mut tagged = 0;
    for (i, (r, res)) in records.iter().zip(&results).enumerate() {
        tagged += !check(r, res, &oracle.expect(r, Mode::Tag), &format!("mix record {i}")).is_empty() as usize;
    }
    let rate = |secs: f64| n as f64 / secs;
    eprintln!(
        "{target}: {n} records ({:.0} bytes avg, {tagged} tagged) in WAMR's fast interpreter: {:.0} records/s \
         ({:.1} MB/s), {:.2}x the time of a no-op module ({:.0} records/s); natively: {:.0} records/s",
        bytes as f64 / n as f64,
        rate(wasm_secs),
        bytes as f64 / wasm_secs / 1e6,
        wasm_secs / noop_secs,
        rate(noop_secs),
        rate(native_secs),
    );
    println!(
        "THROUGHPUT {target} wamr_records_per_sec={:.0} noop_records_per_sec={:.0} ratio_to_noop={:.2} native_records_per_sec={:.0}",
        rate(wasm_secs),
        rate(noop_secs),
        wasm_secs / noop_secs,
        rate(native_secs)
    );
    if baseline_bytes.is_some() {
        let old_secs = baseline_secs;
        println!(
            "THROUGHPUT {target} baseline_records_per_sec={:.0} speedup_over_baseline={:.2}",
            rate(old_secs),
            old_secs / wasm_secs
        );
    }
}

/// A module of the filter ABI that returns the record it is given (the host's NUL-terminated
/// copy), with a bump allocator for `malloc` (grows memory as needed) and a `free` that rewinds
/// it: the baseline the throughput is measured against.
fn noop_module() -> Vec<u8> {
    fn leb(mut n: usize, out: &mut Vec<u8>) {
        loop {
            let b = (n & 0x7f) as u8;
            n >>= 7;
            out.push(if n == 0 { b } else { b | 0x80 });
            if n == 0 {
                return;
            }
        }
    }
    fn section(id: u8, body: &[u8], out: &mut Vec<u8>) {
        out.push(id);
        leb(body.len(), out);
        out.extend_from_slice(body);
    }
    let mut m = b"\0asm\x01\0\0\0".to_vec();
    // Types: (i32) -> i32, (i32) -> (), (i32 x 6) -> i32.
    section(
        1,
        &[3, 0x60, 1, 0x7f, 1, 0x7f, 0x60, 1, 0x7f, 0, 0x60, 6, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 1, 0x7f],
        &mut m,
    );
    section(3, &[3, 0, 1, 2], &mut m);
    // Memory: 2 pages, growable. Global 0: the next free byte, from 1024.
    section(5, &[1, 0, 2], &mut m);
    section(6, &[1, 0x7f, 1, 0x41, 0x80, 0x08, 0x0b], &mut m);
    let mut exports = vec![4];
    for (name, kind, index) in [("memory", 2u8, 0u8), ("malloc", 0, 0), ("free", 0, 1), ("noop", 0, 2)] {
        exports.push(name.len() as u8);
        exports.extend_from_slice(name.as_bytes());
        exports.extend([kind, index]);
    }
    section(7, &exports, &mut m);
    #[rustfmt::skip]
    let malloc: &[u8] = &[
        1, 1, 0x7f,                                            // local 1: the block
        0x23, 0, 0x21, 1,                                      // block = next
        0x23, 0, 0x20, 0, 0x6a, 0x41, 7, 0x6a, 0x41, 0x78, 0x71, 0x24, 0, // next = (next + n + 7) & -8
        0x23, 0, 0x3f, 0, 0x41, 16, 0x74, 0x4b,                // next > memory.size << 16 ?
        0x04, 0x40, 0x20, 0, 0x41, 16, 0x76, 0x41, 1, 0x6a, 0x40, 0, 0x1a, 0x0b, // grow n / 64 KiB + 1 pages
        0x20, 1, 0x0b,
    ];
    #[rustfmt::skip]
    let free: &[u8] = &[0, 0x20, 0, 0x23, 0, 0x49, 0x04, 0x40, 0x20, 0, 0x24, 0, 0x0b, 0x0b]; // if p < next: next = p
    let noop: &[u8] = &[0, 0x20, 4, 0x0b]; // the record pointer
    let mut code = vec![3];
    for body in [malloc, free, noop] {
        leb(body.len(), &mut code);
        code.extend_from_slice(body);
    }
    section(10, &code, &mut m);
    m
}

#[test]
fn throughput_wasip1() {
    throughput(WASIP1);
}

#[test]
fn throughput_unknown_unknown() {
    throughput(UNKNOWN);
}

/// The deepest call chain of each phase, in bytes of WAMR's interpreter stack (the smallest
/// execution stack that works, to 64 bytes): the first call (which compiles the embedded rules),
/// and every fixture record after it, and an attack nested as deep as the module follows
/// ([`MAX_NESTING`]). Both must fit Fluent Bit's default `wasm_stack_size`.
#[test]
fn stack_needs_fit_the_default() {
    for target in [WASIP1, UNKNOWN] {
        let Some(bytes) = module_bytes(target) else { continue };
        let deep = String::from_utf8(nested_args(&case("b4bd186b", true).events[0], MAX_NESTING - 3)).unwrap();
        let records: Vec<&String> = fixtures().iter().flat_map(|c| c.events.iter()).chain([&deep]).collect();
        let run = |first_stack: u32, later_stack: u32| {
            let mut w = Wamr::new(bytes, &Settings::default()).unwrap();
            w.set_exec_stack(first_stack);
            if w.call_json("eqlite_tag", "t", (1, 0), records[0].as_bytes()).is_err() {
                return false;
            }
            w.set_exec_stack(later_stack);
            records.iter().all(|r| w.call_json("eqlite_tag", "t", (1, 0), r.as_bytes()).is_ok())
        };
        let need = |ok: &dyn Fn(u32) -> bool| {
            assert!(ok(1 << 16));
            least_stack(1 << 16, ok)
        };
        let first = need(&|s| run(s, 1 << 16));
        let later = need(&|s| run(1 << 16, s));
        eprintln!("{target}: WAMR stack needed: first call {first} bytes, every fixture record after it {later} bytes");
        println!("STACK {target} first_call={first} per_record={later} default={}", wamr::DEFAULT_STACK_SIZE);
        assert!(first <= wamr::DEFAULT_STACK_SIZE && later <= wamr::DEFAULT_STACK_SIZE);
    }
}

/// The least WAMR stack size (within 64 bytes, between 512 and `hi`, where `ok(hi)` holds) at which `ok` holds.
fn least_stack(mut hi: u32, ok: &dyn Fn(u32) -> bool) -> u32 {
    let mut lo = 512u32;
    while hi - lo > 64 {
        let mid = (lo + hi) / 2;
        if ok(mid) {
            hi = mid
        } else {
            lo = mid
        }
    }
    hi
}
