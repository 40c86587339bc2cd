//! The streaming engine: push events one at a time, get alerts back. Single-event rules answer at
//! once; sequences and samples keep a bounded amount of state.
//!
//! Sequences follow Elasticsearch: events are taken in time order (the rule's timestamp field,
//! ties broken by the tiebreaker, then input order); per join key there is one pending partial
//! match per stage, a newer one replacing the older; an event advances at most one partial per
//! stage (stages are tried last to first, so one event never fills two stages of one match).
//! `with maxspan` bounds the time from the first to the last event, `until` drops the key's
//! partials, and a candidate with missing-event slots (`![…]`) is dropped when events exist for
//! every missing slot such that the whole sequence, missing events included, still fits in
//! maxspan (which is how Elasticsearch decides it).
//!
//! Out-of-order input is re-ordered within `lateness`; an event older than that is counted as
//! late and kept out of sequences rather than joined out of order.

use crate::ast::Pipe;
use crate::event::Event;
use crate::matcher::eval::Scratch;
use crate::matcher::query::{Key, SampleSpec, SequenceSpec, StageSpec};
use crate::ruleset::{Alert, Body, CompiledRule, RuleSet};
use crate::time::{self, Nanos, NANOS_PER_MS};
use crate::value::Value;
use serde::{Deserialize, Serialize};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet, VecDeque};

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StreamOptions {
    /// How far (ms) an event may arrive behind the newest one and still be ordered correctly.
    /// Sequence alerts are delayed by up to this much.
    pub lateness_ms: u64,
    /// Most pending partial matches per rule; beyond it the oldest are evicted (and counted).
    /// Also bounds, per rule, the events held back for ordering (beyond it the oldest are taken
    /// in early) and the join keys a sample remembers as done.
    pub max_pending: usize,
    /// Most join-key combinations one event contributes to one stage (multi-valued keys).
    pub max_keys_per_event: usize,
}

impl Default for StreamOptions {
    fn default() -> StreamOptions {
        StreamOptions { lateness_ms: 0, max_pending: 100_000, max_keys_per_event: 64 }
    }
}

/// Counters a caller should surface: what the engine had to drop and why.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    pub events: u64,
    /// Events that arrived later than `lateness` allows, kept out of sequences.
    pub late: u64,
    /// Events without a usable timestamp, kept out of sequences.
    pub untimed: u64,
    /// Partial matches evicted because a rule reached `max_pending`.
    pub evicted: u64,
    /// Partial matches dropped because they could no longer complete within maxspan.
    pub expired: u64,
    /// Partial matches held now.
    pub pending: u64,
}

/// One value of a join key. Floats are compared by bit pattern, after normalising `-0.0`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum KeyValue {
    Null,
    Bool(bool),
    Int(i64),
    Float(u64),
    Str(Box<str>),
}

impl KeyValue {
    fn of(v: &Value) -> KeyValue {
        match v {
            Value::Null => KeyValue::Null,
            Value::Bool(b) => KeyValue::Bool(*b),
            Value::Int(i) => KeyValue::Int(*i),
            Value::Float(f) if f.fract() == 0.0 && f.abs() < 9.2e18 => KeyValue::Int(*f as i64),
            Value::Float(f) => KeyValue::Float((f + 0.0).to_bits()),
            Value::Str(s) => KeyValue::Str(s.as_ref().into()),
        }
    }
}

type KeyTuple = Vec<KeyValue>;

/// What one event means to one sequence or sample rule, kept until it is its turn.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Record {
    ts: Nanos,
    tie: Option<KeyValue>,
    pos: u64,
    /// (stage index, join keys) for every stage the event matches.
    stages: Vec<(u32, Vec<KeyTuple>)>,
    until: Vec<KeyTuple>,
}

impl Record {
    fn order(&self) -> (Nanos, &Option<KeyValue>, u64) {
        (self.ts, &self.tie, self.pos)
    }
}

impl PartialEq for Record {
    fn eq(&self, o: &Self) -> bool {
        self.order() == o.order()
    }
}
impl Eq for Record {}
impl PartialOrd for Record {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Record {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        self.order().cmp(&o.order())
    }
}

/// `| head N` and `| tail N`, applied to a rule's alerts in order.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct Pipes(Vec<PipeState>);

#[derive(Clone, Debug, Serialize, Deserialize)]
enum PipeState {
    Head { n: u64, seen: u64 },
    Tail { n: u64, buf: VecDeque<Alert> },
}

impl Pipes {
    fn new(pipes: &[Pipe]) -> Pipes {
        Pipes(
            pipes
                .iter()
                .map(|p| match p {
                    Pipe::Head(n, _) => PipeState::Head { n: *n, seen: 0 },
                    Pipe::Tail(n, _) => PipeState::Tail { n: *n, buf: VecDeque::new() },
                })
                .collect(),
        )
    }

    fn feed(&mut self, from: usize, alert: Alert, out: &mut Vec<Alert>) {
        match self.0.get_mut(from) {
            None => out.push(alert),
            Some(PipeState::Head { n, seen }) => {
                if *seen < *n {
                    *seen += 1;
                    self.feed(from + 1, alert, out);
                }
            }
            Some(PipeState::Tail { n, buf }) => {
                buf.push_back(alert);
                if buf.len() as u64 > *n {
                    buf.pop_front();
                }
            }
        }
    }

    fn flush(&mut self, out: &mut Vec<Alert>) {
        for i in 0..self.0.len() {
            if let PipeState::Tail { buf, .. } = &mut self.0[i] {
                let drained: Vec<Alert> = buf.drain(..).collect();
                for a in drained {
                    self.feed(i + 1, a, out);
                }
            }
        }
    }

    /// A leading `head` that has had its fill: the rule can stop working.
    fn done(&self) -> bool {
        matches!(self.0.first(), Some(PipeState::Head { n, seen }) if seen >= n)
    }
}

/// A partial sequence match.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Partial {
    /// Input positions of the positive events matched so far.
    events: Vec<u64>,
    first_ts: Nanos,
    /// The latest event matching a leading missing slot before the first event, if any.
    lead_ts: Option<Nanos>,
    /// When waiting for a trailing missing event: where the excluding window starts and ends.
    start: Nanos,
    deadline: Nanos,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct KeyState {
    /// `slots[j]`: the partial that has matched positive stages `0..=j`.
    slots: Vec<Option<Partial>>,
    /// The latest event matching a leading missing slot: (ts, pos).
    leading: Option<(Nanos, u64)>,
    /// Complete candidates waiting to see whether their trailing missing slots get filled.
    trailing: Vec<Partial>,
}

/// The shape of a sequence with `runs` expanded: positive stages and the missing slots around them.
#[derive(Clone, Debug, Default)]
struct Layout {
    positives: Vec<usize>,
    /// `gaps[j]`: missing stages between positive `j` and `j + 1`.
    gaps: Vec<Vec<usize>>,
    leading: Vec<usize>,
    trailing: Vec<usize>,
}

impl Layout {
    fn of(spec: &SequenceSpec) -> Layout {
        let mut l = Layout::default();
        let mut pending: Vec<usize> = Vec::new();
        for (i, st) in spec.stages.iter().enumerate() {
            for _ in 0..st.runs {
                if st.missing {
                    pending.push(i);
                } else {
                    if l.positives.is_empty() {
                        l.leading = std::mem::take(&mut pending);
                    } else {
                        l.gaps.push(std::mem::take(&mut pending));
                    }
                    l.positives.push(i);
                }
            }
        }
        l.trailing = pending;
        l
    }
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct SequenceState {
    buffer: Vec<Record>,
    newest: Option<Nanos>,
    /// The last record handed to the state machine, for lateness checks.
    released: Option<(Nanos, Option<KeyValue>, u64)>,
    keys: Vec<(KeyTuple, KeyState)>,
    pending: usize,
    min_deadline: Option<Nanos>,
    since_purge: u32,
    pipes: Pipes,
    #[serde(skip)]
    heap: Option<BinaryHeap<Reverse<Record>>>,
    #[serde(skip)]
    index: Option<HashMap<KeyTuple, usize>>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct SampleState {
    /// Per key: the (position) chosen for each stage so far.
    keys: Vec<(KeyTuple, Vec<Option<u64>>)>,
    done: Vec<KeyTuple>,
    pipes: Pipes,
    /// Lookups into `keys` and `done`, rebuilt after a restore or an eviction.
    #[serde(skip)]
    index: Option<HashMap<KeyTuple, usize>>,
    #[serde(skip)]
    done_set: Option<HashSet<KeyTuple>>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
enum RuleState {
    Event(Pipes),
    Sequence(Box<SequenceState>),
    Sample(SampleState),
}

/// Streaming evaluation of a [`RuleSet`].
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Stream {
    pub options: StreamOptions,
    /// Per rule, by rule id (so that state survives rules being added or removed).
    rules: Vec<(String, RuleState)>,
    stats: Stats,
    #[serde(skip)]
    scratch: ScratchCell,
    /// The revision of the rule set `rules` was last aligned with (see [`Stream::sync`]).
    #[serde(skip)]
    synced: Option<u64>,
}

#[derive(Default)]
struct ScratchCell(Scratch);

impl Clone for ScratchCell {
    fn clone(&self) -> Self {
        ScratchCell::default()
    }
}

impl std::fmt::Debug for ScratchCell {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Scratch")
    }
}

fn fresh_state(r: &CompiledRule) -> RuleState {
    match &r.body {
        Body::Event(_) => RuleState::Event(Pipes::new(&r.query.pipes)),
        Body::Sequence(s) => {
            RuleState::Sequence(Box::new(SequenceState { pipes: Pipes::new(&s.pipes), ..Default::default() }))
        }
        Body::Sample(s) => RuleState::Sample(SampleState { pipes: Pipes::new(&s.pipes), ..Default::default() }),
    }
}

impl Stream {
    pub fn new(rs: &RuleSet, options: StreamOptions) -> Stream {
        let mut s =
            Stream { options, rules: vec![], stats: Stats::default(), scratch: ScratchCell::default(), synced: None };
        s.sync(rs);
        s
    }

    pub fn stats(&self) -> Stats {
        let mut st = self.stats.clone();
        st.pending = self
            .rules
            .iter()
            .map(|(_, r)| match r {
                RuleState::Sequence(s) => {
                    s.pending as u64 + s.buffer.len() as u64 + s.heap.as_ref().map_or(0, |h| h.len() as u64)
                }
                RuleState::Sample(s) => s.keys.len() as u64,
                _ => 0,
            })
            .sum();
        st
    }

    /// Aligns the per-rule state with the rule set (rules added, removed or reordered).
    fn sync(&mut self, rs: &RuleSet) {
        if self.synced == Some(rs.revision()) {
            return;
        }
        self.synced = Some(rs.revision());
        // The kind must match too: a restored state may be of another version of the rule.
        let fits = |st: &RuleState, r: &CompiledRule| {
            matches!(
                (st, &r.body),
                (RuleState::Event(_), Body::Event(_))
                    | (RuleState::Sequence(_), Body::Sequence(_))
                    | (RuleState::Sample(_), Body::Sample(_))
            )
        };
        let same = self.rules.len() == rs.len()
            && self.rules.iter().zip(rs.rules()).all(|((id, st), r)| *id == r.rule.id && fits(st, r));
        if same {
            return;
        }
        let mut old: HashMap<String, RuleState> = self.rules.drain(..).collect();
        self.rules = rs
            .rules()
            .iter()
            .map(|r| {
                let st = old.remove(&r.rule.id).filter(|st| fits(st, r)).unwrap_or_else(|| fresh_state(r));
                (r.rule.id.clone(), st)
            })
            .collect();
    }

    /// Serialises the whole state (pending partial matches, buffers, counters) as JSON.
    pub fn save(&mut self) -> String {
        for (_, r) in &mut self.rules {
            if let RuleState::Sequence(s) = r {
                s.park();
            }
        }
        serde_json::to_string(self).expect("stream state serialises")
    }

    pub fn restore(json: &str) -> Result<Stream, serde_json::Error> {
        serde_json::from_str(json)
    }

    /// Feeds one event (its 0-based input position `pos`); returns the alerts it completes.
    pub fn push(&mut self, rs: &RuleSet, ev: &Event, pos: u64) -> Vec<Alert> {
        self.push_at(rs, ev, pos, None)
    }

    /// As [`Stream::push`], with a time to use when the event carries none (e.g. the time a log
    /// shipper attached to the record), in nanoseconds since the Unix epoch.
    pub fn push_at(&mut self, rs: &RuleSet, ev: &Event, pos: u64, fallback: Option<Nanos>) -> Vec<Alert> {
        self.sync(rs);
        self.stats.events += 1;
        let mut out = Vec::new();
        let cx = &mut self.scratch.0;
        for i in rs.matches(ev, cx) {
            if let RuleState::Event(p) = &mut self.rules[i].1 {
                p.feed(0, Alert::new(&rs.rules()[i].rule, vec![pos]), &mut out);
            }
        }
        let (mut late, mut untimed) = (false, false);
        let stages = rs.matching_stages(ev, cx);
        for group in stages.chunk_by(|a, b| a.0 == b.0) {
            let i = group[0].0;
            let r = &rs.rules()[i];
            let matched = group.iter().map(|&(_, s)| s);
            match (&r.body, &mut self.rules[i].1) {
                (Body::Sequence(spec), RuleState::Sequence(st)) if !st.pipes.done() => {
                    let all: Vec<&StageSpec> = spec.stages.iter().chain(spec.until.iter()).collect();
                    let Some(mut rec) =
                        record(rs, matched.map(|s| (s, all[s])), spec.stages.len(), ev, pos, &self.options)
                    else {
                        continue;
                    };
                    // Only events that matter to the rule need a timestamp.
                    let Some(ts) = timestamp(rs, r, ev).or(fallback) else {
                        untimed = true;
                        continue;
                    };
                    rec.ts = ts;
                    st.newest = Some(st.newest.map_or(ts, |n| n.max(ts)));
                    if let Some(rel) = &st.released {
                        if rec.order() < (rel.0, &rel.1, rel.2) {
                            late = true;
                            continue;
                        }
                    }
                    st.heap().push(Reverse(rec));
                    let horizon = st.newest.unwrap_or(ts).saturating_sub(
                        i64::try_from(self.options.lateness_ms).unwrap_or(i64::MAX).saturating_mul(NANOS_PER_MS),
                    );
                    st.release(spec, &r.rule, Some(horizon), &self.options, &mut self.stats, &mut out);
                    // Bounded memory whatever the timestamps: beyond `max_pending` records held for
                    // ordering, the oldest are taken in now (events older than them become late).
                    if st.heap().len() > self.options.max_pending {
                        st.release_oldest(spec, &r.rule, &self.options, &mut self.stats, &mut out);
                    }
                }
                (Body::Sample(spec), RuleState::Sample(st)) if !st.pipes.done() => {
                    let found = matched.map(|s| (s, &spec.stages[s]));
                    if let Some(rec) = record(rs, found, spec.stages.len(), ev, pos, &self.options) {
                        st.push(spec, &r.rule, rec, &self.options, &mut self.stats, &mut out);
                    }
                }
                _ => {}
            }
        }
        // Counted once per event, however many rules it mattered to.
        self.stats.late += u64::from(late);
        self.stats.untimed += u64::from(untimed);
        out
    }

    /// End of input: releases everything buffered and the `tail` pipes' results.
    pub fn flush(&mut self, rs: &RuleSet) -> Vec<Alert> {
        self.sync(rs);
        let mut out = Vec::new();
        for (i, r) in rs.rules().iter().enumerate() {
            match (&r.body, &mut self.rules[i].1) {
                (Body::Sequence(spec), RuleState::Sequence(st)) => {
                    st.release(spec, &r.rule, None, &self.options, &mut self.stats, &mut out);
                    st.pipes.flush(&mut out);
                }
                (_, RuleState::Event(p)) => p.flush(&mut out),
                (_, RuleState::Sample(st)) => st.pipes.flush(&mut out),
                _ => {}
            }
        }
        out
    }
}

fn timestamp(rs: &RuleSet, r: &CompiledRule, ev: &Event) -> Option<Nanos> {
    let field = r.timestamp_override.filter(|f| !ev.get(*f).is_empty()).unwrap_or(rs.timestamp_field);
    ev.get(field).first().and_then(time::parse)
}

/// The join-key tuples of an event for a stage: every combination of the key fields' values.
fn key_tuples(ev: &Event, keys: &[Key], max: usize) -> Vec<KeyTuple> {
    let mut tuples: Vec<KeyTuple> = vec![vec![]];
    for k in keys {
        let mut vals: Vec<KeyValue> = ev.get(k.field).iter().map(KeyValue::of).collect();
        vals.sort();
        vals.dedup();
        if vals.is_empty() {
            if !k.optional {
                return vec![];
            }
            vals.push(KeyValue::Null);
        }
        let mut next = Vec::with_capacity(tuples.len() * vals.len());
        for t in &tuples {
            for v in &vals {
                if next.len() >= max {
                    break;
                }
                let mut t = t.clone();
                t.push(v.clone());
                next.push(t);
            }
        }
        tuples = next;
    }
    tuples
}

/// What the event means to a rule's stages (its time is filled in by the caller).
/// `matched`: the stages whose query the event satisfies (from [`RuleSet::matching_stages`]).
fn record<'s>(
    rs: &RuleSet,
    matched: impl Iterator<Item = (usize, &'s StageSpec)>,
    until_index: usize,
    ev: &Event,
    pos: u64,
    opts: &StreamOptions,
) -> Option<Record> {
    let mut rec = Record {
        ts: 0,
        tie: rs.tiebreaker_field.and_then(|f| ev.get(f).first().map(KeyValue::of)),
        pos,
        stages: vec![],
        until: vec![],
    };
    for (i, st) in matched {
        let keys = key_tuples(ev, &st.keys, opts.max_keys_per_event);
        if keys.is_empty() {
            continue;
        }
        if i == until_index {
            rec.until = keys;
        } else {
            rec.stages.push((i as u32, keys));
        }
    }
    (!rec.stages.is_empty() || !rec.until.is_empty()).then_some(rec)
}

fn sequence_alert(rule: &crate::rule::Rule, p: &Partial) -> Alert {
    Alert::new(rule, p.events.clone())
}

impl SequenceState {
    fn heap(&mut self) -> &mut BinaryHeap<Reverse<Record>> {
        let buffer = &mut self.buffer;
        self.heap.get_or_insert_with(|| buffer.drain(..).map(Reverse).collect())
    }

    /// Moves runtime-only structures back into their serialisable form.
    fn park(&mut self) {
        if let Some(h) = self.heap.take() {
            self.buffer.extend(h.into_iter().map(|Reverse(r)| r));
        }
        self.index = None;
    }

    /// Hands the oldest buffered records to the state machine until at most `max_pending` remain.
    fn release_oldest(
        &mut self,
        spec: &SequenceSpec,
        rule: &crate::rule::Rule,
        opts: &StreamOptions,
        stats: &mut Stats,
        out: &mut Vec<Alert>,
    ) {
        let layout = Layout::of(spec);
        while self.heap().len() > opts.max_pending {
            let Some(Reverse(rec)) = self.heap().pop() else { break };
            self.released = Some((rec.ts, rec.tie.clone(), rec.pos));
            self.step(spec, &layout, rule, &rec, opts, stats, out);
        }
    }

    /// Hands buffered records up to `horizon` (all of them when `None`) to the state machine.
    fn release(
        &mut self,
        spec: &SequenceSpec,
        rule: &crate::rule::Rule,
        horizon: Option<Nanos>,
        opts: &StreamOptions,
        stats: &mut Stats,
        out: &mut Vec<Alert>,
    ) {
        let layout = Layout::of(spec);
        loop {
            let heap = self.heap();
            match heap.peek() {
                Some(Reverse(r)) if horizon.is_none_or(|h| r.ts <= h) => {}
                _ => break,
            }
            let Some(Reverse(rec)) = heap.pop() else { break };
            self.released = Some((rec.ts, rec.tie.clone(), rec.pos));
            self.step(spec, &layout, rule, &rec, opts, stats, out);
        }
        if horizon.is_none() {
            // End of input: candidates waiting on trailing missing events can no longer be excluded.
            let mut done: Vec<Partial> = self.keys.iter_mut().flat_map(|(_, k)| k.trailing.drain(..)).collect();
            done.sort_by_key(|p| p.events.first().copied());
            self.pending -= done.len().min(self.pending);
            for p in done {
                self.pipes.feed(0, sequence_alert(rule, &p), out);
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn step(
        &mut self,
        spec: &SequenceSpec,
        layout: &Layout,
        rule: &crate::rule::Rule,
        rec: &Record,
        opts: &StreamOptions,
        stats: &mut Stats,
        out: &mut Vec<Alert>,
    ) {
        let n = layout.positives.len();
        let maxspan = spec.maxspan_ms.map(|m| i64::try_from(m).unwrap_or(i64::MAX).saturating_mul(NANOS_PER_MS));
        let within = |start: Nanos, ts: Nanos| maxspan.is_none_or(|m| ts.saturating_sub(start) <= m);
        let now = rec.ts;

        // Candidates whose trailing missing slots can no longer be filled in time.
        if self.min_deadline.is_some_and(|d| d < now) {
            let mut next = None;
            let mut ready = Vec::new();
            for (_, k) in &mut self.keys {
                k.trailing.retain(|p| {
                    if p.deadline < now {
                        ready.push(p.clone());
                        false
                    } else {
                        next = Some(next.map_or(p.deadline, |d: Nanos| d.min(p.deadline)));
                        true
                    }
                });
            }
            self.min_deadline = next;
            self.pending -= ready.len().min(self.pending);
            ready.sort_by_key(|p| p.events.first().copied());
            for p in ready {
                self.pipes.feed(0, sequence_alert(rule, &p), out);
            }
        }

        // Missing-event stages: an event in a middle gap ends the partial waiting there; an event
        // after a complete candidate decides whether its trailing slot excludes it.
        for (stage, keys) in &rec.stages {
            let stage = *stage as usize;
            if !spec.stages.get(stage).is_some_and(|st| st.missing) {
                continue;
            }
            for k in keys {
                let ks = key_state(&mut self.keys, &mut self.index, k, n);
                for (j, gap) in layout.gaps.iter().enumerate() {
                    if gap.contains(&stage) && ks.slots[j].take().is_some() {
                        self.pending -= 1.min(self.pending);
                    }
                }
                if layout.trailing.contains(&stage) {
                    for p in ks.trailing.drain(..) {
                        self.pending -= 1.min(self.pending);
                        // Excluded when the missing event falls inside the window; otherwise no
                        // later event can fall inside it either.
                        if !within(p.start, now) {
                            self.pipes.feed(0, sequence_alert(rule, &p), out);
                        }
                    }
                }
            }
        }

        // Positive stages, last to first.
        for j in (0..n).rev() {
            let stage = layout.positives[j];
            let Some((_, keys)) = rec.stages.iter().find(|(s, _)| *s as usize == stage) else { continue };
            for k in keys {
                let ks = key_state(&mut self.keys, &mut self.index, k, n);
                let partial = if j == 0 {
                    let lead_ts = ks.leading.map(|(t, _)| t);
                    Some(Partial { events: vec![rec.pos], first_ts: rec.ts, lead_ts, start: rec.ts, deadline: 0 })
                } else {
                    match ks.slots[j - 1].take() {
                        None => None,
                        Some(mut p) => {
                            self.pending -= 1.min(self.pending);
                            if !within(p.first_ts, rec.ts) {
                                stats.expired += 1;
                                None
                            } else {
                                p.events.push(rec.pos);
                                Some(p)
                            }
                        }
                    }
                };
                let Some(mut p) = partial else { continue };
                if j + 1 < n {
                    if ks.slots[j].replace(p).is_none() {
                        self.pending += 1;
                    }
                    continue;
                }
                // Complete. Leading and trailing missing slots exclude it together: only when
                // events exist for both (or for the one there is) within maxspan of each other.
                if layout.leading.is_empty() && layout.trailing.is_empty() {
                    self.pipes.feed(0, sequence_alert(rule, &p), out);
                    continue;
                }
                let lead_ok = layout.leading.is_empty() || p.lead_ts.is_some_and(|l| within(l, rec.ts));
                if !lead_ok {
                    self.pipes.feed(0, sequence_alert(rule, &p), out);
                } else if !layout.trailing.is_empty() {
                    p.start = p.lead_ts.filter(|_| !layout.leading.is_empty()).unwrap_or(p.first_ts);
                    p.deadline = maxspan.map_or(Nanos::MAX, |m| p.start.saturating_add(m));
                    self.min_deadline = Some(self.min_deadline.map_or(p.deadline, |d| d.min(p.deadline)));
                    ks.trailing.push(p);
                    self.pending += 1;
                }
            }
        }

        // `until`: the key's pending partial matches end here. It comes after the positive
        // stages because an event can complete a sequence and be its `until` at the same time
        // (Elasticsearch keeps that match); partials it merely advanced are dropped.
        for k in &rec.until {
            let ks = key_state(&mut self.keys, &mut self.index, k, n);
            let dropped = ks.slots.iter_mut().filter_map(Option::take).count();
            self.pending -= dropped.min(self.pending);
        }

        // Leading missing slots remember the latest matching event (after the positives, so that
        // an event is never its own leading missing event).
        if !layout.leading.is_empty() {
            for (stage, keys) in &rec.stages {
                if layout.leading.contains(&(*stage as usize)) {
                    for k in keys {
                        key_state(&mut self.keys, &mut self.index, k, n).leading = Some((rec.ts, rec.pos));
                    }
                }
            }
        }

        self.since_purge += 1;
        if self.since_purge >= 4096 || self.pending > opts.max_pending {
            self.purge(maxspan, now, opts, stats);
        }
    }

    /// Drops partial matches that can no longer complete in time, then evicts the oldest ones
    /// while over the cap.
    fn purge(&mut self, maxspan: Option<Nanos>, now: Nanos, opts: &StreamOptions, stats: &mut Stats) {
        self.since_purge = 0;
        if let Some(m) = maxspan {
            for (_, ks) in &mut self.keys {
                for s in ks.slots.iter_mut() {
                    if s.as_ref().is_some_and(|p| now.saturating_sub(p.first_ts) > m) {
                        *s = None;
                        stats.expired += 1;
                        self.pending -= 1.min(self.pending);
                    }
                }
                if ks.leading.is_some_and(|(t, _)| now.saturating_sub(t) > m) {
                    ks.leading = None;
                }
            }
        }
        if self.pending > opts.max_pending {
            // Evict the oldest tenth in one go, so that eviction work is amortised.
            let mut starts: Vec<Nanos> =
                self.keys.iter().flat_map(|(_, k)| k.slots.iter().flatten().map(|p| p.first_ts)).collect();
            let excess = self.pending - opts.max_pending + opts.max_pending / 10;
            if excess > 0 && !starts.is_empty() {
                let cut = excess.min(starts.len()) - 1;
                let (_, &mut threshold, _) = starts.select_nth_unstable(cut);
                let mut evicted = 0;
                for (_, ks) in &mut self.keys {
                    for s in ks.slots.iter_mut() {
                        if evicted < excess && s.as_ref().is_some_and(|p| p.first_ts <= threshold) {
                            *s = None;
                            evicted += 1;
                        }
                    }
                }
                stats.evicted += evicted as u64;
                self.pending -= evicted.min(self.pending);
            }
        }
        // Forget keys with nothing pending.
        let before = self.keys.len();
        self.keys.retain(|(_, k)| k.slots.iter().any(Option::is_some) || !k.trailing.is_empty() || k.leading.is_some());
        if self.keys.len() != before {
            self.index = None;
        }
    }
}

fn key_state<'k>(
    keys: &'k mut Vec<(KeyTuple, KeyState)>,
    index: &mut Option<HashMap<KeyTuple, usize>>,
    k: &KeyTuple,
    n: usize,
) -> &'k mut KeyState {
    let index = index.get_or_insert_with(|| keys.iter().enumerate().map(|(i, (k, _))| (k.clone(), i)).collect());
    let i = *index.entry(k.clone()).or_insert_with(|| {
        keys.push((k.clone(), KeyState { slots: vec![None; n], leading: None, trailing: vec![] }));
        keys.len() - 1
    });
    let ks = &mut keys[i].1;
    // A restored state may come from another version of the rule (or another hand).
    ks.slots.resize(n, None);
    ks
}

impl SampleState {
    fn push(
        &mut self,
        spec: &SampleSpec,
        rule: &crate::rule::Rule,
        rec: Record,
        opts: &StreamOptions,
        stats: &mut Stats,
        out: &mut Vec<Alert>,
    ) {
        let n = spec.stages.len();
        let keys_list = &self.keys;
        let index =
            self.index.get_or_insert_with(|| keys_list.iter().enumerate().map(|(i, (k, _))| (k.clone(), i)).collect());
        let done_list = &self.done;
        let done = self.done_set.get_or_insert_with(|| done_list.iter().cloned().collect());
        for (stage, keys) in &rec.stages {
            for k in keys {
                if done.contains(k) {
                    continue;
                }
                let i = *index.entry(k.clone()).or_insert_with(|| {
                    self.keys.push((k.clone(), vec![None; n]));
                    self.keys.len() - 1
                });
                let slots = &mut self.keys[i].1;
                // A restored state may come from another version of the rule (or another hand).
                slots.resize(n, None);
                let Some(slot) = slots.get(*stage as usize).copied() else { continue };
                // One event fills one filter of a sample.
                if slot.is_none() && !slots.contains(&Some(rec.pos)) {
                    slots[*stage as usize] = Some(rec.pos);
                }
                if slots.iter().all(Option::is_some) {
                    let events = slots.iter().flatten().copied().collect();
                    self.keys.swap_remove(i);
                    index.remove(k);
                    if let Some((moved, _)) = self.keys.get(i) {
                        index.insert(moved.clone(), i);
                    }
                    self.done.push(k.clone());
                    done.insert(k.clone());
                    self.pipes.feed(0, Alert::new(rule, events), out);
                }
            }
        }
        // Bounded memory: beyond `max_pending` the oldest partial samples are evicted (and
        // counted), and the oldest completed keys forgotten (such a key could complete again).
        if self.keys.len() > opts.max_pending {
            let excess = (self.keys.len() - opts.max_pending + opts.max_pending / 10).min(self.keys.len());
            self.keys.drain(..excess);
            self.index = None;
            stats.evicted += excess as u64;
        }
        if self.done.len() > opts.max_pending {
            let excess = (self.done.len() - opts.max_pending + opts.max_pending / 10).min(self.done.len());
            self.done.drain(..excess);
            self.done_set = None;
        }
    }
}

/// The whole input at once: pushes every event, then flushes. Convenience for tests and batch use.
pub fn run_all<'a>(
    rs: &RuleSet,
    events: impl IntoIterator<Item = &'a Event<'a>>,
    options: StreamOptions,
) -> (Vec<Alert>, Stats) {
    let mut s = Stream::new(rs, options);
    let mut out = Vec::new();
    for (i, ev) in events.into_iter().enumerate() {
        out.extend(s.push(rs, ev, i as u64));
    }
    out.extend(s.flush(rs));
    let stats = s.stats();
    (out, stats)
}
