//! Alerts: which rule fired on which events, and the ECS fields that describe the rules behind
//! them, as the shells write them (the CLI's output, the npm package, the Fluent Bit module's
//! tagged records).

use crate::rule::Rule;
use serde::{Deserialize, Serialize};

/// An alert: a rule and the input positions (0-based) of the events that make up the match.
///
/// A single-event rule's alert has one position; a sequence's lists its member events in order
/// (missing-event slots omitted); a sample's, one event per filter.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alert {
    /// The rule's `rule_id`.
    pub rule_id: String,
    /// The rule's name.
    pub rule_name: String,
    /// `low`, `medium`, `high` or `critical`.
    pub severity: String,
    /// 0 to 100.
    pub risk_score: i64,
    /// Input positions of the matched events.
    pub events: Vec<u64>,
}

impl Alert {
    /// The alert of `rule` on the events at `events`.
    pub fn new(rule: &Rule, events: Vec<u64>) -> Alert {
        Alert {
            rule_id: rule.id.clone(),
            rule_name: rule.name.clone(),
            severity: rule.severity.clone(),
            risk_score: rule.risk_score,
            events,
        }
    }
}

/// Elastic's default risk score for a severity label (`low` 21, `medium` 47, `high` 73, `critical`
/// 99; anything else 0): the number ECS's `event.severity` carries.
pub fn severity_number(label: &str) -> i64 {
    match label.to_ascii_lowercase().as_str() {
        "low" => 21,
        "medium" => 47,
        "high" => 73,
        "critical" => 99,
        _ => 0,
    }
}

/// The ECS description of the rules that fired on one event (`rule.*`, `event.severity`,
/// `event.risk_score`, `threat.*`): each rule once, its MITRE ids deduplicated, the severity and
/// risk of the most severe.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct EcsRules {
    /// `rule.id`.
    #[serde(rename = "rule.id")]
    pub rule_id: Vec<String>,
    /// `rule.name`.
    #[serde(rename = "rule.name")]
    pub rule_name: Vec<String>,
    /// `event.severity`: the number of the highest severity label.
    #[serde(rename = "event.severity")]
    pub severity: i64,
    /// The highest severity label.
    #[serde(skip)]
    pub severity_label: String,
    /// `event.risk_score`: the highest risk score.
    #[serde(rename = "event.risk_score")]
    pub risk_score: i64,
    /// `threat.technique.id`: MITRE ATT&CK technique and sub-technique ids.
    #[serde(rename = "threat.technique.id")]
    pub technique_ids: Vec<String>,
    /// `threat.tactic.id`: MITRE ATT&CK tactic ids.
    #[serde(rename = "threat.tactic.id")]
    pub tactic_ids: Vec<String>,
}

impl EcsRules {
    /// The description of `rules` (in alert order; a rule listed twice counts once).
    pub fn of<'r>(rules: impl IntoIterator<Item = &'r Rule>) -> EcsRules {
        let mut e = EcsRules::default();
        let mut top: Option<(i64, i64)> = None;
        for r in rules {
            if e.rule_id.contains(&r.id) {
                continue;
            }
            e.rule_id.push(r.id.clone());
            e.rule_name.push(r.name.clone());
            push_new(&mut e.technique_ids, r.technique_ids());
            push_new(&mut e.tactic_ids, r.tactic_ids());
            let rank = (severity_number(&r.severity), r.risk_score);
            if top.is_none_or(|t| rank >= t) {
                top = Some(rank);
                e.severity_label = r.severity.clone();
            }
            e.risk_score = e.risk_score.max(r.risk_score);
        }
        e.severity = severity_number(&e.severity_label);
        e
    }
}

fn push_new(list: &mut Vec<String>, items: Vec<String>) {
    for i in items {
        if !list.contains(&i) {
            list.push(i);
        }
    }
}
