//! EQL text → [`Query`]: a pre-scan for unterminated literals and nesting, the pest grammar, then
//! the tree builder with Elasticsearch's validation rules.

mod build;
pub(crate) mod errors;
mod grammar;
mod prescan;

use crate::ast::Query;
use crate::error::Error;
use crate::span::Span;
use pest::Parser;

/// Bounds that keep hostile queries from exhausting time or memory.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Longest accepted query text, in bytes.
    pub max_query_bytes: usize,
    /// Deepest nesting of brackets, comments and expression operators. The parser recurses on
    /// brackets: 32 levels need about 512 KiB of stack in release builds (debug builds: 8x), which
    /// fits the 1 MiB stack of the wasm builds; detection rules nest 8 levels at most.
    pub max_depth: usize,
    /// Most values in one `in`/pattern list, function call or `and`/`or` chain.
    pub max_list: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits { max_query_bytes: 1 << 20, max_depth: 32, max_list: 65_536 }
    }
}

/// Parses one EQL query with the default [`Limits`].
pub fn parse_query(src: &str) -> Result<Query, Error> {
    parse_query_with(src, &Limits::default())
}

/// Parses a query within the given limits.
pub fn parse_query_with(src: &str, limits: &Limits) -> Result<Query, Error> {
    check_size(src, limits)?;
    prescan::prescan(src, limits)?;
    let pairs = grammar::EqlParser::parse(grammar::Rule::query, src).map_err(|e| errors::from_pest(src, e))?;
    build::Builder { src, limits }.query(pairs)
}

/// Refuses a query text that is too long or empty (EQL's and KQL's parsers alike).
pub(crate) fn check_size(src: &str, limits: &Limits) -> Result<(), Error> {
    if src.len() > limits.max_query_bytes {
        return Err(Error::limit(
            src,
            Span::new(limits.max_query_bytes, src.len()),
            format!("the query is {} bytes long; the limit is {}", src.len(), limits.max_query_bytes),
        ));
    }
    if src.trim().is_empty() {
        return Err(Error::parse(src, Span::new(0, src.len()), "the query is empty"));
    }
    Ok(())
}
