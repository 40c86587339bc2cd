//! What one event means to one sequence or sample rule: its time and tiebreaker, its input
//! position, and the join-key tuples of every stage (and `until`) it matches. Records are what the
//! reorder buffer holds and the state machines consume.

use crate::event::{Event, FieldId};
use crate::matcher::query::{Key, StageSpec};
use crate::time::Nanos;
use crate::value::Value;
use serde::{Deserialize, Serialize};

/// One value of a join key. Floats are compared by bit pattern, after normalising `-0.0`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub(crate) enum KeyValue {
    Null,
    Bool(bool),
    Int(i64),
    Float(u64),
    Str(Box<str>),
}

impl KeyValue {
    pub(crate) fn of(v: &Value) -> KeyValue {
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

pub(crate) type KeyTuple = Vec<KeyValue>;

/// An event as one sequence or sample rule sees it, kept until it is its turn.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Record {
    pub ts: Nanos,
    pub tie: Option<KeyValue>,
    pub pos: u64,
    /// (stage index, join keys) for every stage the event matches.
    pub stages: Vec<(u32, Vec<KeyTuple>)>,
    pub until: Vec<KeyTuple>,
}

/// Where a record stands in time order: timestamp, tiebreaker, input position.
pub(crate) type Order = (Nanos, Option<KeyValue>, u64);

impl Record {
    pub(crate) fn order(&self) -> (Nanos, &Option<KeyValue>, u64) {
        (self.ts, &self.tie, self.pos)
    }

    pub(crate) fn owned_order(&self) -> Order {
        (self.ts, self.tie.clone(), self.pos)
    }

    /// An event's place in time order alone, without join keys (an event rule's match).
    pub(crate) fn bare(ev: &Event, pos: u64, tiebreaker: Option<FieldId>, ts: Nanos) -> Record {
        let tie = tiebreaker.and_then(|f| ev.get(f).first().map(KeyValue::of));
        Record { ts, tie, pos, stages: vec![], until: vec![] }
    }

    /// The record of an event for the stages it matched (`until` is stage `until_index`), or `None`
    /// when none of them gives a join key. Its time is filled in by the caller.
    pub(crate) fn of<'s>(
        ev: &Event,
        pos: u64,
        tiebreaker: Option<FieldId>,
        matched: impl Iterator<Item = (usize, &'s StageSpec)>,
        until_index: usize,
        max_keys: usize,
    ) -> Option<Record> {
        let mut rec = Record::bare(ev, pos, tiebreaker, 0);
        for (i, st) in matched {
            let keys = key_tuples(ev, &st.keys, max_keys);
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

/// The join-key tuples of an event for a stage: every combination of the key fields' values, at
/// most `max` of them.
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
