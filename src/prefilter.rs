//! Which rules can match an event at all. Most detection rules require fields to hold one of a
//! few literal values (`host.os.type == "windows"`, `process.name in ("curl", "wget")`,
//! `event.type == "start"`); such a rule is filed under every one of those requirements, and is
//! only evaluated for events that meet them all. Rules without such a requirement are filed by
//! category. This keeps the cost per event nearly flat as a rule set grows from 16 to 1,000
//! rules: a Windows rule costs nothing on a Linux event.

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
    /// Per rule, the number of buckets it is filed in: an event must hit it in each of them.
    /// Zero for rules filed by category.
    need: Vec<u8>,
    /// Rules without a usable requirement, by category, and those of `any`.
    by_category: FxHashMap<String, Vec<u32>>,
    any: Vec<u32>,
}

/// Per-event counters of [`Prefilter::candidates`], reused from event to event.
#[derive(Clone, Debug, Default)]
pub struct Hits {
    /// Buckets hit, per rule.
    count: Vec<u8>,
    /// The last bucket (1-based) that counted the rule: an event value list may hit a bucket's
    /// rule several times, and it counts once.
    last: Vec<u16>,
}

/// More than this many requirements of one rule add lookups and narrow nothing further.
const MAX_FILED: usize = 8;

impl Prefilter {
    /// Files each rule (`(index, matcher)`) under each of its requirements (one per field).
    pub fn build<'m>(matchers: impl Iterator<Item = (usize, &'m EventMatcher)>) -> Prefilter {
        let all: Vec<(usize, &EventMatcher, Vec<Required>)> =
            matchers.map(|(i, m)| (i, m, requirements(&m.condition))).collect();
        let rules = all.iter().map(|(i, ..)| i + 1).max().unwrap_or(0);
        let mut p = Prefilter { need: vec![0; rules], ..Prefilter::default() };
        for (i, m, reqs) in &all {
            let mut filed: Vec<usize> = Vec::new();
            for r in reqs.iter().filter(|r| !r.values.is_empty()) {
                let b = match p.buckets.iter().position(|b| b.field == r.field && b.insensitive == r.insensitive) {
                    Some(b) => b,
                    // Bucket numbers are kept in a u16 per rule (see `Hits`).
                    None if p.buckets.len() < u16::MAX as usize => {
                        p.buckets.push(Bucket {
                            field: r.field,
                            insensitive: r.insensitive,
                            rules: FxHashMap::default(),
                        });
                        p.buckets.len() - 1
                    }
                    None => continue,
                };
                if filed.contains(&b) || filed.len() == MAX_FILED {
                    continue;
                }
                filed.push(b);
                for v in &r.values {
                    let list = p.buckets[b].rules.entry(v.clone()).or_default();
                    if list.last() != Some(&(*i as u32)) {
                        list.push(*i as u32);
                    }
                }
            }
            p.need[*i] = filed.len() as u8;
            if filed.is_empty() {
                match &m.category {
                    Some(c) => p.by_category.entry(c.clone()).or_default().push(*i as u32),
                    None => p.any.push(*i as u32),
                }
            }
        }
        p
    }

    /// The rules worth evaluating for an event, each once, in rule order. A rule filed under
    /// values still has its category checked by the caller; rules filed by category do not need to.
    pub fn candidates(
        &self,
        ev: &Event,
        category_field: FieldId,
        hits: &mut Hits,
        fold_buf: &mut String,
    ) -> Vec<(usize, bool)> {
        let mut out: Vec<(usize, bool)> = Vec::new();
        for c in ev.get(category_field) {
            if let Some(list) = c.as_str().and_then(|c| self.by_category.get(c)) {
                out.extend(list.iter().map(|&i| (i as usize, false)));
            }
        }
        out.extend(self.any.iter().map(|&i| (i as usize, false)));
        hits.count.clear();
        hits.count.resize(self.need.len(), 0);
        hits.last.clear();
        hits.last.resize(self.need.len(), 0);
        for (k, b) in self.buckets.iter().enumerate() {
            let stamp = k as u16 + 1;
            for v in ev.get(b.field) {
                let Some(s) = v.as_str() else { continue };
                let key = if b.insensitive { fold_into(s, fold_buf) } else { s };
                for &i in b.rules.get(key).map_or(&[][..], Vec::as_slice) {
                    let i = i as usize;
                    if hits.last[i] != stamp {
                        hits.last[i] = stamp;
                        hits.count[i] += 1;
                        if hits.count[i] == self.need[i] {
                            out.push((i, true));
                        }
                    }
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

    #[test]
    fn a_rule_is_a_candidate_only_when_every_requirement_holds() {
        let mut rs = RuleSet::default();
        rs.add_query("win", r#"process where host.os.type == "windows" and process.name : ("CMD.exe", "net.exe")"#)
            .unwrap();
        rs.add_query("lin", r#"process where host.os.type == "linux" and event.type in ("start", "exec")"#).unwrap();
        rs.add_query("free", r#"process where process.args : "*-k*""#).unwrap();
        rs.add_query("all", r#"any where event.type : "START" and event.type == "start""#).unwrap();
        let p = Prefilter::build(rs.rules().iter().enumerate().filter_map(|(i, r)| match &r.body {
            crate::ruleset::Body::Event(m) => Some((i, m)),
            _ => None,
        }));
        let cat = rs.fields().lookup("event.category").unwrap();
        let (mut hits, mut buf) = (Hits::default(), String::new());
        let mut ids = |json: &str| -> Vec<&str> {
            let ev = rs.read_json(json).unwrap();
            p.candidates(&ev, cat, &mut hits, &mut buf)
                .into_iter()
                .map(|(i, _)| rs.rules()[i].rule.id.as_str())
                .collect()
        };
        let linux = r#"{"event":{"category":"process","type":["start","info"]},"host":{"os":{"type":"linux"}},"process":{"name":"net.exe"}}"#;
        assert_eq!(ids(linux), ["lin", "free", "all"]);
        let windows = r#"{"event":{"category":"process","type":"start"},"host":{"os":{"type":"windows"}},"process":{"name":["x","Cmd.EXE"]}}"#;
        assert_eq!(ids(windows), ["win", "free", "all"]);
        assert_eq!(ids(r#"{"event":{"category":"process"},"host":{"os":{"type":"windows"}}}"#), ["free"]);
        assert_eq!(ids(r#"{"event":{"type":"START"}}"#), Vec::<&str>::new());
    }
}
