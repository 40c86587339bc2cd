//! A set of compiled rules sharing one field table, so that an event is read once for all of them,
//! and an index over every event query they hold, so that rules that cannot match an event are
//! not evaluated.

use crate::alert::Alert;
use crate::ast::{self, QueryBody};
use crate::error::{Error, ErrorKind};
use crate::event::{Event, FieldId, Fields};
use crate::explain::{Explainer, Explanation, JoinKey, StageExplanation};
use crate::matcher::compile::Compiler;
use crate::matcher::eval::{self, Scratch};
use crate::matcher::node::EventMatcher;
use crate::matcher::prefilter::Prefilter;
use crate::matcher::query::{SampleSpec, SequenceSpec, StageSpec};
use crate::pack::{LoadReport, Pack, Skipped};
use crate::parser::Limits;
use crate::rule::{self, Loaded, Reference, Rule};
use crate::span::Span;
use crate::summary::{RuleKind, RuleSummary};
use crate::value::Value;
use std::cell::RefCell;

/// How a rule set reads events and compiles rules. Fixed when the set is made.
#[derive(Clone, Debug)]
pub struct Options {
    /// The field holding event categories (`process where` tests it). ECS: `event.category`.
    pub category_field: String,
    /// The event time, unless a rule's `timestamp_override` names another field present on the event.
    pub timestamp_field: String,
    /// Orders events with equal timestamps (input order otherwise).
    pub tiebreaker_field: Option<String>,
    /// Bounds on the queries accepted.
    pub limits: Limits,
    /// Most rules in one set.
    pub max_rules: usize,
    /// Largest event accepted by [`RuleSet::read_json`], in bytes of JSON text.
    pub max_event_bytes: usize,
    /// Read values as the Elastic Common Schema types of their fields (and the Kubernetes
    /// audit-log fields as Elastic's integration maps them), as Elasticsearch indexes them.
    pub ecs_types: bool,
    /// More field-type tables (integration fields, …), each over the ones before.
    pub field_types: Vec<std::sync::Arc<crate::field_types::TypeTable>>,
    /// Fields of an Elasticsearch mapping: their types and `null_value`s, over all the tables.
    pub mapping: Vec<crate::mapping::MappedField>,
    /// Deepest JSON nesting followed inside the fields the rules read (at most 128, the default);
    /// deeper makes the event invalid.
    pub max_nesting: usize,
}

impl Options {
    /// The type tables events are read with, lowest first.
    pub fn type_tables(&self) -> crate::field_types::FieldTypes {
        use crate::field_types::TypeTable;
        let mut tables = Vec::new();
        if self.ecs_types {
            tables.push(TypeTable::ecs().clone());
            tables.push(TypeTable::kubernetes_audit().clone());
        }
        tables.extend(self.field_types.iter().cloned());
        if !self.mapping.is_empty() {
            tables.push(std::sync::Arc::new(crate::mapping::to_table(&self.mapping)));
        }
        crate::field_types::FieldTypes::new(tables)
    }
}

impl Default for Options {
    fn default() -> Options {
        Options {
            category_field: "event.category".into(),
            timestamp_field: "@timestamp".into(),
            tiebreaker_field: None,
            limits: Limits::default(),
            max_rules: 10_000,
            max_event_bytes: 16 << 20,
            ecs_types: true,
            field_types: vec![],
            mapping: vec![],
            max_nesting: 128,
        }
    }
}

/// A rule's compiled query.
#[derive(Clone, Debug)]
pub enum Body {
    /// An event query.
    Event(EventMatcher),
    /// A sequence.
    Sequence(SequenceSpec),
    /// A sample.
    Sample(SampleSpec),
}

/// A rule with its parsed and compiled query.
#[derive(Clone, Debug)]
pub struct CompiledRule {
    /// The rule's metadata and query text.
    pub rule: Rule,
    /// The syntax tree.
    pub query: ast::Query,
    /// The compiled query.
    pub body: Body,
    /// The rule's `timestamp_override`, if any.
    pub timestamp_override: Option<FieldId>,
}

impl CompiledRule {
    /// The rule's event queries in source order: one for an event rule; the stages, then `until`,
    /// for sequences and samples.
    pub fn matchers(&self) -> Box<dyn Iterator<Item = &EventMatcher> + '_> {
        match &self.body {
            Body::Event(m) => Box::new(std::iter::once(m)),
            Body::Sequence(s) => Box::new(s.matchers()),
            Body::Sample(s) => Box::new(s.stages.iter().map(|st| &st.matcher)),
        }
    }

    fn kind(&self) -> RuleKind {
        match self.body {
            Body::Event(_) => RuleKind::Event,
            Body::Sequence(_) => RuleKind::Sequence,
            Body::Sample(_) => RuleKind::Sample,
        }
    }
}

/// The prefilter over every event query of a rule set, and what each of its entries is.
#[derive(Clone, Debug)]
struct Index {
    prefilter: Prefilter,
    /// (rule, stage) of each prefilter entry.
    targets: Vec<(usize, usize)>,
}

/// Compiled rules that share one field table, ready to evaluate events.
///
/// ```
/// use eqlite::{Pack, RuleSet};
///
/// let mut rules = RuleSet::default();
/// let report = rules.load(&Pack::kubelet());
/// assert!(report.is_ok() && rules.len() == 20);
/// let event = rules.read_json(
///     r#"{"event": {"category": "process", "type": "start", "action": "exec"},
///         "host": {"os": {"type": "linux"}}, "process": {"name": "kubeletctl"}}"#,
/// )?;
/// let fired: Vec<&str> = rules.matches(&event).iter().map(|&i| rules.rule(i).unwrap().name.as_str()).collect();
/// assert_eq!(fired, ["Potential Kubeletctl Execution"]);
/// # Ok::<(), eqlite::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct RuleSet {
    options: Options,
    pub(crate) fields: Fields,
    rules: Vec<CompiledRule>,
    pub(crate) category_field: FieldId,
    pub(crate) timestamp_field: FieldId,
    pub(crate) tiebreaker_field: Option<FieldId>,
    /// Which event queries (of event rules, and of the stages of sequences and samples) can match
    /// an event; built on first use after a change.
    index: std::sync::OnceLock<Index>,
    /// Names the contents of `rules`: a fresh number at every change, unique across rule sets,
    /// so that a [`crate::Stream`] knows at once whether it is in step with this set.
    revision: u64,
    /// Each rule's fingerprint (see [`RuleSet::fingerprints`]), computed on first use after a change.
    fingerprints: std::sync::OnceLock<Vec<u64>>,
}

/// FNV-1a, 64 bits, over byte strings each preceded by its length: stable across platforms and
/// releases (the std hashers promise neither), for rule fingerprints and snapshot checksums.
pub(crate) fn fnv1a(parts: &[&[u8]]) -> u64 {
    let step = |h: u64, b: &u8| (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
    parts.iter().fold(0xcbf2_9ce4_8422_2325, |h, p| {
        let h = (p.len() as u64).to_le_bytes().iter().fold(h, step);
        p.iter().fold(h, step)
    })
}

fn next_revision() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

thread_local! {
    /// Evaluation buffers of this thread, for the calls that do not bring their own.
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// Runs `f` with this thread's evaluation buffers (fresh ones if they are in use).
fn with_scratch<T>(f: impl FnOnce(&mut Scratch) -> T) -> T {
    SCRATCH.with(|s| match s.try_borrow_mut() {
        Ok(mut cx) => f(&mut cx),
        Err(_) => f(&mut Scratch::default()),
    })
}

impl Default for RuleSet {
    fn default() -> RuleSet {
        RuleSet::new(Options::default())
    }
}

impl RuleSet {
    /// An empty rule set.
    pub fn new(options: Options) -> RuleSet {
        let mut fields = Fields::with_types(std::sync::Arc::new(options.type_tables()));
        let category_field = fields.intern_dotted(&options.category_field);
        let timestamp_field = fields.intern_dotted(&options.timestamp_field);
        let tiebreaker_field = options.tiebreaker_field.as_deref().map(|t| fields.intern_dotted(t));
        fields.set_max_nesting(options.max_nesting);
        RuleSet {
            options,
            fields,
            rules: vec![],
            category_field,
            timestamp_field,
            tiebreaker_field,
            index: std::sync::OnceLock::new(),
            revision: next_revision(),
            fingerprints: std::sync::OnceLock::new(),
        }
    }

    /// A rule set of every rule of a pack; the first error of the pack, if any, instead.
    pub fn from_pack(pack: &Pack, options: Options) -> Result<RuleSet, Error> {
        let mut rs = RuleSet::new(options);
        match rs.load(pack).errors.into_iter().next() {
            Some(e) => Err(e),
            None => Ok(rs),
        }
    }

    /// The options the set was made with.
    pub fn options(&self) -> &Options {
        &self.options
    }

    /// The interned field table.
    pub(crate) fn fields(&self) -> &Fields {
        &self.fields
    }

    /// The Elasticsearch type events are read with for a field (a dotted path), whether or not a
    /// rule reads it: from the ECS table, the extra tables and the mapping of the options.
    pub fn field_type(&self, path: &str) -> Option<crate::field_types::FieldType> {
        self.fields.field_types().resolve(path).ty
    }

    /// The compiled rules, in order.
    pub(crate) fn compiled(&self) -> &[CompiledRule] {
        &self.rules
    }

    /// Number of rules.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// Whether there are no rules.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The rules' metadata, in order (alerts and [`RuleSet::matches`] refer to rules by this order).
    pub fn rules(&self) -> impl ExactSizeIterator<Item = &Rule> + '_ {
        self.rules.iter().map(|r| &r.rule)
    }

    /// The rule at a position.
    pub fn rule(&self, i: usize) -> Option<&Rule> {
        self.rules.get(i).map(|r| &r.rule)
    }

    /// The kind of the rule at a position.
    pub fn kind(&self, i: usize) -> Option<RuleKind> {
        self.rules.get(i).map(CompiledRule::kind)
    }

    /// The position of the rule with this `rule_id`.
    pub fn position(&self, id: &str) -> Option<usize> {
        self.rules.iter().position(|r| r.rule.id == id)
    }

    /// Compiles and adds a rule; returns its position. Errors are positioned in the rule's query
    /// text; a duplicate id or a full set is refused with [`ErrorKind::Duplicate`] or
    /// [`ErrorKind::Limit`].
    pub fn add(&mut self, rule: Rule) -> Result<usize, Error> {
        self.admit(&rule.id)?;
        self.push(rule)
    }

    /// Compiles and adds a rule whose query was already parsed into `query` (the parse of
    /// `rule.query`, e.g. done at build time for a host whose wasm stack cannot hold the parser's
    /// recursion). It is verified and compiled as [`RuleSet::add`] would.
    pub fn add_parsed(&mut self, rule: Rule, query: ast::Query) -> Result<usize, Error> {
        self.admit(&rule.id)?;
        self.push_parsed(rule, query)
    }

    /// Whether a rule with this id may be added.
    fn admit(&self, id: &str) -> Result<(), Error> {
        if self.rules.len() >= self.options.max_rules {
            return Err(Error::bare(
                ErrorKind::Limit,
                format!("a rule set holds at most {} rules", self.options.max_rules),
            ));
        }
        if self.position(id).is_some() {
            return Err(Error::bare(ErrorKind::Duplicate, format!("a rule with id `{id}` is already loaded")));
        }
        Ok(())
    }

    fn push(&mut self, rule: Rule) -> Result<usize, Error> {
        let query = crate::kql::parse_rule_query_with(&rule, &self.options.limits)?;
        self.push_parsed(rule, query)
    }

    fn push_parsed(&mut self, rule: Rule, query: ast::Query) -> Result<usize, Error> {
        let compiled = compile_rule(rule, query, &mut self.fields)?;
        self.rules.push(compiled);
        self.changed();
        Ok(self.rules.len() - 1)
    }

    /// Adds an ad-hoc query as a rule with the given id.
    pub fn add_query(&mut self, id: &str, eql: &str) -> Result<usize, Error> {
        self.add(Rule::from_query(id, eql))
    }

    /// Adds an ad-hoc KQL (Kibana Query Language) query as a rule with the given id.
    pub fn add_kql(&mut self, id: &str, kql: &str) -> Result<usize, Error> {
        self.add(Rule::from_kql(id, kql))
    }

    /// Adds the rule of a detection-rules TOML document (`origin` names it in messages). A rule
    /// that is not EQL is not added and comes back as [`Loaded::Skipped`]. Query errors are
    /// positioned in the TOML text.
    pub fn add_toml(&mut self, text: &str, origin: &str) -> Result<Loaded, Error> {
        self.add_toml_parsed(text, origin, None)
    }

    /// As [`RuleSet::add_toml`], with the rule's query already parsed into `query` when given
    /// (see [`RuleSet::add_parsed`]).
    pub fn add_toml_parsed(&mut self, text: &str, origin: &str, query: Option<ast::Query>) -> Result<Loaded, Error> {
        let loaded = rule::parse_rule_toml(text, origin)?;
        if let Loaded::Rule(r) = &loaded {
            // Refusals are placed at the start of the file; query errors where the query is.
            self.admit(&r.id)
                .map_err(|e| e.map_message(|m| format!("{origin}: {m}")).relocate(text, Span::default()))?;
            let source = r.query.clone();
            let added = match query {
                Some(q) => self.push_parsed((**r).clone(), q),
                None => self.push((**r).clone()),
            };
            added.map_err(|e| rule::locate_in_toml(text, query_range(text, &source), &source, e, origin))?;
        }
        Ok(loaded)
    }

    /// Compiles every rule of a pack; a file in error is reported and the others still load.
    pub fn load(&mut self, pack: &Pack) -> LoadReport {
        let mut report = LoadReport { files: pack.len(), errors: pack.unreadable().to_vec(), ..LoadReport::default() };
        for f in pack.files() {
            match self.add_toml(&f.text, &f.origin) {
                Ok(Loaded::Rule(r)) => report.loaded.push(r.id),
                Ok(Loaded::Skipped { id, name, reason }) => {
                    report.skipped.push(Skipped { origin: f.origin.clone(), rule_id: id, name, reason })
                }
                Err(e) => report.errors.push(e),
            }
        }
        report
    }

    /// Removes a rule; returns whether it was loaded.
    pub fn remove(&mut self, id: &str) -> bool {
        match self.position(id) {
            Some(i) => {
                self.rules.remove(i);
                self.changed();
                true
            }
            None => false,
        }
    }

    /// Keeps only the rules `keep` accepts (see [`crate::RuleFilter`]); returns how many were
    /// removed.
    pub fn retain(&mut self, mut keep: impl FnMut(&Rule) -> bool) -> usize {
        let before = self.rules.len();
        self.rules.retain(|r| keep(&r.rule));
        let removed = before - self.rules.len();
        if removed > 0 {
            self.changed();
        }
        removed
    }

    fn changed(&mut self) {
        self.index = std::sync::OnceLock::new();
        self.fingerprints = std::sync::OnceLock::new();
        self.revision = next_revision();
    }

    /// Per rule, a hash of what its streaming state depends on: its language, query text and
    /// `timestamp_override`, and this set's category, timestamp and tiebreaker fields and ECS-types
    /// setting. A snapshot keeps a rule's state only for a rule of the same id and fingerprint.
    pub(crate) fn fingerprints(&self) -> &[u64] {
        self.fingerprints.get_or_init(|| {
            let o = &self.options;
            let set = [o.category_field.as_bytes(), o.timestamp_field.as_bytes(), &[u8::from(o.ecs_types)]];
            let tiebreaker = o.tiebreaker_field.as_deref().map_or(&b"\0none"[..], str::as_bytes);
            self.rules
                .iter()
                .map(|r| {
                    let r = &r.rule;
                    let ts = r.timestamp_override.as_deref().map_or(&b"\0none"[..], str::as_bytes);
                    fnv1a(&[r.language.as_bytes(), r.query.as_bytes(), ts, set[0], set[1], set[2], tiebreaker])
                })
                .collect()
        })
    }

    pub(crate) fn revision(&self) -> u64 {
        self.revision
    }

    /// Every event query of every rule, in rule order (a rule's stages in order, then `until`),
    /// each with its (rule, stage) pair, and the prefilter over them all.
    fn index(&self) -> &Index {
        self.index.get_or_init(|| {
            let mut targets = Vec::new();
            let mut matchers = Vec::new();
            for (i, r) in self.rules.iter().enumerate() {
                for (k, m) in r.matchers().enumerate() {
                    matchers.push((targets.len(), m));
                    targets.push((i, k));
                }
            }
            Index { prefilter: Prefilter::build(matchers.into_iter()), targets }
        })
    }

    /// The (rule, stage) pairs whose event query matches the event, in order: stage 0 of an event
    /// rule; the stages of sequences and samples, `until` being stage number `stages.len()`.
    pub fn matching(&self, ev: &Event) -> Vec<(usize, usize)> {
        with_scratch(|cx| self.matching_with(ev, cx))
    }

    /// [`RuleSet::matching`] with the caller's evaluation buffers. One prefilter pass serves all
    /// the event queries.
    pub(crate) fn matching_with(&self, ev: &Event, cx: &mut Scratch) -> Vec<(usize, usize)> {
        self.matching_timed_with(ev, cx, None)
    }

    /// [`RuleSet::matching`], adding to `spent[rule]` the time spent checking each rule's event
    /// queries on the event (those the prefilter did not rule out), for profiling. `spent` has
    /// one slot per rule.
    pub fn matching_timed(&self, ev: &Event, spent: &mut [std::time::Duration]) -> Vec<(usize, usize)> {
        with_scratch(|cx| self.matching_timed_with(ev, cx, Some(spent)))
    }

    fn matching_timed_with(
        &self,
        ev: &Event,
        cx: &mut Scratch,
        mut spent: Option<&mut [std::time::Duration]>,
    ) -> Vec<(usize, usize)> {
        let index = self.index();
        let mut out = Vec::new();
        for (id, check_category) in index.prefilter.candidates(ev, self.category_field, &mut cx.hits, &mut cx.fold) {
            let (rule, stage) = index.targets[id];
            let Some(m) = self.rules[rule].matchers().nth(stage) else { continue };
            // Only when profiling: the clock is not free, and not there at all in some wasm hosts.
            let started = spent.is_some().then(std::time::Instant::now);
            let matched = (!check_category || eval::category_matches(m, ev, self.category_field))
                && eval::truth(&m.condition, ev, cx) == Some(true);
            if let (Some(t), Some(spent)) = (started, spent.as_deref_mut()) {
                spent[rule] += t.elapsed();
            }
            if matched {
                out.push((rule, stage));
            }
        }
        out
    }

    /// The number of event queries the prefilter passes on to evaluation (for benchmarks).
    #[cfg(feature = "internals")]
    pub(crate) fn evaluated_with(&self, ev: &Event, cx: &mut Scratch) -> usize {
        self.index().prefilter.candidates(ev, self.category_field, &mut cx.hits, &mut cx.fold).len()
    }

    /// Single-event rules that match, in rule order. Sequences and samples need a
    /// [`crate::Stream`].
    pub fn matches(&self, ev: &Event) -> Vec<usize> {
        let mut out = self.matching(ev);
        out.retain(|&(i, _)| matches!(self.rules[i].body, Body::Event(_)));
        out.into_iter().map(|(i, _)| i).collect()
    }

    /// Reads an event (JSON text) with this rule set's fields, borrowing its strings where it
    /// can. Events longer than [`Options::max_event_bytes`] are refused.
    pub fn read_json<'a>(&self, json: &'a str) -> Result<Event<'a>, Error> {
        if json.len() > self.options.max_event_bytes {
            let msg =
                format!("the event is {} bytes long; the limit is {} bytes", json.len(), self.options.max_event_bytes);
            return Err(Error::bare(ErrorKind::Limit, msg));
        }
        self.fields.read_json(json).map_err(|e| Error::event(&e))
    }

    /// Explains every event query of a rule against one event: one tree for an event rule; one
    /// per stage, then `until`, for sequences and samples. Every clause is evaluated.
    pub fn explain(&self, rule: usize, ev: &Event) -> Vec<Explanation> {
        let r = &self.rules[rule];
        let ex = Explainer::new(&r.rule.query, &self.fields);
        let mut out: Vec<Explanation> = r.matchers().map(|m| ex.event_query(m, ev, self.category_field)).collect();
        if let Body::Sequence(s) = &r.body {
            // A missing-event stage or `until` that the event matches stops the sequence.
            let blocking = s.stages.iter().map(|st| st.missing).chain(s.until.iter().map(|_| true));
            for ((k, e), blocks) in out.iter_mut().enumerate().zip(blocking) {
                if blocks && e.result == Some(true) {
                    e.prevents = true;
                    e.reason = if k < s.stages.len() {
                        format!("the event matches missing-event stage {k}: it prevents the sequence where it falls")
                    } else {
                        "the event matches `until`: it ends the pending sequences of its join key".into()
                    };
                }
            }
        }
        out
    }

    /// A rule described: metadata, kind, MITRE ids and the fields it reads.
    pub fn summary(&self, i: usize) -> Option<RuleSummary> {
        let c = self.rules.get(i)?;
        let r = &c.rule;
        let mut ids = Vec::new();
        for m in c.matchers() {
            m.condition.fields(&mut ids);
            if m.category.is_some() {
                ids.push(self.category_field);
            }
        }
        let stages: Vec<&StageSpec> = match &c.body {
            Body::Event(_) => vec![],
            Body::Sequence(s) => s.stages.iter().chain(s.until.iter()).collect(),
            Body::Sample(s) => s.stages.iter().collect(),
        };
        ids.extend(stages.iter().flat_map(|st| st.keys.iter().map(|k| k.field)));
        if matches!(c.body, Body::Sequence(_)) {
            ids.push(self.timestamp_field);
            ids.extend(c.timestamp_override);
        }
        let mut fields: Vec<String> = ids.into_iter().map(|f| self.fields.name(f).to_string()).collect();
        fields.sort();
        fields.dedup();
        let techniques = r
            .threat
            .iter()
            .flat_map(|t| &t.technique)
            .flat_map(|t| {
                std::iter::once(Reference { id: t.id.clone(), name: t.name.clone() })
                    .chain(t.subtechnique.iter().cloned())
            })
            .collect();
        Some(RuleSummary {
            rule_id: r.id.clone(),
            name: r.name.clone(),
            description: r.description.clone(),
            severity: r.severity.clone(),
            risk_score: r.risk_score,
            query: r.query.clone(),
            language: r.language.clone(),
            kind: c.kind(),
            tags: r.tags.clone(),
            index: r.index.clone(),
            tactics: r.threat.iter().filter_map(|t| t.tactic.clone()).collect(),
            techniques,
            fields,
            origin: r.origin.clone(),
        })
    }

    /// Every rule described, in order.
    pub fn summaries(&self) -> Vec<RuleSummary> {
        (0..self.rules.len()).filter_map(|i| self.summary(i)).collect()
    }

    /// Explains an alert: each member event against the stage it filled, with its join keys and
    /// the time since the previous member. `event` gives the event at an input position.
    pub fn explain_alert<'e>(
        &self,
        alert: &Alert,
        mut event: impl FnMut(u64) -> Option<&'e Event<'e>>,
    ) -> Vec<StageExplanation> {
        let Some(i) = self.position(&alert.rule_id) else { return vec![] };
        let r = &self.rules[i];
        let ex = Explainer::new(&r.rule.query, &self.fields);
        let stages: Vec<&StageSpec> = match &r.body {
            Body::Event(_) => vec![],
            Body::Sequence(s) => s.positive_stages().iter().map(|&k| &s.stages[k]).collect(),
            Body::Sample(s) => s.stages.iter().collect(),
        };
        let stage_index = |k: usize| match &r.body {
            Body::Sequence(s) => s.positive_stages().get(k).copied().unwrap_or(k),
            _ => k,
        };
        let mut out = Vec::new();
        let mut prev: Option<i64> = None;
        for (k, &pos) in alert.events.iter().enumerate() {
            let Some(ev) = event(pos) else { continue };
            let ts_field = r.timestamp_override.filter(|f| !ev.get(*f).is_empty()).unwrap_or(self.timestamp_field);
            let ts_value = ev.get(ts_field).first().map(Value::to_owned_value);
            let nanos = ts_value.as_ref().and_then(crate::time::parse);
            let gap_ms = match (prev, nanos) {
                (Some(p), Some(t)) => Some((t - p) as f64 / 1e6),
                _ => None,
            };
            prev = nanos.or(prev);
            let (explanation, keys) = match (&r.body, stages.get(k)) {
                (Body::Event(m), _) => (ex.event_query(m, ev, self.category_field), vec![]),
                (_, Some(st)) => (
                    ex.event_query(&st.matcher, ev, self.category_field),
                    st.keys
                        .iter()
                        .map(|key| JoinKey {
                            field: self.fields.name(key.field).to_string(),
                            values: ev.get(key.field).iter().map(Value::to_owned_value).collect(),
                        })
                        .collect(),
                ),
                (_, None) => continue,
            };
            out.push(StageExplanation {
                stage: stage_index(k),
                event: pos,
                timestamp: ts_value,
                timestamp_field: self.fields.name(ts_field).to_string(),
                gap_ms,
                keys,
                explanation,
            });
        }
        out
    }
}

fn query_range(text: &str, query: &str) -> std::ops::Range<usize> {
    match text.find(query) {
        Some(i) => i..i + query.len(),
        None => 0..0,
    }
}

fn compile_rule(rule: Rule, query: ast::Query, fields: &mut Fields) -> Result<CompiledRule, Error> {
    crate::verify::verify(&rule.query, &query)?;
    // A rule that fails to compile may leave fields interned; they cost nothing but a slot.
    let mut c = Compiler { src: &rule.query, fields, regex_bytes: 0 };
    let body = match &query.body {
        QueryBody::Event(q) => Body::Event(c.event_query(q)?),
        QueryBody::Sequence(s) => Body::Sequence(SequenceSpec::compile(&mut c, s, &query.pipes)?),
        QueryBody::Sample(s) => Body::Sample(SampleSpec::compile(&mut c, s, &query.pipes)?),
    };
    let timestamp_override = rule.timestamp_override.as_deref().map(|t| fields.intern_dotted(t));
    Ok(CompiledRule { rule, query, body, timestamp_override })
}
