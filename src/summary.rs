//! What a person or a tool needs to know about a loaded rule, as plain serialisable data: its
//! metadata, its kind, its MITRE ATT&CK mapping, and the fields it reads.

use crate::rule::{Reference, Rule};
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

/// Which rules to run, by severity, tag, MITRE ATT&CK id or rule id (the CLI's `--min-severity`,
/// `--tag`, `--rule-id`, `--exclude-rule`). Empty lists select everything.
#[derive(Clone, Debug, Default)]
pub struct RuleFilter {
    /// The lowest severity kept (`low`, `medium`, `high`, `critical`).
    pub min_severity: Option<String>,
    /// Kept if any matches, case-insensitively: a tag, the part of a tag after `: ` (`Execution`
    /// for `Tactic: Execution`), a tactic id, or a technique id (`T1059` takes its
    /// sub-techniques `T1059.004` too).
    pub tags: Vec<String>,
    /// Only these rule ids.
    pub rule_ids: Vec<String>,
    /// Not these rule ids.
    pub exclude: Vec<String>,
}

impl RuleFilter {
    /// Whether the rule passes the filter.
    pub fn keeps(&self, r: &Rule) -> bool {
        let rank = |s: &str| crate::rule::SEVERITIES.iter().position(|x| x.eq_ignore_ascii_case(s));
        if let Some(min) = &self.min_severity {
            if rank(&r.severity) < rank(min) {
                return false;
            }
        }
        if !self.rule_ids.is_empty() && !self.rule_ids.contains(&r.id) {
            return false;
        }
        if self.exclude.contains(&r.id) {
            return false;
        }
        if self.tags.is_empty() {
            return true;
        }
        let techniques = r.technique_ids();
        let tactics = r.tactic_ids();
        self.tags.iter().any(|t| {
            r.tags.iter().any(|tag| {
                tag.eq_ignore_ascii_case(t) || tag.split_once(": ").is_some_and(|(_, v)| v.eq_ignore_ascii_case(t))
            }) || tactics.iter().any(|x| x.eq_ignore_ascii_case(t))
                || techniques.iter().any(|x| {
                    x.eq_ignore_ascii_case(t)
                        || x.split_once('.').is_some_and(|(parent, _)| parent.eq_ignore_ascii_case(t))
                })
        })
    }
}

/// The JSON kinds of the values a field holds in a body of events.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Kinds {
    /// Strings.
    pub string: u64,
    /// Whole numbers.
    pub integer: u64,
    /// Other numbers.
    pub float: u64,
    /// `true` or `false`.
    pub boolean: u64,
    /// Values the field's type refuses (Elasticsearch would not index them; rules never see
    /// them): `"abc"` in a `long` field, say.
    pub refused: u64,
}

/// Every field (dotted path) that occurs in a body of events, with its type and the kinds of
/// its values: what `eqlite fields` compares the rules with.
#[derive(Clone, Debug, Default)]
pub struct FieldCensus {
    types: crate::field_types::FieldTypes,
    fields: std::collections::BTreeMap<String, (Option<crate::field_types::FieldType>, Kinds)>,
    /// Events counted.
    pub events: u64,
}

impl FieldCensus {
    /// An empty census; values are checked against `types` (a rule set's
    /// [`crate::Options::type_tables`]).
    pub fn new(types: crate::field_types::FieldTypes) -> FieldCensus {
        FieldCensus { types, ..FieldCensus::default() }
    }

    /// Counts one event.
    pub fn add(&mut self, event: &serde_json::Value) {
        self.events += 1;
        self.walk(event, &mut String::new());
    }

    fn walk(&mut self, v: &serde_json::Value, path: &mut String) {
        use serde_json::Value as J;
        match v {
            J::Object(o) => {
                for (k, x) in o {
                    let len = path.len();
                    if !path.is_empty() {
                        path.push('.');
                    }
                    path.push_str(k);
                    self.walk(x, path);
                    path.truncate(len);
                }
            }
            J::Array(a) => a.iter().for_each(|x| self.walk(x, path)),
            J::Null => {}
            scalar => {
                if !self.fields.contains_key(path.as_str()) {
                    let ty = self.types.resolve(path).ty;
                    self.fields.insert(path.clone(), (ty, Kinds::default()));
                }
                let (ty, k) = self.fields.get_mut(path.as_str()).expect("inserted");
                let value = match scalar {
                    J::String(s) => {
                        k.string += 1;
                        crate::value::Value::Str(s.as_str().into())
                    }
                    J::Number(n) if n.is_i64() || n.is_u64() => {
                        k.integer += 1;
                        n.as_i64()
                            .map_or(crate::value::Value::Float(n.as_f64().unwrap_or(0.0)), crate::value::Value::Int)
                    }
                    J::Number(n) => {
                        k.float += 1;
                        crate::value::Value::Float(n.as_f64().unwrap_or(0.0))
                    }
                    J::Bool(b) => {
                        k.boolean += 1;
                        crate::value::Value::Bool(*b)
                    }
                    _ => return,
                };
                if ty.is_some_and(|t| t.read(value) == crate::field_types::Read::Malformed) {
                    k.refused += 1;
                }
            }
        }
    }

    /// The kinds of a field's values, if it occurs.
    pub fn get(&self, field: &str) -> Option<Kinds> {
        self.fields.get(field).map(|f| f.1)
    }

    /// How a rule's fields meet the data: those that never occur (the rule can never fire on a
    /// condition that needs them) and those whose values are not of the field's type.
    pub fn gaps(&self, rule: &RuleSummary) -> FieldGaps {
        let mut gaps = FieldGaps { rule_id: rule.rule_id.clone(), name: rule.name.clone(), ..FieldGaps::default() };
        for f in &rule.fields {
            // A field the rule reads as an object (rare) occurs when any field below it does.
            let below = format!("{f}.");
            let occurs = self.fields.contains_key(f)
                || self.fields.range(below.clone()..).next().is_some_and(|(k, _)| k.starts_with(&below));
            if !occurs {
                gaps.missing.push(f.clone());
                continue;
            }
            let Some((Some(ty), k)) = self.fields.get(f) else { continue };
            let fits = |kind: &str| match kind {
                "string" => ty.is_string() || matches!(ty.name(), "ip" | "date" | "date_nanos"),
                "integer" => {
                    ty.integer_range().is_some()
                        || matches!(
                            ty.name(),
                            "double" | "float" | "half_float" | "scaled_float" | "date" | "date_nanos"
                        )
                }
                "float" => matches!(ty.name(), "double" | "float" | "half_float" | "scaled_float"),
                _ => ty.name() == "boolean",
            };
            let found: Vec<(String, u64)> =
                [("string", k.string), ("integer", k.integer), ("float", k.float), ("boolean", k.boolean)]
                    .into_iter()
                    .filter(|&(kind, n)| n > 0 && !fits(kind))
                    .map(|(kind, n)| (kind.to_string(), n))
                    .collect();
            if !found.is_empty() || k.refused > 0 {
                gaps.mistyped.push(Mistyped {
                    field: f.clone(),
                    expected: ty.name().to_string(),
                    found,
                    refused: k.refused,
                });
            }
        }
        gaps
    }
}

/// A rule's fields against the data (see [`FieldCensus::gaps`]).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct FieldGaps {
    /// The rule's `rule_id`.
    pub rule_id: String,
    /// Its name.
    pub name: String,
    /// Fields the rule reads that no event has.
    pub missing: Vec<String>,
    /// Fields whose values are not of the type the rule reads them as.
    pub mistyped: Vec<Mistyped>,
}

/// A field whose values are not of its type.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Mistyped {
    /// The field.
    pub field: String,
    /// Its Elasticsearch type (ECS's, or a mapping's).
    pub expected: String,
    /// The JSON kinds found that are not the type's own (a number in a `keyword` field, a
    /// string in a `long` one), with how many values.
    pub found: Vec<(String, u64)>,
    /// Values the type refuses outright.
    pub refused: u64,
}
