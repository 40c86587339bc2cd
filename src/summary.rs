//! What a person or a tool needs to know about a loaded rule, as plain serialisable data: its
//! metadata, its kind, its MITRE ATT&CK mapping, and the fields it reads.

use crate::rule::Reference;
use serde::Serialize;

/// The shape of a rule's query.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RuleKind {
    /// `category where condition`: one event makes an alert.
    Event,
    /// `sequence …`: ordered events, joined by keys, within a time span.
    Sequence,
    /// `sample …`: unordered events sharing join keys.
    Sample,
}

/// A loaded rule, described.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RuleSummary {
    /// `rule_id`.
    pub rule_id: String,
    /// The rule's name.
    pub name: String,
    /// Its description.
    pub description: String,
    /// `low`, `medium`, `high` or `critical`.
    pub severity: String,
    /// 0 to 100.
    pub risk_score: i64,
    /// The query text.
    pub query: String,
    /// The query language (`eql`).
    pub language: String,
    /// Event, sequence or sample.
    pub kind: RuleKind,
    /// The rule's tags.
    pub tags: Vec<String>,
    /// The index patterns the rule is written for.
    pub index: Vec<String>,
    /// MITRE ATT&CK tactics.
    pub tactics: Vec<Reference>,
    /// MITRE ATT&CK techniques and sub-techniques.
    pub techniques: Vec<Reference>,
    /// Every field the rule reads (conditions, join keys, its timestamp, the category field when
    /// it names a category), sorted.
    pub fields: Vec<String>,
    /// Where the rule came from (a file path, `query-0`, …).
    pub origin: String,
}
