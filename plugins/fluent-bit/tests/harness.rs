//! Loads the built filter module in a real wasm runtime (wasmi, an interpreter like WAMR's) and
//! drives it as Fluent Bit's `filter_wasm` does (JSON event format):
//!
//! * refuses modules that use SIMD or wasm features WAMR-in-Fluent-Bit lacks, or that do not export
//!   `malloc`/`free` (WAMR would then squeeze records into its 8 KiB app heap);
//! * copies the tag and the record with a trailing NUL (`len + 1` bytes) through the module's
//!   `malloc`, calls the filter with the six i32 arguments, reads the NUL-terminated result (NULL:
//!   skip; empty: drop), and only then `free`s its copies;
//! * keeps one instance for many records.
//!
//! Every result is checked exactly against an oracle made here from the core library (the native
//! streaming engine over the same records) and the alert field shape the README documents.
//!
//! The module is built by the test itself (`cargo build --target … --profile wasm`, into
//! `target/plugin-build`, so as not to wait on the lock of the build running this test). A missing
//! wasm target skips the tests, unless `EQLITE_REQUIRE_WASM=1` (test.sh and CI set it). So does a
//! debug build of this harness (the interpreter is then far too slow), unless
//! `EQLITE_HARNESS_DEBUG=1`: run it with `--release`, as test.sh does.

use eqlite::{Alert, RuleSet};
use eqlite::{Stream, StreamOptions};
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use std::time::Instant;
use wasmi::{Config, Engine, Extern, ExternType, Instance, Linker, Memory, Module, Store, TypedFunc, Val};

const WASIP1: &str = "wasm32-wasip1";
const UNKNOWN: &str = "wasm32-unknown-unknown";
const MAX_RECORD_BYTES: usize = 16 << 20;
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
/// or when this harness is an unoptimised build: wasmi then runs a few hundred times slower
/// (compiling the rules takes 90 s instead of 0.3 s), so the tests skip, loudly, unless
/// `EQLITE_HARNESS_DEBUG=1`. test.sh runs them with `--release`.
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
        .args(["build", "--quiet", "-p", "eqlite-fluent-bit", "--lib", "--target", target, "--profile", "wasm"])
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
    let path = target_dir.join(target).join("wasm/eqlite_fluent_bit.wasm");
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

#[derive(Default)]
struct HostState {
    stderr: Vec<u8>,
    seed: u64,
}

struct Host {
    store: Store<HostState>,
    instance: Instance,
    memory: Memory,
    malloc: TypedFunc<i32, i32>,
    free: TypedFunc<i32, ()>,
    calls: u64,
}

type FilterFn = TypedFunc<(i32, i32, i32, i32, i32, i32), i32>;

/// An engine with the wasm features of WAMR as Fluent Bit builds it: no SIMD (wasmi is built
/// without it, so SIMD opcodes fail validation; nor memory64), no tail calls, GC, multi-memory…
fn engine() -> Engine {
    let mut c = Config::default();
    c.wasm_tail_call(false)
        .wasm_extended_const(false)
        .wasm_multi_memory(false)
        .wasm_wide_arithmetic(false)
        .wasm_custom_page_sizes(false)
        .wasm_bulk_memory(true)
        .wasm_reference_types(true);
    Engine::new(&c)
}

/// Compiles (validates) a module as the host would, refusing what WAMR-in-Fluent-Bit could not run
/// well.
fn load(engine: &Engine, bytes: &[u8]) -> Result<Module, String> {
    let module = Module::new(engine, bytes).map_err(|e| format!("invalid module: {e}"))?;
    let has = |name: &str, params: usize, results: usize| {
        matches!(module.get_export(name), Some(ExternType::Func(f))
            if f.params().len() == params && f.results().len() == results)
    };
    if !has("malloc", 1, 1) || !has("free", 1, 0) {
        return Err("the module does not export malloc(i32)->i32 and free(i32)".into());
    }
    for imp in module.imports() {
        if imp.module() != "wasi_snapshot_preview1" || !matches!(imp.ty(), ExternType::Func(_)) {
            return Err(format!("unsupported import {}::{}", imp.module(), imp.name()));
        }
    }
    Ok(module)
}

const ERRNO_BADF: i32 = 8;
const ERRNO_NOSYS: i32 = 52;

fn mem(caller: &wasmi::Caller<'_, HostState>) -> Memory {
    caller.get_export("memory").and_then(Extern::into_memory).expect("memory export")
}

fn rd32(data: &[u8], at: usize) -> usize {
    u32::from_le_bytes(data[at..at + 4].try_into().unwrap()) as usize
}

/// The few WASI calls a filter may make, answered like a WAMR host with no preopened directory
/// (so `/etc/eqlite/rules` is not there), no arguments and no environment.
fn wasi(name: &str, mut caller: wasmi::Caller<'_, HostState>, p: &[Val]) -> Result<i32, wasmi::Error> {
    let arg = |i: usize| match p[i] {
        Val::I32(v) => v as u32 as usize,
        _ => 0,
    };
    match name {
        "fd_write" => {
            let (fd, iovs, n, nwritten) = (arg(0), arg(1), arg(2), arg(3));
            let memory = mem(&caller);
            let (data, state) = memory.data_and_store_mut(&mut caller);
            let mut total = 0;
            for i in 0..n {
                let (ptr, len) = (rd32(data, iovs + 8 * i), rd32(data, iovs + 8 * i + 4));
                if fd == 1 || fd == 2 {
                    state.stderr.extend_from_slice(&data[ptr..ptr + len]);
                }
                total += len;
            }
            data[nwritten..nwritten + 4].copy_from_slice(&(total as u32).to_le_bytes());
            Ok(0)
        }
        "random_get" => {
            let (buf, len) = (arg(0), arg(1));
            let memory = mem(&caller);
            let (data, state) = memory.data_and_store_mut(&mut caller);
            for b in &mut data[buf..buf + len] {
                state.seed = state.seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                *b = (state.seed >> 33) as u8;
            }
            Ok(0)
        }
        "environ_sizes_get" | "args_sizes_get" => {
            let memory = mem(&caller);
            let data = memory.data_mut(&mut caller);
            data[arg(0)..arg(0) + 4].fill(0);
            data[arg(1)..arg(1) + 4].fill(0);
            Ok(0)
        }
        "environ_get" | "args_get" => Ok(0),
        "fd_prestat_get" => Ok(ERRNO_BADF),
        "proc_exit" => Err(wasmi::Error::i32_exit(arg(0) as i32)),
        _ => Ok(ERRNO_NOSYS),
    }
}

impl Host {
    fn new(engine: &Engine, module: &Module) -> Host {
        let mut linker = Linker::<HostState>::new(engine);
        for imp in module.imports() {
            let ExternType::Func(ty) = imp.ty() else { unreachable!("checked by load") };
            let name = imp.name().to_string();
            linker
                .func_new(imp.module(), imp.name(), ty.clone(), move |caller, params, results| {
                    let errno = wasi(&name, caller, params)?;
                    if let Some(r) = results.first_mut() {
                        *r = Val::I32(errno);
                    }
                    Ok(())
                })
                .unwrap();
        }
        let mut store = Store::new(engine, HostState { seed: 0x5eed, ..HostState::default() });
        let instance = linker.instantiate_and_start(&mut store, module).expect("instantiate");
        // A WASI reactor's constructors, as WAMR runs them after instantiation.
        if let Ok(init) = instance.get_typed_func::<(), ()>(&store, "_initialize") {
            init.call(&mut store, ()).expect("_initialize");
        }
        let memory = instance.get_memory(&store, "memory").expect("memory");
        let malloc = instance.get_typed_func(&store, "malloc").unwrap();
        let free = instance.get_typed_func(&store, "free").unwrap();
        Host { store, instance, memory, malloc, free, calls: 0 }
    }

    /// `wasm_runtime_module_dup_data`: malloc + copy (0 when malloc fails).
    fn dup(&mut self, bytes: &[u8]) -> i32 {
        let p = self.malloc.call(&mut self.store, bytes.len() as i32).expect("malloc");
        if p != 0 {
            self.memory.write(&mut self.store, p as usize, bytes).expect("malloc returned room");
        }
        p
    }

    /// A NUL-terminated string at `p`, if it is one (`wasm_runtime_validate_app_str_addr`).
    fn c_str(&self, p: i32) -> Option<Vec<u8>> {
        let data = self.memory.data(&self.store);
        let start = p as u32 as usize;
        let len = data.get(start..)?.iter().position(|b| *b == 0)?;
        Some(data[start..start + len].to_vec())
    }

    fn call(&mut self, function: &str, tag: &str, record: &[u8]) -> Res {
        self.calls += 1;
        let f: FilterFn = self.instance.get_typed_func(&self.store, function).expect("the filter function");
        let mut tag_copy = tag.as_bytes().to_vec();
        tag_copy.push(0);
        let mut record_copy = Vec::with_capacity(record.len() + 1);
        record_copy.extend_from_slice(record);
        record_copy.push(0);
        let tag_ptr = self.dup(&tag_copy);
        let record_ptr = self.dup(&record_copy);
        let (sec, nsec) = (1_787_000_000 + self.calls as i32, 0);
        let args = (tag_ptr, tag.len() as i32, sec, nsec, record_ptr, record.len() as i32);
        let result = f.call(&mut self.store, args).unwrap_or_else(|e| panic!("the filter trapped: {e}"));
        // The host copies the result before freeing its inputs.
        let res = match result {
            0 => Res::Skip,
            p => match self.c_str(p) {
                None => Res::Skip,
                Some(s) if s.is_empty() => Res::Drop,
                Some(s) => Res::Record(s),
            },
        };
        for p in [tag_ptr, record_ptr] {
            if p != 0 {
                self.free.call(&mut self.store, p).expect("free");
            }
        }
        res
    }

    fn tag(&mut self, record: &[u8]) -> Res {
        self.call("eqlite_tag", "kube.var.log.containers.app", record)
    }

    fn match_only(&mut self, record: &[u8]) -> Res {
        self.call("eqlite_match_only", "kube.var.log.containers.app", record)
    }

    fn stats(&mut self) -> Value {
        let f = self.instance.get_typed_func::<(), i32>(&self.store, "eqlite_stats").unwrap();
        let p = f.call(&mut self.store, ()).unwrap();
        serde_json::from_slice(&self.c_str(p).unwrap()).unwrap()
    }

    /// The module's `eqlite_reset`: a fresh engine, rules kept.
    fn reset(&mut self) {
        let f = self.instance.get_typed_func::<(), ()>(&self.store, "eqlite_reset").unwrap();
        f.call(&mut self.store, ()).unwrap();
    }

    fn memory_bytes(&self) -> usize {
        self.memory.data(&self.store).len()
    }

    fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.store.data().stderr).into_owned()
    }
}

/// A host over the module built for `target` (None: target not installed).
fn host(target: &'static str) -> Option<Host> {
    let bytes = module_bytes(target)?;
    let engine = engine();
    let module = load(&engine, bytes).unwrap();
    Some(Host::new(&engine, &module))
}

// ---------------------------------------------------------------------------------------------
// The oracle: what the module must return, from the core library

fn rules() -> &'static RuleSet {
    static RS: OnceLock<RuleSet> = OnceLock::new();
    RS.get_or_init(|| RuleSet::from_pack(&eqlite::Pack::kubelet(), eqlite::Options::default()).unwrap())
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
    Tagged(Vec<Alert>),
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
            return miss;
        }
        let text = String::from_utf8_lossy(record);
        let Ok(ev) = rules().read_json(&text) else {
            self.count("bad");
            return miss;
        };
        if std::str::from_utf8(record).is_err() {
            self.count("lossy_utf8");
        }
        let alerts = self.stream.push(rules(), &ev, self.pos);
        self.pos += 1;
        if alerts.is_empty() {
            return miss;
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
        Expect::Tagged(alerts)
    }

    /// The whole `eqlite_stats` object expected now.
    fn stats(&self) -> Value {
        let st = self.stream.stats();
        let mut m = Map::new();
        for k in ["records", "matched", "alerts", "bad", "oversize", "lossy_utf8", "dropped", "replaced_keys"] {
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
        (Expect::Tagged(alerts), Res::Record(out)) => {
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
    let engine = engine();
    let module = load(&engine, bytes).unwrap();
    let (mut fired, mut quiet) = (0, 0);
    let mut shared = Host::new(&engine, &module);
    for (n, c) in fixtures().iter().enumerate() {
        let mut fresh = (n < 3).then(|| Host::new(&engine, &module));
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
        ("attack with a 1 MB argument built to slow wildcards", {
            let mut v: Value = serde_json::from_str(attack).unwrap();
            let args = v["process"]["args"].as_array_mut().unwrap();
            args.insert(1, Value::from("http:10250".repeat(100_000)));
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
            | "attack with a 1 MB argument built to slow wildcards" => {
                assert!(alerts.iter().any(|a| a.rule_id.starts_with("b4bd186b")), "{what}: b4bd186b fires")
            }
            "benign"
            | "app log line"
            | "1 MB benign"
            | "benign with non-UTF-8 bytes"
            | "10k-deep arrays in a field no rule reads"
            | "a number beyond f64 where the rules read" => {
                assert_eq!(res, Res::Record(r.clone()), "{what}: unchanged")
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
    // Spelled out for the cases above (per round): the 10 bad ones are invalid JSON, trailing
    // garbage, an array, a string, a number, null, the empty record, the oversize one, the raw NUL
    // and the number beyond f64 in a field the rules read. Deep nesting and huge numbers in fields
    // no rule reads are skipped, so they cannot hide an attack.
    assert_eq!(stats["records"], n, "{stats}");
    assert_eq!(stats["bad"], 10 * 4, "{stats}");
    assert_eq!(stats["oversize"], 4, "{stats}");
    assert_eq!(stats["lossy_utf8"], 2 * 4, "{stats}");
    assert_eq!(stats["dropped"], 4, "{stats}: only the empty record");
    assert_eq!(stats["replaced_keys"], 4, "{stats}");
    assert_eq!(stats["rules"], 16, "{stats}");
    assert!(stats["matched"].as_u64().unwrap() > tagged, "{stats}");
    assert_eq!(host.stderr(), "");
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
        if matches!(want, Expect::Tagged(_)) {
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

/// The host refuses what Fluent Bit's WAMR could not run well.
#[test]
fn refuses_simd_and_modules_without_an_allocator() {
    let engine = engine();
    // An empty module: no malloc/free.
    let empty = b"\0asm\x01\0\0\0";
    assert!(load(&engine, empty).unwrap_err().contains("malloc"));
    // A function using v128.const.
    let mut simd = b"\0asm\x01\0\0\0\x01\x04\x01\x60\0\0\x03\x02\x01\0\x0a\x17\x01\x15\0\xfd\x0c".to_vec();
    simd.extend([0u8; 16]);
    simd.extend(b"\x1a\x0b");
    assert!(load(&engine, &simd).unwrap_err().contains("invalid module"));
    // The real module loads; its imports are WASI only, and it has no SIMD.
    if let Some(bytes) = module_bytes(WASIP1) {
        load(&engine, bytes).unwrap();
    }
}

/// Throughput through the plugin for a realistic mix: 99% benign (app log lines, benign and
/// near-miss ECS events), 1% kubelet attacks, one instance. Every result is checked afterwards.
fn throughput(target: &'static str) {
    let Some(mut host) = host(target) else { return };
    let n: usize = if cfg!(debug_assertions) { 100 } else { 20_000 };
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

    let started = Instant::now();
    let results: Vec<Res> = records.iter().map(|r| host.tag(r)).collect();
    let wasm_secs = started.elapsed().as_secs_f64();

    let mut native = eqlite_fluent_bit::Filter::embedded();
    let started = Instant::now();
    for r in &records {
        std::hint::black_box(native.process(r, eqlite_fluent_bit::Mode::Tag));
    }
    let native_secs = started.elapsed().as_secs_f64();

    let mut oracle = Oracle::new();
    let mut tagged = 0;
    for (i, (r, res)) in records.iter().zip(&results).enumerate() {
        tagged += !check(r, res, &oracle.expect(r, Mode::Tag), &format!("mix record {i}")).is_empty() as usize;
    }
    let profile = if cfg!(debug_assertions) { "debug build of the harness: slow interpreter" } else { "release" };
    eprintln!(
        "{target}: {n} records ({:.0} bytes avg, {tagged} tagged) through the plugin in wasmi: {:.0} records/s \
         ({:.1} MB/s); natively: {:.0} records/s [{profile}]",
        bytes as f64 / n as f64,
        n as f64 / wasm_secs,
        bytes as f64 / wasm_secs / 1e6,
        n as f64 / native_secs,
    );
    println!(
        "THROUGHPUT {target} wasmi_records_per_sec={:.0} native_records_per_sec={:.0}",
        n as f64 / wasm_secs,
        n as f64 / native_secs
    );
}

#[test]
fn throughput_wasip1() {
    throughput(WASIP1);
}

#[test]
fn throughput_unknown_unknown() {
    throughput(UNKNOWN);
}
