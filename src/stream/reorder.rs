//! The reorder buffer of one sequence rule: events may arrive out of time order by up to the
//! stream's lateness; they wait here, in a min-heap by (time, tiebreaker, input position), until
//! the newest time seen has moved past them by that much. An event older than the last one
//! released is late: it is refused rather than joined out of order.

use super::record::{Order, Record};
use crate::time::{Nanos, NANOS_PER_MS};
use serde::{Deserialize, Serialize};
use std::cmp::Reverse;
use std::collections::BinaryHeap;

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(crate) struct Reorder {
    /// The held records, in serialisable form (see [`Reorder::park`]).
    buffer: Vec<Record>,
    newest: Option<Nanos>,
    /// The last record handed on, for lateness checks.
    released: Option<Order>,
    #[serde(skip)]
    heap: Option<BinaryHeap<Reverse<Record>>>,
}

impl Reorder {
    fn heap(&mut self) -> &mut BinaryHeap<Reverse<Record>> {
        let buffer = &mut self.buffer;
        self.heap.get_or_insert_with(|| buffer.drain(..).map(Reverse).collect())
    }

    /// Records held now.
    pub(crate) fn len(&self) -> usize {
        self.buffer.len() + self.heap.as_ref().map_or(0, BinaryHeap::len)
    }

    /// Takes a timed record in; `false` when it is late (older than what was already released).
    pub(crate) fn admit(&mut self, rec: Record) -> bool {
        self.newest = Some(self.newest.map_or(rec.ts, |n| n.max(rec.ts)));
        if let Some(rel) = &self.released {
            if rec.order() < (rel.0, &rel.1, rel.2) {
                return false;
            }
        }
        self.heap().push(Reverse(rec));
        true
    }

    /// The time up to which held records can be released: the newest time minus the lateness.
    pub(crate) fn horizon(&self, lateness_ms: u64) -> Option<Nanos> {
        let lateness = i64::try_from(lateness_ms).unwrap_or(i64::MAX).saturating_mul(NANOS_PER_MS);
        self.newest.map(|n| n.saturating_sub(lateness))
    }

    /// The oldest held record if it is at or before `horizon` (any record when `None`).
    pub(crate) fn next_ready(&mut self, horizon: Option<Nanos>) -> Option<Record> {
        match self.heap().peek() {
            Some(Reverse(r)) if horizon.is_none_or(|h| r.ts <= h) => self.release(),
            _ => None,
        }
    }

    /// The oldest held record while more than `max` are held: memory stays bounded whatever the
    /// timestamps (events older than it become late).
    pub(crate) fn next_over(&mut self, max: usize) -> Option<Record> {
        if self.heap().len() > max {
            self.release()
        } else {
            None
        }
    }

    fn release(&mut self) -> Option<Record> {
        let Reverse(rec) = self.heap().pop()?;
        self.released = Some(rec.owned_order());
        Some(rec)
    }

    /// Moves the heap back into its serialisable form.
    pub(crate) fn park(&mut self) {
        if let Some(h) = self.heap.take() {
            self.buffer.extend(h.into_iter().map(|Reverse(r)| r));
        }
    }
}
