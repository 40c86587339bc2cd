//! Events that fire a rule, and near misses that do not: for any rule, a minimal ECS event (the
//! events of a sequence or sample, in order, with equal join keys and timestamps inside
//! `maxspan`) built from the rule's own conditions, and for each decisive condition the smallest
//! change that turns the outcome. Every result is proven by running it through the engine (a
//! [`crate::Stream`] over the rule alone); what does not prove out is not returned.
//!
//! ```
//! use eqlite::{synthesize, RuleSet};
//!
//! let mut rules = RuleSet::default();
//! rules.add_query("r", r#"process where process.name : "*.exe" and not process.parent.name in ("explorer.exe")"#)?;
//! let s = synthesize(&rules, 0).unwrap();
//! assert_eq!(s.events[0]["process"]["name"], "x.exe");
//! assert!(s.near_misses.iter().any(|n| n.events[0]["process"]["parent"]["name"] == "explorer.exe"));
//! # Ok::<(), eqlite::Error>(())
//! ```

mod invert;
mod solve;

use crate::event::FieldId;
use crate::field_types::FieldType;
use crate::matcher::eval::Scratch;
use crate::matcher::query::StageSpec;
use crate::ruleset::{Body, RuleSet};
use crate::span::Span;
use crate::stream::{Stream, StreamOptions};
use crate::value::Value;
use serde::Serialize;
use solve::{Draft, Lit, Reader};

/// The first synthesized event's time: 2026-12-01T10:00:00Z, in milliseconds since the epoch.
const BASE_MS: i64 = 1_796_119_200_000;

/// Events that fire a rule, and near misses.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Synthesis {
    /// The rule's id.
    pub rule_id: String,
    /// ECS documents that fire the rule, in order (one for an event rule).
    pub events: Vec<serde_json::Value>,
    /// One near miss per decisive condition; none of them fires the rule.
    pub near_misses: Vec<NearMiss>,
}

/// Events that differ from the firing ones by one condition, and do not fire.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NearMiss {
    /// The condition turned, as written in the query (or what was changed: `maxspan`, a join key…).
    pub condition: String,
    /// Where the condition is in the query text.
    pub span: Span,
    /// What was changed, in words.
    pub change: String,
    /// The changed events.
    pub events: Vec<serde_json::Value>,
}

/// Why no firing event could be synthesized for a rule.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Unsupported {
    /// The rule's id.
    pub rule_id: String,
    /// What could not be inverted.
    pub reason: String,
}

impl Synthesis {
    /// A starter test-case file for the rule, in the format of `eqlite test` (`NAME.tests.toml`
    /// beside the rule): one case that fires (the synthesized events), then each near miss as a
    /// case that stays silent.
    pub fn case_file(&self) -> String {
        let mut out = format!(
            "# Starter cases written by `eqlite test --init` (or `eqlite synth --init`): synthesized events, each proven by the engine.\n\
             rule_id = {}\n",
            toml_string(&self.rule_id)
        );
        let mut case = |name: &str, expect: &str, events: &[serde_json::Value]| {
            let lines: Vec<String> = events.iter().map(|e| e.to_string()).collect();
            out.push_str(&format!(
                "\n[[case]]\nname = {}\nexpect = \"{expect}\"\nevents = {}\n",
                toml_string(name),
                toml_text(&(lines.join("\n") + "\n"))
            ));
        };
        case("fires: synthesized", "fires", &self.events);
        for n in &self.near_misses {
            let what = n.condition.split_whitespace().collect::<Vec<_>>().join(" ");
            case(&format!("near miss: `{what}` {}", n.change), "silent", &n.events);
        }
        out
    }
}

/// A TOML basic string.
fn toml_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Multi-line text as TOML: a literal block when it can be one (JSON lines read as they are),
/// else a basic string.
fn toml_text(s: &str) -> String {
    if s.contains("'''") || s.chars().any(|c| c.is_control() && c != '\n') {
        toml_string(s)
    } else {
        format!("'''\n{s}'''")
    }
}

impl std::fmt::Display for Unsupported {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.rule_id, self.reason)
    }
}

/// Synthesizes firing events and near misses for rule `i` of `rules` (an error if there is no
/// such rule, or no firing events could be built: the reason names the condition).
pub fn synthesize(rules: &RuleSet, i: usize) -> Result<Synthesis, Unsupported> {
    let c =
        rules.compiled().get(i).ok_or_else(|| Unsupported { rule_id: String::new(), reason: "no such rule".into() })?;
    let fail = |reason: String| Unsupported { rule_id: c.rule.id.clone(), reason };
    // The rule alone: proofs must not depend on (or pay for) the other rules of the set.
    let mut alone = RuleSet::new(rules.options().clone());
    alone.add_parsed(c.rule.clone(), c.query.clone()).map_err(|e| fail(e.message().to_string()))?;
    let s = Synth {
        rs: &alone,
        reader: Reader { fields: alone.fields(), category_field: alone.category_field },
        src: &c.rule.query,
        time_fields: std::iter::once(alone.timestamp_field).chain(alone.compiled()[0].timestamp_override).collect(),
    };
    let mut cx = Scratch::default();
    let out = match &alone.compiled()[0].body {
        Body::Event(m) => s.event_rule(m, &mut cx),
        Body::Sequence(spec) => {
            let stages: Vec<&StageSpec> = spec.stages.iter().collect();
            let (maxspan_span, span) = match &c.query.body {
                crate::ast::QueryBody::Sequence(q) => (q.maxspan.map_or(q.span, |m| m.span), q.span),
                _ => (c.query.span, c.query.span),
            };
            let order = Order {
                positives: &spec.layout.positives,
                maxspan_ms: spec.maxspan_ms,
                until: spec.until.as_ref(),
                maxspan_span,
                span,
            };
            s.joined(&stages, Some(order), &mut cx)
        }
        Body::Sample(spec) => {
            let stages: Vec<&StageSpec> = spec.stages.iter().collect();
            s.joined(&stages, None, &mut cx)
        }
    };
    let (events, near_misses) = out.map_err(fail)?;
    Ok(Synthesis { rule_id: c.rule.id.clone(), events, near_misses })
}

/// What orders a sequence: its positive slots (`runs` expanded), `maxspan`, `until`.
struct Order<'a> {
    positives: &'a [usize],
    maxspan_ms: Option<u64>,
    until: Option<&'a StageSpec>,
    /// `maxspan=…` as written, and the whole sequence, for the near misses they decide.
    maxspan_span: Span,
    span: Span,
}

struct Synth<'a> {
    rs: &'a RuleSet,
    reader: Reader<'a>,
    src: &'a str,
    time_fields: Vec<FieldId>,
}

type Found = Result<(Vec<serde_json::Value>, Vec<NearMiss>), String>;

impl Synth<'_> {
    /// Whether the rule fires on these drafts at these times (ms after [`BASE_MS`]).
    fn fires(&self, drafts: &[(&Draft, i64)]) -> bool {
        let mut stream = Stream::new(self.rs, StreamOptions::default());
        let mut alerts = 0;
        for (pos, (d, t)) in drafts.iter().enumerate() {
            let Some(ev) = self.reader.event(&self.timed(d, *t)) else { return false };
            alerts += stream.push(self.rs, &ev, pos as u64).len();
        }
        alerts + stream.flush(self.rs).len() > 0
    }

    fn timed(&self, d: &Draft, t: i64) -> Draft {
        let mut d = d.clone();
        for &f in &self.time_fields {
            d.insert(f, vec![invert::text(iso8601(BASE_MS + t))]);
        }
        d
    }

    fn json(&self, drafts: &[(&Draft, i64)]) -> Vec<serde_json::Value> {
        drafts.iter().map(|(d, t)| self.reader.json(&self.timed(d, *t))).collect()
    }

    fn clause(&self, span: Span) -> String {
        span.text(self.src).to_string()
    }

    /// Each leaf test of `lits` turned in `d` in its turn (the fields it reads re-chosen, every
    /// other value kept): the drafts that no longer satisfy the event query.
    fn turned<'n>(
        &self,
        m: &crate::matcher::node::EventMatcher,
        d: &Draft,
        lits: &[Lit<'n>],
        cx: &mut Scratch,
    ) -> Vec<(Span, String, Draft)> {
        let mut out = Vec::new();
        for (k, (leaf, want)) in lits.iter().enumerate() {
            let mut flipped = lits.to_vec();
            flipped[k].1 = !want;
            let mut ids = Vec::new();
            leaf.fields(&mut ids);
            let mut base = d.clone();
            for f in &ids {
                base.remove(f);
            }
            let Some(nd) = self.reader.assign(&flipped, &base, false, cx) else { continue };
            if &nd == d || self.reader.matches(m, &nd, cx) {
                continue;
            }
            let names: Vec<&str> = ids.iter().map(|&f| self.reader.fields.name(f)).collect();
            let change =
                format!("made {} {}", if *want { "false" } else { "true" }, describe(&names, &nd, &self.reader));
            out.push((leaf.span, change, nd));
        }
        if let Some(c) = &m.category {
            let other = if c == "process" { "file" } else { "process" };
            let mut nd = d.clone();
            nd.insert(self.reader.category_field, vec![invert::text(other)]);
            if !self.reader.matches(m, &nd, cx) {
                out.push((m.category_span, format!("event.category set to \"{other}\""), nd));
            }
        }
        out
    }

    fn event_rule(&self, m: &crate::matcher::node::EventMatcher, cx: &mut Scratch) -> Found {
        let (d, lits) = self.reader.solve(m, &Draft::new(), cx).ok_or_else(|| self.why_not(m))?;
        if !self.fires(&[(&d, 0)]) {
            return Err("the synthesized event matches the condition but the rule does not fire".into());
        }
        let mut near = Vec::new();
        for (span, change, nd) in self.turned(m, &d, &lits, cx) {
            if !self.fires(&[(&nd, 0)]) {
                near.push(NearMiss { condition: self.clause(span), span, change, events: self.json(&[(&nd, 0)]) });
            }
        }
        Ok((self.json(&[(&d, 0)]), dedup(near)))
    }

    /// The reason given when no event satisfies a condition: the first leaf test that no value
    /// of its own can satisfy, or the whole condition.
    fn why_not(&self, m: &crate::matcher::node::EventMatcher) -> String {
        let alts = solve::alternatives(&m.condition, true);
        for (leaf, want) in alts.iter().flatten() {
            if invert::candidates(leaf, *want).is_empty() {
                return format!("cannot invert `{}` (to make it {want})", self.clause(leaf.span));
            }
        }
        format!("no combination of values satisfies `{}`", self.clause(m.condition.span))
    }

    /// Sequences (`order` given) and samples: one event per stage, join keys equal.
    fn joined(&self, stages: &[&StageSpec], order: Option<Order>, cx: &mut Scratch) -> Found {
        let nkeys = stages.first().map_or(0, |s| s.keys.len());
        // First each positive stage alone, to learn join-key values its conditions impose.
        let mut firsts: Vec<Option<Draft>> = Vec::new();
        for st in stages {
            firsts.push(if st.missing { None } else { Some(self.stage(st, &Draft::new(), cx)?.0) });
        }
        let key_values: Vec<Vec<Value<'static>>> = (0..nkeys)
            .map(|k| {
                stages
                    .iter()
                    .zip(&firsts)
                    .find_map(|(st, d)| d.as_ref()?.get(&st.keys[k].field).filter(|v| !v.is_empty()).cloned())
                    .unwrap_or_else(|| vec![self.key_value(stages[0].keys[k].field, k)])
            })
            .collect();
        let pinned = |st: &StageSpec, values: &[Vec<Value<'static>>]| -> Draft {
            st.keys.iter().zip(values).map(|(key, v)| (key.field, v.clone())).collect()
        };
        let mut drafts: Vec<Option<(Draft, Vec<Lit>)>> = Vec::new();
        for st in stages {
            drafts.push(if st.missing { None } else { Some(self.stage(st, &pinned(st, &key_values), cx)?) });
        }
        let slots: Vec<usize> = match &order {
            Some(o) => o.positives.to_vec(),
            None => (0..stages.len()).collect(),
        };
        let step = order
            .as_ref()
            .and_then(|o| o.maxspan_ms)
            .map_or(1000, |m| (m as i64 / slots.len().max(1) as i64).min(1000));
        let times: Vec<i64> = (0..slots.len() as i64).map(|k| k * step).collect();
        let draft = |s: usize| &drafts[s].as_ref().expect("positive stage").0;
        let firing: Vec<(&Draft, i64)> = slots.iter().zip(&times).map(|(&s, &t)| (draft(s), t)).collect();
        if !self.fires(&firing) {
            return Err("the synthesized events match their stages but the rule does not fire".into());
        }
        let mut near = Vec::new();
        let mut try_near = |span: Span, change: String, evs: Vec<(&Draft, i64)>| {
            if !self.fires(&evs) {
                near.push(NearMiss { condition: self.clause(span), span, change, events: self.json(&evs) });
            }
        };
        // A stage's event left out.
        for (k, &s) in slots.iter().enumerate() {
            let mut evs = firing.clone();
            evs.remove(k);
            let span = stages[s].matcher.span;
            try_near(span, format!("the event of stage {} left out", s + 1), evs);
        }
        // A condition of a stage turned.
        let mut turned: Vec<(usize, Span, String, Draft)> = Vec::new();
        for (s, st) in stages.iter().enumerate() {
            if let Some((d, lits)) = &drafts[s] {
                for (span, change, nd) in self.turned(&st.matcher, d, lits, cx) {
                    turned.push((s, span, change, nd));
                }
            }
        }
        for (s, span, change, nd) in &turned {
            let evs: Vec<(&Draft, i64)> =
                slots.iter().zip(&times).map(|(&x, &t)| (if x == *s { nd } else { draft(x) }, t)).collect();
            try_near(*span, format!("stage {}: {change}", s + 1), evs);
        }
        // A join key that differs on the last event.
        let last = *slots.last().expect("a stage");
        let mut keyed: Vec<(Span, String, Draft)> = Vec::new();
        for (k, key) in stages[last].keys.iter().enumerate() {
            let mut d = draft(last).clone();
            let other = self.key_value(key.field, k + 7);
            d.insert(key.field, vec![other]);
            let name = self.reader.fields.name(key.field);
            keyed.push((stages[last].matcher.span, format!("join key {name} differs on the last event"), d));
        }
        for (span, change, d) in &keyed {
            let mut evs = firing.clone();
            evs.last_mut().expect("an event").0 = d;
            try_near(*span, change.clone(), evs);
        }
        let mut extra: Vec<(Span, String, usize, Draft)> = Vec::new();
        if let Some(o) = &order {
            if let Some(ms) = o.maxspan_ms {
                let mut evs = firing.clone();
                evs.last_mut().expect("an event").1 = ms as i64 + 1000;
                try_near(o.maxspan_span, format!("the last event {} ms after the first (maxspan)", ms + 1000), evs);
            }
            if slots.len() >= 2 {
                let mut evs = firing.clone();
                let n = evs.len();
                evs.swap(n - 2, n - 1);
                let (a, b) = (evs[n - 2].1, evs[n - 1].1);
                evs[n - 2].1 = b;
                evs[n - 1].1 = a;
                try_near(o.span, "the last two events in the other order".into(), evs);
            }
            // An `until` event, or an event a missing stage forbids, in the middle of the sequence.
            let forbidden = o
                .until
                .into_iter()
                .map(|u| (u, "an `until` event"))
                .chain(stages.iter().filter(|st| st.missing).map(|st| (*st, "an event of a missing stage `![…]`")));
            for (st, what) in forbidden {
                if let Ok((d, _)) = self.stage(st, &pinned(st, &key_values), cx) {
                    extra.push((st.matcher.span, format!("{what} added"), slots.len() - 1, d));
                }
            }
        }
        for (span, change, at, d) in &extra {
            let mut evs = firing.clone();
            let t = if *at == 0 { 0 } else { (evs[at - 1].1 + evs[*at].1) / 2 };
            evs.insert(*at, (d, t));
            // A missing stage before the first positive one goes first.
            try_near(*span, change.clone(), evs);
            let mut evs = firing.clone();
            evs.insert(0, (d, -1));
            try_near(*span, format!("{change} before the first event"), evs);
        }
        Ok((self.json(&firing), dedup(near)))
    }

    /// An event for one stage, `fixed` fields kept.
    fn stage<'s>(&self, st: &'s StageSpec, fixed: &Draft, cx: &mut Scratch) -> Result<(Draft, Vec<Lit<'s>>), String> {
        self.reader.solve(&st.matcher, fixed, cx).ok_or_else(|| self.why_not(&st.matcher))
    }

    /// A join-key value of the field's type.
    fn key_value(&self, f: FieldId, k: usize) -> Value<'static> {
        match self.reader.fields.field_type(f) {
            Some(FieldType::Long | FieldType::Integer | FieldType::Short | FieldType::UnsignedLong) => {
                Value::Int(4242 + k as i64)
            }
            Some(FieldType::Ip) => invert::text(format!("10.0.0.{}", 10 + k)),
            _ => invert::text(format!("eqlite-{}", k + 1)),
        }
    }
}

fn describe(names: &[&str], d: &Draft, r: &Reader) -> String {
    let parts: Vec<String> = names
        .iter()
        .filter_map(|n| r.fields.lookup(n))
        .map(|f| match d.get(&f).map(Vec::as_slice) {
            None | Some([]) => format!("{} absent", r.fields.name(f)),
            Some(vs) => {
                let shown: Vec<String> = vs.iter().map(|v| serde_json::to_string(v).unwrap_or_default()).collect();
                format!("{} = {}", r.fields.name(f), shown.join(", "))
            }
        })
        .collect();
    format!("({})", parts.join("; "))
}

/// Near misses with the same events are one; they come in the order of the query.
fn dedup(mut v: Vec<NearMiss>) -> Vec<NearMiss> {
    // In query order (the compiler may have reordered operands); stable for equal spans.
    v.sort_by_key(|n| n.span.start);
    let mut out: Vec<NearMiss> = Vec::new();
    for n in v {
        if !out.iter().any(|o| o.events == n.events) {
            out.push(n);
        }
    }
    out
}

/// Milliseconds since the epoch as ISO 8601 UTC text.
fn iso8601(ms: i64) -> String {
    crate::time::rfc3339(ms * 1_000_000)
}

#[cfg(test)]
mod tests {
    #[test]
    fn timestamps_are_iso8601() {
        assert_eq!(super::iso8601(super::BASE_MS), "2026-12-01T10:00:00.000Z");
        assert_eq!(super::iso8601(super::BASE_MS + 86_400_000 * 31 + 1), "2027-01-01T10:00:00.001Z");
    }
}
