//! Unit tests for detection rules, offline: case files beside the rules (`NAME.tests.toml`),
//! a runner that gives results as data, and decisive clause coverage.
//!
//! A condition is decisive in a case when flipping it alone would change the rule's outcome on
//! that case; a rule's coverage is the share of its conditions some case makes decisive.

mod cases;
mod coverage;
mod run;

pub use crate::pack::is_case_file;
pub use cases::{parse_cases, Benign, Case, CaseFile, Events, Excused, Expect, KnownFalsePositive, Settings};
pub use coverage::Condition;
pub use run::{run_rule, Baseline, CaseResult, ConditionResult, Deciding, Files, Loaded, RuleReport};
