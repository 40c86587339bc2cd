//! The matcher: the compiled form of queries and everything that reads it.
//!
//! [`node`] is the bottom: the data types of a compiled event query. [`compile`] builds them from
//! the AST; [`eval`] evaluates them on an event with [`functions`], [`wildcard`] patterns,
//! [`lucene`] regexes, [`cidr`] blocks and
//! [`text`] (analysed `text` fields, for KQL); [`prefilter`] indexes them so that rules that cannot
//! match an event are not evaluated; [`query`] holds compiled sequences and samples. Every import
//! points down that list, never back up.

pub mod cidr;
pub mod compile;
pub mod eval;
pub mod functions;
pub mod lucene;
pub mod node;
pub mod prefilter;
pub mod query;
pub mod text;
pub mod wildcard;
