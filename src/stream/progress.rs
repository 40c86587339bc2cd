//! "Why did this sequence not fire?": per join key, how far a sequence rule got over a set of
//! events. The events are taken in time order, as the [`Stream`](super::Stream) takes a whole
//! input; per key, one attempt at a time is followed (the earliest that is still alive, as an
//! analyst reads a timeline), and the attempt that got furthest is reported with what stopped it:
//! `maxspan` (by how much), `until`, an event of a missing-event stage, or a `runs` count short.
//! This is an explanation, computed on demand; the alerts themselves come from the stream.

use super::record::{KeyTuple, KeyValue, Record};
use crate::event::Event;
use crate::matcher::query::{SequenceSpec, StageSpec};
use crate::ruleset::{Body, RuleSet};
use crate::time::{Nanos, NANOS_PER_MS};
use crate::value::Value;
use serde::Serialize;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

/// How far a sequence rule got, per join key, over a set of events.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SequenceProgress {
    /// The rule's id.
    pub rule_id: String,
    /// The field the events were ordered by: the rule's `timestamp_override` where an event has
    /// it, else the rule set's timestamp field (named as `a, else b` in that case).
    pub timestamp_field: String,
    /// The join key fields, in order (empty for a sequence without `by`).
    pub key_fields: Vec<String>,
    /// One entry per join key value seen, those that got furthest first.
    pub keys: Vec<KeyProgress>,
    /// Events that matched a stage but had no usable timestamp, so no sequence could use them.
    pub untimed: u64,
}

/// How far one join key got.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct KeyProgress {
    /// The key's values, one per key field.
    pub key: Vec<Value<'static>>,
    /// Whether a complete match was found for this key (the stream would alert).
    pub fired: bool,
    /// The positive stages the furthest attempt filled, in order.
    pub filled: Vec<FilledStage>,
    /// The stage (index in the query) that attempt still needed, if it was not complete.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pending: Option<usize>,
    /// What ended that attempt, if something did (else it was still waiting at the end).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stopped: Option<Stop>,
    /// One sentence for people.
    pub reason: String,
}

/// A stage filled by an event.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FilledStage {
    /// Index of the stage in the query (a `with runs=N` stage appears N times).
    pub stage: usize,
    /// The event's input position.
    pub event: u64,
}

/// What ended an attempt.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Stop {
    /// The event that would have filled the pending stage came after `maxspan`.
    Maxspan {
        /// That event.
        event: u64,
        /// By how much it was too late, in milliseconds.
        exceeded_ms: f64,
    },
    /// An `until` event for the key came first.
    Until {
        /// The `until` event.
        event: u64,
    },
    /// An event of a missing-event stage (`![…]`) fell where it excludes the match.
    Missing {
        /// The missing-event stage.
        stage: usize,
        /// The event.
        event: u64,
    },
    /// A `with runs=N` stage was filled fewer than N times.
    RunsShort {
        /// The stage.
        stage: usize,
        /// Events that filled it.
        seen: u32,
        /// Events it needs.
        needed: u32,
    },
}

/// The progress of sequence rule `rule` over `events` (input position, event); `None` when the
/// rule is not a sequence.
pub fn sequence_progress<'e>(
    rs: &RuleSet,
    rule: usize,
    events: impl IntoIterator<Item = (u64, &'e Event<'e>)>,
) -> Option<SequenceProgress> {
    let r = rs.compiled().get(rule)?;
    let Body::Sequence(spec) = &r.body else { return None };
    let all: Vec<&StageSpec> = spec.stages.iter().chain(spec.until.iter()).collect();
    let mut records = Vec::new();
    let mut untimed = 0;
    for (pos, ev) in events {
        let found: Vec<usize> = rs.matching(ev).into_iter().filter(|&(i, _)| i == rule).map(|(_, s)| s).collect();
        let found = found.into_iter().map(|s| (s, all[s]));
        let Some(mut rec) = Record::of(ev, pos, rs.tiebreaker_field, found, spec.stages.len(), 64) else { continue };
        match super::timestamp(rs, r, ev) {
            Some(ts) => rec.ts = ts,
            None => {
                untimed += 1;
                continue;
            }
        }
        records.push(rec);
    }
    // In time order; the heap (which the reorder buffer instantiates already) costs the npm
    // package less than another sort.
    let mut heap: BinaryHeap<Reverse<Record>> = records.into_iter().map(Reverse).collect();
    let mut per_key: Vec<(KeyTuple, Tracker)> = Vec::new();
    let mut index: HashMap<KeyTuple, usize> = HashMap::new();
    while let Some(Reverse(rec)) = heap.pop() {
        let rec = &rec;
        let mut seen: Vec<&KeyTuple> = Vec::new();
        for k in rec.stages.iter().flat_map(|(_, k)| k).chain(&rec.until) {
            if !seen.contains(&k) {
                seen.push(k);
            }
        }
        for key in seen {
            let i = *index.entry(key.clone()).or_insert_with(|| {
                per_key.push((key.clone(), Tracker::default()));
                per_key.len() - 1
            });
            per_key[i].1.step(spec, rec, key);
        }
    }
    let fields = &rs.fields;
    let done: Vec<KeyProgress> = per_key.into_iter().map(|(k, t)| t.finish(spec, k)).collect();
    // Fired keys first, then by stages filled, most first; keys in first-seen order otherwise.
    let most = done.iter().map(|k| k.filled.len()).max().unwrap_or(0);
    let mut keys = Vec::with_capacity(done.len());
    for fired in [true, false] {
        for len in (0..=most).rev() {
            keys.extend(done.iter().filter(|k| k.fired == fired && k.filled.len() == len).cloned());
        }
    }
    let base = fields.name(rs.timestamp_field).to_string();
    let timestamp_field = match r.timestamp_override {
        Some(f) => format!("{}, else {base}", fields.name(f)),
        None => base,
    };
    let key_fields = spec.stages.first().map(|s| s.keys.iter().map(|k| fields.name(k.field).to_string()).collect());
    Some(SequenceProgress {
        rule_id: r.rule.id.clone(),
        timestamp_field,
        key_fields: key_fields.unwrap_or_default(),
        keys,
        untimed,
    })
}

/// One attempt: the positive slots filled so far, as (input position, time).
#[derive(Clone, Debug, Default)]
struct Attempt {
    filled: Vec<(u64, Nanos)>,
    stop: Option<Stop>,
}

#[derive(Debug, Default)]
struct Tracker {
    cur: Attempt,
    best: Option<Attempt>,
    fired: bool,
}

fn has(keys: &[KeyTuple], key: &KeyTuple) -> bool {
    keys.iter().any(|k| k == key)
}

impl Tracker {
    /// Ends the current attempt, keeping it if it got at least as far as the best so far.
    fn end(&mut self, stop: Option<Stop>) {
        let mut done = std::mem::take(&mut self.cur);
        done.stop = stop;
        if self.best.as_ref().is_none_or(|b| done.filled.len() >= b.filled.len()) && !done.filled.is_empty() {
            self.best = Some(done);
        }
    }

    fn step(&mut self, spec: &SequenceSpec, rec: &Record, key: &KeyTuple) {
        if self.fired {
            return;
        }
        let layout = &spec.layout;
        let n = layout.positives.len();
        let maxspan = spec.maxspan_ms.map(|m| i64::try_from(m).unwrap_or(i64::MAX).saturating_mul(NANOS_PER_MS));
        let over = |start: Nanos| maxspan.and_then(|m| (rec.ts.saturating_sub(start) > m).then(|| rec.ts - start - m));
        let matches = |stage: usize| rec.stages.iter().any(|(s, k)| *s as usize == stage && has(k, key));
        let ms = |ns: i64| ns as f64 / NANOS_PER_MS as f64;
        let start = self.cur.filled.first().map(|f| f.1);
        if let Some(start) = start {
            if self.cur.filled.len() == n {
                // Complete: waiting only for the trailing missing stages' window to pass.
                if over(start).is_some() {
                    self.fired = true;
                    return;
                }
                if let Some(&m) = layout.trailing.iter().find(|&&m| matches(m)) {
                    self.end(Some(Stop::Missing { stage: m, event: rec.pos }));
                }
            } else if has(&rec.until, key) {
                self.end(Some(Stop::Until { event: rec.pos }));
                return;
            } else if let Some(&m) = layout.gaps[self.cur.filled.len() - 1].iter().find(|&&m| matches(m)) {
                self.end(Some(Stop::Missing { stage: m, event: rec.pos }));
            } else if matches(layout.positives[self.cur.filled.len()]) {
                match over(start) {
                    Some(by) => self.end(Some(Stop::Maxspan { event: rec.pos, exceeded_ms: ms(by) })),
                    None => {
                        self.cur.filled.push((rec.pos, rec.ts));
                        if self.cur.filled.len() == n && layout.trailing.is_empty() {
                            self.fired = true;
                        }
                        return;
                    }
                }
            } else if let Some(by) = over(start).filter(|_| matches(layout.positives[0])) {
                // The attempt can no longer complete, and this event could start a new one.
                self.end(Some(Stop::Maxspan { event: rec.pos, exceeded_ms: ms(by) }));
            }
        }
        if self.cur.filled.is_empty() && matches(layout.positives[0]) {
            self.cur.filled.push((rec.pos, rec.ts));
            if n == 1 && layout.trailing.is_empty() {
                self.fired = true;
            }
        }
    }

    fn finish(mut self, spec: &SequenceSpec, key: KeyTuple) -> KeyProgress {
        let layout = &spec.layout;
        let complete = self.cur.filled.len() == layout.positives.len();
        // A complete attempt waiting on trailing missing stages at the end of the input fires.
        self.fired |= complete && !self.cur.filled.is_empty();
        let best = if self.fired { self.cur.clone() } else { self.end_and_best() };
        let filled: Vec<FilledStage> = best
            .filled
            .iter()
            .enumerate()
            .map(|(j, &(event, _))| FilledStage { stage: layout.positives[j], event })
            .collect();
        let pending = (!self.fired).then(|| layout.positives.get(filled.len()).copied()).flatten();
        let mut stop = best.stop.clone();
        if let (None, Some(p)) = (&stop, pending) {
            let needed = spec.stages[p].runs;
            let seen = filled.iter().filter(|f| f.stage == p).count() as u32;
            if needed > 1 && seen > 0 {
                stop = Some(Stop::RunsShort { stage: p, seen, needed });
            }
        }
        let reason = describe(self.fired, &filled, pending, stop.as_ref());
        KeyProgress { key: key.iter().map(value).collect(), fired: self.fired, filled, pending, stopped: stop, reason }
    }

    fn end_and_best(&mut self) -> Attempt {
        self.end(None);
        self.best.take().unwrap_or_default()
    }
}

fn describe(fired: bool, filled: &[FilledStage], pending: Option<usize>, stop: Option<&Stop>) -> String {
    if fired {
        return "the sequence completed".into();
    }
    let got = match (filled.len(), pending) {
        (0, _) => "no stage filled".to_string(),
        (_, None) => "every stage filled".to_string(),
        (1, _) => "1 stage filled".to_string(),
        (k, _) => format!("{k} stages filled"),
    };
    let next = pending.map_or(String::new(), |p| format!(" stage {p}"));
    match stop {
        None => format!("{got}; no event came for{next}"),
        Some(Stop::Maxspan { event, exceeded_ms }) => {
            format!("{got}; event {event} would fill{next} but exceeds maxspan by {exceeded_ms} ms")
        }
        Some(Stop::Until { event }) => format!("{got}; event {event} matched `until` before{next}"),
        Some(Stop::Missing { stage, event }) => {
            format!("{got}; event {event} matched missing-event stage {stage} where it excludes the match")
        }
        Some(Stop::RunsShort { stage, seen, needed }) => {
            format!("{got}; stage {stage} needs {needed} runs and {seen} came")
        }
    }
}

fn value(k: &KeyValue) -> Value<'static> {
    match k {
        KeyValue::Null => Value::Null,
        KeyValue::Bool(b) => Value::Bool(*b),
        KeyValue::Int(i) => Value::Int(*i),
        KeyValue::Float(bits) => Value::Float(f64::from_bits(*bits)),
        KeyValue::Str(s) => Value::Str(s.to_string().into()),
    }
}
