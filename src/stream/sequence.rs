//! The state machine of one sequence rule. Per join key there is one pending partial match per
//! positive slot, a newer one replacing the older; an event advances at most one partial per slot
//! (slots are tried last to first, so one event never fills two slots of one match). `maxspan`
//! bounds the time from the first to the last event; `until` drops the key's partials; a candidate
//! with missing-event slots (`![…]`) is dropped when events exist for every missing slot such that
//! the whole sequence, missing events included, still fits in maxspan (which is how Elasticsearch
//! decides it). Records come in time order from the rule's [`Reorder`] buffer.

use super::pipes::Pipes;
use super::record::{KeyTuple, Record};
use super::reorder::Reorder;
use super::{Stats, StreamOptions};
use crate::alert::Alert;
use crate::matcher::query::SequenceSpec;
use crate::rule::Rule;
use crate::time::{Nanos, NANOS_PER_MS};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// What one step of a sequence rule works with: the rule, the stream's options, its counters and
/// where completed alerts go.
pub(crate) struct Ctx<'a> {
    pub spec: &'a SequenceSpec,
    pub rule: &'a Rule,
    pub opts: &'a StreamOptions,
    pub stats: &'a mut Stats,
    pub out: &'a mut Vec<Alert>,
}

/// A partial sequence match.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Partial {
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
pub(crate) struct KeyState {
    /// `slots[j]`: the partial that has matched positive stages `0..=j`.
    slots: Vec<Option<Partial>>,
    /// The latest event matching a leading missing slot: (ts, pos).
    leading: Option<(Nanos, u64)>,
    /// Complete candidates waiting to see whether their trailing missing slots get filled.
    trailing: Vec<Partial>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(crate) struct SequenceState {
    /// Events waiting for their turn in time order.
    pub reorder: Reorder,
    keys: Vec<(KeyTuple, KeyState)>,
    /// Partial matches (and complete candidates waiting on trailing missing slots) held now.
    pub pending: usize,
    min_deadline: Option<Nanos>,
    since_purge: u32,
    pub pipes: Pipes,
    #[serde(skip)]
    index: Option<HashMap<KeyTuple, usize>>,
}

impl SequenceState {
    pub(crate) fn new(spec: &SequenceSpec) -> SequenceState {
        SequenceState { pipes: Pipes::new(&spec.pipes), ..SequenceState::default() }
    }

    /// The input positions the state holds: records waiting for their turn, partial matches,
    /// leading missing-slot events, and what the pipes hold back.
    pub(crate) fn positions(&self, f: &mut dyn FnMut(u64)) {
        self.reorder.positions(f);
        for (_, k) in &self.keys {
            for p in k.slots.iter().flatten().chain(&k.trailing) {
                p.events.iter().for_each(|&e| f(e));
            }
            if let Some((_, pos)) = k.leading {
                f(pos);
            }
        }
        self.pipes.positions(f);
    }

    /// Takes in a timed record of an event, then hands the records whose turn has come to the
    /// state machine. `false` when the record is late and was kept out.
    pub(crate) fn push(&mut self, rec: Record, cx: &mut Ctx) -> bool {
        if !self.reorder.admit(rec) {
            return false;
        }
        // A whole input is ordered completely: nothing is released before the end, and what does
        // not fit in memory goes to disk.
        if cx.opts.whole_input && self.reorder.spill_over(cx.opts.sort_memory) {
            return true;
        }
        if !cx.opts.whole_input {
            let horizon = self.reorder.horizon(cx.opts.lateness_ms);
            while let Some(r) = self.reorder.next_ready(horizon) {
                self.step(&r, cx);
            }
        }
        let max = if cx.opts.whole_input { cx.opts.sort_memory } else { cx.opts.max_pending };
        while let Some(r) = self.reorder.next_over(max) {
            self.step(&r, cx);
        }
        true
    }

    /// End of input: every held record, then the candidates waiting on trailing missing events
    /// (which can no longer be excluded), then the `tail` pipes.
    pub(crate) fn flush(&mut self, cx: &mut Ctx) {
        while let Some(r) = self.reorder.next_ready(None) {
            self.step(&r, cx);
        }
        cx.stats.spilled += self.reorder.spilled();
        cx.stats.late += self.reorder.take_lost();
        let mut done: Vec<Partial> = self.keys.iter_mut().flat_map(|(_, k)| k.trailing.drain(..)).collect();
        done.sort_by_key(|p| (p.first_ts, p.events.first().copied()));
        self.pending -= done.len().min(self.pending);
        for p in done {
            self.pipes.feed(0, Alert::new(cx.rule, p.events), cx.out);
        }
        self.pipes.flush(cx.out);
    }

    /// Moves runtime-only structures back into their serialisable form.
    pub(crate) fn park(&mut self) {
        self.reorder.park();
        self.index = None;
    }

    fn step(&mut self, rec: &Record, cx: &mut Ctx) {
        let (spec, layout) = (cx.spec, &cx.spec.layout);
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
            ready.sort_by_key(|p| (p.first_ts, p.events.first().copied()));
            for p in ready {
                self.pipes.feed(0, Alert::new(cx.rule, p.events.clone()), cx.out);
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
                            self.pipes.feed(0, Alert::new(cx.rule, p.events.clone()), cx.out);
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
                                cx.stats.expired += 1;
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
                    self.pipes.feed(0, Alert::new(cx.rule, p.events.clone()), cx.out);
                    continue;
                }
                let lead_ok = layout.leading.is_empty() || p.lead_ts.is_some_and(|l| within(l, rec.ts));
                if !lead_ok {
                    self.pipes.feed(0, Alert::new(cx.rule, p.events.clone()), cx.out);
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

        self.since_purge = self.since_purge.saturating_add(1);
        if self.since_purge >= 4096 || self.pending > cx.opts.max_pending {
            self.purge(maxspan, now, cx);
        }
    }

    /// Drops partial matches that can no longer complete in time, then evicts the oldest ones
    /// while over the cap.
    fn purge(&mut self, maxspan: Option<Nanos>, now: Nanos, cx: &mut Ctx) {
        let opts = cx.opts;
        self.since_purge = 0;
        if let Some(m) = maxspan {
            for (_, ks) in &mut self.keys {
                for s in ks.slots.iter_mut() {
                    if s.as_ref().is_some_and(|p| now.saturating_sub(p.first_ts) > m) {
                        *s = None;
                        cx.stats.expired += 1;
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
                cx.stats.evicted += evicted as u64;
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
