//! The conditions of a query, each with the mutant that flips it: decisive clause coverage.
//!
//! A condition is *decisive* in a case when flipping it alone changes the rule's outcome on that
//! case (the alerts, and for sequences their events). Flipping is done on the syntax tree, and the
//! mutant is compiled and run like the rule itself, so the definition holds for every construct
//! the engine runs: a condition is negated (`not (…)`, three-valued: a condition that is null in
//! every case is never decisive); a sequence or sample stage has its whole condition negated; a
//! join key is removed; `until` is removed; `maxspan` is removed; `with runs=N` becomes N-1.

use crate::ast::{Expr, ExprKind, MatchOp, Query, QueryBody, Stage};
use crate::span::{SourceMap, Span};
use serde::Serialize;

/// One condition of a rule's query.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Condition {
    /// `comparison`, `in`, `:`, `like`, `regex`, `function`, `field`, `not`, `stage`,
    /// `missing event`, `join key`, `until`, `maxspan`, `runs`, or KQL's `field query`.
    pub kind: &'static str,
    /// Its source text.
    pub text: String,
    /// Byte span in the query.
    pub start: usize,
    /// End of the span (bytes, exclusive).
    pub end: usize,
    /// 1-based line in the query.
    pub line: usize,
    /// 1-based column (characters) in the query.
    pub column: usize,
}

/// At most this many conditions are flipped: each flip is a copy of the query, compiled and run
/// on every case, so a query of thousands of clauses (machine-made, or hostile) is not covered.
pub(crate) const MAX_CONDITIONS: usize = 1000;

/// How many conditions `mutants` would list, without building them.
pub(crate) fn count(q: &Query) -> usize {
    fn expr(e: &Expr) -> usize {
        let own = usize::from(kind_of(e).is_some());
        own + match &e.kind {
            ExprKind::And(v) | ExprKind::Or(v) => v.iter().map(expr).sum(),
            ExprKind::Not(x) | ExprKind::MustNot(x) => expr(x),
            _ => 0,
        }
    }
    q.event_queries().iter().map(|e| expr(&e.condition) + 4).sum()
}

/// Each condition of `q`, in source order, with the query that flips it.
pub(crate) fn mutants(q: &Query, src: &str) -> Vec<(Condition, Query)> {
    let map = SourceMap::new(src);
    let mut out: Vec<(&'static str, Span, Query)> = Vec::new();
    match &q.body {
        QueryBody::Event(e) => {
            walk(
                &e.condition,
                &|c| {
                    let mut m = q.clone();
                    if let QueryBody::Event(e) = &mut m.body {
                        e.condition = c;
                    }
                    m
                },
                &mut out,
            );
        }
        QueryBody::Sequence(_) | QueryBody::Sample(_) => stage_mutants(q, &mut out),
    }
    out.sort_by_key(|(_, s, _)| (s.start, std::cmp::Reverse(s.end)));
    out.into_iter()
        .map(|(kind, span, m)| {
            let lc = map.line_col(span.start);
            let text = span.text(src).to_string();
            (Condition { kind, text, start: span.start, end: span.end, line: lc.line, column: lc.column }, m)
        })
        .collect()
}

/// The stages (and `until`) of a sequence or sample, mutably, in order.
fn stages_mut(q: &mut Query) -> (Vec<&mut Stage>, Option<&mut Stage>) {
    match &mut q.body {
        QueryBody::Sequence(s) => (s.stages.iter_mut().collect(), s.until.as_mut()),
        QueryBody::Sample(s) => (s.stages.iter_mut().collect(), None),
        QueryBody::Event(_) => (vec![], None),
    }
}

fn stage_mutants(q: &Query, out: &mut Vec<(&'static str, Span, Query)>) {
    let (stages, until, by) = match &q.body {
        QueryBody::Sequence(s) => (&s.stages, s.until.as_ref(), &s.by),
        QueryBody::Sample(s) => (&s.stages, None, &s.by),
        QueryBody::Event(_) => return,
    };
    let all: Vec<&Stage> = stages.iter().chain(until).collect();
    for (k, st) in all.iter().enumerate() {
        let at = |q: &mut Query, f: &dyn Fn(&mut Stage)| {
            let (mut v, u) = stages_mut(q);
            match v.get_mut(k) {
                Some(s) => f(s),
                None => f(u.expect("the until stage")),
            }
        };
        let is_until = until.is_some() && k == all.len() - 1;
        if !is_until {
            let mut m = q.clone();
            at(&mut m, &|s| s.query.condition = negate(s.query.condition.clone()));
            out.push((if st.missing { "missing event" } else { "stage" }, st.span, m));
        }
        if st.runs > 1 {
            let mut m = q.clone();
            at(&mut m, &|s| s.runs -= 1);
            out.push(("runs", st.span, m));
        }
        walk(
            &st.query.condition,
            &|c| {
                let mut m = q.clone();
                at(&mut m, &|s| s.query.condition = c.clone());
                m
            },
            out,
        );
    }
    if let (Some(u), QueryBody::Sequence(_)) = (until, &q.body) {
        let mut m = q.clone();
        if let QueryBody::Sequence(s) = &mut m.body {
            s.until = None;
        }
        out.push(("until", u.span, m));
    }
    if let QueryBody::Sequence(s) = &q.body {
        if let Some(d) = s.maxspan {
            let mut m = q.clone();
            if let QueryBody::Sequence(s) = &mut m.body {
                s.maxspan = None;
            }
            out.push(("maxspan", d.span, m));
        }
    }
    // Join keys: the query's `by` first, then each stage's, position by position.
    for (i, f) in by.iter().enumerate() {
        let mut m = q.clone();
        match &mut m.body {
            QueryBody::Sequence(s) => drop(s.by.remove(i)),
            QueryBody::Sample(s) => drop(s.by.remove(i)),
            QueryBody::Event(_) => {}
        }
        out.push(("join key", f.span, m));
    }
    for (i, f) in all.first().map_or(&[][..], |s| &s.by[..]).iter().enumerate() {
        let mut m = q.clone();
        let (v, u) = stages_mut(&mut m);
        for s in v.into_iter().chain(u) {
            if i < s.by.len() {
                s.by.remove(i);
            }
        }
        out.push(("join key", f.span, m));
    }
}

fn negate(e: Expr) -> Expr {
    let span = e.span;
    Expr { kind: ExprKind::Not(Box::new(e)), span }
}

fn kind_of(e: &Expr) -> Option<&'static str> {
    Some(match &e.kind {
        ExprKind::Compare(..) => "comparison",
        ExprKind::In { .. } => "in",
        ExprKind::Match { op: MatchOp::Colon, .. } => ":",
        ExprKind::Match { op: MatchOp::Like { .. }, .. } => "like",
        ExprKind::Match { op: MatchOp::Regex { .. }, .. } => "regex",
        ExprKind::Call { .. } => "function",
        ExprKind::Field(_) => "field",
        ExprKind::Not(_) | ExprKind::MustNot(_) => "not",
        ExprKind::Kql { .. } => "field query",
        ExprKind::And(_) | ExprKind::Or(_) | ExprKind::Literal(_) | ExprKind::Arith(..) | ExprKind::Neg(_) => {
            return None
        }
    })
}

/// Every condition below `e` (`e` included), with `rebuild` putting a replacement of `e` back
/// into the whole query.
fn walk(e: &Expr, rebuild: &dyn Fn(Expr) -> Query, out: &mut Vec<(&'static str, Span, Query)>) {
    if let Some(kind) = kind_of(e) {
        out.push((kind, e.span, rebuild(negate(e.clone()))));
    }
    match &e.kind {
        ExprKind::And(v) | ExprKind::Or(v) => {
            let and = matches!(e.kind, ExprKind::And(_));
            for (i, c) in v.iter().enumerate() {
                walk(
                    c,
                    &|x| {
                        let mut v = v.clone();
                        v[i] = x;
                        rebuild(Expr { kind: if and { ExprKind::And(v) } else { ExprKind::Or(v) }, span: e.span })
                    },
                    out,
                );
            }
        }
        ExprKind::Not(x) => walk(x, &|y| rebuild(Expr { kind: ExprKind::Not(Box::new(y)), span: e.span }), out),
        ExprKind::MustNot(x) => walk(x, &|y| rebuild(Expr { kind: ExprKind::MustNot(Box::new(y)), span: e.span }), out),
        _ => {}
    }
}
