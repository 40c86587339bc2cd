//! The reorder buffer of one sequence rule: events may arrive out of time order by up to the
//! stream's lateness; they wait here, in a min-heap by (time, tiebreaker, input position), until
//! the newest time seen has moved past them by that much. An event older than the last one
//! released is late: it is refused rather than joined out of order.
//!
//! For a whole input ([`StreamOptions::whole_input`](super::StreamOptions)) nothing is released
//! before the end: the buffer is an external sort. When it holds more than `sort_memory` records,
//! they go, sorted, to a run in a temporary file; at the end the runs and what is left in memory
//! are merged. Memory stays at `sort_memory` records per rule plus one per run.

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
    /// Sorted runs on disk (whole inputs only; a saved stream does not carry them).
    #[serde(skip)]
    runs: spill::Runs,
}

impl Reorder {
    fn heap(&mut self) -> &mut BinaryHeap<Reverse<Record>> {
        let buffer = &mut self.buffer;
        self.heap.get_or_insert_with(|| buffer.drain(..).map(Reverse).collect())
    }

    /// The input positions of the records held in memory (not those in runs on disk).
    pub(crate) fn positions(&self, f: &mut dyn FnMut(u64)) {
        self.buffer.iter().for_each(|r| f(r.pos));
        self.heap.iter().flatten().for_each(|r| f(r.0.pos));
    }

    /// Records held now in memory.
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

    /// The oldest held record if it is at or before `horizon` (any record when `None`, the runs
    /// on disk included).
    pub(crate) fn next_ready(&mut self, horizon: Option<Nanos>) -> Option<Record> {
        if horizon.is_none() && !self.runs.is_empty() {
            let rec = self.runs.next_merged(self.heap.get_or_insert_with(BinaryHeap::new))?;
            self.released = Some(rec.owned_order());
            return Some(rec);
        }
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

    /// When more than `max` records are held, writes them as a sorted run to a temporary file;
    /// `false` when that is not possible here (no file system, or it failed): the caller then
    /// bounds memory as a stream does.
    pub(crate) fn spill_over(&mut self, max: usize) -> bool {
        if self.heap().len() <= max {
            return true;
        }
        let held = std::mem::take(self.heap());
        // Ascending `Reverse` order is descending time order.
        let mut sorted: Vec<Record> = held.into_sorted_vec().into_iter().map(|Reverse(r)| r).collect();
        sorted.reverse();
        match self.runs.write(&sorted) {
            Ok(()) => true,
            Err(()) => {
                *self.heap() = sorted.into_iter().map(Reverse).collect();
                false
            }
        }
    }

    /// Records written to runs on disk so far.
    pub(crate) fn spilled(&self) -> u64 {
        self.runs.written
    }

    /// Records that were on disk and could not be read back (counted as late by the caller).
    pub(crate) fn take_lost(&mut self) -> u64 {
        std::mem::take(&mut self.runs.lost)
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

#[cfg(feature = "spill")]
mod spill {
    use super::Record;
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;
    use std::fs::File;
    use std::io::{BufRead, BufReader, BufWriter, Seek, Write};

    /// Sorted runs in anonymous temporary files (removed by the OS when closed), one JSON record
    /// a line, merged by a heap of their first unread records.
    #[derive(Debug, Default)]
    pub(super) struct Runs {
        runs: Vec<Run>,
        /// The next record of every run still open, with the run's index.
        heads: Option<BinaryHeap<Reverse<(Record, usize)>>>,
        pub written: u64,
        pub lost: u64,
    }

    #[derive(Debug)]
    struct Run {
        reader: BufReader<File>,
        /// Records not read back yet.
        left: u64,
    }

    impl Clone for Runs {
        /// A copy of a stream starts without the original's files.
        fn clone(&self) -> Runs {
            Runs::default()
        }
    }

    impl Runs {
        pub fn is_empty(&self) -> bool {
            self.runs.is_empty()
        }

        pub fn write(&mut self, sorted: &[Record]) -> Result<(), ()> {
            let file = tempfile::tempfile().map_err(drop)?;
            let mut w = BufWriter::new(file);
            for r in sorted {
                serde_json::to_writer(&mut w, r).map_err(drop)?;
                w.write_all(b"\n").map_err(drop)?;
            }
            let mut file = w.into_inner().map_err(drop)?;
            file.rewind().map_err(drop)?;
            self.runs.push(Run { reader: BufReader::new(file), left: sorted.len() as u64 });
            self.written += sorted.len() as u64;
            Ok(())
        }

        fn read(&mut self, i: usize) -> Option<Record> {
            let run = &mut self.runs[i];
            if run.left == 0 {
                return None;
            }
            let mut line = String::new();
            let rec = run.reader.read_line(&mut line).ok().and_then(|_| serde_json::from_str(&line).ok());
            match rec {
                Some(r) => {
                    run.left -= 1;
                    Some(r)
                }
                None => {
                    self.lost += std::mem::take(&mut run.left);
                    None
                }
            }
        }

        /// The oldest record of the runs and `memory` together.
        pub fn next_merged(&mut self, memory: &mut BinaryHeap<Reverse<Record>>) -> Option<Record> {
            if self.heads.is_none() {
                let heads = (0..self.runs.len()).filter_map(|i| self.read(i).map(|r| Reverse((r, i)))).collect();
                self.heads = Some(heads);
            }
            let heads = self.heads.as_mut()?;
            let disk_first = match (heads.peek(), memory.peek()) {
                (Some(Reverse((d, _))), Some(Reverse(m))) => d < m,
                (Some(_), None) => true,
                (None, _) => false,
            };
            if !disk_first {
                return memory.pop().map(|Reverse(r)| r);
            }
            let Reverse((rec, i)) = heads.pop()?;
            if let Some(next) = self.read(i) {
                self.heads.as_mut()?.push(Reverse((next, i)));
            }
            Some(rec)
        }
    }
}

/// Without a file system the buffer stays in memory (see [`Reorder::spill_over`]).
#[cfg(not(feature = "spill"))]
mod spill {
    use super::Record;
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;

    #[derive(Clone, Debug, Default)]
    pub(super) struct Runs {
        pub written: u64,
        pub lost: u64,
    }

    impl Runs {
        pub fn is_empty(&self) -> bool {
            true
        }

        pub fn write(&mut self, _: &[Record]) -> Result<(), ()> {
            Err(())
        }

        pub fn next_merged(&mut self, memory: &mut BinaryHeap<Reverse<Record>>) -> Option<Record> {
            memory.pop().map(|Reverse(r)| r)
        }
    }
}
