//! The state machine of one sample rule: per join key, the first event seen for each filter; when
//! every filter has one, the sample is complete and the key is done. Samples are unordered (no time
//! order, no reorder buffer), as in Elasticsearch.

use super::pipes::Pipes;
use super::record::{KeyTuple, Record};
use super::{Stats, StreamOptions};
use crate::alert::Alert;
use crate::matcher::query::SampleSpec;
use crate::rule::Rule;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(crate) struct SampleState {
    /// Per key: the (position) chosen for each stage so far.
    keys: Vec<(KeyTuple, Vec<Option<u64>>)>,
    done: Vec<KeyTuple>,
    pub pipes: Pipes,
    /// Lookups into `keys` and `done`, rebuilt after a restore or an eviction.
    #[serde(skip)]
    index: Option<HashMap<KeyTuple, usize>>,
    #[serde(skip)]
    done_set: Option<HashSet<KeyTuple>>,
}

impl SampleState {
    pub(crate) fn new(spec: &SampleSpec) -> SampleState {
        SampleState { pipes: Pipes::new(&spec.pipes), ..SampleState::default() }
    }

    /// The input positions the partial samples and the pipes hold.
    pub(crate) fn positions(&self, f: &mut dyn FnMut(u64)) {
        self.keys.iter().flat_map(|(_, slots)| slots.iter().flatten()).for_each(|&p| f(p));
        self.pipes.positions(f);
    }

    /// Partial samples held now.
    pub(crate) fn pending(&self) -> usize {
        self.keys.len()
    }

    pub(crate) fn push(
        &mut self,
        spec: &SampleSpec,
        rule: &Rule,
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
