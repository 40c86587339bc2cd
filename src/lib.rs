//! eqlite: Elastic EQL detection rules, evaluated anywhere events are.
//!
//! Data flows one way: text → [`parser`] → [`ast`] (with exact spans) → [`verify`] →
//! [`compile`] → [`eval`] over [`event`]s read against a [`ruleset`]'s fields → alerts, and on
//! demand [`explain`]ations. The wasm bindings, the CLI and the Fluent Bit plugin are thin shells
//! over this crate, which knows nothing of them.

pub mod ast;
pub mod diagnostic;
pub mod event;
pub mod explain;
pub mod input;
pub mod mapping;
pub mod matcher;
pub mod parser;
pub mod rule;
pub mod ruleset;
pub mod span;
pub mod value;
pub mod verify;

pub use diagnostic::Diagnostic;
pub use event::{Event, Fields};
pub use explain::Explanation;
pub use parser::{parse_query, parse_query_with, Limits};
pub use rule::Rule;
pub use ruleset::{Alert, Options, RuleSet};
pub mod stream;
pub mod time;
