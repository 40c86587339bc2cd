//! The npm package `eqlite`: a thin wasm-bindgen layer over the `eqlite` crate. Everything here
//! converts between JavaScript and the core; the semantics live in the core.
//!
//! Results cross the boundary as plain JavaScript objects with camelCase keys; errors are thrown
//! as `Error` objects carrying the position fields of a diagnostic. Nothing panics across it: every
//! fallible call returns a `Result`.

use eqlite::input;
use eqlite::{Alert, Error, ErrorKind, Loaded, Options, Pack, RuleKind, RuleSet, Span, Stats, Stream, StreamOptions};
use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::Value as Json;
use std::borrow::Cow;
use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &str = r#"
/// <reference lib="esnext.disposable" />
// (wasm-bindgen gives every class a `[Symbol.dispose]()`, which ES2022 and older libs lack.)

/** A rule's severity, as detection-rules and Kibana define it. */
export type Severity = "low" | "medium" | "high" | "critical";

/** An alert: a rule and the 0-based positions of the events that make up the match. */
export interface Alert {
  ruleId: string;
  ruleName: string;
  severity: Severity;
  riskScore: number;
  /** Positions of the events (in the batch, or in the order they were pushed). */
  events: number[];
}

/** A change that turns one decisive condition of a rule, and the events it gives, which do not fire. */
export interface NearMiss {
  /** The condition as written in the query (or what decides it: `maxspan`, the sequence). */
  condition: string;
  /** Where it is in the query text, in UTF-8 bytes. */
  span: { start: number; end: number };
  /** What was changed, in words: `made false (process.name = "curx")`. */
  change: string;
  events: Record<string, unknown>[];
}

/** ECS events that fire a rule (in order, for a sequence or sample), and its near misses; every one proven by the engine. */
export interface Synthesis {
  ruleId: string;
  events: Record<string, unknown>[];
  nearMisses: NearMiss[];
}

/** A span in the query text, in UTF-8 bytes and in UTF-16 code units (JavaScript string indices). */
export interface Span {
  start: number;
  end: number;
  startUtf16: number;
  endUtf16: number;
}

export type JsonScalar = string | number | boolean | null;

/** One clause of a query and how it evaluated on one event. */
export interface ExplanationNode {
  /** The clause's source text. */
  text: string;
  span: Span;
  kind: "query" | "category" | "and" | "or" | "not" | "compare" | "in" | "match" | "exists" | "value";
  /** Three-valued: null when a value was missing or types did not compare. */
  result: boolean | null;
  /** The field tested, when the operand is a field. */
  field?: string;
  /** The operand's values (at most 32). */
  values?: JsonScalar[];
  /** How many values there were, when more than 32. */
  valuesTotal?: number;
  /** The value, and the pattern or literal, that decided the outcome. */
  decidedBy?: { value: JsonScalar; pattern?: JsonScalar };
  /** The clause fails only by case: the event's spelling and the rule's (`reason` names the operator that would match). */
  caseOnly?: { value: JsonScalar; pattern?: JsonScalar };
  /** On a stage's root: the event matches a missing-event stage or `until`, so it prevents the sequence. */
  prevents?: boolean;
  /** One sentence for people. */
  reason: string;
  children?: ExplanationNode[];
}

/** Why one rule matched one event or not: one tree per event query (per stage for sequences). */
export interface RuleExplanation {
  ruleId: string;
  ruleName: string;
  /** For an event rule, whether the event matches; for a sequence, whether it matches a stage that advances it. */
  matched: boolean;
  /** For a sequence: the event matches a missing-event stage or `until`, which prevents matches. */
  prevents: boolean;
  /** True for sequences and samples, whose alerts need several events. */
  sequence: boolean;
  explanations: ExplanationNode[];
}

/** One event of an alert against the stage it filled (sequences), with join keys and time gap. */
export interface StageExplanation {
  /** Index of the stage in the query. */
  stage: number;
  /** The event's position. */
  event: number;
  /** The event's time as written in it. */
  timestamp?: JsonScalar;
  /** The field it was read from: the rule's timestampOverride (e.g. "event.ingested") when the event has it, else the timestamp field. */
  timestampField: string;
  /** Milliseconds since the previous event of the alert. */
  gapMs?: number | null;
  keys: { field: string; values: JsonScalar[] }[];
  explanation: ExplanationNode;
}

/** What ended a sequence attempt for a join key. */
export type SequenceStop =
  | { kind: "maxspan"; event: number; exceededMs: number }
  | { kind: "until"; event: number }
  | { kind: "missing"; stage: number; event: number }
  | { kind: "runs_short"; stage: number; seen: number; needed: number };

/** "Why did this sequence not fire?": how far one join key got. */
export interface KeyProgress {
  key: JsonScalar[];
  fired: boolean;
  /** Positive stages filled by the furthest attempt, with the events that filled them. */
  filled: { stage: number; event: number }[];
  /** The stage that attempt still needed. */
  pending?: number;
  /** What ended it (absent: it was still waiting at the end). */
  stopped?: SequenceStop;
  reason: string;
}

export interface SequenceProgress {
  ruleId: string;
  /** The field events were ordered by ("event.ingested, else @timestamp" with a timestamp override). */
  timestampField: string;
  keyFields: string[];
  /** Per join key value, those that got furthest first. */
  keys: KeyProgress[];
  /** Events that matched a stage but had no usable timestamp. */
  untimed: number;
}

/** A problem with a query or rule, positioned in the text that was checked. */
export interface Diagnostic {
  /** "parse", "verify", "rule_file", "duplicate", "case_file", "limit", "event", "io" or "snapshot". */
  kind: string;
  message: string;
  /** 1-based line and column (column in characters). */
  line: number;
  column: number;
  /** 1-based column in UTF-16 code units. */
  columnUtf16: number;
  start: number;
  end: number;
  startUtf16: number;
  endUtf16: number;
  /** The message with the source line and a caret, for terminals. */
  rendered: string;
}

/** The Error thrown for a bad query, rule or event carries the diagnostic's fields. */
export interface EqliteError extends Error, Partial<Omit<Diagnostic, "message">> {}

export interface MitreRef { id: string; name: string }

export interface RuleInfo {
  ruleId: string;
  name: string;
  description: string;
  severity: Severity;
  riskScore: number;
  query: string;
  /** "event", "sequence" or "sample". */
  kind: "event" | "sequence" | "sample";
  tags: string[];
  index: string[];
  tactics: MitreRef[];
  techniques: MitreRef[];
  /** The query language ("eql"). */
  language: string;
  /** Every field the rule reads (conditions, join keys, timestamps, the category field), sorted. */
  fields: string[];
  /** Where the rule came from: a file name, "rule", or the id of a query added with addQuery. */
  origin: string;
}

/** An input item that could not be read as an event. */
export interface InputError {
  /** Its position among the input items. */
  position: number;
  line: number;
  column: number;
  message: string;
}

export interface BatchResult {
  alerts: Alert[];
  /** Input items that could not be read; the others were evaluated. */
  errors: InputError[];
  /** Number of input items (valid or not). */
  events: number;
  stats: StreamStats;
}

/** What `restore` kept of a snapshot. */
export interface RestoreResult {
  /** Rules whose state was restored (same id and query). */
  kept: number;
  /** Rules of the snapshot whose state was dropped: removed, or changed. */
  dropped: number;
  /** Partial matches and held events those dropped states had. */
  droppedPending: number;
}

export interface StreamStats {
  events: number;
  late: number;
  untimed: number;
  evicted: number;
  expired: number;
  pending: number;
  /** Records of a whole input sorted on disk (always 0 here). */
  spilled: number;
}

export interface EngineOptions {
  /** Field holding the event category. Default "event.category". */
  categoryField?: string;
  /** Field holding the event time. Default "@timestamp". */
  timestampField?: string;
  tiebreakerField?: string;
  /** Milliseconds an event may arrive late and still join sequences in order. Default 0 for push(), whole batch for evaluateBatch(). */
  latenessMs?: number;
  /** Most pending partial sequence matches per rule. Default 100000. */
  maxPending?: number;
  /**
   * Read values as the Elastic Common Schema types of their fields, as Elasticsearch indexes them:
   * a number in a keyword field (`user.id: 0`) is its text, a numeric string in a long field
   * (`destination.port: "10250"`) the number. Default true; false reads JSON types.
   */
  ecsTypes?: boolean;
  /**
   * Field-type tables (`"my.app.port long"`, one field per line; the format of the CLI's
   * `--field-types`), over the ECS types, later ones over earlier ones.
   */
  fieldTypes?: string | string[];
}

/**
 * One item of pasted text, as the engine splits it: an event's JSON text, or why it is not one.
 * `line` and `column` (1-based, column in characters) are where the event starts or where the
 * error is; `offset` is that place in UTF-8 bytes, `offsetUtf16` in JavaScript string indices.
 * `origin` says how the event was found: a line of NDJSON, a top-level value of a document (a
 * pretty-printed object, say), an element of a top-level array, or hit number `hit` (1-based) of a
 * search response.
 */
export type InputItem =
  | { position: number; line: number; column: number; offset: number; offsetUtf16: number; origin: "line" | "value" | "element" | "hit"; hit?: number; json: string }
  | { position: number; line: number; column: number; offset: number; offsetUtf16: number; error: string };

/** Metadata for a bare query added with addQuery. */
export interface QueryMeta {
  name?: string;
  description?: string;
  severity?: Severity;
  riskScore?: number;
}

/** An event: a JSON object, or its JSON text. */
export type EventInput = object | string;

/** A condition of a rule's query, and the cases in which flipping it alone changes the outcome. */
export interface TestCondition {
  /** "comparison", "in", ":", "like", "regex", "function", "field", "not", "stage", "missing event", "join key", "until", "maxspan" or "runs". */
  kind: string;
  text: string;
  /** Byte span in the query, and 1-based line and column (characters). */
  start: number;
  end: number;
  line: number;
  column: number;
  decisiveIn: string[];
  /** Why it is left out of coverage, when the case file excuses it. */
  excused?: string;
}

/** What a case expects: "fires", "silent", or exact alerts (event positions, in order). */
export type TestExpect = "fires" | "silent" | { alerts: number[][] };

export interface TestCaseResult {
  name: string;
  /** "case", or "benign" for a baseline. */
  kind: "case" | "benign";
  /** Line of the case in the case file. */
  line: number;
  passed: boolean;
  expected: TestExpect;
  /** The alerts the rule produced, each the positions of its events. */
  got: number[][];
  /** Why the case could not run, or what failed a baseline. */
  error: string | null;
  /** For a failure: the clause that decided it, with the query line and a caret. */
  deciding: { condition: Omit<TestCondition, "decisiveIn" | "excused">; reason: string; snippet: string; alternatives: Omit<TestCondition, "decisiveIn" | "excused">[] } | null;
}

/** A case file run against its rule (`engine.test`), with decisive clause coverage. */
export interface RuleTestReport {
  ruleId: string;
  ruleName: string;
  origin: string;
  casesOrigin: string | null;
  cases: TestCaseResult[];
  conditions: TestCondition[];
  /** Problems of the case file found against the query (an excused clause the query lacks). */
  errors: string[];
  /** Decisive conditions in percent of the counted ones (100 for a query without any). */
  coverage: number;
  firingCases: number;
  silentCases: number;
}
"#;

fn camel(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut up = false;
    for c in s.chars() {
        if c == '_' {
            up = true;
        } else if up {
            out.extend(c.to_uppercase());
            up = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// Rewrites object keys to camelCase, recursively.
fn camelize(v: Json) -> Json {
    match v {
        Json::Object(m) => Json::Object(m.into_iter().map(|(k, v)| (camel(&k), camelize(v))).collect()),
        Json::Array(a) => Json::Array(a.into_iter().map(camelize).collect()),
        v => v,
    }
}

fn to_js<T: Serialize>(v: &T) -> Result<JsValue, JsValue> {
    let json = serde_json::to_value(v).map_err(|e| error(&e.to_string()))?;
    camelize(json).serialize(&serde_wasm_bindgen::Serializer::json_compatible()).map_err(|e| error(&e.to_string()))
}

fn error(msg: &str) -> JsValue {
    js_sys::Error::new(msg).into()
}

fn set(obj: &JsValue, key: &str, v: JsValue) {
    let _ = js_sys::Reflect::set(obj, &JsValue::from_str(key), &v);
}

/// A diagnostic as a thrown `Error` with its position fields.
fn diag_error(d: &Error) -> JsValue {
    let e: JsValue = js_sys::Error::new(d.message()).into();
    let p = d.position().unwrap_or_default();
    for (k, v) in [
        ("line", p.line),
        ("column", p.column),
        ("columnUtf16", p.column_utf16),
        ("start", p.start),
        ("end", p.end),
        ("startUtf16", p.start_utf16),
        ("endUtf16", p.end_utf16),
    ] {
        set(&e, k, JsValue::from_f64(v as f64));
    }
    set(&e, "rendered", JsValue::from_str(&d.rendered()));
    set(&e, "kind", JsValue::from_str(d.kind().name()));
    e
}

/// A bad event as `invalid event: …`, with its position.
fn event_message(e: &Error) -> String {
    format!("invalid event: {e}")
}

fn json_error(e: &Error) -> JsValue {
    let err: JsValue = js_sys::Error::new(&event_message(e)).into();
    if let Some(p) = e.position() {
        set(&err, "line", JsValue::from_f64(p.line as f64));
        set(&err, "column", JsValue::from_f64(p.column as f64));
    }
    err
}

fn camel_alerts(alerts: &[Alert]) -> Result<JsValue, JsValue> {
    // Most events raise nothing: skip serialisation then.
    if alerts.is_empty() {
        return Ok(js_sys::Array::new().into());
    }
    to_js(&alerts)
}

#[derive(Default, serde::Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct JsOptions {
    category_field: Option<String>,
    timestamp_field: Option<String>,
    tiebreaker_field: Option<String>,
    lateness_ms: Option<f64>,
    max_pending: Option<f64>,
    ecs_types: Option<bool>,
    // Kept as JSON text and read below: cheaper in code size than serde's untagged enums. (No
    // Elasticsearch `mapping` option: its reader costs the package 2.5 KB gzip; a type table says
    // the same, but for `null_value`.)
    field_types: Option<Box<RawValue>>,
}

/// A JSON string's text, or `None` when the JSON is something else.
fn json_string(raw: &RawValue) -> Option<String> {
    raw.get().starts_with('"').then(|| serde_json::from_str(raw.get()).ok()).flatten()
}

impl JsOptions {
    fn field_types(&self) -> Result<Vec<std::sync::Arc<eqlite::TypeTable>>, JsValue> {
        let texts: Vec<String> = match self.field_types.as_deref() {
            None => vec![],
            Some(raw) => match json_string(raw) {
                Some(t) => vec![t],
                None => serde_json::from_str(raw.get())
                    .map_err(|_| error("invalid options: fieldTypes: expected a string or an array of strings"))?,
            },
        };
        texts
            .iter()
            .enumerate()
            .map(|(i, t)| {
                eqlite::TypeTable::parse(t)
                    .map(std::sync::Arc::new)
                    .map_err(|e| error(&format!("invalid options: fieldTypes[{i}]: {e}")))
            })
            .collect()
    }
}

/// A rule set and a streaming state.
#[wasm_bindgen]
pub struct Engine {
    rules: RuleSet,
    stream: Stream,
    stream_options: StreamOptions,
    pushed: u64,
}

impl Engine {
    fn reset_stream(&mut self) {
        self.stream = Stream::new(&self.rules, self.stream_options.clone());
        self.pushed = 0;
    }
}

/// A JS value as JSON text, through `JSON.stringify`, whose binding catches: a getter that
/// throws, a proxy, a cycle or a BigInt becomes an `Error` here. (A JS exception thrown while Rust
/// code is on the stack would unwind through it and leave the engine borrowed: every later call
/// would fail with "recursive use of an object".) Only own enumerable properties are read, so a
/// polluted `Object.prototype` is not; `NaN` and `Infinity` become `null`, as in JSON.
fn json_text(v: &JsValue, what: &str) -> Result<String, JsValue> {
    json_js(v, what).map(|s| String::from(&s))
}

/// `JSON.stringify(v)` as a JS string; see `json_text`.
fn json_js(v: &JsValue, what: &str) -> Result<js_sys::JsString, JsValue> {
    match js_sys::JSON::stringify(v) {
        Ok(s) if !s.is_undefined() => Ok(s),
        Ok(_) => Err(error(&format!("invalid {what}: it has no JSON form"))),
        Err(e) => {
            let msg: String = match e.dyn_ref::<js_sys::Error>() {
                Some(err) => err.message().into(),
                None => e.as_string().unwrap_or_else(|| "it cannot be converted to JSON".into()),
            };
            Err(error(&format!("invalid {what}: {msg}")))
        }
    }
}

// Typed option objects: the declarations say `options?: EngineOptions`, the values arrive as
// plain JS objects and are read through their JSON (see `from_js`).
#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(typescript_type = "EngineOptions")]
    pub type EngineOptions;
    #[wasm_bindgen(typescript_type = "QueryMeta")]
    pub type QueryMeta;
    #[wasm_bindgen(typescript_type = "Record<string, string>")]
    pub type TestFiles;
}

#[wasm_bindgen]
extern "C" {
    type TextEncoder;
    #[wasm_bindgen(constructor)]
    fn new() -> TextEncoder;
    #[wasm_bindgen(method)]
    fn encode(this: &TextEncoder, text: &js_sys::JsString) -> js_sys::Uint8Array;
    #[wasm_bindgen(method, js_name = encodeInto)]
    fn encode_into(this: &TextEncoder, text: &js_sys::JsString, dest: &js_sys::Uint8Array) -> EncodeInto;
    type EncodeInto;
    #[wasm_bindgen(method, getter)]
    fn written(this: &EncodeInto) -> u32;
}

thread_local! {
    static ENCODER: TextEncoder = TextEncoder::new();
}

/// Strings of more UTF-16 units than this are copied at their exact UTF-8 size (see `text_in`).
const LARGE_TEXT_UNITS: usize = 1 << 20;

/// A JS string's UTF-8, in `buf` (or, for a large string, in a `String` of its own).
/// wasm-bindgen's own conversion copies ASCII one character at a time in JavaScript, which for a
/// kilobyte-sized event costs about as much as reading the event; `TextEncoder.encodeInto` copies
/// in native code, into room for 3 bytes per UTF-16 unit. Large strings go through
/// `TextEncoder.encode` instead, at their exact size: wasm memory never shrinks, so a 100 MB paste
/// would otherwise keep 300 MB.
fn text_in<'b>(buf: &'b mut Vec<u8>, text: &js_sys::JsString) -> Result<Cow<'b, str>, JsValue> {
    let units = text.length() as usize;
    if units > LARGE_TEXT_UNITS {
        let bytes = TextEncoder::new().encode(text).to_vec();
        return Ok(Cow::Owned(
            String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
        ));
    }
    // A UTF-16 unit is at most 3 bytes of UTF-8 (a surrogate pair, 2 units, is 4). Not zeroed
    // first: that alone cost a tenth of `evaluate(string)`.
    buf.clear();
    buf.reserve(units * 3);
    let written = ENCODER.with(|e| {
        // SAFETY: the view covers `buf`'s allocation, which JavaScript may write; it is dropped
        // before `buf` is touched again, and nothing allocates (or grows wasm memory) meanwhile
        // (the encoder already exists).
        let view = unsafe { js_sys::Uint8Array::view_mut_raw(buf.as_mut_ptr(), buf.capacity()) };
        e.encode_into(text, &view).written() as usize
    });
    // SAFETY: `encodeInto` wrote the first `written` bytes, and never more than the view's length.
    unsafe { buf.set_len(written.min(buf.capacity())) };
    std::str::from_utf8(buf).map(Cow::Borrowed).map_err(|_| error("invalid text: it is not UTF-8"))
}

/// A JS object (options, metadata, an alert) read into a Rust structure through its JSON text.
fn from_js<T: serde::de::DeserializeOwned>(v: &JsValue, what: &str) -> Result<T, JsValue> {
    serde_json::from_str(&json_text(v, what)?).map_err(|e| error(&format!("invalid {what}: {e}")))
}

/// Reads an event given as a JS object or as JSON text, and passes it to `f`.
fn with_event<T>(rules: &RuleSet, event: &JsValue, f: impl FnOnce(&eqlite::Event) -> T) -> Result<T, JsValue> {
    // Not kept in the engine between calls: a buffer that stays allocated can split the free
    // space a later large paste needs, and wasm memory never shrinks.
    let buf = &mut Vec::new();
    if let Some(text) = event.dyn_ref::<js_sys::JsString>() {
        let text = text_in(buf, text)?;
        let ev = rules.read_json(&text).map_err(|e| json_error(&e))?;
        return Ok(f(&ev));
    }
    if !event.is_object() || js_sys::Array::is_array(event) {
        return Err(error("invalid event: expected a JSON object or its JSON text"));
    }
    // An object is read as its JSON text: see `json_text`. (Positions in that text mean nothing
    // to the caller, so the error has none.)
    let text = text_in(buf, &json_js(event, "event")?)?;
    let ev = rules.read_json(&text).map_err(|e| error(&format!("invalid event: {e}")))?;
    Ok(f(&ev))
}

#[wasm_bindgen]
impl Engine {
    /// An engine with no rules. `options` (optional): see `EngineOptions`.
    #[wasm_bindgen(constructor)]
    pub fn new(options: Option<EngineOptions>) -> Result<Engine, JsValue> {
        #[cfg(feature = "panic-hook")]
        console_error_panic_hook::set_once();
        let o: JsOptions = match options.map(JsValue::from) {
            Some(o) if !o.is_undefined() && !o.is_null() => from_js(&o, "options")?,
            _ => JsOptions::default(),
        };
        let defaults = Options::default();
        let field_types = o.field_types()?;
        let rules = RuleSet::new(Options {
            category_field: o.category_field.unwrap_or(defaults.category_field.clone()),
            timestamp_field: o.timestamp_field.unwrap_or(defaults.timestamp_field.clone()),
            tiebreaker_field: o.tiebreaker_field,
            ecs_types: o.ecs_types.unwrap_or(defaults.ecs_types),
            field_types,
            ..defaults
        });
        let stream_options = StreamOptions {
            lateness_ms: o.lateness_ms.unwrap_or(0.0).max(0.0) as u64,
            max_pending: o.max_pending.map_or(StreamOptions::default().max_pending, |m| m.max(1.0) as usize),
            ..StreamOptions::default()
        };
        let stream = Stream::new(&rules, stream_options.clone());
        Ok(Engine { rules, stream, stream_options, pushed: 0 })
    }

    /// Loads the embedded kubelet rule pack; returns the number of rules added.
    #[wasm_bindgen(js_name = loadDefaultRules)]
    pub fn load_default_rules(&mut self) -> Result<usize, JsValue> {
        let report = self.rules.load(&Pack::kubelet());
        match report.errors.first() {
            Some(e) => Err(diag_error(e)),
            None => Ok(report.loaded.len()),
        }
    }

    /// Adds a rule in Elastic's detection-rules TOML format; returns its rule id. A rule that
    /// is not EQL (KQL, ES|QL, …) is refused with an Error saying so.
    #[wasm_bindgen(js_name = addRuleToml)]
    pub fn add_rule_toml(&mut self, text: &str) -> Result<String, JsValue> {
        match self.rules.add_toml(text, "rule").map_err(|d| diag_error(&d))? {
            Loaded::Rule(r) => Ok(r.id),
            Loaded::Skipped { id, reason, .. } => Err(error(&format!("rule {id} was not added: it is {reason}"))),
        }
    }

    /// Adds an ad-hoc EQL query as a rule with the given id (and optional name, severity, …).
    #[wasm_bindgen(js_name = addQuery)]
    pub fn add_query(&mut self, id: &str, eql: &str, meta: Option<QueryMeta>) -> Result<(), JsValue> {
        #[derive(Default, serde::Deserialize)]
        #[serde(rename_all = "camelCase", default)]
        struct Meta {
            name: Option<String>,
            description: Option<String>,
            severity: Option<String>,
            risk_score: Option<f64>,
        }
        let m: Meta = match meta.map(JsValue::from) {
            Some(m) if m.is_object() => from_js(&m, "metadata")?,
            _ => Meta::default(),
        };
        let mut rule = eqlite::Rule::from_query(id, eql);
        rule.name = m.name.unwrap_or(rule.name);
        rule.description = m.description.unwrap_or_default();
        if let Some(s) = m.severity {
            if !eqlite::SEVERITIES.contains(&s.as_str()) {
                return Err(error(&format!("severity must be one of low, medium, high, critical, not {s:?}")));
            }
            rule.severity = s;
        }
        rule.risk_score = m.risk_score.map_or(rule.risk_score, |r| r.clamp(0.0, 100.0) as i64);
        self.rules.add(rule).map(|_| ()).map_err(|d| diag_error(&d))
    }

    /// Removes a rule; returns whether it was loaded.
    #[wasm_bindgen(js_name = removeRule)]
    pub fn remove_rule(&mut self, id: &str) -> bool {
        self.rules.remove(id)
    }

    /// Events that fire a rule, and one near miss per decisive condition (events that differ by
    /// that condition and do not fire). Throws when none can be built, saying why.
    #[cfg(feature = "synth")]
    #[wasm_bindgen(unchecked_return_type = "Synthesis")]
    pub fn synth(&self, #[wasm_bindgen(js_name = ruleId)] rule_id: &str) -> Result<JsValue, JsValue> {
        let i = self.rules.position(rule_id).ok_or_else(|| error(&format!("no rule with id `{rule_id}` is loaded")))?;
        let s = eqlite::synthesize(&self.rules, i).map_err(|e| error(&format!("cannot synthesize {e}")))?;
        // Event field names must cross as they are (not camelized): through JSON text.
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Js<'a> {
            rule_id: &'a str,
            events: &'a [Json],
            near_misses: &'a [eqlite::NearMiss],
        }
        let text = serde_json::to_string(&Js { rule_id: &s.rule_id, events: &s.events, near_misses: &s.near_misses })
            .map_err(|e| error(&e.to_string()))?;
        js_sys::JSON::parse(&text)
    }

    /// The loaded rules' metadata.
    #[wasm_bindgen(unchecked_return_type = "RuleInfo[]")]
    pub fn rules(&self) -> Result<JsValue, JsValue> {
        to_js(&self.rules.summaries())
    }

    /// The single-event rules that match one event (a JS object or JSON text). Stateless;
    /// sequences need `push` or `evaluateBatch`.
    #[wasm_bindgen(unchecked_return_type = "Alert[]")]
    pub fn evaluate(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "EventInput")] event: JsValue,
    ) -> Result<JsValue, JsValue> {
        let rules = &self.rules;
        let alerts: Vec<Alert> = with_event(rules, &event, |ev| {
            rules.matches(ev).into_iter().filter_map(|i| rules.rule(i)).map(|r| Alert::new(r, vec![0])).collect()
        })?;
        camel_alerts(&alerts)
    }

    /// Many events at once, sequences included, on a fresh stream: NDJSON, a JSON array, one
    /// object or a search response as text, or a JS array of objects. Invalid items are reported
    /// in `errors`; the rest are evaluated.
    #[wasm_bindgen(js_name = evaluateBatch, unchecked_return_type = "BatchResult")]
    pub fn evaluate_batch(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "string | object[]")] input: JsValue,
    ) -> Result<JsValue, JsValue> {
        #[derive(Serialize)]
        struct InputErr {
            position: u64,
            line: usize,
            column: usize,
            message: String,
        }
        /// An alert as it crosses the boundary, borrowing the rule's metadata.
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct JsAlert<'a> {
            rule_id: &'a str,
            rule_name: &'a str,
            severity: &'a str,
            risk_score: i64,
            events: &'a [u64],
        }
        /// Alerts kept compactly (rule index, event positions): a 100 MB paste can make a million
        /// alerts, which are only turned into JavaScript objects, one by one, at the end.
        struct Alerts<'a> {
            rules: &'a RuleSet,
            found: Vec<(usize, Vec<u64>)>,
        }
        impl Serialize for Alerts<'_> {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_seq(self.found.iter().filter_map(|(i, events)| {
                    let r = self.rules.rule(*i)?;
                    Some(JsAlert {
                        rule_id: &r.id,
                        rule_name: &r.name,
                        severity: &r.severity,
                        risk_score: r.risk_score,
                        events,
                    })
                }))
            }
        }
        #[derive(Serialize)]
        struct Batch<'a> {
            alerts: Alerts<'a>,
            errors: Vec<InputErr>,
            events: u64,
            stats: Stats,
        }
        let index: std::collections::HashMap<&str, usize> =
            self.rules.rules().enumerate().map(|(i, r)| (r.id.as_str(), i)).collect();
        let keep = |found: &mut Vec<(usize, Vec<u64>)>, alerts: Vec<Alert>| {
            found.extend(alerts.into_iter().filter_map(|a| index.get(a.rule_id.as_str()).map(|&i| (i, a.events))));
        };
        // Events in a batch are complete, so ordering can wait for the end of the batch.
        let mut stream =
            Stream::new(&self.rules, StreamOptions { lateness_ms: u64::MAX / 4, ..self.stream_options.clone() });
        let mut batch = Batch {
            alerts: Alerts { rules: &self.rules, found: vec![] },
            errors: vec![],
            events: 0,
            stats: Stats::default(),
        };
        if let Some(text) = input.dyn_ref::<js_sys::JsString>() {
            let mut buf = Vec::new();
            let text = text_in(&mut buf, text)?;
            for item in input::split(&text) {
                match item.and_then(|raw| self.rules.read_json(raw.json).map_err(|e| raw.error(&e))) {
                    Ok(ev) => keep(&mut batch.alerts.found, stream.push(&self.rules, &ev, batch.events)),
                    Err(e) => batch.errors.push(InputErr {
                        position: batch.events,
                        line: e.line,
                        column: e.column,
                        message: e.message,
                    }),
                }
                batch.events += 1;
            }
        } else if js_sys::Array::is_array(&input) {
            // Elements are read with `Reflect.get`, whose binding catches (see `json_text`).
            let len = js_sys::Reflect::get(&input, &JsValue::from_str("length")).ok().and_then(|l| l.as_f64());
            for i in 0..len.unwrap_or(0.0) as u32 {
                let item = js_sys::Reflect::get_u32(&input, i)
                    .map_err(|_| error("invalid event: it cannot be read"))
                    .and_then(|item| with_event(&self.rules, &item, |ev| stream.push(&self.rules, ev, batch.events)));
                match item {
                    Ok(a) => keep(&mut batch.alerts.found, a),
                    Err(e) => batch.errors.push(InputErr {
                        position: batch.events,
                        line: 0,
                        column: 0,
                        message: js_sys::Error::from(e).message().into(),
                    }),
                }
                batch.events += 1;
            }
        } else {
            return Err(error("evaluateBatch takes NDJSON or JSON text, or an array of objects"));
        }
        keep(&mut batch.alerts.found, stream.flush(&self.rules));
        batch.stats = stream.stats();
        batch.serialize(&serde_wasm_bindgen::Serializer::json_compatible()).map_err(|e| error(&e.to_string()))
    }

    /// Streams one event (JS object or JSON text); returns the alerts it completes (single-event
    /// alerts at once, sequence alerts when their last event arrives). Positions count pushes.
    #[wasm_bindgen(unchecked_return_type = "Alert[]")]
    pub fn push(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "EventInput")] event: JsValue,
    ) -> Result<JsValue, JsValue> {
        let pos = self.pushed;
        let alerts = with_event(&self.rules, &event, |ev| self.stream.push(&self.rules, ev, pos))?;
        self.pushed += 1;
        camel_alerts(&alerts)
    }

    /// End of the stream: alerts held back (ordering, `| tail`, trailing missing events).
    /// The stream starts afresh afterwards.
    #[wasm_bindgen(unchecked_return_type = "Alert[]")]
    pub fn flush(&mut self) -> Result<JsValue, JsValue> {
        let alerts = self.stream.flush(&self.rules);
        self.reset_stream();
        camel_alerts(&alerts)
    }

    /// Counters of the stream: late, evicted, pending, … events.
    #[wasm_bindgen(unchecked_return_type = "StreamStats")]
    pub fn stats(&self) -> Result<JsValue, JsValue> {
        to_js(&self.stream.stats())
    }

    /// `snapshot()` as a string (one character per byte, U+0000 to U+00FF), for stores that
    /// keep strings (localStorage, a URL after encoding).
    #[wasm_bindgen(js_name = saveState)]
    pub fn save_state(&mut self) -> String {
        self.snapshot().into_iter().map(char::from).collect()
    }

    /// `restore` of a `saveState()` string.
    #[wasm_bindgen(js_name = restoreState, unchecked_return_type = "RestoreResult")]
    pub fn restore_state(&mut self, state: &str) -> Result<JsValue, JsValue> {
        let bytes: Vec<u8> = state.chars().map(|c| u8::try_from(c).unwrap_or(0)).collect();
        self.restore(&bytes)
    }

    /// The streaming state as a snapshot (pending sequences, samples, events held for ordering,
    /// counters, the next position), to store (IndexedDB, a file) and `restore` after a reload.
    pub fn snapshot(&mut self) -> Vec<u8> {
        self.stream.snapshot(&self.rules)
    }

    /// Restores a `snapshot` into this engine's rules: rules unchanged since (same id and query)
    /// get their state back, the others start empty (counted in the result); positions go on
    /// from the snapshot's. A truncated, corrupt or foreign snapshot throws, and the stream is
    /// then empty.
    #[wasm_bindgen(unchecked_return_type = "RestoreResult")]
    pub fn restore(&mut self, bytes: &[u8]) -> Result<JsValue, JsValue> {
        match Stream::from_snapshot(&self.rules, self.stream_options.clone(), bytes) {
            Ok((stream, restored)) => {
                self.pushed = stream.next_position();
                self.stream = stream;
                to_js(&restored)
            }
            Err(e) => {
                self.reset_stream();
                Err(diag_error(&e))
            }
        }
    }

    /// Explains every rule (or one) against one event, clause by clause.
    #[wasm_bindgen(unchecked_return_type = "RuleExplanation[]")]
    pub fn explain(
        &self,
        #[wasm_bindgen(unchecked_param_type = "EventInput")] event: JsValue,
        #[wasm_bindgen(js_name = ruleId)] rule_id: Option<String>,
    ) -> Result<JsValue, JsValue> {
        #[derive(Serialize)]
        struct Report<'a> {
            rule_id: &'a str,
            rule_name: &'a str,
            matched: bool,
            prevents: bool,
            sequence: bool,
            explanations: Vec<eqlite::Explanation>,
        }
        let selected: Vec<usize> = match &rule_id {
            Some(id) => {
                vec![self.rules.position(id).ok_or_else(|| error(&format!("no rule with id `{id}` is loaded")))?]
            }
            None => (0..self.rules.len()).collect(),
        };
        let reports = with_event(&self.rules, &event, |ev| {
            selected
                .iter()
                .filter_map(|&i| {
                    let r = self.rules.rule(i)?;
                    let explanations = self.rules.explain(i, ev);
                    Some(Report {
                        rule_id: &r.id,
                        rule_name: &r.name,
                        matched: explanations.iter().any(|e| e.result == Some(true) && !e.prevents),
                        prevents: explanations.iter().any(|e| e.prevents),
                        sequence: self.rules.kind(i) != Some(RuleKind::Event),
                        explanations,
                    })
                })
                .collect::<Vec<_>>()
        })?;
        to_js(&reports)
    }
}

/// The files a case file names, given by the caller as `{ path: text }`.
struct Given(std::collections::HashMap<String, String>);

impl eqlite::testing::Files for Given {
    fn read(&mut self, path: &str) -> Result<eqlite::testing::Loaded, String> {
        let text = self.0.get(path).ok_or_else(|| format!("{path}: not among the files given"))?;
        Ok(eqlite::testing::Loaded { key: path.to_string(), text: text.clone() })
    }
}

#[wasm_bindgen]
impl Engine {
    /// Runs a case file (the `*.tests.toml` format of `eqlite test`) against its rule, which must
    /// be loaded: each case on a fresh engine, with decisive clause coverage. `files` gives the
    /// text of the files it names (`events_file`, `[[benign]]`) by path.
    #[wasm_bindgen(unchecked_return_type = "RuleTestReport")]
    pub fn test(&self, cases: &str, files: Option<TestFiles>) -> Result<JsValue, JsValue> {
        let file = eqlite::testing::parse_cases(cases, "cases").map_err(|e| diag_error(&e))?;
        let Some(rule) = self.rules.position(&file.rule_id).and_then(|i| self.rules.rule(i)) else {
            let msg = format!("cases: no rule with id {:?} is loaded", file.rule_id);
            return Err(diag_error(&Error::new(ErrorKind::CaseFile, cases, file.rule_id_span, msg)));
        };
        let files = match files.map(JsValue::from) {
            Some(f) if f.is_object() => from_js(&f, "files")?,
            _ => Default::default(),
        };
        let report = eqlite::testing::run_rule(rule, self.rules.options(), Some(&file), &[], &mut Given(files))
            .map_err(|e| diag_error(&e))?;
        to_js(&report)
    }
}

#[wasm_bindgen]
impl Engine {
    /// Explains an alert: `events[k]` is the event at position `alert.events[k]`. Each member is
    /// explained against the stage it filled, with its join keys and the time since the previous.
    #[wasm_bindgen(js_name = explainAlert, unchecked_return_type = "StageExplanation[]")]
    pub fn explain_alert(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Alert")] alert: JsValue,
        #[wasm_bindgen(unchecked_param_type = "EventInput[]")] events: Vec<JsValue>,
    ) -> Result<JsValue, JsValue> {
        #[derive(serde::Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct AlertIn {
            rule_id: String,
            events: Vec<u64>,
        }
        let a: AlertIn = from_js(&alert, "alert")?;
        if a.events.len() != events.len() {
            return Err(error(&format!("the alert has {} events but {} were given", a.events.len(), events.len())));
        }
        let mut owned = Vec::with_capacity(events.len());
        for e in &events {
            owned.push(with_event(&self.rules, e, |ev| ev.clone().into_owned())?);
        }
        let alert = Alert {
            rule_id: a.rule_id,
            rule_name: String::new(),
            severity: String::new(),
            risk_score: 0,
            events: a.events,
        };
        let positions = alert.events.clone();
        let stages =
            self.rules.explain_alert(&alert, |p| positions.iter().position(|&q| q == p).and_then(|k| owned.get(k)));
        to_js(&stages)
    }

    /// "Why did this sequence not fire?": per join key, how far sequence rule `ruleId` got over
    /// `events` (text split as `evaluateBatch` splits it; invalid items are skipped but keep
    /// their positions), in time order.
    #[wasm_bindgen(js_name = sequenceProgress, unchecked_return_type = "SequenceProgress")]
    pub fn sequence_progress(
        &self,
        #[wasm_bindgen(js_name = ruleId)] rule_id: &str,
        events: &js_sys::JsString,
    ) -> Result<JsValue, JsValue> {
        let i = self.rules.position(rule_id).ok_or_else(|| error(&format!("no rule with id `{rule_id}` is loaded")))?;
        let mut buf = Vec::new();
        let text = text_in(&mut buf, events)?;
        let items = input::split(&text);
        let read: Vec<_> =
            items.iter().map(|item| item.as_ref().ok().and_then(|raw| self.rules.read_json(raw.json).ok())).collect();
        let events = read.iter().enumerate().filter_map(|(p, e)| e.as_ref().map(|e| (p as u64, e)));
        let progress = eqlite::sequence_progress(&self.rules, i, events)
            .ok_or_else(|| error(&format!("rule `{rule_id}` is not a sequence")))?;
        to_js(&progress)
    }
}

/// Parses and verifies one EQL query; returns its diagnostics (empty when valid).
#[wasm_bindgen(unchecked_return_type = "Diagnostic[]")]
pub fn check(eql: &str) -> Result<JsValue, JsValue> {
    let mut rs = RuleSet::default();
    let diags: Vec<Error> = rs.add_query("check", eql).err().into_iter().collect();
    to_js(&diags)
}

/// Checks a detection-rules TOML document; diagnostics are positioned in the TOML text. A
/// non-EQL rule gives one diagnostic saying it would be skipped.
#[wasm_bindgen(js_name = checkRuleToml, unchecked_return_type = "Diagnostic[]")]
pub fn check_rule_toml(text: &str) -> Result<JsValue, JsValue> {
    let mut rs = RuleSet::default();
    let diags: Vec<Error> = match rs.add_toml(text, "rule") {
        Ok(Loaded::Skipped { id, reason, .. }) => vec![Error::new(
            ErrorKind::RuleFile,
            text,
            Span::default(),
            format!("rule {id} is {reason}; it would be skipped"),
        )],
        Ok(Loaded::Rule(_)) => vec![],
        Err(d) => vec![d],
    };
    to_js(&diags)
}

/// Splits pasted text into events the way `evaluateBatch` does (see the `eqlite::input` rules:
/// one object, NDJSON, pretty-printed objects, a JSON array, a search response); positions match
/// the alerts' event positions.
#[wasm_bindgen(js_name = splitEvents, unchecked_return_type = "InputItem[]")]
pub fn split_events(text: &js_sys::JsString) -> Result<JsValue, JsValue> {
    #[derive(Serialize)]
    #[serde(untagged)]
    enum Item<'a> {
        #[serde(rename_all = "camelCase")]
        Event {
            position: usize,
            line: usize,
            column: usize,
            offset: usize,
            offset_utf16: usize,
            origin: &'static str,
            #[serde(skip_serializing_if = "Option::is_none")]
            hit: Option<usize>,
            json: &'a str,
        },
        #[serde(rename_all = "camelCase")]
        Error { position: usize, line: usize, column: usize, offset: usize, offset_utf16: usize, error: String },
    }
    let mut buf = Vec::new();
    let text = text_in(&mut buf, text)?;
    // UTF-16 offsets, counted from item to item (they come in order, but for a search response's
    // hits, which follow its keys' order). A character is one UTF-16 unit, or two when it takes
    // four bytes of UTF-8.
    let (mut byte, mut unit) = (0, 0);
    let mut utf16 = |offset: usize| {
        if offset < byte {
            (byte, unit) = (0, 0);
        }
        let b = &text.as_bytes()[byte..offset];
        unit += b.iter().map(|&c| usize::from(c & 0xC0 != 0x80) + usize::from(c >= 0xF0)).sum::<usize>();
        byte = offset;
        unit
    };
    let items: Vec<Item> = input::split(&text)
        .into_iter()
        .enumerate()
        .map(|(position, item)| match item {
            Ok(e) => {
                let (origin, hit) = match e.origin {
                    input::Origin::Line => ("line", None),
                    input::Origin::Value => ("value", None),
                    input::Origin::Element => ("element", None),
                    input::Origin::Hit(n) => ("hit", Some(n)),
                };
                let offset_utf16 = utf16(e.offset);
                Item::Event {
                    position,
                    line: e.line,
                    column: e.column,
                    offset: e.offset,
                    offset_utf16,
                    origin,
                    hit,
                    json: e.json,
                }
            }
            Err(e) => {
                let offset_utf16 = utf16(e.offset);
                Item::Error {
                    position,
                    line: e.line,
                    column: e.column,
                    offset: e.offset,
                    offset_utf16,
                    error: e.message,
                }
            }
        })
        .collect();
    items.serialize(&serde_wasm_bindgen::Serializer::json_compatible()).map_err(|e| error(&e.to_string()))
}

/// The crate version.
#[wasm_bindgen]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}

/// The Elastic Common Schema version of the field types values are read as (`ecsTypes`).
#[wasm_bindgen(js_name = ecsVersion)]
pub fn ecs_version() -> String {
    eqlite::TypeTable::ecs().version().unwrap_or_default().to_string()
}
