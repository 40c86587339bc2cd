//! eqlite as a Fluent Bit `filter_wasm` module.
//!
//! The host (Fluent Bit's WAMR) calls one exported function per record with the classic JSON
//! filter ABI: `fn(tag_ptr, tag_len, time_sec, time_nsec, record_ptr, record_len) -> ptr`, where
//! the record is the event body as a JSON object and the result is a NUL-terminated JSON object
//! (the empty string drops the record). Two such functions are exported, so that the mode is
//! chosen with Fluent Bit's `function_name`:
//!
//! * `eqlite_tag`: every record passes; a record that makes rules fire gets alert fields.
//! * `eqlite_match_only`: only records that make rules fire pass (with the same fields).
//!
//! `eqlite_stats` returns the instance's counters as NUL-terminated JSON.
//!
//! The engine lives in [`Filter`], which knows nothing of wasm, so it is also tested natively.
//! Rules compile once per module instance, on the first call; one [`Stream`] per instance keeps
//! sequence rules working across calls.

use eqlite::{Alert, Loaded, Options, RuleKind, RuleSet, Stream, StreamOptions};
use serde::Serialize;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

#[cfg(target_arch = "wasm32")]
mod abi;
#[cfg(all(target_arch = "wasm32", not(target_os = "wasi")))]
mod alloc;

/// Records larger than this are not evaluated: passed through unchanged (tag mode) or dropped
/// (match-only mode), and counted as `bad` and `oversize`.
pub const MAX_RECORD_BYTES: usize = 16 << 20;

/// Deepest JSON nesting followed inside the fields the rules read (the core's default is 128):
/// reading recurses per level, and WAMR's 8 KiB interpreter stack holds about this many on top of
/// the rest of a record's evaluation. Deeper nesting there makes the record bad (passed unchanged
/// by `eqlite_tag`); elsewhere in the record it is skipped without recursion.
pub const MAX_NESTING: usize = 10;

/// The engine's options in the module: nesting capped for WAMR's stack ([`MAX_NESTING`]), values
/// read as their ECS field types (as Elasticsearch indexes them) unless it was built with
/// `EQLITE_FLUENT_BIT_ECS_TYPES=off`.
pub fn options() -> Options {
    let ecs_types = !matches!(option_env!("EQLITE_FLUENT_BIT_ECS_TYPES"), Some("off" | "false" | "0"));
    Options { max_nesting: MAX_NESTING, ecs_types, ..Options::default() }
}

/// Where a wasm32-wasip1 build looks for extra rules (`*.toml`) on its first call. The host must
/// make it reachable (Fluent Bit: `accessible_paths /etc/eqlite`).
pub const RULES_DIR: &str = "/etc/eqlite/rules";

/// Where a wasm32-wasip1 build keeps its sequence state across a hot reload or restart (one file
/// per filter function: `eqlite_tag.state`, `eqlite_match_only.state`), when the directory exists
/// and is writable. The host must make `/etc/eqlite` reachable (`accessible_paths /etc/eqlite`).
pub const STATE_DIR: &str = "/etc/eqlite/state";

/// The state is written every this many records at the latest (build setting
/// `EQLITE_FLUENT_BIT_STATE_EVERY`, default 100), and after any record that a sequence or sample
/// rule took in while the last snapshot was at most [`STATE_SMALL`] bytes.
pub const STATE_EVERY: u64 = parse_u64(option_env!("EQLITE_FLUENT_BIT_STATE_EVERY"), 100);

/// Up to this size a snapshot is rewritten after every record that changed sequence state; a
/// bigger one only every [`STATE_EVERY`] records, so that a large state does not cost a large
/// write per record.
pub const STATE_SMALL: usize = 64 << 10;

const fn parse_u64(s: Option<&str>, default: u64) -> u64 {
    let Some(s) = s else { return default };
    let b = s.as_bytes();
    if b.is_empty() {
        return default;
    }
    let (mut n, mut i) = (0u64, 0);
    while i < b.len() {
        assert!(b[i].is_ascii_digit(), "EQLITE_FLUENT_BIT_STATE_EVERY must be a whole number");
        n = n * 10 + (b[i] - b'0') as u64;
        i += 1;
    }
    assert!(n > 0, "EQLITE_FLUENT_BIT_STATE_EVERY must be at least 1");
    n
}

/// The value of `rule.ruleset` on tagged records.
pub const RULESET_NAME: &str = "eqlite";

/// The top-level keys a tagged record gets. A record that already has one of these keys at its top
/// level gets it replaced (not duplicated), see [`Filter::process`].
pub const ALERT_KEYS: &[&str] = &[
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

/// Output buffer capacity kept between calls; a larger one (after a big record) is shrunk.
const KEEP_CAPACITY: usize = 1 << 20;

/// What to do with records that make no rule fire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Pass every record; add alert fields to matching ones.
    Tag,
    /// Keep only matching records.
    MatchOnly,
}

/// What became of one record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Pass the input through byte for byte.
    Unchanged,
    /// Rules fired: the new record is [`Filter::output`].
    Tagged,
    /// No rule fired, but the record had bare non-finite numbers (`nan`, `inf`), which Fluent Bit
    /// writes and then refuses to read back: the record with them replaced by `null` is
    /// [`Filter::output`].
    Repaired,
    /// Drop the record (the ABI's empty string).
    Drop,
}

/// The instance's counters, as `eqlite_stats` reports them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Counters {
    /// Calls (records seen), bad ones included.
    pub records: u64,
    /// Records that made at least one rule fire.
    pub matched: u64,
    /// Alerts (one record can carry several).
    pub alerts: u64,
    /// Records not evaluated: invalid JSON, not an object, empty, or over [`MAX_RECORD_BYTES`].
    pub bad: u64,
    /// Of `bad`: over [`MAX_RECORD_BYTES`].
    pub oversize: u64,
    /// Records with invalid UTF-8, evaluated after replacing the bad bytes with U+FFFD.
    pub lossy_utf8: u64,
    /// Records with bare non-finite numbers (`nan`, `-nan`, `inf`, `-inf`), evaluated and passed
    /// on with them replaced by `null`.
    pub repaired: u64,
    /// Of `bad`: msgpack maps (Fluent Bit's `event_format msgpack`), which the module cannot read.
    pub msgpack: u64,
    /// Records answered with the empty string (dropped).
    pub dropped: u64,
    /// Tagged records that already had some of the top-level alert keys, which were replaced.
    pub replaced_keys: u64,
    /// From the streaming engine: events too late for sequences, events without a usable
    /// timestamp that matched a sequence stage, partial matches evicted / expired / pending.
    pub late: u64,
    pub untimed: u64,
    pub evicted: u64,
    pub expired: u64,
    pub pending: u64,
    /// Rules loaded, and rule files that failed to load.
    pub rules: u64,
    pub rule_errors: u64,
}

/// What a tagged record says about one rule, rendered once.
struct RuleMeta {
    /// `"<id>"` as JSON.
    id: String,
    /// `"<name>"` as JSON.
    name: String,
    severity: String,
    risk_score: i64,
    technique_ids: Vec<String>,
    tactic_ids: Vec<String>,
    /// `{"rule_id":…,"rule_name":…,"severity":…,"risk_score":…,"technique_ids":[…],"tactic_ids":[…],`
    /// — the alert object up to its `sequence_events`.
    alert_head: String,
}

/// The filter: a rule set, its streaming state, counters and the output buffer.
pub struct Filter {
    rules: RuleSet,
    stream: Stream,
    meta: HashMap<String, RuleMeta>,
    next_pos: u64,
    counters: Counters,
    out: Vec<u8>,
    /// Messages of rule files that failed to load.
    pub rule_errors: Vec<String>,
    /// The host's time for the current record, nanoseconds since the epoch.
    record_time: Option<i64>,
    /// A message for the host's log, given once (see [`Filter::take_notice`]).
    notice: Option<&'static str>,
    /// The state file, once [`Filter::keep_state`] found its directory.
    persist: Option<Persist>,
    /// Messages for the host's log (see [`Filter::take_messages`]).
    messages: Vec<String>,
}

/// Where the stream's state is kept and when it is next written.
struct Persist {
    path: PathBuf,
    tmp: PathBuf,
    /// Records since the last write.
    since: u64,
    /// A sequence or sample rule took in a record since the last write.
    changed: bool,
    /// The size of the last snapshot written.
    last_len: usize,
}

/// Logged on the first msgpack record: the module reads JSON only.
pub const MSGPACK_NOTICE: &str = "this record is msgpack: set `event_format json` on the wasm filter (the default). \
     The module reads JSON records only; msgpack records pass unevaluated in eqlite_tag and are dropped by \
     eqlite_match_only.";

pub use eqlite::severity_number;

fn json_str(s: &str) -> String {
    serde_json::to_string(s).expect("strings serialise")
}

fn json_list(items: &[String]) -> String {
    serde_json::to_string(items).expect("strings serialise")
}

impl Filter {
    pub fn new(rules: RuleSet) -> Filter {
        let meta = rules
            .rules()
            .map(|r| {
                let technique_ids = dedup(r.technique_ids());
                let tactic_ids = dedup(r.tactic_ids());
                let alert_head = format!(
                    r#"{{"rule_id":{},"rule_name":{},"severity":{},"risk_score":{},"technique_ids":{},"tactic_ids":{},"#,
                    json_str(&r.id),
                    json_str(&r.name),
                    json_str(&r.severity),
                    r.risk_score,
                    json_list(&technique_ids),
                    json_list(&tactic_ids),
                );
                let m = RuleMeta {
                    id: json_str(&r.id),
                    name: json_str(&r.name),
                    severity: r.severity.clone(),
                    risk_score: r.risk_score,
                    technique_ids,
                    tactic_ids,
                    alert_head,
                };
                (r.id.clone(), m)
            })
            .collect();
        let stream = Stream::new(&rules, StreamOptions::default());
        let counters = Counters { rules: rules.len() as u64, ..Counters::default() };
        Filter {
            rules,
            stream,
            meta,
            next_pos: 0,
            counters,
            out: Vec::new(),
            rule_errors: vec![],
            record_time: None,
            notice: None,
            persist: None,
            messages: vec![],
        }
    }

    /// The embedded kubelet pack, or the rules embedded at build time (`EQLITE_FLUENT_BIT_RULES`).
    pub fn embedded() -> Filter {
        let (rs, errors) = embedded_rules();
        Filter::new(rs).with_errors(errors)
    }

    /// The embedded rules plus the `*.toml` rules of `dir`, if it exists (a rule with the id of an
    /// embedded one replaces it), with the `*.types` field-type tables of `dir` over the default
    /// field types. Files that fail to load are reported in [`Filter::rule_errors`] and counted;
    /// the others still load.
    pub fn with_rules_dir(dir: &Path) -> Filter {
        let (field_types, mut errors) = load_field_types(dir);
        let (mut rs, rule_errors) = embedded_rules_with(Options { field_types, ..options() });
        errors.extend(rule_errors);
        errors.extend(load_rules_dir(&mut rs, dir));
        Filter::new(rs).with_errors(errors)
    }

    fn with_errors(mut self, errors: Vec<String>) -> Filter {
        self.counters.rule_errors = errors.len() as u64;
        self.rule_errors = errors;
        self
    }

    pub fn rules(&self) -> &RuleSet {
        &self.rules
    }

    /// Records a rule-loading failure found after construction (counted in `rule_errors`).
    pub fn add_rule_error(&mut self, message: String) {
        self.counters.rule_errors += 1;
        self.rule_errors.push(message);
    }

    /// A message for the host's log, once: set by the first msgpack record.
    pub fn take_notice(&mut self) -> Option<&'static str> {
        self.notice.take()
    }

    /// Messages for the host's log since the last call (state file problems, rules whose state a
    /// restore dropped).
    pub fn take_messages(&mut self) -> Vec<String> {
        std::mem::take(&mut self.messages)
    }

    /// Keeps the stream's state in `dir/<name>.state` across instances: restores it now (when the
    /// file is there) and writes it back as [`Filter::save_state_if_due`] says. Call it once, after
    /// the rules are final and before the first record.
    ///
    /// Nothing here fails a record: a missing or unreadable directory is reported (in
    /// [`Filter::take_messages`]) and the filter goes on without state; a corrupt or truncated
    /// file is reported and the filter starts empty (the file is then overwritten); a file whose
    /// rules changed keeps the state of the unchanged ones, and the dropped count is reported.
    pub fn keep_state(&mut self, dir: &Path, name: &str) {
        let path = dir.join(format!("{name}.state"));
        let shown = path.display().to_string();
        match std::fs::read(&path) {
            Ok(bytes) => match Stream::from_snapshot(&self.rules, StreamOptions::default(), &bytes) {
                Ok((stream, restored)) => {
                    self.next_pos = stream.next_position();
                    self.stream = stream;
                    if restored.dropped > 0 {
                        self.messages.push(format!(
                            "{shown}: sequence state restored for {} rules; dropped for {} rules that changed or are \
                             gone ({} partial matches)",
                            restored.kept, restored.dropped, restored.dropped_pending
                        ));
                    }
                }
                Err(e) => self.messages.push(format!(
                    "{shown}: {}; starting with no sequence state (the file will be overwritten)",
                    e.message()
                )),
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && dir.is_dir() => {}
            Err(e) => {
                let why = if dir.is_dir() { e.to_string() } else { "the directory does not exist".to_string() };
                self.messages.push(format!(
                    "{shown}: {why}; sequence state is not kept across a hot reload or restart \
                     (create {} writable to keep it)",
                    dir.display()
                ));
                return;
            }
        }
        let tmp = dir.join(format!("{name}.state.tmp"));
        self.persist = Some(Persist { path, tmp, since: 0, changed: true, last_len: 0 });
        // Written at once: a read-only directory is found (and reported) now, and a corrupt file
        // replaced.
        self.save_state_if_due();
    }

    /// Whether the state is being kept in a file (see [`Filter::keep_state`]).
    pub fn keeps_state(&self) -> bool {
        self.persist.is_some()
    }

    /// Writes the state file if it is due: after a record that a sequence or sample rule took in
    /// (while the last snapshot was small, [`STATE_SMALL`]), and every [`STATE_EVERY`] records.
    /// Written to a temporary file renamed over the old one, so that the file is always whole. A
    /// failed write is reported once and state is no longer kept.
    pub fn save_state_if_due(&mut self) {
        let Some(p) = &self.persist else { return };
        let due = p.since >= STATE_EVERY || (p.changed && p.last_len <= STATE_SMALL);
        if !due {
            return;
        }
        let bytes = self.stream.snapshot(&self.rules);
        let Some(p) = &mut self.persist else { return };
        match std::fs::write(&p.tmp, &bytes).and_then(|()| std::fs::rename(&p.tmp, &p.path)) {
            Ok(()) => {
                p.since = 0;
                p.changed = false;
                p.last_len = bytes.len();
            }
            Err(e) => {
                self.messages.push(format!(
                    "{}: cannot write the state file: {e}; sequence state is no longer kept across a hot reload \
                     or restart",
                    p.path.display()
                ));
                let _ = std::fs::remove_file(&p.tmp);
                self.persist = None;
            }
        }
    }

    /// The record made by the last [`Verdict::Tagged`] (or [`Filter::copy_to_output`]),
    /// NUL-terminated. Valid until the next call.
    pub fn output(&self) -> &[u8] {
        &self.out
    }

    /// Puts a NUL-terminated copy of `record` in the output buffer (for a record passed through
    /// unchanged when the host's copy cannot be handed back).
    pub fn copy_to_output(&mut self, record: &[u8]) -> &[u8] {
        self.reset_output(record.len() + 1);
        self.out.extend_from_slice(record);
        self.out.push(0);
        &self.out
    }

    /// Empties the output buffer with room for `needed` bytes, dropping a large allocation kept
    /// from an earlier big record so that memory does not stay at its high-water mark.
    fn reset_output(&mut self, needed: usize) {
        self.out.clear();
        if self.out.capacity() > KEEP_CAPACITY && needed <= KEEP_CAPACITY {
            self.out = Vec::new();
        }
        self.out.reserve(needed);
    }

    pub fn counters(&self) -> Counters {
        let st = self.stream.stats();
        Counters {
            late: st.late,
            untimed: st.untimed,
            evicted: st.evicted,
            expired: st.expired,
            pending: st.pending,
            ..self.counters.clone()
        }
    }

    /// Forgets the streaming state (pending sequences) and the counters; the rules stay compiled.
    pub fn reset(&mut self) {
        self.stream = Stream::new(&self.rules, StreamOptions::default());
        self.next_pos = 0;
        if let Some(p) = &mut self.persist {
            p.changed = true;
        }
        self.counters =
            Counters { rules: self.counters.rules, rule_errors: self.counters.rule_errors, ..Counters::default() };
    }

    pub fn stats_json(&self) -> String {
        serde_json::to_string(&self.counters()).expect("counters serialise")
    }

    /// Evaluates one record (the JSON body) and says what to return to the host.
    ///
    /// A record whose rules fire keeps its text: the alert fields are inserted before its final
    /// `}`. Only when it already has one of [`ALERT_KEYS`] at its top level is it rebuilt (its
    /// other members verbatim, in order) so that no key appears twice.
    /// The time the host attached to the next record (used when the record has no timestamp).
    pub fn set_record_time(&mut self, sec: u32, nsec: u32) {
        self.record_time = (sec != 0 || nsec != 0).then(|| i64::from(sec) * 1_000_000_000 + i64::from(nsec));
    }

    pub fn process(&mut self, record: &[u8], mode: Mode) -> Verdict {
        self.counters.records += 1;
        if let Some(p) = &mut self.persist {
            p.since += 1;
        }
        let verdict = self.evaluate(record, mode);
        if verdict == Verdict::Drop {
            self.counters.dropped += 1;
        }
        verdict
    }

    fn evaluate(&mut self, record: &[u8], mode: Mode) -> Verdict {
        let miss = match mode {
            Mode::Tag => Verdict::Unchanged,
            Mode::MatchOnly => Verdict::Drop,
        };
        if record.is_empty() {
            // Nothing to pass: the empty string is also what drops a record.
            self.counters.bad += 1;
            return Verdict::Drop;
        }
        if record.len() > MAX_RECORD_BYTES {
            self.counters.bad += 1;
            self.counters.oversize += 1;
            return miss;
        }
        // Only objects are events (serde reads `null` as an empty one); tagging needs the braces.
        if record.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
            self.counters.bad += 1;
            if is_msgpack_map(record) {
                self.counters.msgpack += 1;
                if self.counters.msgpack == 1 {
                    self.notice = Some(MSGPACK_NOTICE);
                }
            }
            return miss;
        }
        // Invalid UTF-8 must not hide an attack: evaluate a repaired copy, keep the original bytes.
        // (`from_utf8` first: its ASCII fast path is several times cheaper than the lossy scan.)
        let text = match std::str::from_utf8(record) {
            Ok(t) => std::borrow::Cow::Borrowed(t),
            Err(_) => String::from_utf8_lossy(record),
        };
        let fixed: String;
        let (record, event, repaired) = match self.rules.read_json(&text) {
            Ok(event) => (record, event, false),
            // Fluent Bit writes NaN and infinities from msgpack as bare tokens, then refuses its own
            // JSON: read and pass on the record with them as `null` rather than lose it.
            Err(_) => match non_finite_as_null(&text) {
                Some(f) => {
                    fixed = f;
                    match self.rules.read_json(&fixed) {
                        Ok(event) => {
                            self.counters.repaired += 1;
                            (fixed.as_bytes(), event, true)
                        }
                        Err(_) => {
                            self.counters.bad += 1;
                            return miss;
                        }
                    }
                }
                None => {
                    self.counters.bad += 1;
                    return miss;
                }
            },
        };
        if matches!(text, std::borrow::Cow::Owned(_)) {
            self.counters.lossy_utf8 += 1;
        }
        let pos = self.next_pos;
        self.next_pos += 1;
        let alerts = match &mut self.persist {
            None => self.stream.push_at(&self.rules, &event, pos, self.record_time),
            Some(p) => {
                // Only sequence and sample rules hold state between records.
                let matched = self.rules.matching(&event);
                p.changed |= matched.iter().any(|&(i, _)| self.rules.kind(i).is_some_and(|k| k != RuleKind::Event));
                self.stream.push_matched(&self.rules, &event, pos, self.record_time, &matched)
            }
        };
        drop(event);
        if alerts.is_empty() {
            if repaired && mode == Mode::Tag {
                self.copy_to_output(record);
                return Verdict::Repaired;
            }
            return miss;
        }
        self.counters.matched += 1;
        self.counters.alerts += alerts.len() as u64;
        self.tag(record, &alerts);
        Verdict::Tagged
    }

    /// Writes the tagged record into `out`.
    fn tag(&mut self, record: &[u8], alerts: &[Alert]) {
        let fields = self.alert_fields(alerts);
        self.reset_output(record.len() + fields.len() + 2);
        let mut out = std::mem::take(&mut self.out);
        match top_level_collisions(record) {
            None => {
                // The record is a valid JSON object: its last non-space byte is the closing brace,
                // and the non-space byte before that is `{` only when the object is empty.
                let close = record.iter().rposition(|b| *b == b'}').expect("a JSON object ends with }");
                let empty = record[..close].iter().rev().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
                out.extend_from_slice(&record[..close]);
                if !empty {
                    out.push(b',');
                }
            }
            Some(members) => {
                self.counters.replaced_keys += 1;
                out.push(b'{');
                for (key, value) in members.iter().filter(|(k, _)| !ALERT_KEYS.contains(&k.as_str())) {
                    out.extend_from_slice(json_str(key).as_bytes());
                    out.push(b':');
                    out.extend_from_slice(value.get().as_bytes());
                    out.push(b',');
                }
            }
        }
        out.extend_from_slice(fields.as_bytes());
        out.extend_from_slice(b"}\0");
        self.out = out;
    }

    /// The alert members (no braces) for a record's alerts.
    fn alert_fields(&self, alerts: &[Alert]) -> String {
        let metas: Vec<&RuleMeta> = alerts.iter().filter_map(|a| self.meta.get(&a.rule_id)).collect();
        let mut ids: Vec<&str> = vec![];
        let mut names: Vec<&str> = vec![];
        let mut techniques: Vec<String> = vec![];
        let mut tactics: Vec<String> = vec![];
        for m in &metas {
            if !ids.contains(&m.id.as_str()) {
                ids.push(&m.id);
                names.push(&m.name);
            }
            for t in &m.technique_ids {
                if !techniques.contains(t) {
                    techniques.push(t.clone());
                }
            }
            for t in &m.tactic_ids {
                if !tactics.contains(t) {
                    tactics.push(t.clone());
                }
            }
        }
        // The most severe alert: highest severity, then highest risk score.
        let top = metas.iter().max_by_key(|m| (severity_number(&m.severity), m.risk_score));
        let severity_label = top.map_or("", |m| m.severity.as_str());
        let risk = metas.iter().map(|m| m.risk_score).max().unwrap_or(0);
        let mut s = String::with_capacity(256 + 160 * alerts.len());
        s.push_str(&format!(r#""rule.id":[{}],"rule.name":[{}],"#, ids.join(","), names.join(",")));
        s.push_str(&format!(r#""rule.ruleset":{},"#, json_str(RULESET_NAME)));
        s.push_str(&format!(r#""event.severity":{},"#, severity_number(severity_label)));
        s.push_str(&format!(r#""event.risk_score":{risk},"#));
        if !techniques.is_empty() || !tactics.is_empty() {
            s.push_str(r#""threat.framework":"MITRE ATT&CK","#);
        }
        s.push_str(&format!(r#""threat.technique.id":{},"#, json_list(&techniques)));
        s.push_str(&format!(r#""threat.tactic.id":{},"#, json_list(&tactics)));
        s.push_str(&format!(r#""eqlite":{{"severity":{},"alerts":["#, json_str(severity_label)));
        for (i, a) in alerts.iter().enumerate() {
            if i > 0 {
                s.push(',');
            }
            match self.meta.get(&a.rule_id) {
                Some(m) => s.push_str(&m.alert_head),
                // Not reachable: alerts come from the rule set's own rules.
                None => s.push_str(&format!(r#"{{"rule_id":{},"#, json_str(&a.rule_id))),
            }
            s.push_str(&format!(r#""sequence_events":{}}}"#, a.events.len()));
        }
        s.push_str("]}");
        s
    }
}

/// Whether a record is a msgpack map (what Fluent Bit sends with `event_format msgpack`): its first
/// byte is a fixmap, map16 or map32 marker, none of which can start a JSON text.
fn is_msgpack_map(record: &[u8]) -> bool {
    matches!(record.first(), Some(0x80..=0x8f | 0xde | 0xdf))
}

/// `json` with every bare non-finite number outside strings (`nan`, `-nan`, `inf`, `-inf`, as C's
/// `printf("%g")` writes them, which is what Fluent Bit does for msgpack doubles) replaced by
/// `null`; `None` if there is none.
pub fn non_finite_as_null(json: &str) -> Option<String> {
    let b = json.as_bytes();
    let mut out: Option<String> = None;
    let (mut i, mut copied) = (0, 0);
    let mut in_string = false;
    while i < b.len() {
        let c = b[i];
        if in_string {
            match c {
                b'\\' => i += 1,
                b'"' => in_string = false,
                _ => {}
            }
            i += 1;
            continue;
        }
        if c == b'"' {
            in_string = true;
            i += 1;
            continue;
        }
        let token = [&b"-nan"[..], b"nan", b"-inf", b"inf"]
            .into_iter()
            .find(|t| b[i..].starts_with(t) && b.get(i + t.len()).is_none_or(|n| !n.is_ascii_alphanumeric()));
        match token {
            Some(t) => {
                let o = out.get_or_insert_with(|| String::with_capacity(json.len() + 16));
                o.push_str(&json[copied..i]);
                o.push_str("null");
                i += t.len();
                copied = i;
            }
            None => i += 1,
        }
    }
    out.map(|mut o| {
        o.push_str(&json[copied..]);
        o
    })
}

/// The `*.toml` files of `dir` in name order; none when it cannot be read.
pub fn rule_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else { return vec![] };
    let mut files: Vec<_> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml") && !eqlite::testing::is_case_file(&p.to_string_lossy()))
        .collect();
    files.sort();
    files
}

fn dedup(mut v: Vec<String>) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    v.retain(|x| seen.insert(x.clone()));
    v
}

/// The record's top-level members, if any of their keys is one of [`ALERT_KEYS`].
fn top_level_collisions(record: &[u8]) -> Option<Vec<(String, Box<serde_json::value::RawValue>)>> {
    // Cheap pre-check: a colliding key must appear in the text.
    let hay = record;
    let mentions = ALERT_KEYS.iter().any(|k| memfind(hay, format!("\"{k}\"").as_bytes()));
    let escaped = memfind(hay, b"\\");
    if !mentions && !escaped {
        return None;
    }
    let members = members(&String::from_utf8_lossy(record))?;
    members.iter().any(|(k, _)| ALERT_KEYS.contains(&k.as_str())).then_some(members)
}

fn memfind(hay: &[u8], needle: &[u8]) -> bool {
    memchr::memmem::find(hay, needle).is_some()
}

/// A JSON object's members in order (duplicates kept), values as their raw text (so numbers beyond
/// f64 survive).
pub fn members(json: &str) -> Option<Vec<(String, Box<serde_json::value::RawValue>)>> {
    serde_json::from_str::<Members>(json).ok().map(|m| m.0)
}

struct Members(Vec<(String, Box<serde_json::value::RawValue>)>);

impl<'de> serde::Deserialize<'de> for Members {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Members, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Members;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Members, A::Error> {
                let mut out = Vec::new();
                while let Some(kv) = map.next_entry::<String, Box<serde_json::value::RawValue>>()? {
                    out.push(kv);
                }
                Ok(Members(out))
            }
        }
        d.deserialize_map(V)
    }
}

/// The embedded rules (the kubelet pack, or `EQLITE_FLUENT_BIT_RULES` at build time), each query
/// parsed by build.rs: the parser's recursion does not fit Fluent Bit's default 8 KiB wasm stack.
mod built_in {
    use eqlite::ast::*;
    use eqlite::Span;

    pub struct Embedded {
        pub file: &'static str,
        pub toml: &'static str,
        pub query: Parsed,
    }

    pub enum Parsed {
        /// Builds the query's syntax tree (without recursion).
        Query(fn() -> Query),
        /// Not an EQL rule: skipped, as `RuleSet::add_toml` skips it.
        #[allow(dead_code)] // only with EQLITE_FLUENT_BIT_RULES
        NotEql,
        /// The rule failed to load at build time: its message.
        #[allow(dead_code)] // only with EQLITE_FLUENT_BIT_RULES
        Error(&'static str),
    }

    pub const RULES: &[Embedded] = include!(concat!(env!("OUT_DIR"), "/built_in_rules.rs"));

    include!(concat!(env!("OUT_DIR"), "/built_in_queries.rs"));
}

/// The rules compiled into the module, and the messages of built-in rule files that failed to
/// compile (skipped: a module that traps on every record would lose them all in Fluent Bit).
pub fn embedded_rules() -> (RuleSet, Vec<String>) {
    embedded_rules_with(options())
}

fn embedded_rules_with(options: Options) -> (RuleSet, Vec<String>) {
    let mut rs = RuleSet::new(options);
    let mut errors = vec![];
    for e in built_in::RULES {
        let build = match e.query {
            built_in::Parsed::Query(build) => build,
            built_in::Parsed::NotEql => continue,
            built_in::Parsed::Error(message) => {
                errors.push(message.to_string());
                continue;
            }
        };
        if let Err(m) = add_embedded(&mut rs, e, build()) {
            errors.push(m);
        }
    }
    (rs, errors)
}

// Adding a rule gets its own frame (`inline(never)`), so that it does not run beneath the loop's
// locals on WAMR's small interpreter stack (see abi.rs).

#[inline(never)]
fn add_embedded(rs: &mut RuleSet, e: &built_in::Embedded, query: eqlite::ast::Query) -> Result<(), String> {
    rs.add_toml_parsed(e.toml, e.file, Some(query)).map(drop).map_err(|d| d.message().to_string())
}

/// The `*.types` field-type tables of `dir` (in file-name order), and the errors of those that do
/// not parse; a missing or unreadable directory is no error.
pub fn load_field_types(dir: &Path) -> (Vec<std::sync::Arc<eqlite::TypeTable>>, Vec<String>) {
    let (mut tables, mut errors) = (vec![], vec![]);
    let Ok(entries) = std::fs::read_dir(dir) else { return (tables, errors) };
    let mut files: Vec<_> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "types"))
        .collect();
    files.sort();
    for path in files {
        match std::fs::read_to_string(&path).map_err(|e| e.to_string()).and_then(|t| eqlite::TypeTable::parse(&t)) {
            Ok(t) => tables.push(std::sync::Arc::new(t)),
            Err(e) => errors.push(format!("{}: {e}", path.display())),
        }
    }
    (tables, errors)
}

/// Adds the `*.toml` rules of `dir` (in file-name order) to `rs`; a rule with an id already in
/// `rs` replaces it. Returns the errors; a missing or unreadable directory is no error.
pub fn load_rules_dir(rs: &mut RuleSet, dir: &Path) -> Vec<String> {
    let mut errors = vec![];
    for path in rule_files(dir) {
        let origin = path.display().to_string();
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) => {
                errors.push(format!("{origin}: {e}"));
                continue;
            }
        };
        let loaded = match eqlite::parse_rule_toml(&text, &origin) {
            Ok(l) => l,
            Err(d) => {
                errors.push(d.message().to_string());
                continue;
            }
        };
        let Loaded::Rule(rule) = loaded else { continue };
        // Replace a rule with the same id, restoring it if the new one does not compile.
        let old = rs.position(&rule.id).and_then(|i| rs.rule(i)).cloned();
        if old.is_some() {
            rs.remove(&rule.id);
        }
        if let Err(d) = rs.add_toml(&text, &origin) {
            errors.push(d.message().to_string());
            if let Some(old) = old {
                let _ = rs.add(old);
            }
        }
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;

    const ATTACK: &str = r#"{"@timestamp":"2026-08-20T02:00:00.000Z","event":{"category":["process"],"type":["start"],"action":"exec","ingested":"2026-08-20T02:00:00.640Z"},"host":{"os":{"type":"linux"}},"container":{"id":"3d6e"},"process":{"name":"curl","args":["curl","-sk","https://10.0.1.22:10250/pods"],"command_line":"curl -sk https://10.0.1.22:10250/pods","executable":"/usr/bin/curl"}}"#;

    #[test]
    fn embedded_trees_are_the_parsers() {
        let (rs, errors) = embedded_rules();
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(rs.len(), eqlite::Pack::kubelet().len());
        let native = RuleSet::from_pack(&eqlite::Pack::kubelet(), options()).unwrap();
        let compiled = |rs| eqlite::internals::compiled(rs);
        for (a, b) in compiled(&rs).iter().zip(compiled(&native)) {
            assert_eq!(a.rule.id, b.rule.id);
            assert_eq!(a.query, eqlite::parse_rule_query(&a.rule).unwrap(), "{}", a.rule.id);
            assert_eq!(a.query, b.query);
        }
    }

    #[test]
    fn tags_an_attack_and_passes_a_benign_record() {
        let mut f = Filter::embedded();
        assert_eq!(f.process(br#"{"log":"GET / 200"}"#, Mode::Tag), Verdict::Unchanged);
        assert_eq!(f.process(ATTACK.as_bytes(), Mode::Tag), Verdict::Tagged);
        let out = f.output();
        assert_eq!(out.last(), Some(&0));
        let v: serde_json::Value = serde_json::from_slice(&out[..out.len() - 1]).unwrap();
        let ids: Vec<&str> = v["rule.id"].as_array().unwrap().iter().map(|x| x.as_str().unwrap()).collect();
        assert!(ids.contains(&"b4bd186b-69c6-45ad-8bef-5c35bbadeaef"), "{ids:?}");
        assert_eq!(v["rule.ruleset"], "eqlite");
        assert_eq!(v["process"]["name"], "curl");
        assert!(out.starts_with(&ATTACK.as_bytes()[..ATTACK.len() - 1]));
        let c = f.counters();
        assert_eq!((c.records, c.matched, c.bad, c.dropped), (2, 1, 0, 0));
    }

    #[test]
    fn bad_records_pass_in_tag_mode_and_drop_in_match_only_mode() {
        let mut f = Filter::embedded();
        for r in [&b"{"[..], b"[1]", b"\"x\"", b"{} x", b"null", b" 1"] {
            assert_eq!(f.process(r, Mode::Tag), Verdict::Unchanged);
            assert_eq!(f.process(r, Mode::MatchOnly), Verdict::Drop);
        }
        assert_eq!(f.process(b"", Mode::Tag), Verdict::Drop);
        assert_eq!(f.process(b"{}", Mode::MatchOnly), Verdict::Drop);
        assert_eq!(f.process(b"{}", Mode::Tag), Verdict::Unchanged);
        let c = f.counters();
        assert_eq!((c.records, c.bad, c.dropped), (15, 13, 8));
    }

    #[test]
    fn replaces_its_own_keys_instead_of_duplicating_them() {
        let mut f = Filter::embedded();
        let rec = ATTACK.replacen('{', r#"{"rule.id":["old"],"eqlite":{"x":1},"keep":"\u00e9","#, 1);
        assert_eq!(f.process(rec.as_bytes(), Mode::Tag), Verdict::Tagged);
        let out = std::str::from_utf8(&f.output()[..f.output().len() - 1]).unwrap();
        assert_eq!(out.matches("\"rule.id\":").count(), 1, "{out}");
        assert_eq!(out.matches("\"eqlite\":").count(), 1, "{out}");
        let v: serde_json::Value = serde_json::from_str(out).unwrap();
        assert_eq!(v["keep"], "é");
        assert!(v["eqlite"]["x"].is_null());
        assert_eq!(f.counters().replaced_keys, 1);
    }

    #[test]
    fn empty_object_and_trailing_space() {
        let mut f = Filter::new({
            let mut rs = RuleSet::default();
            rs.add_query("any", "any where true").unwrap();
            rs
        });
        assert_eq!(f.process(b"null", Mode::Tag), Verdict::Unchanged);
        // Records without a timestamp take the host's record time for sequences.
        let mut g = Filter::embedded();
        let untimed = |i: u32| {
            format!(
                r#"{{"event":{{"category":["process"],"type":["start"],"action":"exec"}},"host":{{"os":{{"type":"linux"}}}},
                "container":{{"id":"c1"}},"user":{{"id":"0"}},"process":{{"name":"ls","args":["ls","/var/lib/kubelet/pods/{i}"]}}}}"#
            )
            .replace('\n', "")
        };
        let mut verdicts = Vec::new();
        for i in 0..5 {
            g.set_record_time(1_760_000_000 + i, 0);
            verdicts.push(g.process(untimed(i).as_bytes(), Mode::Tag));
        }
        assert_eq!(verdicts.last(), Some(&Verdict::Tagged), "the 5-run pod discovery sequence fires on the 5th record");
        assert_eq!(f.process(b"{ }\n", Mode::Tag), Verdict::Tagged);
        let out = &f.output()[..f.output().len() - 1];
        let v: serde_json::Value = serde_json::from_slice(out).unwrap();
        assert_eq!(v["rule.id"][0], "any");
        assert_eq!(v["eqlite"]["alerts"][0]["sequence_events"], 1);
        assert!(v.get("threat.framework").is_none());
    }

    #[test]
    fn non_finite_numbers_become_null_outside_strings() {
        let fixed = non_finite_as_null(r#"{"a":nan,"b":[inf,-inf,-nan],"c":"nan inf","d\"nan":1,"e":info}"#);
        assert_eq!(fixed.as_deref(), Some(r#"{"a":null,"b":[null,null,null],"c":"nan inf","d\"nan":1,"e":info}"#));
        assert_eq!(non_finite_as_null(r#"{"a":"inf","b":null}"#), None);
        let mut f = Filter::embedded();
        let rec = ATTACK.replacen('{', r#"{"score":nan,"#, 1);
        assert_eq!(f.process(rec.as_bytes(), Mode::Tag), Verdict::Tagged);
        let out = &f.output()[..f.output().len() - 1];
        assert!(out.starts_with(br#"{"score":null,"#));
        assert_eq!(f.process(br#"{"v":inf}"#, Mode::Tag), Verdict::Repaired);
        assert_eq!(f.output(), b"{\"v\":null}\0");
        assert_eq!(f.process(br#"{"v":inf}"#, Mode::MatchOnly), Verdict::Drop);
        assert_eq!(f.process(br#"{"v":infinite}"#, Mode::Tag), Verdict::Unchanged);
        let c = f.counters();
        assert_eq!((c.repaired, c.bad), (3, 1));
    }

    #[test]
    fn msgpack_records_are_reported_once() {
        let mut f = Filter::embedded();
        let rec = b"\x81\xa3log\xa2hi";
        assert_eq!(f.process(rec, Mode::Tag), Verdict::Unchanged);
        assert_eq!(f.take_notice(), Some(MSGPACK_NOTICE));
        assert_eq!(f.process(rec, Mode::MatchOnly), Verdict::Drop);
        assert_eq!(f.take_notice(), None);
        assert_eq!((f.counters().msgpack, f.counters().bad), (2, 2));
    }

    #[test]
    fn rules_dir_adds_and_replaces() {
        let dir = std::env::temp_dir().join(format!("eqlite-fb-rules-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("a.toml"),
            "[rule]\nrule_id = \"x-1\"\nname = \"X\"\nlanguage = \"eql\"\ntype = \"eql\"\nseverity = \"low\"\nrisk_score = 5\nquery = 'process where process.name == \"evil\"'\n",
        )
        .unwrap();
        std::fs::write(dir.join("b.toml"), "[rule]\nrule_id = \"y\"\nlanguage = \"eql\"\nquery = 'process where (('\n")
            .unwrap();
        std::fs::write(dir.join("c.txt"), "ignored").unwrap();
        let mut f = Filter::with_rules_dir(&dir);
        std::fs::remove_dir_all(&dir).ok();
        assert_eq!(f.rules().len(), 21);
        assert_eq!(f.counters().rule_errors, 1, "{:?}", f.rule_errors);
        let rec = br#"{"event":{"category":"process"},"process":{"name":"evil"}}"#;
        assert_eq!(f.process(rec, Mode::MatchOnly), Verdict::Tagged);
        assert!(Filter::with_rules_dir(Path::new("/nonexistent/eqlite")).rule_errors.is_empty());
    }

    #[test]
    fn records_are_read_as_their_ecs_types_and_rules_dir_tables_extend_them() {
        let uid = r#"[rule]
rule_id = "uid-0"
name = "root id"
language = "eql"
type = "eql"
severity = "low"
risk_score = 5
query = 'process where user.id == "0" and app.port == 8080'
"#;
        let dir = std::env::temp_dir().join(format!("eqlite-fb-types-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("uid.toml"), uid).unwrap();
        let rec = br#"{"event":{"category":"process"},"user":{"id":0},"app":{"port":"8080"}}"#;
        // `app.port` is no ECS field: its string is no number until a table says so.
        assert_eq!(Filter::with_rules_dir(&dir).process(rec, Mode::MatchOnly), Verdict::Drop);
        std::fs::write(
            dir.join("app.types"),
            "app.port long
",
        )
        .unwrap();
        std::fs::write(
            dir.join("bad.types"),
            "app.name kwd
",
        )
        .unwrap();
        let mut f = Filter::with_rules_dir(&dir);
        std::fs::remove_dir_all(&dir).ok();
        assert_eq!(f.process(rec, Mode::MatchOnly), Verdict::Tagged);
        assert_eq!(f.rule_errors.len(), 1, "{:?}", f.rule_errors);
        assert!(f.rule_errors[0].ends_with("bad.types: line 1: unknown field type `kwd`"), "{:?}", f.rule_errors);
        // The kubelet pack's connection rule, with the port written as a string.
        let connect = r#"{"@timestamp":"2026-08-20T06:00:00.000Z","event":{"category":["network"],"type":["start"],
            "action":"connection_attempted","ingested":"2026-08-20T06:00:00.980Z"},"host":{"os":{"type":"linux"}},
            "network":{"direction":"egress"},"destination":{"ip":"10.0.1.22","port":"10250"},"process":{"name":"curl"}}"#;
        let mut f = Filter::embedded();
        assert_eq!(f.process(connect.as_bytes(), Mode::Tag), Verdict::Tagged);
        assert!(String::from_utf8_lossy(f.output()).contains("9f420cca-cb27-44db-a13d-c43c7b48e04a"));
        let off =
            RuleSet::from_pack(&eqlite::Pack::kubelet(), Options { ecs_types: false, ..Options::default() }).unwrap();
        assert_eq!(Filter::new(off).process(connect.as_bytes(), Mode::Tag), Verdict::Unchanged);
    }

    fn state_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("eqlite-fb-state-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// Five runs of the pod-discovery sequence, in one container, timed by the host.
    fn discovery(i: u32) -> String {
        format!(
            r#"{{"event":{{"category":["process"],"type":["start"],"action":"exec"}},"host":{{"os":{{"type":"linux"}}}},"container":{{"id":"c1"}},"user":{{"id":"0"}},"process":{{"name":"ls","args":["ls","/var/lib/kubelet/pods/{i}"]}}}}"#
        )
    }

    fn push(f: &mut Filter, i: u32) -> (Verdict, Vec<u8>) {
        f.set_record_time(1_760_000_000 + i, 0);
        let v = f.process(discovery(i).as_bytes(), Mode::Tag);
        f.save_state_if_due();
        (v, f.output().to_vec())
    }

    #[test]
    fn state_survives_a_new_instance_per_record() {
        let dir = state_dir("restart");
        let mut whole = Filter::embedded();
        let want: Vec<_> = (0..5).map(|i| push(&mut whole, i)).collect();
        assert_eq!(want[4].0, Verdict::Tagged);
        for i in 0..5 {
            let mut f = Filter::embedded();
            f.keep_state(&dir, "eqlite_tag");
            assert!(f.keeps_state());
            assert_eq!(push(&mut f, i), want[i as usize], "record {i}");
            assert!(f.take_messages().is_empty());
        }
        assert!(!dir.join("eqlite_tag.state.tmp").exists());
        // Without the file, the last record alone fires nothing.
        std::fs::remove_file(dir.join("eqlite_tag.state")).unwrap();
        let mut f = Filter::embedded();
        f.keep_state(&dir, "eqlite_tag");
        assert_eq!(push(&mut f, 4).0, Verdict::Unchanged);
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn a_truncated_state_file_is_reported_and_tagging_goes_on() {
        let dir = state_dir("truncated");
        let mut f = Filter::embedded();
        f.keep_state(&dir, "t");
        for i in 0..4 {
            push(&mut f, i);
        }
        let file = dir.join("t.state");
        let bytes = std::fs::read(&file).unwrap();
        std::fs::write(&file, &bytes[..bytes.len() / 2]).unwrap();
        let mut f = Filter::embedded();
        f.keep_state(&dir, "t");
        let m = f.take_messages();
        assert_eq!(m.len(), 1, "{m:?}");
        assert!(
            m[0].contains("t.state: invalid stream snapshot: truncated") && m[0].contains("no sequence state"),
            "{m:?}"
        );
        assert!(f.keeps_state());
        assert_eq!(push(&mut f, 4).0, Verdict::Unchanged, "the partial matches were lost");
        assert_eq!(f.process(ATTACK.as_bytes(), Mode::Tag), Verdict::Tagged);
        // The file was rewritten whole.
        assert!(Stream::from_snapshot(f.rules(), StreamOptions::default(), &std::fs::read(&file).unwrap()).is_ok());
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn changed_rules_keep_the_state_of_the_others() {
        let dir = state_dir("changed");
        let rules = |second: &str| {
            let mut rs = RuleSet::default();
            rs.add_query("a", "sequence by host.id [process where true] [network where true]").unwrap();
            rs.add_query("b", &format!("sequence by host.id [process where true] [{second} where true]")).unwrap();
            rs
        };
        let first = br#"{"@timestamp":1,"event":{"category":"process"},"host":{"id":"h"}}"#;
        let mut f = Filter::new(rules("network"));
        f.keep_state(&dir, "t");
        assert_eq!(f.process(first, Mode::Tag), Verdict::Unchanged);
        f.save_state_if_due();
        let mut f = Filter::new(rules("file"));
        f.keep_state(&dir, "t");
        let m = f.take_messages();
        assert_eq!(m.len(), 1, "{m:?}");
        assert!(
            m[0].contains("restored for 1 rules; dropped for 1 rules that changed or are gone (1 partial matches)"),
            "{m:?}"
        );
        assert_eq!(
            f.process(br#"{"@timestamp":2,"event":{"category":"network"},"host":{"id":"h"}}"#, Mode::Tag),
            Verdict::Tagged
        );
        let out = String::from_utf8_lossy(f.output()).into_owned();
        assert!(out.contains(r#""rule.id":["a"]"#), "{out}");
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn a_missing_or_unwritable_state_directory_is_reported_once() {
        let dir = std::env::temp_dir().join(format!("eqlite-fb-state-none-{}", std::process::id()));
        let mut f = Filter::embedded();
        f.keep_state(&dir, "t");
        let m = f.take_messages();
        assert!(m.len() == 1 && m[0].contains("the directory does not exist"), "{m:?}");
        assert!(!f.keeps_state());
        assert_eq!(f.process(ATTACK.as_bytes(), Mode::Tag), Verdict::Tagged);
        // A write that fails (here the temporary file's name is taken by a directory).
        let dir = state_dir("unwritable");
        std::fs::create_dir(dir.join("t.state.tmp")).unwrap();
        let mut f = Filter::embedded();
        f.keep_state(&dir, "t");
        let m = f.take_messages();
        assert!(m.len() == 1 && m[0].contains("cannot write the state file"), "{m:?}");
        assert!(!f.keeps_state());
        for i in 0..5 {
            push(&mut f, i);
        }
        assert!(f.take_messages().is_empty());
        assert_eq!(f.process(ATTACK.as_bytes(), Mode::Tag), Verdict::Tagged);
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn state_is_written_when_sequences_change_and_every_n_records() {
        let dir = state_dir("when");
        let mut f = Filter::embedded();
        f.keep_state(&dir, "t");
        let file = dir.join("t.state");
        let mut last = std::fs::read(&file).unwrap();
        // A record no sequence rule takes in: not written.
        assert_eq!(f.process(br#"{"log":"GET / 200"}"#, Mode::Tag), Verdict::Unchanged);
        f.save_state_if_due();
        assert_eq!(std::fs::read(&file).unwrap(), last);
        push(&mut f, 0);
        assert_ne!(std::fs::read(&file).unwrap(), last, "a sequence took it in");
        last = std::fs::read(&file).unwrap();
        for _ in 0..STATE_EVERY - 1 {
            f.process(br#"{"log":"GET / 200"}"#, Mode::Tag);
            f.save_state_if_due();
        }
        assert_eq!(std::fs::read(&file).unwrap(), last);
        f.process(br#"{"log":"GET / 200"}"#, Mode::Tag);
        f.save_state_if_due();
        assert_ne!(std::fs::read(&file).unwrap(), last, "the event counter moved on after {STATE_EVERY} records");
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn output_buffer_shrinks_after_a_big_record() {
        let mut f = Filter::embedded();
        let big = ATTACK.replacen('{', &format!(r#"{{"message":"{}","#, "a".repeat(3 << 20)), 1);
        assert_eq!(f.process(big.as_bytes(), Mode::Tag), Verdict::Tagged);
        assert!(f.out.capacity() > 3 << 20);
        assert_eq!(f.process(ATTACK.as_bytes(), Mode::Tag), Verdict::Tagged);
        assert!(f.out.capacity() <= KEEP_CAPACITY);
    }
}
