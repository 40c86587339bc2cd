//! Choosing field values that give a condition the truth wanted. The condition is unfolded into
//! conjunctions of leaf tests with the result each must have (`not` flips it, an `or` made true
//! offers each branch in turn, an `and` made false each operand); for each conjunction, every
//! field gets a value (or several, or none) that the engine finds gives each of its leaf tests the
//! wanted result.

use super::invert::{candidates, fillers, others, single_field, text, V};
use crate::event::{Event, FieldId, Fields};
use crate::field_types::FieldType;
use crate::matcher::eval::{self, Scratch};
use crate::matcher::node::{EventMatcher, Node, NodeKind};
use crate::value::Value;
use std::collections::BTreeMap;

/// Field values of one event being built; an empty list is an absent field.
pub type Draft = BTreeMap<FieldId, Vec<V>>;

/// A leaf test and the result it must have.
pub type Lit<'n> = (&'n Node, bool);

/// Most conjunctions tried for one condition.
const MAX_ALTERNATIVES: usize = 48;

/// The conjunctions of leaf tests under which `n` has truth `want`, most direct first.
pub fn alternatives(n: &Node, want: bool) -> Vec<Vec<Lit<'_>>> {
    match &n.kind {
        NodeKind::Not(x) => alternatives(x, !want),
        NodeKind::And(v) | NodeKind::Or(v) if want == matches!(n.kind, NodeKind::And(_)) => {
            // Every operand must have the wanted truth: the product of their alternatives.
            let mut acc: Vec<Vec<Lit>> = vec![vec![]];
            for c in v {
                let alts = alternatives(c, want);
                let mut next = Vec::new();
                'outer: for a in &acc {
                    for b in &alts {
                        next.push([a.clone(), b.clone()].concat());
                        if next.len() >= MAX_ALTERNATIVES {
                            break 'outer;
                        }
                    }
                }
                acc = next;
            }
            acc
        }
        NodeKind::And(v) | NodeKind::Or(v) => {
            v.iter().flat_map(|c| alternatives(c, want)).take(MAX_ALTERNATIVES).collect()
        }
        _ => vec![vec![(n, want)]],
    }
}

/// Reads drafts through the engine's own event reader, so that every check sees the event
/// exactly as it will be printed.
pub struct Reader<'r> {
    pub fields: &'r Fields,
    pub category_field: FieldId,
}

impl Reader<'_> {
    /// The draft as an ECS document: dotted names nested, numbers where the field's type is
    /// numeric, one value as a scalar and several as an array.
    pub fn json(&self, d: &Draft) -> serde_json::Value {
        let mut root = serde_json::Map::new();
        for (&f, vals) in d {
            if vals.is_empty() {
                continue;
            }
            let ty = self.fields.field_type(f);
            let mut vs: Vec<serde_json::Value> = vals.iter().map(|v| typed(v, ty)).collect();
            let value = if vs.len() == 1 { vs.remove(0) } else { serde_json::Value::Array(vs) };
            let name = self.fields.name(f);
            let mut parts: Vec<&str> = name.split('.').collect();
            let last = parts.pop().unwrap_or_default();
            let mut obj = &mut root;
            for p in parts {
                let slot = obj.entry(p.to_string()).or_insert_with(|| serde_json::Value::Object(Default::default()));
                if !slot.is_object() {
                    *slot = serde_json::Value::Object(Default::default());
                }
                obj = slot.as_object_mut().expect("object");
            }
            obj.insert(last.to_string(), value);
        }
        serde_json::Value::Object(root)
    }

    pub fn event(&self, d: &Draft) -> Option<Event<'static>> {
        let text = self.json(d).to_string();
        self.fields.read_json(&text).ok().map(Event::into_owned)
    }

    fn holds(&self, lits: &[&Lit], d: &Draft, cx: &mut Scratch) -> bool {
        let Some(ev) = self.event(d) else { return false };
        lits.iter().all(|(n, want)| eval::truth(n, &ev, cx) == Some(*want))
    }

    /// Whether the event query matches the draft.
    pub fn matches(&self, m: &EventMatcher, d: &Draft, cx: &mut Scratch) -> bool {
        self.event(d).is_some_and(|ev| eval::matches(m, &ev, self.category_field, cx))
    }

    /// Finds an event matching `m` (`fixed` fields kept as they are); returns it with the leaf
    /// tests it was built for.
    pub fn solve<'n>(&self, m: &'n EventMatcher, fixed: &Draft, cx: &mut Scratch) -> Option<(Draft, Vec<Lit<'n>>)> {
        for alt in alternatives(&m.condition, true) {
            if let Some(mut d) = self.assign(&alt, fixed, true, cx) {
                if let Some(c) = &m.category {
                    let cats = d.entry(self.category_field).or_default();
                    if !cats.iter().any(|v| v.as_str() == Some(c)) {
                        cats.push(text(c.as_str()));
                    }
                }
                if self.matches(m, &d, cx) {
                    return Some((d, alt));
                }
            }
        }
        None
    }

    /// Values for every field the tests read, fields of `base` kept. `firing`: the first event,
    /// where a test that must be false is best false by the field's absence (fewest fields);
    /// otherwise (near misses) by the smallest change of value.
    pub fn assign(&self, lits: &[Lit], base: &Draft, firing: bool, cx: &mut Scratch) -> Option<Draft> {
        let mut d = base.clone();
        let mut groups: Vec<(FieldId, Vec<&Lit>)> = Vec::new();
        let mut multi: Vec<&Lit> = Vec::new();
        for l in lits {
            match single_field(l.0) {
                Some(f) => match groups.iter_mut().find(|g| g.0 == f) {
                    Some(g) => g.1.push(l),
                    None => groups.push((f, vec![l])),
                },
                None => multi.push(l),
            }
        }
        for (f, group) in &groups {
            if base.contains_key(f) {
                if !self.holds(group, &d, cx) {
                    return None;
                }
                continue;
            }
            let found = self.options(group, firing).into_iter().find(|vals| {
                d.insert(*f, vals.clone());
                self.holds(group, &d, cx)
            });
            found?;
        }
        for l in multi {
            if self.holds(&[l], &d, cx) {
                continue;
            }
            let mut ids = Vec::new();
            l.0.fields(&mut ids);
            let pool: Vec<V> = ids.iter().flat_map(|g| d.get(g).cloned().unwrap_or_default()).collect();
            let mut tries: Vec<V> = pool.iter().flat_map(|v| std::iter::once(v.clone()).chain(others(v))).collect();
            tries.extend(fillers());
            tries.push(text("eqlite$"));
            tries.dedup();
            let free: Vec<FieldId> = ids.into_iter().filter(|g| !base.contains_key(g)).collect();
            let mut need: Vec<&Lit> = vec![l];
            for g in &free {
                need.extend(groups.iter().filter(|x| x.0 == *g).flat_map(|x| x.1.iter().copied()));
            }
            // Each free field alone first (the others kept), then all of them together.
            let before = d.clone();
            let alone = free.iter().any(|&g| {
                let hit = tries.iter().any(|v| {
                    d.insert(g, vec![v.clone()]);
                    self.holds(&need, &d, cx)
                });
                if !hit {
                    d = before.clone();
                }
                hit
            });
            if !alone && !self.jointly(&free, &tries, &need, &mut d, cx) {
                return None;
            }
        }
        Some(d)
    }

    /// Tries every combination of `tries` over the (at most three) `free` fields.
    fn jointly(&self, free: &[FieldId], tries: &[V], need: &[&Lit], d: &mut Draft, cx: &mut Scratch) -> bool {
        if free.is_empty() || free.len() > 3 {
            return false;
        }
        let n = tries.len().min(8);
        let total = n.pow(free.len() as u32);
        (0..total).any(|mut k| {
            for &g in free {
                d.insert(g, vec![tries[k % n].clone()]);
                k /= n;
            }
            self.holds(need, d, cx)
        })
    }

    /// Value lists to try for one field: each test's own candidates, then strings built to pass
    /// several tests at once, then one value per test (a multi-valued field).
    fn options(&self, group: &[&Lit], firing: bool) -> Vec<Vec<V>> {
        let per: Vec<Vec<Vec<V>>> = group.iter().map(|(n, want)| candidates(n, *want)).collect();
        let mut out: Vec<Vec<V>> = Vec::new();
        let negative_only = group.iter().all(|l| !l.1);
        if firing && negative_only {
            // Excluded values are best avoided by a neutral value, not a near copy of one.
            out.push(vec![]);
            out.extend(fillers().into_iter().map(|v| vec![v]));
        }
        for (c, l) in per.iter().zip(group) {
            for v in c {
                if !v.is_empty() || l.1 || !firing {
                    out.push(v.clone());
                }
            }
        }
        let firsts: Vec<&Vec<V>> =
            per.iter().zip(group).filter(|(_, l)| l.1).filter_map(|(c, _)| c.iter().find(|v| !v.is_empty())).collect();
        let strings: Vec<&str> = firsts.iter().filter_map(|v| v[0].as_str()).collect();
        if strings.len() >= 2 {
            out.push(vec![text(strings.concat())]);
            let mut rev = strings.clone();
            rev.reverse();
            out.push(vec![text(rev.concat())]);
            // Overlapping a prefix with a suffix: `C:\*` and `*\cmd.exe` give `C:\cmd.exe`.
            if let [a, b] = strings.as_slice() {
                out.extend(overlap(a, b).into_iter().chain(overlap(b, a)).map(|s| vec![text(s)]));
            }
        }
        if firsts.len() >= 2 {
            out.push(firsts.iter().flat_map(|v| v.iter().cloned()).collect());
        }
        if !firing || !negative_only {
            out.push(vec![]);
        }
        out.dedup();
        out
    }
}

/// `a` then `b` sharing their longest common overlap (end of `a`, start of `b`).
fn overlap(a: &str, b: &str) -> Option<String> {
    (1..a.len().min(b.len()))
        .rev()
        .find(|&k| a.is_char_boundary(a.len() - k) && b.is_char_boundary(k) && a[a.len() - k..] == b[..k])
        .map(|k| format!("{a}{}", &b[k..]))
}

/// A value as JSON in the form its field's type takes: numbers for numeric fields, text for
/// keyword fields.
fn typed(v: &V, ty: Option<FieldType>) -> serde_json::Value {
    use serde_json::Value as J;
    let numeric = matches!(
        ty,
        Some(
            FieldType::Long
                | FieldType::Integer
                | FieldType::Short
                | FieldType::Byte
                | FieldType::UnsignedLong
                | FieldType::Double
                | FieldType::Float
                | FieldType::HalfFloat
                | FieldType::ScaledFloat
        )
    );
    match v {
        Value::Str(s) if numeric => match (s.parse::<i64>(), s.parse::<f64>()) {
            (Ok(i), _) => J::from(i),
            (_, Ok(f)) if f.is_finite() => J::from(f),
            _ => J::from(s.as_ref()),
        },
        Value::Str(s) if ty == Some(FieldType::Boolean) && (s == "true" || s == "false") => J::Bool(s == "true"),
        Value::Str(s) => J::from(s.as_ref()),
        Value::Int(i) if ty.is_some_and(FieldType::is_string) => J::from(i.to_string()),
        Value::Int(i) => J::from(*i),
        Value::Float(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
        Value::Bool(b) => J::Bool(*b),
        Value::Null => J::Null,
    }
}
