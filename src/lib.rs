//! eqlite: Elastic EQL detection rules, evaluated anywhere events are.
//!
//! Data flows one way: text → [`parser`] → [`ast`] (with exact spans) → [`compile`] → matcher →
//! evaluation → alerts and [`explain`]ations.

pub mod ast;
pub mod diagnostic;
pub mod parser;
pub mod span;

pub use diagnostic::Diagnostic;
pub use parser::{parse_query, parse_query_with, Limits};
pub mod rule;
pub mod verify;
