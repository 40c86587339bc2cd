//! `| head N` and `| tail N`: what is left of a rule's alerts after its pipes, in order.

use crate::alert::Alert;
use crate::ast::Pipe;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// `| head N` and `| tail N`, applied to a rule's alerts in order.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(crate) struct Pipes(Vec<PipeState>);

#[derive(Clone, Debug, Serialize, Deserialize)]
enum PipeState {
    Head { n: u64, seen: u64 },
    Tail { n: u64, buf: VecDeque<Alert> },
}

impl Pipes {
    pub(crate) fn new(pipes: &[Pipe]) -> Pipes {
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

    pub(crate) fn feed(&mut self, from: usize, alert: Alert, out: &mut Vec<Alert>) {
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

    pub(crate) fn flush(&mut self, out: &mut Vec<Alert>) {
        for i in 0..self.0.len() {
            if let PipeState::Tail { buf, .. } = &mut self.0[i] {
                let drained: Vec<Alert> = buf.drain(..).collect();
                for a in drained {
                    self.feed(i + 1, a, out);
                }
            }
        }
    }

    /// No `head` or `tail`: every alert passes, in whatever order it comes.
    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The input positions of the alerts a `tail` holds back.
    pub(crate) fn positions(&self, f: &mut dyn FnMut(u64)) {
        for p in &self.0 {
            if let PipeState::Tail { buf, .. } = p {
                buf.iter().flat_map(|a| &a.events).for_each(|&e| f(e));
            }
        }
    }

    /// A leading `head` that has had its fill: the rule can stop working.
    pub(crate) fn done(&self) -> bool {
        matches!(self.0.first(), Some(PipeState::Head { n, seen }) if seen >= n)
    }
}
