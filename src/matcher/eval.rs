//! Evaluating a compiled condition against one event, with Elasticsearch's semantics:
//! three-valued logic (a `null` condition does not match), and multi-valued fields where a
//! positive test holds if any value (any combination of values, through functions) satisfies it,
//! while `!=`, `not in` and `not` negate that whole test.
//!
//! Predicates report which value and which pattern decided them (an [`Outcome`]); the fast path
//! ignores that, and `crate::explain` uses the very same functions, so both always agree.

use crate::ast::CompareOp;
use crate::event::{Event, FieldId};
use crate::matcher::functions::{self, MAX_COMBINATIONS, MAX_COMPUTED_BYTES};
use crate::matcher::node::{EventMatcher, Node, NodeKind, Patterns, StringPatterns};
use crate::matcher::prefilter::Hits;
use crate::value::Value;
use std::borrow::Cow;
use std::cmp::Ordering;

static NULL: [Value<'static>; 1] = [Value::Null];

/// Reusable buffers for one evaluating thread.
#[derive(Default)]
pub struct Scratch {
    pub(crate) fold: String,
    /// The prefilter's counters for the current event.
    pub(crate) hits: Hits,
    /// Bytes counted against [`MAX_COMPUTED_BYTES`] by the clause being evaluated, if any.
    computed: usize,
    in_clause: bool,
}

/// Runs `f` as one clause: with a fresh [`MAX_COMPUTED_BYTES`] budget, unless already inside one
/// (a test nested in a computation shares its clause's budget). Every clause starts afresh whatever
/// was evaluated before it, so the matcher (which stops early, in its own operand order) and
/// explanations (which evaluate every clause) always agree.
fn clause<T>(cx: &mut Scratch, f: impl FnOnce(&mut Scratch) -> T) -> T {
    if cx.in_clause {
        return f(cx);
    }
    cx.in_clause = true;
    cx.computed = 0;
    let r = f(cx);
    cx.in_clause = false;
    r
}

/// The result of a predicate, and the (value index, pattern or operand index) that decided it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Outcome {
    pub result: Option<bool>,
    pub witness: Option<(usize, usize)>,
}

impl Outcome {
    fn negate(self) -> Outcome {
        Outcome { result: self.result.map(|b| !b), witness: self.witness }
    }
}

/// Three-valued "any": true at the first true, else null if anything was null, else false.
fn any(results: impl Iterator<Item = (Option<bool>, (usize, usize))>) -> Outcome {
    let mut saw_null = false;
    for (r, w) in results {
        match r {
            Some(true) => return Outcome { result: Some(true), witness: Some(w) },
            Some(false) => {}
            None => saw_null = true,
        }
    }
    Outcome { result: if saw_null { None } else { Some(false) }, witness: None }
}

pub fn category_matches(m: &EventMatcher, ev: &Event, category_field: FieldId) -> bool {
    match &m.category {
        None => true,
        Some(c) => ev.get(category_field).iter().any(|v| v.as_str() == Some(c)),
    }
}

/// Does the event satisfy the whole event query? (The rule set evaluates through its prefilter;
/// this is the plain form, for the fuzz oracle and white-box tests.)
#[cfg_attr(not(feature = "internals"), allow(dead_code))]
pub fn matches(m: &EventMatcher, ev: &Event, category_field: FieldId, cx: &mut Scratch) -> bool {
    category_matches(m, ev, category_field) && truth(&m.condition, ev, cx) == Some(true)
}

/// `and` or `or`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Junction {
    And,
    Or,
}

impl Junction {
    /// The operand result that decides the whole: `false` for `and`, `true` for `or`.
    pub fn decisive(self) -> bool {
        self == Junction::Or
    }
}

/// Three-valued `and` / `or` over operand results, stopping at the first decisive one: the
/// decisive value if any operand has it, else `null` if any is `null`, else the neutral value.
/// Evaluation feeds it lazily (so it short-circuits); explanations feed it every operand's result.
pub fn junction(j: Junction, results: impl IntoIterator<Item = Option<bool>>) -> Option<bool> {
    let decisive = j.decisive();
    let mut null = false;
    for r in results {
        match r {
            Some(b) if b == decisive => return Some(decisive),
            None => null = true,
            Some(_) => {}
        }
    }
    if null {
        None
    } else {
        Some(!decisive)
    }
}

/// The three-valued truth of a condition.
pub fn truth(n: &Node, ev: &Event, cx: &mut Scratch) -> Option<bool> {
    match &n.kind {
        NodeKind::And(v) => junction(Junction::And, v.iter().map(|c| truth(c, ev, cx))),
        NodeKind::Or(v) => junction(Junction::Or, v.iter().map(|c| truth(c, ev, cx))),
        NodeKind::Not(x) => truth(x, ev, cx).map(|b| !b),
        NodeKind::MustNot(x) => Some(truth(x, ev, cx) != Some(true)),
        _ => predicate(n, ev, cx).result,
    }
}

/// A leaf test (comparison, `in`, pattern match, presence, or a value used as a condition).
pub fn predicate(n: &Node, ev: &Event, cx: &mut Scratch) -> Outcome {
    clause(cx, |cx| test(n, ev, cx))
}

fn test(n: &Node, ev: &Event, cx: &mut Scratch) -> Outcome {
    match &n.kind {
        // The common case, a field against a literal, without building intermediate lists.
        NodeKind::Compare(op, a, b)
            if matches!((&a.kind, &b.kind), (NodeKind::Field(_, false), NodeKind::Const(_))) =>
        {
            let (NodeKind::Field(f, _), NodeKind::Const(c)) = (&a.kind, &b.kind) else { unreachable!() };
            let v = ev.get(*f);
            compare(*op, if v.is_empty() { &NULL } else { v }, std::slice::from_ref(c))
        }
        NodeKind::Compare(op, a, b) => {
            let (va, vb) = (values(a, ev, cx), values(b, ev, cx));
            // Elasticsearch turns an optional field that does not exist into the literal `null`,
            // so `x == ?missing` is `x == null`, a presence test.
            if matches!(op, CompareOp::Eq | CompareOp::Ne) {
                let absent =
                    |n: &Node, v: &[Value]| matches!(n.kind, NodeKind::Field(_, true)) && v.iter().all(Value::is_null);
                let other = if absent(b, &vb) {
                    Some(&va)
                } else if absent(a, &va) {
                    Some(&vb)
                } else {
                    None
                };
                if let Some(other) = other {
                    let present = other.iter().position(|v| !v.is_null());
                    return Outcome { result: Some(present.is_none() == (*op == CompareOp::Eq)), witness: None };
                }
            }
            compare(*op, &va, &vb)
        }
        NodeKind::CompareVersions(op, a, b) => {
            let (va, vb) = (values(a, ev, cx), values(b, ev, cx));
            compare_with(*op, &va, &vb, |x, y| match (x, y) {
                (Value::Str(x), Value::Str(y)) => Some(crate::mapping::compare_versions(x, y)),
                _ => None,
            })
        }
        NodeKind::IsNull(x, negated) => {
            let v = values(x, ev, cx);
            let present = v.iter().position(|v| !v.is_null());
            Outcome { result: Some(present.is_none() != *negated), witness: present.map(|i| (i, 0)) }
        }
        NodeKind::In(x, set, negated) => {
            let v = values(x, ev, cx);
            // The list entry that matched is looked up only by explanations.
            let o = any(v.iter().enumerate().map(|(i, v)| (set.contains(v, &mut cx.fold), (i, 0))));
            if *negated {
                o.negate()
            } else {
                o
            }
        }
        NodeKind::Match(x, pats) => {
            let v = values(x, ev, cx);
            any(v.iter().enumerate().map(|(i, v)| {
                let (r, p) = match_one(pats, v, &mut cx.fold);
                (r, (i, p))
            }))
        }
        NodeKind::Text(x, q) => {
            let v = values(x, ev, cx);
            any(v.iter().enumerate().map(|(i, v)| match v {
                Value::Str(s) => (Some(q.matches(s, &mut cx.fold)), (i, 0)),
                _ => (None, (i, 0)),
            }))
        }
        NodeKind::And(_) | NodeKind::Or(_) | NodeKind::Not(_) | NodeKind::MustNot(_) => {
            Outcome { result: truth(n, ev, cx), witness: None }
        }
        _ => {
            let v = values(n, ev, cx);
            any(v.iter().enumerate().map(|(i, v)| (if let Value::Bool(b) = v { Some(*b) } else { None }, (i, 0))))
        }
    }
}

pub fn compare(op: CompareOp, a: &[Value], b: &[Value]) -> Outcome {
    compare_with(op, a, b, |x, y| x.compare(y))
}

fn compare_with(
    op: CompareOp,
    a: &[Value],
    b: &[Value],
    order: impl Fn(&Value, &Value) -> Option<Ordering>,
) -> Outcome {
    if a.len().saturating_mul(b.len()) > MAX_COMBINATIONS {
        return Outcome { result: None, witness: None };
    }
    let pairs = a.iter().enumerate().flat_map(|(i, x)| b.iter().enumerate().map(move |(j, y)| (i, x, j, y)));
    match op {
        // `!=` is the negation of "some value is equal".
        CompareOp::Ne => any(pairs.map(|(i, x, j, y)| (x.equals(y), (i, j)))).negate(),
        CompareOp::Eq => any(pairs.map(|(i, x, j, y)| (x.equals(y), (i, j)))),
        _ => any(pairs.map(|(i, x, j, y)| {
            let r = order(x, y).map(|o| match op {
                CompareOp::Lt => o == Ordering::Less,
                CompareOp::Le => o != Ordering::Greater,
                CompareOp::Gt => o == Ordering::Greater,
                _ => o != Ordering::Less,
            });
            (r, (i, j))
        })),
    }
}

/// One value against a pattern list: the result and the index of the pattern that matched.
pub fn match_one(p: &Patterns, v: &Value, scratch: &mut String) -> (Option<bool>, usize) {
    match v {
        Value::Str(s) => match &p.strings {
            StringPatterns::Wildcards(w) if !w.is_empty() => match w.find(s, scratch) {
                Some(i) => (Some(true), i),
                None => (Some(false), 0),
            },
            StringPatterns::Regexes(rs) if !rs.is_empty() => match rs.iter().find(|(_, r)| r.is_match(s.as_ref())) {
                Some((i, _)) => (Some(true), *i),
                None => (Some(false), 0),
            },
            _ => (None, 0),
        },
        Value::Null => (None, 0),
        v if !p.others.is_empty() => {
            let r = p.others.contains(v, scratch);
            let i =
                if r == Some(true) { p.source.iter().position(|s| s.equals(v) == Some(true)).unwrap_or(0) } else { 0 };
            (r, i)
        }
        _ => (None, 0),
    }
}

/// The values of an expression: a field's values (or a single `null` when it has none), or the
/// results of a computation over every combination of its operands' values.
pub fn values<'x, 'a>(n: &'x Node, ev: &'x Event<'a>, cx: &mut Scratch) -> Cow<'x, [Value<'a>]> {
    clause(cx, |cx| computed(n, ev, cx))
}

fn computed<'x, 'a>(n: &'x Node, ev: &'x Event<'a>, cx: &mut Scratch) -> Cow<'x, [Value<'a>]> {
    match &n.kind {
        NodeKind::Const(v) => Cow::Borrowed(std::slice::from_ref(v)),
        NodeKind::Field(f, _) => {
            let v = ev.get(*f);
            Cow::Borrowed(if v.is_empty() { &NULL } else { v })
        }
        NodeKind::Neg(x) => Cow::Owned(values(x, ev, cx).iter().map(Value::negated).collect()),
        NodeKind::Arith(op, a, b) => {
            let f = op.function();
            let args = [values(a, ev, cx), values(b, ev, cx)];
            Cow::Owned(combine(&args, &mut cx.computed, |xs| functions::call(f, false, xs, &[])))
        }
        NodeKind::Call { function, insensitive, args, cidrs } => {
            let args: Vec<_> = args.iter().map(|a| values(a, ev, cx)).collect();
            Cow::Owned(combine(&args, &mut cx.computed, |xs| functions::call(*function, *insensitive, xs, cidrs)))
        }
        _ => Cow::Owned(vec![truth(n, ev, cx).map_or(Value::Null, Value::Bool)]),
    }
}

/// What a value counts against [`MAX_COMPUTED_BYTES`].
fn cost(v: &Value) -> usize {
    std::mem::size_of::<Value>() + v.as_str().map_or(0, str::len)
}

/// Applies `f` to every combination of one value from each list; `null` when there are more than
/// [`MAX_COMBINATIONS`] or the arguments and results exceed the clause's byte budget (`spent`).
fn combine<'a>(
    lists: &[Cow<[Value<'a>]>],
    spent: &mut usize,
    mut f: impl FnMut(&[Value<'a>]) -> Value<'static>,
) -> Vec<Value<'a>> {
    let total = lists.iter().try_fold(1usize, |acc, l| acc.checked_mul(l.len()).filter(|&n| n <= MAX_COMBINATIONS));
    let Some(total) = total else { return vec![Value::Null] };
    let mut out = Vec::with_capacity(total);
    let mut idx = vec![0usize; lists.len()];
    let mut args: Vec<Value<'a>> = lists.iter().map(|l| l[0].clone()).collect();
    for _ in 0..total {
        *spent = spent.saturating_add(args.iter().map(cost).sum());
        if *spent > MAX_COMPUTED_BYTES {
            return vec![Value::Null];
        }
        let v = f(&args);
        *spent = spent.saturating_add(cost(&v));
        out.push(v);
        // Advance the odometer.
        for k in (0..lists.len()).rev() {
            idx[k] += 1;
            if idx[k] < lists[k].len() {
                args[k] = lists[k][idx[k]].clone();
                break;
            }
            idx[k] = 0;
            args[k] = lists[k][0].clone();
        }
    }
    out
}
