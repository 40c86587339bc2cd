//! The streaming engine: push events one at a time, get alerts back. Single-event rules answer at
//! once; sequences and samples keep a bounded amount of state.
//!
//! Each event goes through the rule set's prefilter once, for every rule and every stage; what it
//! matches is dispatched to the rules' state: [`pipes`] for event rules, a [`reorder`] buffer and
//! the [`sequence`] state machine for sequences (events taken in time order: the rule's timestamp
//! field, ties broken by the tiebreaker, then input order), the [`sample`] state machine for
//! samples. [`record`] is what one event means to one such rule; [`progress`] explains, per join
//! key, how far a sequence got over a set of events.
//!
//! Out-of-order input is re-ordered within `lateness`; an event older than that is counted as
//! late and kept out of sequences rather than joined out of order.

mod pipes;
mod progress;
mod record;
mod reorder;
mod sample;
mod sequence;
mod snapshot;

use crate::alert::Alert;
use crate::event::Event;
use crate::matcher::eval::Scratch;
use crate::matcher::query::StageSpec;
use crate::ruleset::{Body, CompiledRule, RuleSet};
use crate::time::{self, Nanos};
use pipes::Pipes;
pub use progress::{sequence_progress, FilledStage, KeyProgress, SequenceProgress, Stop};
use record::Record;
use reorder::Reorder;
use sample::SampleState;
use sequence::{Ctx, SequenceState};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

#[cfg(feature = "internals")]
pub(crate) use snapshot::frame;
pub use snapshot::{Restored, SNAPSHOT_VERSION};

/// How a stream orders events and bounds its state.
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
    /// The input is complete (a file, not a stream): sequences, and event rules' `head`/`tail`,
    /// see every event in time order, whatever the input order, as Elasticsearch would for the
    /// file as an index. Nothing is released to them before [`Stream::flush`], so their alerts
    /// all come then (other single-event alerts at once); `lateness_ms` does not apply. Sorted runs beyond `sort_memory` go to temporary files (feature `spill`, on by
    /// default; without it, or when writing fails, the oldest records are taken in early and
    /// older ones counted as late). A saved stream does not carry the runs.
    #[serde(default)]
    pub whole_input: bool,
    /// With `whole_input`: most records (an event as one sequence rule sees it: time, position and
    /// join keys) held in memory per rule before they go to disk as a sorted run.
    #[serde(default = "default_sort_memory")]
    pub sort_memory: usize,
}

fn default_sort_memory() -> usize {
    StreamOptions::default().sort_memory
}

impl Default for StreamOptions {
    fn default() -> StreamOptions {
        StreamOptions {
            lateness_ms: 0,
            max_pending: 100_000,
            max_keys_per_event: 64,
            whole_input: false,
            sort_memory: 1_000_000,
        }
    }
}

/// Counters a caller should surface: what the engine had to drop and why.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    /// Events pushed.
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
    /// Records of a whole input that were sorted on disk rather than in memory.
    #[serde(default)]
    pub spilled: u64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
enum RuleState {
    Event(Box<EventRule>),
    Sequence(Box<SequenceState>),
    Sample(SampleState),
}

/// Streaming evaluation of a [`RuleSet`]: push events one at a time (in any order within the
/// lateness window), get the alerts each completes; `flush` at the end of the input.
///
/// ```
/// use eqlite::{RuleSet, Stream, StreamOptions};
///
/// let mut rules = RuleSet::default();
/// rules.add_query("r", "sequence by host.id with maxspan=1m [process where true] [network where true]")?;
/// let mut stream = Stream::new(&rules, StreamOptions { lateness_ms: 5_000, ..StreamOptions::default() });
/// let events = [
///     r#"{"@timestamp": "2026-12-01T10:00:02Z", "event": {"category": "network"}, "host": {"id": "h1"}}"#,
///     r#"{"@timestamp": "2026-12-01T10:00:01Z", "event": {"category": "process"}, "host": {"id": "h1"}}"#,
/// ];
/// let mut alerts = Vec::new();
/// for (pos, text) in events.iter().enumerate() {
///     alerts.extend(stream.push(&rules, &rules.read_json(text)?, pos as u64));
/// }
/// alerts.extend(stream.flush(&rules));
/// // The network event arrived first but happened second: the sequence is (1, 0).
/// assert_eq!(alerts[0].events, [1, 0]);
/// # Ok::<(), eqlite::Error>(())
/// ```
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Stream {
    options: StreamOptions,
    /// Per rule, by rule id (so that state survives rules being added or removed).
    rules: Vec<(String, RuleState)>,
    stats: Stats,
    #[serde(skip)]
    scratch: ScratchCell,
    /// The revision of the rule set `rules` was last aligned with (see [`Stream::sync`]).
    #[serde(skip)]
    synced: Option<u64>,
    /// One past the highest input position pushed.
    #[serde(default)]
    next_pos: u64,
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

/// An event rule's state: its pipes, and for a whole input its matches waiting to be put in
/// time order for them (`head`/`tail` take Elasticsearch's first or last events by time).
#[derive(Clone, Debug, Serialize, Deserialize)]
struct EventRule {
    pipes: Pipes,
    #[serde(default)]
    order: Reorder,
}

/// Whether a state (restored, perhaps of another version of the rule) is of the rule's kind.
fn fits(st: &RuleState, r: &CompiledRule) -> bool {
    matches!(
        (st, &r.body),
        (RuleState::Event(_), Body::Event(_))
            | (RuleState::Sequence(_), Body::Sequence(_))
            | (RuleState::Sample(_), Body::Sample(_))
    )
}

/// Partial matches (and events held for ordering) a rule's state holds.
fn pending_of(st: &RuleState) -> u64 {
    match st {
        RuleState::Sequence(s) => (s.pending + s.reorder.len()) as u64,
        RuleState::Sample(s) => s.pending() as u64,
        RuleState::Event(e) => e.order.len() as u64,
    }
}

fn fresh_state(r: &CompiledRule) -> RuleState {
    match &r.body {
        Body::Event(_) => {
            RuleState::Event(Box::new(EventRule { pipes: Pipes::new(&r.query.pipes), order: Reorder::default() }))
        }
        Body::Sequence(s) => RuleState::Sequence(Box::new(SequenceState::new(s))),
        Body::Sample(s) => RuleState::Sample(SampleState::new(s)),
    }
}

impl Stream {
    /// A stream with no state yet for the rules of `rs`.
    pub fn new(rs: &RuleSet, options: StreamOptions) -> Stream {
        let mut s = Stream {
            options,
            rules: vec![],
            stats: Stats::default(),
            scratch: ScratchCell::default(),
            synced: None,
            next_pos: 0,
        };
        s.sync(rs);
        s
    }

    /// The counters so far, with the partial matches held now.
    pub fn stats(&self) -> Stats {
        let mut st = self.stats.clone();
        st.pending = self.rules.iter().map(|(_, r)| pending_of(r)).sum();
        st
    }

    /// Aligns the per-rule state with the rule set (rules added, removed or reordered).
    fn sync(&mut self, rs: &RuleSet) {
        if self.synced == Some(rs.revision()) {
            return;
        }
        self.synced = Some(rs.revision());
        // The kind must match too: a restored state may be of another version of the rule.
        let same = self.rules.len() == rs.len()
            && self.rules.iter().zip(rs.compiled()).all(|((id, st), r)| *id == r.rule.id && fits(st, r));
        if same {
            return;
        }
        let mut old: HashMap<String, RuleState> = self.rules.drain(..).collect();
        self.rules = rs
            .compiled()
            .iter()
            .map(|r| {
                let st = old.remove(&r.rule.id).filter(|st| fits(st, r)).unwrap_or_else(|| fresh_state(r));
                (r.rule.id.clone(), st)
            })
            .collect();
    }

    /// Serialises the whole state (pending partial matches, buffers, counters) as JSON.
    pub fn save(&mut self) -> String {
        self.park();
        serde_json::to_string(self).expect("stream state serialises")
    }

    /// Moves runtime-only structures (heaps, indexes) back into their serialisable form.
    fn park(&mut self) {
        for (_, r) in &mut self.rules {
            match r {
                RuleState::Sequence(s) => s.park(),
                RuleState::Event(e) => e.order.park(),
                RuleState::Sample(_) => {}
            }
        }
    }

    /// One past the highest input position pushed so far (restored with a snapshot): where a
    /// restarted input numbers on from.
    pub fn next_position(&self) -> u64 {
        self.next_pos
    }

    /// A stream from [`Stream::save`]'s output; its rules are matched to a rule set by id on the
    /// next push.
    pub fn restore(json: &str) -> Result<Stream, serde_json::Error> {
        serde_json::from_str(json)
    }

    /// Calls `f` with every input position the stream's state still holds (pending sequence
    /// and sample matches, events waiting to be ordered, alerts a `tail` pipe holds back, in no
    /// particular order, possibly more than once): the events a later alert can name. A caller
    /// that keeps events for its alerts can let go of the others.
    pub fn held_positions(&self, mut f: impl FnMut(u64)) {
        for (_, st) in &self.rules {
            match st {
                RuleState::Event(p) => {
                    p.order.positions(&mut f);
                    p.pipes.positions(&mut f);
                }
                RuleState::Sequence(s) => s.positions(&mut f),
                RuleState::Sample(s) => s.positions(&mut f),
            }
        }
    }

    /// Feeds one event (its 0-based input position `pos`); returns the alerts it completes.
    pub fn push(&mut self, rs: &RuleSet, ev: &Event, pos: u64) -> Vec<Alert> {
        self.push_at(rs, ev, pos, None)
    }

    /// As [`Stream::push`], with a time to use when the event carries none (e.g. the time a log
    /// shipper attached to the record), in nanoseconds since the Unix epoch.
    pub fn push_at(&mut self, rs: &RuleSet, ev: &Event, pos: u64, fallback: Option<Nanos>) -> Vec<Alert> {
        let matched = rs.matching_with(ev, &mut self.scratch.0);
        self.push_matched(rs, ev, pos, fallback, &matched)
    }

    /// As [`Stream::push_at`], with what [`RuleSet::matching`] gives for the event computed
    /// beforehand: matching, the costly part, may then run on other threads for many events
    /// while the stream takes them in input order, with the same alerts in the same order.
    pub fn push_matched(
        &mut self,
        rs: &RuleSet,
        ev: &Event,
        pos: u64,
        fallback: Option<Nanos>,
        matched: &[(usize, usize)],
    ) -> Vec<Alert> {
        self.sync(rs);
        self.stats.events = self.stats.events.saturating_add(1);
        self.next_pos = self.next_pos.max(pos.saturating_add(1));
        let mut out = Vec::new();
        let (mut late, mut untimed) = (false, false);
        // Single-event rules answer first, then sequences and samples, each in rule order.
        for &(i, _) in matched {
            if let RuleState::Event(e) = &mut self.rules[i].1 {
                let r = &rs.compiled()[i];
                // `head` and `tail` of a whole input take its events in time order, as
                // Elasticsearch does; without them an alert goes out as its event is read.
                if !self.options.whole_input || e.pipes.is_empty() {
                    e.pipes.feed(0, Alert::new(&r.rule, vec![pos]), &mut out);
                    continue;
                }
                // Untimed events sort last, as Elasticsearch sorts documents missing the field.
                let ts = timestamp(rs, r, ev).or(fallback).unwrap_or(Nanos::MAX);
                e.order.admit(Record::bare(ev, pos, rs.tiebreaker_field, ts));
                let max = self.options.sort_memory;
                if !e.order.spill_over(max) {
                    while let Some(rec) = e.order.next_over(max) {
                        e.pipes.feed(0, Alert::new(&r.rule, vec![rec.pos]), &mut out);
                    }
                }
            }
        }
        for group in matched.chunk_by(|a, b| a.0 == b.0) {
            let i = group[0].0;
            let r = &rs.compiled()[i];
            let stages = group.iter().map(|&(_, s)| s);
            let max_keys = self.options.max_keys_per_event;
            match (&r.body, &mut self.rules[i].1) {
                (Body::Sequence(spec), RuleState::Sequence(st)) if !st.pipes.done() => {
                    let all: Vec<&StageSpec> = spec.stages.iter().chain(spec.until.iter()).collect();
                    let found = stages.map(|s| (s, all[s]));
                    let Some(mut rec) = Record::of(ev, pos, rs.tiebreaker_field, found, spec.stages.len(), max_keys)
                    else {
                        continue;
                    };
                    // Only events that matter to the rule need a timestamp.
                    let Some(ts) = timestamp(rs, r, ev).or(fallback) else {
                        untimed = true;
                        continue;
                    };
                    rec.ts = ts;
                    let cx =
                        &mut Ctx { spec, rule: &r.rule, opts: &self.options, stats: &mut self.stats, out: &mut out };
                    late |= !st.push(rec, cx);
                }
                (Body::Sample(spec), RuleState::Sample(st)) if !st.pipes.done() => {
                    let found = stages.map(|s| (s, &spec.stages[s]));
                    if let Some(rec) = Record::of(ev, pos, rs.tiebreaker_field, found, spec.stages.len(), max_keys) {
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
        for (i, r) in rs.compiled().iter().enumerate() {
            match (&r.body, &mut self.rules[i].1) {
                (Body::Sequence(spec), RuleState::Sequence(st)) => {
                    st.flush(&mut Ctx {
                        spec,
                        rule: &r.rule,
                        opts: &self.options,
                        stats: &mut self.stats,
                        out: &mut out,
                    });
                }
                (_, RuleState::Event(e)) => {
                    while let Some(rec) = e.order.next_ready(None) {
                        e.pipes.feed(0, Alert::new(&r.rule, vec![rec.pos]), &mut out);
                    }
                    self.stats.spilled += e.order.spilled();
                    self.stats.late += e.order.take_lost();
                    e.pipes.flush(&mut out);
                }
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
