//! Which rules can match an event at all. Most detection rules require a field to hold one of a
//! few literal values (`process.name in ("curl", "wget")`, `event.action == "exec"`); such a rule
//! is filed under one of those values, the most selective one the rule set offers, and is only
//! evaluated for events that carry it. Rules without such a requirement are filed by category.
//! This keeps the cost per event nearly flat as a rule set grows from 16 to 1,000 rules.

use crate::ast::{CompareOp, MatchOp};
use crate::compile::{EventMatcher, Node, NodeKind, StringPatterns};
use crate::event::{Event, FieldId};
use crate::value::Value;
use crate::wildcard::{fold, fold_into, has_wildcards};
use rustc_hash::FxHashMap;

/// A condition every match satisfies: `field` has one of `values`.
#[derive(Clone, Debug, PartialEq)]
pub struct Required {
    pub field: FieldId,
    /// Values are lowercased and compared with lowercased event values.
    pub insensitive: bool,
    pub values: Vec<String>,
}

/// The requirements among the top-level conjuncts of a condition.
pub fn requirements(n: &Node) -> Vec<Required> {
    match &n.kind {
        NodeKind::And(v) => v.iter().flat_map(requirements).collect(),
        _ => required(n).into_iter().collect(),
    }
}

/// The requirement a single clause imposes, if any.
fn required(n: &Node) -> Option<Required> {
    let field_of = |x: &Node| match x.kind {
        NodeKind::Field(f, _) => Some(f),
        _ => None,
    };
    match &n.kind {
        NodeKind::Compare(CompareOp::Eq, a, b) => match (field_of(a), &b.kind) {
            (Some(field), NodeKind::Const(Value::Str(s))) => {
                Some(Required { field, insensitive: false, values: vec![s.to_string()] })
            }
            _ => None,
        },
        NodeKind::In(x, set, false) => {
            let values: Option<Vec<String>> = set.source.iter().map(|v| v.as_str().map(str::to_string)).collect();
            let insensitive = set.insensitive;
            Some(Required {
                field: field_of(x)?,
                insensitive,
                values: values?.into_iter().map(|v| if insensitive { fold(&v) } else { v }).collect(),
            })
        }
        NodeKind::Match(x, p) => {
            let insensitive = match p.op {
                MatchOp::Colon => true,
                MatchOp::Like { insensitive } => insensitive,
                MatchOp::Regex { .. } => return None,
            };
            if !matches!(p.strings, StringPatterns::Wildcards(_)) || !p.others.is_empty() {
                return None;
            }
            let values: Option<Vec<String>> =
                p.source.iter().map(|v| v.as_str().filter(|s| !has_wildcards(s)).map(str::to_string)).collect();
            Some(Required {
                field: field_of(x)?,
                insensitive,
                values: values?.into_iter().map(|v| if insensitive { fold(&v) } else { v }).collect(),
            })
        }
        // `a == "x" or a == "y"`: one requirement on `a` when every branch requires `a`.
        NodeKind::Or(v) => {
            let mut acc: Option<Required> = None;
            for c in v {
                let r = required(c)?;
                match &mut acc {
                    None => acc = Some(r),
                    Some(a) if a.field == r.field && a.insensitive == r.insensitive => a.values.extend(r.values),
                    Some(_) => return None,
                }
            }
            acc
        }
        _ => None,
    }
}

#[derive(Clone, Debug, Default)]
struct Bucket {
    field: FieldId,
    insensitive: bool,
    rules: FxHashMap<String, Vec<u32>>,
}

/// The rule index of a rule set (single-event rules only).
#[derive(Clone, Debug, Default)]
pub struct Prefilter {
    buckets: Vec<Bucket>,
    /// Rules without a usable requirement, by category, and those of `any`.
    by_category: FxHashMap<String, Vec<u32>>,
    any: Vec<u32>,
    rules: usize,
}

impl Prefilter {
    /// Files each rule (`(index, matcher)`) under its most selective requirement: the one whose
    /// field has the most distinct required values across the rule set.
    pub fn build<'m>(matchers: impl Iterator<Item = (usize, &'m EventMatcher)>) -> Prefilter {
        let all: Vec<(usize, &EventMatcher, Vec<Required>)> =
            matchers.map(|(i, m)| (i, m, requirements(&m.condition))).collect();
        let mut distinct: FxHashMap<(FieldId, bool), rustc_hash::FxHashSet<&str>> = FxHashMap::default();
        for (_, _, reqs) in &all {
            for r in reqs {
                distinct.entry((r.field, r.insensitive)).or_default().extend(r.values.iter().map(String::as_str));
            }
        }
        let mut p = Prefilter { rules: all.iter().map(|(i, ..)| i + 1).max().unwrap_or(0), ..Prefilter::default() };
        for (i, m, reqs) in &all {
            let best = reqs.iter().filter(|r| !r.values.is_empty()).max_by_key(|r| {
                // More distinct values across rules: more selective. Fewer values here: fewer lookups.
                (distinct[&(r.field, r.insensitive)].len(), std::cmp::Reverse(r.values.len()))
            });
            match best {
                // A field shared by just one value across all rules (`host.os.type == "linux"`
                // everywhere) would not narrow anything down.
                Some(r) if distinct[&(r.field, r.insensitive)].len() > 1 || all.len() == 1 => {
                    let b = match p.buckets.iter().position(|b| b.field == r.field && b.insensitive == r.insensitive) {
                        Some(b) => b,
                        None => {
                            p.buckets.push(Bucket {
                                field: r.field,
                                insensitive: r.insensitive,
                                rules: FxHashMap::default(),
                            });
                            p.buckets.len() - 1
                        }
                    };
                    for v in &r.values {
                        let list = p.buckets[b].rules.entry(v.clone()).or_default();
                        if list.last() != Some(&(*i as u32)) {
                            list.push(*i as u32);
                        }
                    }
                }
                _ => match &m.category {
                    Some(c) => p.by_category.entry(c.clone()).or_default().push(*i as u32),
                    None => p.any.push(*i as u32),
                },
            }
        }
        p
    }

    /// The rules worth evaluating for an event, each once, in rule order. A rule filed under a
    /// value still has its category checked by the caller; rules filed by category do not need to.
    pub fn candidates(
        &self,
        ev: &Event,
        category_field: FieldId,
        seen: &mut Vec<bool>,
        fold_buf: &mut String,
    ) -> Vec<(usize, bool)> {
        seen.clear();
        seen.resize(self.rules, false);
        let mut out: Vec<(usize, bool)> = Vec::new();
        let cats = ev.get(category_field);
        let mut add = |list: &[u32], check_category: bool, out: &mut Vec<(usize, bool)>| {
            for &i in list {
                if !std::mem::replace(&mut seen[i as usize], true) {
                    out.push((i as usize, check_category));
                }
            }
        };
        for c in cats {
            if let Some(list) = c.as_str().and_then(|c| self.by_category.get(c)) {
                add(list, false, &mut out);
            }
        }
        add(&self.any, false, &mut out);
        for b in &self.buckets {
            for v in ev.get(b.field) {
                let Some(s) = v.as_str() else { continue };
                let key = if b.insensitive { fold_into(s, fold_buf) } else { s };
                if let Some(list) = b.rules.get(key) {
                    add(list, true, &mut out);
                }
            }
        }
        out.sort_unstable();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::RuleSet;

    fn reqs(q: &str) -> Vec<(String, bool, Vec<String>)> {
        let mut rs = RuleSet::default();
        rs.add_query("q", q).unwrap();
        let crate::ruleset::Body::Event(m) = &rs.rules()[0].body else { panic!() };
        let mut r: Vec<_> = requirements(&m.condition)
            .into_iter()
            .map(|r| (rs.fields().name(r.field).to_string(), r.insensitive, r.values))
            .collect();
        r.sort_by(|a, b| a.0.cmp(&b.0));
        r
    }

    #[test]
    fn requirements_come_from_top_level_conjuncts() {
        let r = reqs(
            r#"process where host.os.type == "linux" and process.name in ("curl", "wget") and process.args : ("-K", "x*")"#,
        );
        assert_eq!(
            r,
            [
                ("host.os.type".into(), false, vec!["linux".into()]),
                ("process.name".into(), false, vec!["curl".into(), "wget".into()])
            ]
        );
        let r = reqs(r#"any where (file.name : "A.EXE" or file.name : "b.exe") and not process.name == "x""#);
        assert_eq!(r, [("file.name".into(), true, vec!["a.exe".into(), "b.exe".into()])]);
        assert!(reqs(r#"process where process.name == "a" or user.name == "b""#).is_empty());
        assert!(reqs(r#"process where process.name like "curl*""#).is_empty());
    }
}
