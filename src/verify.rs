//! The checks Elasticsearch's verifier makes on a parsed query before running it: function arity,
//! `~` variants, constant `in` lists and patterns, sequence and sample shapes, join-key counts.
//! The parser accepts everything Elasticsearch's grammar accepts; this rejects what it would not run.

use crate::ast::*;
use crate::error::Error;
use crate::span::Span;

type Result = std::result::Result<(), Error>;

pub fn verify(src: &str, q: &Query) -> Result {
    let err = |span: Span, msg: String| Err(Error::verify(src, span, msg));
    match &q.body {
        QueryBody::Event(_) => {}
        QueryBody::Sequence(s) => {
            let total: u32 = s.stages.iter().map(|st| st.runs).sum();
            if total < 2 {
                return err(
                    s.span,
                    format!("a sequence needs at least 2 queries (or one `with runs=N` of at least 2), found {total}"),
                );
            }
            if let Some(m) = s.stages.iter().find(|st| st.missing) {
                if s.maxspan.is_none() {
                    return err(m.span, "missing events (`![…]`) need a sequence `with maxspan=…`".into());
                }
            }
            if s.stages.iter().all(|st| st.missing) {
                return err(s.span, "a sequence needs at least one query that is not a missing event (`![…]`)".into());
            }
            key_counts(src, s.by.len(), s.stages.iter().chain(s.until.iter()))?;
        }
        QueryBody::Sample(s) => {
            if let Some(st) = s.stages.iter().find(|st| st.missing) {
                return err(st.span, "missing events (`![…]`) are only allowed in sequences".into());
            }
            if let Some(st) = s.stages.iter().find(|st| st.runs != 1) {
                return err(st.span, "`with runs` is only allowed in sequences".into());
            }
            if s.stages.len() < 2 {
                return err(s.span, "a sample needs at least 2 queries".into());
            }
            key_counts(src, s.by.len(), s.stages.iter())?;
        }
    }
    for eq in q.event_queries() {
        expr(src, &eq.condition)?;
    }
    Ok(())
}

fn key_counts<'a>(src: &str, shared: usize, stages: impl Iterator<Item = &'a Stage>) -> Result {
    let mut first = None;
    for (i, st) in stages.enumerate() {
        let n = shared + st.by.len();
        match first {
            None => first = Some(n),
            Some(f) if f != n => {
                let s = if n == 1 { "" } else { "s" };
                return Err(Error::verify(
                    src,
                    st.span,
                    format!("query {} has {n} join key{s} but the first has {f}; every query needs the same number of `by` keys", i + 1),
                ));
            }
            _ => {}
        }
    }
    Ok(())
}

fn expr(src: &str, e: &Expr) -> Result {
    let err = |span: Span, msg: String| Err(Error::verify(src, span, msg));
    match &e.kind {
        ExprKind::Literal(_) | ExprKind::Field(_) | ExprKind::Kql { .. } => Ok(()),
        ExprKind::And(v) | ExprKind::Or(v) => v.iter().try_for_each(|x| expr(src, x)),
        ExprKind::Not(x) | ExprKind::MustNot(x) | ExprKind::Neg(x) => expr(src, x),
        ExprKind::Compare(_, a, b) | ExprKind::Arith(_, a, b) => {
            expr(src, a)?;
            expr(src, b)
        }
        ExprKind::In { value, list, .. } => {
            expr(src, value)?;
            match list.iter().find(|x| !matches!(x.kind, ExprKind::Literal(_))) {
                Some(x) => {
                    err(x.span, "only literals are supported in `in` lists in the Elasticsearch dialect of EQL".into())
                }
                None => Ok(()),
            }
        }
        ExprKind::Match { op, value, patterns } => {
            expr(src, value)?;
            if *op != MatchOp::Colon {
                if let Some(p) = patterns.iter().find(|p| !matches!(p.value, Literal::Str(_))) {
                    return err(p.span, format!("`{}` needs string patterns", op.symbol()));
                }
            }
            Ok(())
        }
        ExprKind::Call { function, insensitive, args, name_span } => {
            if *insensitive && !function.has_insensitive_variant() {
                return err(*name_span, format!("`{}` has no case-insensitive (`~`) variant", function.name()));
            }
            let (min, max) = function.arity();
            if args.len() < min || max.is_some_and(|m| args.len() > m) {
                let expected = match max {
                    Some(m) if m == min => {
                        format!("{min} argument{}", if min == 1 { "" } else { "s" })
                    }
                    Some(m) => format!("{min} to {m} arguments"),
                    None => format!("at least {min} arguments"),
                };
                return err(e.span, format!("`{}` takes {expected}, found {}", function.name(), args.len()));
            }
            // Arguments that configure the function must be constants, as in Elasticsearch.
            let constant_from = match function {
                Function::CidrMatch => Some(1),
                Function::Between => Some(3),
                Function::Number => Some(1),
                _ => None,
            };
            if let Some(i) = constant_from {
                if let Some(a) = args.iter().skip(i).find(|a| !is_constant(a)) {
                    return err(a.span, format!("this argument of `{}` must be a literal", function.name()));
                }
            }
            args.iter().try_for_each(|x| expr(src, x))
        }
    }
}

fn is_constant(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Literal(_) => true,
        ExprKind::Neg(x) => is_constant(x),
        _ => false,
    }
}
