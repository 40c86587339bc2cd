//! A set of compiled rules sharing one field table, so that an event is read once for all of them,
//! and an index by event category, so that rules that cannot match are not evaluated.

use crate::ast::{self, QueryBody};
use crate::diagnostic::Diagnostic;
use crate::event::{Event, FieldId, Fields};
use crate::explain::{Explainer, Explanation};
use crate::matcher::compile::Compiler;
use crate::matcher::eval::{self, Scratch};
use crate::matcher::node::EventMatcher;
use crate::matcher::prefilter::Prefilter;
use crate::matcher::query::{SampleSpec, SequenceSpec, StageSpec};
use crate::parser::{parse_query_with, Limits};
use crate::rule::{self, Loaded, Rule};
use crate::span::Span;
use serde::Serialize;

/// How events are read.
#[derive(Clone, Debug)]
pub struct Options {
    /// The field holding event categories (`process where` tests it). ECS: `event.category`.
    pub category_field: String,
    /// The event time, unless a rule's `timestamp_override` names another field present on the event.
    pub timestamp_field: String,
    /// Orders events with equal timestamps (input order otherwise).
    pub tiebreaker_field: Option<String>,
    pub limits: Limits,
    /// Most rules in one set.
    pub max_rules: usize,
    /// Largest event accepted by [`RuleSet::read_json`], in bytes of JSON text.
    pub max_event_bytes: usize,
    /// Fields with an Elasticsearch `null_value` or the `version` type.
    pub mapping: Vec<crate::mapping::MappedField>,
    /// Deepest JSON nesting followed inside the fields the rules read (at most 128, the default);
    /// deeper makes the event invalid. See [`Fields::set_max_nesting`].
    pub max_nesting: usize,
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
            mapping: vec![],
            max_nesting: 128,
        }
    }
}

#[derive(Clone, Debug)]
pub enum Body {
    Event(EventMatcher),
    Sequence(SequenceSpec),
    Sample(SampleSpec),
}

#[derive(Clone, Debug)]
pub struct CompiledRule {
    pub rule: Rule,
    pub query: ast::Query,
    pub body: Body,
    /// The rule's `timestamp_override`, if any.
    pub timestamp_override: Option<FieldId>,
}

impl CompiledRule {
    pub fn is_sequence(&self) -> bool {
        !matches!(self.body, Body::Event(_))
    }

    /// The rule's event queries in source order: one for an event rule; the stages, then `until`,
    /// for sequences and samples.
    pub fn matchers(&self) -> Box<dyn Iterator<Item = &EventMatcher> + '_> {
        match &self.body {
            Body::Event(m) => Box::new(std::iter::once(m)),
            Body::Sequence(s) => Box::new(s.matchers()),
            Body::Sample(s) => Box::new(s.stages.iter().map(|st| &st.matcher)),
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

/// An alert: a rule and the input positions (0-based) of the events that make up the match.
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct Alert {
    pub rule_id: String,
    pub rule_name: String,
    pub severity: String,
    pub risk_score: i64,
    pub events: Vec<u64>,
}

impl Alert {
    pub fn new(rule: &Rule, events: Vec<u64>) -> Alert {
        Alert {
            rule_id: rule.id.clone(),
            rule_name: rule.name.clone(),
            severity: rule.severity.clone(),
            risk_score: rule.risk_score,
            events,
        }
    }
}

#[derive(Clone, Debug)]
pub struct RuleSet {
    pub options: Options,
    fields: Fields,
    rules: Vec<CompiledRule>,
    pub(crate) category_field: FieldId,
    pub(crate) timestamp_field: FieldId,
    pub(crate) tiebreaker_field: Option<FieldId>,
    /// Which event queries (of event rules, and of the stages of sequences and samples) can match
    /// an event; built on first use after a change.
    index: std::sync::OnceLock<Index>,
    /// Names the contents of `rules`: a fresh number at every change, unique across rule sets,
    /// so that a [`crate::stream::Stream`] knows at once whether it is in step with this set.
    revision: u64,
}

fn next_revision() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// The embedded kubelet rule pack: (file name, TOML text).
pub const KUBELET_PACK: &[(&str, &str)] = &include!(concat!(env!("OUT_DIR"), "/kubelet_pack.rs"));

impl Default for RuleSet {
    fn default() -> RuleSet {
        RuleSet::new(Options::default())
    }
}

impl RuleSet {
    pub fn new(options: Options) -> RuleSet {
        let mut fields = Fields::default();
        let category_field = fields.intern_dotted(&options.category_field);
        let timestamp_field = fields.intern_dotted(&options.timestamp_field);
        let tiebreaker_field = options.tiebreaker_field.as_deref().map(|t| fields.intern_dotted(t));
        crate::mapping::apply(&mut fields, &options.mapping);
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
        }
    }

    /// The default rule set: the embedded kubelet pack.
    pub fn kubelet() -> RuleSet {
        let mut rs = RuleSet::default();
        rs.add_kubelet_pack().expect("the embedded kubelet pack compiles");
        rs
    }

    pub fn add_kubelet_pack(&mut self) -> Result<usize, Diagnostic> {
        let mut n = 0;
        for (name, text) in KUBELET_PACK {
            n += self.add_toml(text, &format!("rules/{name}"))?.len();
        }
        Ok(n)
    }

    pub fn fields(&self) -> &Fields {
        &self.fields
    }

    pub fn rules(&self) -> &[CompiledRule] {
        &self.rules
    }

    pub fn len(&self) -> usize {
        self.rules.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    pub fn position(&self, id: &str) -> Option<usize> {
        self.rules.iter().position(|r| r.rule.id == id)
    }

    /// Compiles and adds a rule. Errors are positioned in the rule's query text.
    pub fn add(&mut self, rule: Rule) -> Result<usize, Diagnostic> {
        self.check_room(&rule)?;
        let query = parse_query_with(&rule.query, &self.options.limits)?;
        self.add_parsed(rule, query)
    }

    /// Compiles and adds a rule whose query was already parsed into `query` (the parse of
    /// `rule.query`, e.g. done at build time for a host whose wasm stack cannot hold the parser's
    /// recursion). It is verified and compiled as [`RuleSet::add`] would.
    pub fn add_parsed(&mut self, rule: Rule, query: ast::Query) -> Result<usize, Diagnostic> {
        self.check_room(&rule)?;
        let compiled = compile_rule(rule, query, &mut self.fields)?;
        self.rules.push(compiled);
        self.reindex();
        Ok(self.rules.len() - 1)
    }

    fn check_room(&self, rule: &Rule) -> Result<(), Diagnostic> {
        if self.rules.len() >= self.options.max_rules {
            return Err(Diagnostic::new(
                "",
                Span::default(),
                format!("a rule set holds at most {} rules", self.options.max_rules),
            ));
        }
        if self.position(&rule.id).is_some() {
            return Err(Diagnostic::new(
                "",
                Span::default(),
                format!("a rule with id `{}` is already loaded", rule.id),
            ));
        }
        Ok(())
    }

    /// Adds an ad-hoc query as a rule with the given id.
    pub fn add_query(&mut self, id: &str, eql: &str) -> Result<usize, Diagnostic> {
        self.add(Rule::from_query(id, eql))
    }

    /// Adds the rule of a detection-rules TOML document. Non-EQL rules are returned as skipped.
    pub fn add_toml(&mut self, text: &str, origin: &str) -> Result<Vec<Loaded>, Diagnostic> {
        let loaded = rule::parse_rule_toml(text, origin)?;
        if let Loaded::Rule(r) = &loaded {
            let query = r.query.clone();
            self.add((**r).clone()).map_err(|d| {
                if d.message.contains("already loaded") || d.message.contains("at most") {
                    return Diagnostic::new(text, Span::default(), format!("{origin}: {}", d.message));
                }
                rule::locate_in_toml(text, query_range(text, &query), &query, &d, origin)
            })?;
        }
        Ok(vec![loaded])
    }

    pub fn remove(&mut self, id: &str) -> bool {
        match self.position(id) {
            Some(i) => {
                self.rules.remove(i);
                self.reindex();
                true
            }
            None => false,
        }
    }

    fn reindex(&mut self) {
        self.index = std::sync::OnceLock::new();
        self.revision = next_revision();
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
    /// One prefilter pass serves all of them.
    pub fn matching(&self, ev: &Event, cx: &mut Scratch) -> Vec<(usize, usize)> {
        let index = self.index();
        let mut out = Vec::new();
        for (id, check_category) in index.prefilter.candidates(ev, self.category_field, &mut cx.hits, &mut cx.fold) {
            let (rule, stage) = index.targets[id];
            let Some(m) = self.rules[rule].matchers().nth(stage) else { continue };
            if check_category && !eval::category_matches(m, ev, self.category_field) {
                continue;
            }
            if eval::truth(&m.condition, ev, cx) == Some(true) {
                out.push((rule, stage));
            }
        }
        out
    }

    /// Reads an event (JSON text) with this rule set's fields.
    /// Events longer than [`Options::max_event_bytes`] are refused.
    pub fn read_json<'a>(&self, json: &'a str) -> Result<Event<'a>, serde_json::Error> {
        if json.len() > self.options.max_event_bytes {
            return Err(serde::de::Error::custom(format_args!(
                "the event is {} bytes long; the limit is {} bytes",
                json.len(),
                self.options.max_event_bytes
            )));
        }
        self.fields.read_json(json)
    }

    /// Single-event rules that match, in rule order. Sequences need a [`crate::stream::Stream`].
    pub fn matches(&self, ev: &Event, cx: &mut Scratch) -> Vec<usize> {
        let mut out = self.matching(ev, cx);
        out.retain(|&(i, _)| matches!(self.rules[i].body, Body::Event(_)));
        out.into_iter().map(|(i, _)| i).collect()
    }

    /// Explains every event query of a rule against one event (one tree for an event rule; one per
    /// stage, then `until`, for sequences and samples).
    pub fn explain(&self, rule: usize, ev: &Event) -> Vec<Explanation> {
        let r = &self.rules[rule];
        let ex = Explainer::new(&r.rule.query, &self.fields);
        match &r.body {
            Body::Event(m) => vec![ex.event_query(m, ev, self.category_field)],
            Body::Sequence(s) => s.matchers().map(|m| ex.event_query(m, ev, self.category_field)).collect(),
            Body::Sample(s) => s.stages.iter().map(|st| ex.event_query(&st.matcher, ev, self.category_field)).collect(),
        }
    }
}

/// One event of an alert, explained against the stage it filled.
#[derive(Clone, Debug, Serialize)]
pub struct StageExplanation {
    /// Index of the stage in the query (a `with runs=N` stage fills N slots with the same index).
    pub stage: usize,
    /// The event's input position.
    pub event: u64,
    /// The event's time (the rule's timestamp field), as written in the event.
    pub timestamp: Option<crate::value::Value<'static>>,
    /// Milliseconds since the previous event of the alert.
    pub gap_ms: Option<f64>,
    /// The join keys: field names and the event's values for them.
    pub keys: Vec<JoinKey>,
    pub explanation: Explanation,
}

#[derive(Clone, Debug, Serialize)]
pub struct JoinKey {
    pub field: String,
    pub values: Vec<crate::value::Value<'static>>,
}

impl RuleSet {
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
            let ts_value = ev.get(ts_field).first().map(crate::value::Value::to_owned_value);
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
                            values: ev.get(key.field).iter().map(crate::value::Value::to_owned_value).collect(),
                        })
                        .collect(),
                ),
                (_, None) => continue,
            };
            out.push(StageExplanation {
                stage: stage_index(k),
                event: pos,
                timestamp: ts_value,
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

fn compile_rule(rule: Rule, query: ast::Query, fields: &mut Fields) -> Result<CompiledRule, Diagnostic> {
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
