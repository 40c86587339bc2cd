//! KQL (Kibana Query Language) text → [`Query`]: the pest grammar `kql.pest` beside this file,
//! then a tree builder onto the same syntax tree as EQL. A KQL query is an event query over any
//! category whose condition uses two node kinds of its own: [`ExprKind::MustNot`] (KQL's `not`)
//! and [`ExprKind::Kql`] (`field: value`, compiled by the field's type).

mod build;
mod grammar;

#[cfg(doc)]
use crate::ast::ExprKind;
use crate::ast::{Category, EventQuery, Query, QueryBody};
use crate::error::Error;
use crate::parser::{parse_query_with, Limits};
use crate::rule::Rule;
use crate::span::Span;
use pest::Parser;

/// Parses a rule's query in its language (`eql`, or `kuery`: KQL) with the default [`Limits`].
pub fn parse_rule_query(rule: &Rule) -> Result<Query, Error> {
    parse_rule_query_with(rule, &Limits::default())
}

/// Parses a rule's query in its language within the given limits.
pub fn parse_rule_query_with(rule: &Rule, limits: &Limits) -> Result<Query, Error> {
    if rule.language == "kuery" {
        parse_kql_with(&rule.query, limits)
    } else {
        parse_query_with(&rule.query, limits)
    }
}

/// Parses one KQL query within the given limits.
pub fn parse_kql_with(src: &str, limits: &Limits) -> Result<Query, Error> {
    crate::parser::check_size(src, limits)?;
    depth_check(src, limits)?;
    let pairs = grammar::KqlParser::parse(grammar::Rule::query, src).map_err(|e| build::from_pest(src, e))?;
    let condition = build::Builder { src }.query(pairs)?;
    let span = condition.span;
    Ok(Query {
        body: QueryBody::Event(EventQuery {
            category: Category::Any(Span::new(span.start, span.start)),
            condition,
            span,
        }),
        pipes: vec![],
        span,
    })
}

/// Parentheses and braces nest the parser's recursion: bounded before pest runs, as for EQL.
fn depth_check(src: &str, limits: &Limits) -> Result<(), Error> {
    let (mut depth, mut quoted, mut escaped) = (0usize, false, false);
    for (i, c) in src.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '"' => quoted = !quoted,
            '(' | '{' if !quoted => {
                depth += 1;
                if depth > limits.max_depth {
                    return Err(Error::limit(
                        src,
                        Span::new(i, i + 1),
                        format!("the query nests more than {} levels deep", limits.max_depth),
                    ));
                }
            }
            ')' | '}' if !quoted => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}
