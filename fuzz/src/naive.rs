//! A naive, tree-walking evaluator of an EQL event query over the AST, written independently of
//! eqlite's compiler and matcher (`compile.rs`, `eval.rs`, `event.rs`), for differential testing.
//! It shares only the leaf semantics: value comparison (`value.rs`), the sixteen functions
//! (`functions.rs`), case folding and Lucene regexes (`wildcard::fold`, `lucene.rs`). Wildcards are
//! matched by a textbook dynamic program, not by `wildcard.rs`; events are read into a plain JSON
//! tree (duplicate keys kept) and fields are resolved by walking it.
//!
//! Shared by the fuzz crate (`fuzz/src/lib.rs`) and the native tests (`tests/hostile.rs`, which
//! includes this file with `#[path]`), so it depends only on `eqlite` and `serde_json`.

use eqlite::ast::{Category, CompareOp, EventQuery, Expr, ExprKind, Function, Literal, MatchOp};
use eqlite::internals::wildcard::fold;
use eqlite::internals::{functions, Cidr};
use eqlite::Value;
use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use std::borrow::Cow;

/// A JSON document with object members in order, duplicates kept.
#[derive(Clone, Debug)]
pub enum Json {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Array(Vec<Json>),
    Object(Vec<(String, Json)>),
}

impl<'de> Deserialize<'de> for Json {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Json, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Json;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("JSON")
            }
            fn visit_unit<E>(self) -> Result<Json, E> {
                Ok(Json::Null)
            }
            fn visit_none<E>(self) -> Result<Json, E> {
                Ok(Json::Null)
            }
            fn visit_bool<E>(self, b: bool) -> Result<Json, E> {
                Ok(Json::Bool(b))
            }
            fn visit_i64<E>(self, i: i64) -> Result<Json, E> {
                Ok(Json::Int(i))
            }
            fn visit_u64<E>(self, u: u64) -> Result<Json, E> {
                Ok(i64::try_from(u).map_or(Json::Float(u as f64), Json::Int))
            }
            fn visit_f64<E>(self, f: f64) -> Result<Json, E> {
                Ok(Json::Float(f))
            }
            fn visit_str<E>(self, s: &str) -> Result<Json, E> {
                Ok(Json::Str(s.to_string()))
            }
            fn visit_string<E>(self, s: String) -> Result<Json, E> {
                Ok(Json::Str(s))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Json, A::Error> {
                let mut v = Vec::new();
                while let Some(x) = a.next_element()? {
                    v.push(x);
                }
                Ok(Json::Array(v))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Json, A::Error> {
                let mut v = Vec::new();
                while let Some((k, x)) = m.next_entry::<String, Json>()? {
                    v.push((k, x));
                }
                Ok(Json::Object(v))
            }
        }
        d.deserialize_any(V)
    }
}

/// An event as eqlite reads it: an object, or a search hit's `_source`.
pub struct Doc(Json);

impl Doc {
    pub fn parse(text: &str) -> Option<Doc> {
        let json: Json = serde_json::from_str(text).ok()?;
        let Json::Object(members) = &json else { return None };
        // A search hit: the event is the first `_source`.
        if let Some((_, src)) = members.iter().find(|(k, _)| k == "_source") {
            return Some(Doc(src.clone()));
        }
        Some(Doc(json))
    }

    /// Every scalar value at a dotted path (already split), over nested objects, dotted keys and
    /// arrays; `null` is no value.
    pub fn get(&self, path: &[String]) -> Vec<Value<'static>> {
        let segs: Vec<&str> = path.iter().flat_map(|s| s.split('.')).collect();
        let mut out = Vec::new();
        collect(&self.0, &segs, &mut out);
        out
    }
}

fn collect(j: &Json, segs: &[&str], out: &mut Vec<Value<'static>>) {
    match j {
        Json::Array(items) => items.iter().for_each(|x| collect(x, segs, out)),
        Json::Object(members) if !segs.is_empty() => {
            for (k, v) in members {
                let parts: Vec<&str> = k.split('.').collect();
                if parts.len() <= segs.len() && parts[..] == segs[..parts.len()] {
                    collect(v, &segs[parts.len()..], out);
                }
            }
        }
        _ if !segs.is_empty() => {}
        Json::Bool(b) => out.push(Value::Bool(*b)),
        Json::Int(i) => out.push(Value::Int(*i)),
        Json::Float(f) => out.push(Value::Float(*f)),
        Json::Str(s) => out.push(Value::Str(Cow::Owned(s.clone()))),
        Json::Null | Json::Object(_) => {}
    }
}

/// `*` any run of characters, `?` exactly one; whole-string; no escapes.
pub fn wildcard(pattern: &str, s: &str, insensitive: bool) -> bool {
    let (p, s) = if insensitive { (fold(pattern), fold(s)) } else { (pattern.to_string(), s.to_string()) };
    let p: Vec<char> = p.chars().collect();
    let s: Vec<char> = s.chars().collect();
    // row[j]: the pattern prefix so far matches s[..j].
    let mut row = vec![false; s.len() + 1];
    row[0] = true;
    for &pc in &p {
        let mut next = vec![false; s.len() + 1];
        if pc == '*' {
            let mut any = false;
            for j in 0..=s.len() {
                any |= row[j];
                next[j] = any;
            }
        } else {
            for j in 1..=s.len() {
                next[j] = row[j - 1] && (pc == '?' || pc == s[j - 1]);
            }
        }
        row = next;
    }
    row[s.len()]
}

type V = Value<'static>;

/// Three-valued "any".
fn any(it: impl IntoIterator<Item = Option<bool>>) -> Option<bool> {
    let mut null = false;
    for r in it {
        match r {
            Some(true) => return Some(true),
            None => null = true,
            Some(false) => {}
        }
    }
    if null {
        None
    } else {
        Some(false)
    }
}

fn not(r: Option<bool>) -> Option<bool> {
    r.map(|b| !b)
}

const MAX_COMBINATIONS: usize = 10_000;

pub struct Naive<'d> {
    pub doc: &'d Doc,
    /// The event's category field.
    pub category_field: Vec<String>,
}

impl Naive<'_> {
    /// `category where condition`: false when the category differs, else the condition.
    pub fn event_query(&self, q: &EventQuery) -> Option<bool> {
        if let Category::Named(c, _) = &q.category {
            let cats = self.doc.get(&self.category_field);
            if !cats.iter().any(|v| v.as_str() == Some(c.as_str())) {
                return Some(false);
            }
        }
        self.truth(&q.condition)
    }

    pub fn truth(&self, e: &Expr) -> Option<bool> {
        match &e.kind {
            ExprKind::And(v) => {
                let rs: Vec<Option<bool>> = v.iter().map(|x| self.truth(x)).collect();
                if rs.contains(&Some(false)) {
                    Some(false)
                } else if rs.contains(&None) {
                    None
                } else {
                    Some(true)
                }
            }
            ExprKind::Or(v) => any(v.iter().map(|x| self.truth(x))),
            ExprKind::Not(x) => not(self.truth(x)),
            ExprKind::Compare(op, a, b) => self.compare(*op, a, b),
            ExprKind::In { value, list, negated, insensitive } => {
                let vals = self.values(value);
                let list: Vec<V> = list
                    .iter()
                    .filter_map(|x| match &x.kind {
                        ExprKind::Literal(l) => Some(V::from(l)),
                        _ => None,
                    })
                    .collect();
                let r = any(vals.iter().map(|v| member(v, &list, *insensitive)));
                if *negated {
                    not(r)
                } else {
                    r
                }
            }
            ExprKind::Match { op, value, patterns } => {
                let vals = self.values(value);
                let pats: Vec<V> = patterns.iter().map(|p| V::from(&p.value)).collect();
                any(vals.iter().map(|v| self.match_one(*op, v, &pats)))
            }
            _ => any(self.values(e).iter().map(|v| match v {
                Value::Bool(b) => Some(*b),
                _ => None,
            })),
        }
    }

    fn compare(&self, op: CompareOp, a: &Expr, b: &Expr) -> Option<bool> {
        let is_null = |x: &Expr| matches!(x.kind, ExprKind::Literal(Literal::Null));
        if matches!(op, CompareOp::Eq | CompareOp::Ne) && (is_null(a) || is_null(b)) {
            let operand = if is_null(b) { a } else { b };
            let present = self.values(operand).iter().any(|v| !v.is_null());
            return Some(present != (op == CompareOp::Eq));
        }
        let (va, vb) = (self.values(a), self.values(b));
        if matches!(op, CompareOp::Eq | CompareOp::Ne) {
            let absent =
                |x: &Expr, v: &[V]| matches!(&x.kind, ExprKind::Field(f) if f.optional) && v.iter().all(Value::is_null);
            let other = if absent(b, &vb) {
                Some(&va)
            } else if absent(a, &va) {
                Some(&vb)
            } else {
                None
            };
            if let Some(other) = other {
                let present = other.iter().any(|v| !v.is_null());
                return Some(present != (op == CompareOp::Eq));
            }
        }
        if va.len().saturating_mul(vb.len()) > MAX_COMBINATIONS {
            return None;
        }
        let pairs = va.iter().flat_map(|x| vb.iter().map(move |y| (x, y)));
        match op {
            CompareOp::Eq => any(pairs.map(|(x, y)| x.equals(y))),
            CompareOp::Ne => not(any(pairs.map(|(x, y)| x.equals(y)))),
            _ => any(pairs.map(|(x, y)| {
                x.compare(y).map(|o| match op {
                    CompareOp::Lt => o.is_lt(),
                    CompareOp::Le => o.is_le(),
                    CompareOp::Gt => o.is_gt(),
                    _ => o.is_ge(),
                })
            })),
        }
    }

    fn match_one(&self, op: MatchOp, v: &V, pats: &[V]) -> Option<bool> {
        let strings: Vec<&str> = pats.iter().filter_map(Value::as_str).collect();
        match v {
            Value::Null => None,
            Value::Str(s) => {
                if strings.is_empty() {
                    return None;
                }
                Some(match op {
                    MatchOp::Regex { insensitive } => strings
                        .iter()
                        .filter_map(|p| eqlite::internals::lucene::compile(p, insensitive).ok())
                        .any(|r| r.is_match(s)),
                    MatchOp::Like { insensitive: false } => strings.iter().any(|p| wildcard(p, s, false)),
                    _ => strings.iter().any(|p| wildcard(p, s, true)),
                })
            }
            v => {
                let others: Vec<V> =
                    pats.iter().filter(|p| !matches!(p, Value::Str(_) | Value::Null)).cloned().collect();
                if others.is_empty() {
                    return None;
                }
                member(v, &others, false)
            }
        }
    }

    /// The values of an expression (a field's values, or one `null` when it has none).
    pub fn values(&self, e: &Expr) -> Vec<V> {
        match &e.kind {
            ExprKind::Literal(l) => vec![V::from(l)],
            ExprKind::Field(f) => {
                let v = self.doc.get(&f.path);
                if v.is_empty() {
                    vec![Value::Null]
                } else {
                    v
                }
            }
            ExprKind::Neg(x) => self.values(x).iter().map(Value::negated).collect(),
            ExprKind::Arith(op, a, b) => {
                let f = op.function();
                product(&[self.values(a), self.values(b)], |xs| functions::call(f, false, xs, &[]))
            }
            ExprKind::Call { function, insensitive, args, .. } => {
                let cidrs: Vec<Cidr> = if *function == Function::CidrMatch {
                    args[1..]
                        .iter()
                        .filter_map(|a| match &a.kind {
                            ExprKind::Literal(Literal::Str(s)) => Cidr::parse(s).ok(),
                            _ => None,
                        })
                        .collect()
                } else {
                    vec![]
                };
                let lists: Vec<Vec<V>> = args.iter().map(|a| self.values(a)).collect();
                product(&lists, |xs| functions::call(*function, *insensitive, xs, &cidrs))
            }
            _ => vec![self.truth(e).map_or(Value::Null, Value::Bool)],
        }
    }
}

/// `f` over every combination of one value per list (null beyond the combination limit).
fn product(lists: &[Vec<V>], f: impl Fn(&[V]) -> V) -> Vec<V> {
    let mut total = 1usize;
    for l in lists {
        total = match total.checked_mul(l.len()) {
            Some(n) if n <= MAX_COMBINATIONS => n,
            _ => return vec![Value::Null],
        };
    }
    let mut out = Vec::new();
    for k in 0..total {
        // Odometer order: the last list varies fastest.
        let mut rest = k;
        let mut args = vec![Value::Null; lists.len()];
        for (i, l) in lists.iter().enumerate().rev() {
            args[i] = l[rest % l.len()].clone();
            rest /= l.len();
        }
        out.push(f(&args));
    }
    out
}

/// Membership of one value in an `in` list (or the non-string patterns of `:`): null when the
/// value is null or the list has no literal of its type.
fn member(v: &V, list: &[V], insensitive: bool) -> Option<bool> {
    match v {
        Value::Null => None,
        Value::Str(s) => {
            let strs: Vec<&str> = list.iter().filter_map(Value::as_str).collect();
            if strs.is_empty() {
                return None;
            }
            Some(if insensitive { strs.iter().any(|x| fold(x) == fold(s)) } else { strs.iter().any(|x| x == s) })
        }
        Value::Bool(b) => {
            let bools: Vec<bool> =
                list.iter().filter_map(|x| if let Value::Bool(b) = x { Some(*b) } else { None }).collect();
            if bools.is_empty() {
                None
            } else {
                Some(bools.contains(b))
            }
        }
        v => {
            // As `==` compares: integers exactly, an integer and a double as doubles.
            let nums: Vec<&V> = list.iter().filter(|x| matches!(x, Value::Int(_) | Value::Float(_))).collect();
            if nums.is_empty() {
                return None;
            }
            Some(nums.iter().any(|x| v.equals(x) == Some(true)))
        }
    }
}
