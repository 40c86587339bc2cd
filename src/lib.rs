//! eqlite: Elastic EQL detection rules, evaluated anywhere events are.
//!
//! eqlite parses the Elasticsearch dialect of EQL completely, compiles rules into a compact
//! matcher, evaluates JSON events with Elasticsearch's semantics (multi-valued fields,
//! three-valued logic, case rules, sequences, samples) and explains every clause of its decision.
//!
//! # Quickstart
//!
//! ```
//! use eqlite::{Pack, RuleSet, Stream, StreamOptions};
//!
//! // A rule set: the embedded kubelet pack, and a query of our own.
//! let mut rules = RuleSet::default();
//! assert!(rules.load(&Pack::kubelet()).is_ok());
//! rules.add_query("curl-to-kubelet", r#"process where process.name == "curl" and process.args : "*:10250*""#)?;
//!
//! // Events are read against the fields the rules need (JSON text, NDJSON lines, …).
//! let event = rules.read_json(
//!     r#"{"@timestamp": "2026-12-01T10:00:00Z", "event": {"category": "process"},
//!         "process": {"name": "curl", "args": ["curl", "-k", "https://10.0.0.7:10250/pods"]}}"#,
//! )?;
//!
//! // A stream keeps sequence state across events; each push returns the alerts it completes.
//! let mut stream = Stream::new(&rules, StreamOptions::default());
//! let alerts = stream.push(&rules, &event, 0);
//! assert_eq!(alerts.len(), 1);
//! assert_eq!(alerts[0].rule_id, "curl-to-kubelet");
//! assert_eq!(alerts[0].events, [0]);
//!
//! // Why it fired: every clause with its result and the value that decided it.
//! let i = rules.position("curl-to-kubelet").unwrap();
//! let why = &rules.explain(i, &event)[0];
//! assert_eq!(why.result, Some(true));
//! let args = why.children[1].children.iter().find(|c| c.field.as_deref() == Some("process.args")).unwrap();
//! assert_eq!(args.reason, r#""https://10.0.0.7:10250/pods" matched "*:10250*""#);
//! # Ok::<(), eqlite::Error>(())
//! ```
//!
//! # Structure
//!
//! Data flows one way: text → parser → [`ast`] (with exact spans) → verify → matcher (compiled
//! nodes, evaluation, prefilter) → [`RuleSet`] → [`Stream`] → [`Alert`]s, and on demand
//! [`Explanation`]s. The CLI, the npm package and the Fluent Bit module are thin shells over this
//! crate, which knows nothing of them.

#![forbid(unsafe_code)]
// The internals feature exposes undocumented engine types to this repository's own tools.
#![cfg_attr(not(feature = "internals"), warn(missing_docs))]

mod alert;
pub mod ast;
mod error;
mod event;
mod explain;
mod field_types;
pub mod input;
mod kql;
pub mod mapping;
mod matcher;
mod pack;
mod parser;
mod rule;
mod ruleset;
mod span;
mod stream;
mod summary;
mod synth;
pub mod testing;
mod time;
mod toml_read;
mod value;
mod verify;

pub use alert::{
    ecs_alert_documents, lookup as json_lookup, severity_number, typed_json, Alert, EcsContext, EcsMember, EcsRules,
};
pub use error::{render_all, Error, ErrorKind, Position};
pub use event::Event;
pub use explain::{Decision, Explanation, JoinKey, StageExplanation};
pub use field_types::{float_text, FieldType, FieldTypes, Read, Resolved, TypeTable};
pub use kql::{parse_rule_query, parse_rule_query_with};
pub use pack::{case_files, files_under, toml_files, LoadReport, Pack, RuleFile, Skipped};
pub use parser::{parse_query, parse_query_with, Limits};

pub use rule::{parse_rule_toml, Loaded, Reference, Rule, Technique, Threat, SEVERITIES};
pub use ruleset::{Options, RuleSet};
pub use span::{Location, Span};
pub use stream::{
    run_all, sequence_progress, FilledStage, KeyProgress, Restored, SequenceProgress, Stats, Stop, Stream,
    StreamOptions, SNAPSHOT_VERSION,
};
pub use summary::{FieldCensus, FieldGaps, Kinds, Mistyped, RuleFilter, RuleKind, RuleSummary};
pub use synth::{synthesize, NearMiss, Synthesis, Unsupported};
pub use time::{parse_duration, rfc3339, Nanos};
pub use value::Value;

/// The engine's internals, for the fuzz targets, benchmarks and white-box tests of this
/// repository. Not a stable API.
#[cfg(feature = "internals")]
#[doc(hidden)]
pub mod internals {
    pub use crate::event::{FieldId, Fields};
    pub use crate::matcher::cidr::Cidr;
    pub use crate::matcher::eval::{self, Scratch};
    pub use crate::matcher::node::{self, EventMatcher};
    pub use crate::matcher::{functions, lucene, query, wildcard};
    pub use crate::ruleset::{Body, CompiledRule};
    pub use crate::time::parse_str as parse_time;
    pub use crate::verify::verify;

    /// The compiled rules of a rule set.
    pub fn compiled(rs: &crate::RuleSet) -> &[CompiledRule] {
        rs.compiled()
    }

    /// The field table of a rule set.
    pub fn fields(rs: &crate::RuleSet) -> &Fields {
        rs.fields()
    }

    /// A stream snapshot around any body (its header and checksum added), so that fuzzing reaches
    /// the decoding of the body itself.
    pub fn snapshot_frame(body: &[u8]) -> Vec<u8> {
        crate::stream::frame(body)
    }

    /// Single-event rules that match, with the caller's buffers (the hot path of benchmarks).
    pub fn matches_with(rs: &crate::RuleSet, ev: &crate::Event, cx: &mut Scratch) -> Vec<usize> {
        let mut out = rs.matching_with(ev, cx);
        out.retain(|&(i, _)| matches!(rs.compiled()[i].body, Body::Event(_)));
        out.into_iter().map(|(i, _)| i).collect()
    }

    /// How many event queries (rules and sequence stages) the prefilter lets through to full
    /// evaluation for this event.
    pub fn evaluated(rs: &crate::RuleSet, ev: &crate::Event, cx: &mut Scratch) -> usize {
        rs.evaluated_with(ev, cx)
    }
}
