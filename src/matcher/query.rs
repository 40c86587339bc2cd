//! Compiled sequences and samples: their stages, join keys and time limits. The streaming state
//! machines that run them are in `crate::stream`.

use crate::ast::{self, Pipe};
use crate::error::Error;
use crate::event::FieldId;
use crate::matcher::compile::Compiler;
use crate::matcher::node::EventMatcher;

#[derive(Clone, Debug)]
pub struct Key {
    pub field: FieldId,
    /// `?field`: a missing value is a legal key (null joins null).
    pub optional: bool,
}

#[derive(Clone, Debug)]
pub struct StageSpec {
    pub matcher: EventMatcher,
    /// Sequence-level keys followed by the stage's own.
    pub keys: Vec<Key>,
    /// `![…]`: no matching event may fall in this slot.
    pub missing: bool,
    /// `with runs=N` (this stage stands for N consecutive stages).
    pub runs: u32,
}

#[derive(Clone, Debug)]
pub struct SequenceSpec {
    pub stages: Vec<StageSpec>,
    pub until: Option<StageSpec>,
    pub maxspan_ms: Option<u64>,
    pub pipes: Vec<Pipe>,
    /// The stages with `runs` expanded, computed once here rather than per event.
    pub layout: Layout,
}

/// The shape of a sequence with `runs` expanded: positive stages and the missing slots around them.
#[derive(Clone, Debug, Default)]
pub struct Layout {
    /// The stage index of each positive slot, in order.
    pub positives: Vec<usize>,
    /// `gaps[j]`: missing stages between positive `j` and `j + 1`.
    pub gaps: Vec<Vec<usize>>,
    /// Missing stages before the first positive one.
    pub leading: Vec<usize>,
    /// Missing stages after the last positive one.
    pub trailing: Vec<usize>,
}

impl Layout {
    fn of(stages: &[StageSpec]) -> Layout {
        let mut l = Layout::default();
        let mut pending: Vec<usize> = Vec::new();
        for (i, st) in stages.iter().enumerate() {
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

#[derive(Clone, Debug)]
pub struct SampleSpec {
    pub stages: Vec<StageSpec>,
    pub pipes: Vec<Pipe>,
}

fn keys(c: &mut Compiler, shared: &[ast::Field], own: &[ast::Field]) -> Vec<Key> {
    shared.iter().chain(own).map(|f| Key { field: c.field(f), optional: f.optional }).collect()
}

fn stage(c: &mut Compiler, shared: &[ast::Field], st: &ast::Stage) -> Result<StageSpec, Error> {
    Ok(StageSpec {
        matcher: c.event_query(&st.query)?,
        keys: keys(c, shared, &st.by),
        missing: st.missing,
        runs: st.runs,
    })
}

impl SequenceSpec {
    pub fn compile(c: &mut Compiler, s: &ast::Sequence, pipes: &[Pipe]) -> Result<SequenceSpec, Error> {
        let stages: Vec<StageSpec> = s.stages.iter().map(|st| stage(c, &s.by, st)).collect::<Result<_, _>>()?;
        Ok(SequenceSpec {
            layout: Layout::of(&stages),
            stages,
            until: s.until.as_ref().map(|u| stage(c, &s.by, u)).transpose()?,
            maxspan_ms: s.maxspan.map(|d| d.millis),
            pipes: pipes.to_vec(),
        })
    }

    /// The stage of each event of an alert: positive stages in order, `runs` expanded.
    pub fn positive_stages(&self) -> &[usize] {
        &self.layout.positives
    }

    /// The event queries in source order: the stages, then `until`.
    pub fn matchers(&self) -> impl Iterator<Item = &EventMatcher> {
        self.stages.iter().chain(self.until.iter()).map(|s| &s.matcher)
    }
}

impl SampleSpec {
    pub fn compile(c: &mut Compiler, s: &ast::Sample, pipes: &[Pipe]) -> Result<SampleSpec, Error> {
        Ok(SampleSpec {
            stages: s.stages.iter().map(|st| stage(c, &s.by, st)).collect::<Result<_, _>>()?,
            pipes: pipes.to_vec(),
        })
    }
}
