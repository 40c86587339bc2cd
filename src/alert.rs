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

/// What the ECS alert documents of one alert need besides the rule: the source events and
/// how to read them.
pub struct EcsContext<'a> {
    /// The field types source values are written as (a rule set's [`crate::Options::type_tables`]).
    pub types: &'a crate::field_types::FieldTypes,
    /// The field holding an event's time (it becomes `kibana.alert.original_time`).
    pub timestamp_field: &'a str,
    /// When the alert was made (`@timestamp`), RFC 3339.
    pub now: &'a str,
}

/// One member event of an alert: its JSON and an id naming where it came from (Kibana's
/// `kibana.alert.ancestors[].id` is the source document's `_id`; a file and line here).
pub struct EcsMember<'a> {
    /// The event as read.
    pub event: &'a serde_json::Value,
    /// Where it came from.
    pub id: String,
}

/// The documents Kibana's detection engine would write to `.alerts-security.alerts-*` for an
/// alert of `rule` on `members`: one for an event rule; for a sequence or sample, one
/// building-block alert per member event, then the alert that groups them. Each carries the
/// `kibana.alert.*` fields (flat, as Kibana writes them), the rule's `threat` mapping,
/// `event.kind: "signal"`, and the source event's fields written as their types read them (a
/// numeric string in a `long` field becomes the number); the original `event.*` fields are kept
/// under `kibana.alert.original_event`. `uuid` is the alert's id; building blocks add `-N`.
pub fn ecs_alert_documents(
    rule: &Rule,
    kind: crate::summary::RuleKind,
    members: &[EcsMember],
    cx: &EcsContext,
    uuid: &str,
) -> Vec<serde_json::Map<String, serde_json::Value>> {
    use serde_json::{json, Map, Value as J};
    let threat: Vec<J> = rule
        .threat
        .iter()
        .map(|t| {
            let mut o = Map::new();
            o.insert("framework".into(), json!(if t.framework.is_empty() { "MITRE ATT&CK" } else { &t.framework }));
            if let Some(r) = &t.tactic {
                o.insert("tactic".into(), json!({"id": r.id, "name": r.name}));
            }
            let techniques: Vec<J> = t
                .technique
                .iter()
                .map(|x| {
                    let subs: Vec<J> = x.subtechnique.iter().map(|s| json!({"id": s.id, "name": s.name})).collect();
                    json!({"id": x.id, "name": x.name, "subtechnique": subs})
                })
                .collect();
            o.insert("technique".into(), J::Array(techniques));
            J::Object(o)
        })
        .collect();
    let base = |doc: &mut Map<String, J>, id: &str, depth: u64| {
        doc.insert("@timestamp".into(), json!(cx.now));
        doc.insert("event.kind".into(), json!("signal"));
        for (k, v) in [
            ("kibana.alert.uuid", json!(id)),
            ("kibana.alert.status", json!("active")),
            ("kibana.alert.workflow_status", json!("open")),
            ("kibana.alert.depth", json!(depth)),
            ("kibana.alert.severity", json!(rule.severity)),
            ("kibana.alert.risk_score", json!(rule.risk_score as f64)),
            ("kibana.alert.rule.uuid", json!(rule.id)),
            ("kibana.alert.rule.rule_id", json!(rule.id)),
            ("kibana.alert.rule.name", json!(rule.name)),
            ("kibana.alert.rule.description", json!(rule.description)),
            ("kibana.alert.rule.severity", json!(rule.severity)),
            ("kibana.alert.rule.risk_score", json!(rule.risk_score as f64)),
            ("kibana.alert.rule.tags", json!(rule.tags)),
            ("kibana.alert.rule.type", json!("eql")),
            ("kibana.alert.rule.rule_type_id", json!("siem.eqlRule")),
            ("kibana.alert.rule.category", json!("Event Correlation Rule")),
            ("kibana.alert.rule.consumer", json!("siem")),
            ("kibana.alert.rule.producer", json!("siem")),
            ("kibana.space_ids", json!(["default"])),
        ] {
            doc.insert(k.into(), v);
        }
        if !threat.is_empty() {
            doc.insert("threat".into(), J::Array(threat.clone()));
        }
    };
    let reason = |ev: Option<&J>| {
        let category = ev.and_then(|e| lookup(e, "event.category")).map(|c| match c {
            J::Array(a) => a.iter().filter_map(J::as_str).collect::<Vec<_>>().join(", "),
            c => c.as_str().unwrap_or_default().to_string(),
        });
        let what = category.filter(|c| !c.is_empty()).map_or("event".to_string(), |c| format!("{c} event"));
        format!("{what} created {} alert {}.", rule.severity, rule.name)
    };
    let member_doc = |m: &EcsMember, id: &str, depth: u64| {
        let mut doc = Map::new();
        let mut typed = typed_json(m.event, "", cx.types);
        if let J::Object(o) = &mut typed {
            if let Some(J::Object(ev)) = o.remove("event") {
                doc.insert("kibana.alert.original_event".into(), J::Object(ev));
            }
            o.remove("@timestamp");
            doc.extend(std::mem::take(o));
        }
        if let Some(t) = lookup(m.event, cx.timestamp_field) {
            doc.insert("kibana.alert.original_time".into(), t.clone());
        }
        doc.insert("kibana.alert.ancestors".into(), json!([{"id": m.id, "type": "event", "depth": 0}]));
        doc.insert("kibana.alert.reason".into(), json!(reason(Some(m.event))));
        base(&mut doc, id, depth);
        doc
    };
    if kind == crate::summary::RuleKind::Event && members.len() == 1 {
        return vec![member_doc(&members[0], uuid, 1)];
    }
    let mut out: Vec<Map<String, J>> = members
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let mut doc = member_doc(m, &format!("{uuid}-{i}"), 1);
            doc.insert("kibana.alert.building_block_type".into(), json!("default"));
            doc.insert("kibana.alert.group.id".into(), json!(uuid));
            doc.insert("kibana.alert.group.index".into(), json!(i));
            doc
        })
        .collect();
    // The grouping alert keeps the source fields every member shares, as Kibana's does.
    let mut shell = out.first().cloned().unwrap_or_default();
    shell.retain(|k, _| !k.starts_with("kibana."));
    for d in &out[1..] {
        shell = match intersection(&J::Object(shell), &J::Object(d.clone())) {
            Some(J::Object(o)) => o,
            _ => Map::new(),
        };
    }
    shell.insert(
        "kibana.alert.ancestors".into(),
        J::Array(out.iter().map(|d| json!({"id": d["kibana.alert.uuid"], "type": "signal", "depth": 1})).collect()),
    );
    shell.insert("kibana.alert.group.id".into(), json!(uuid));
    if let Some(t) = members.first().and_then(|m| lookup(m.event, cx.timestamp_field)) {
        shell.insert("kibana.alert.original_time".into(), t.clone());
    }
    shell.insert(
        "kibana.alert.reason".into(),
        json!(format!("sequence created {} alert {}.", rule.severity, rule.name)),
    );
    base(&mut shell, uuid, 2);
    out.push(shell);
    out
}

/// What two JSON values share: equal values, or the keys of two objects whose values share
/// something (recursively), as Kibana's `objectPairIntersection` finds them.
fn intersection(a: &serde_json::Value, b: &serde_json::Value) -> Option<serde_json::Value> {
    use serde_json::Value as J;
    match (a, b) {
        (J::Object(x), J::Object(y)) => {
            let o: serde_json::Map<String, J> =
                x.iter().filter_map(|(k, v)| Some((k.clone(), intersection(v, y.get(k)?)?))).collect();
            (!o.is_empty()).then_some(J::Object(o))
        }
        _ => (a == b).then(|| a.clone()),
    }
}

/// The value at a dotted path of a JSON event, through nested objects or dotted keys.
pub fn lookup<'v>(v: &'v serde_json::Value, path: &str) -> Option<&'v serde_json::Value> {
    let o = v.as_object()?;
    if let Some(x) = o.get(path) {
        return Some(x);
    }
    let mut at = 0;
    while let Some(i) = path[at..].find('.') {
        let (head, rest) = (&path[..at + i], &path[at + i + 1..]);
        if let Some(x) = o.get(head).and_then(|x| lookup(x, rest)) {
            return Some(x);
        }
        at += i + 1;
    }
    None
}

/// A JSON event with every scalar written as its field's type reads it (see
/// [`crate::FieldType::read`]); values a type refuses are kept as written, as `_source` keeps them.
pub fn typed_json(v: &serde_json::Value, path: &str, types: &crate::field_types::FieldTypes) -> serde_json::Value {
    use crate::value::Value;
    use serde_json::Value as J;
    match v {
        J::Object(o) => J::Object(
            o.iter()
                .map(|(k, x)| {
                    let p = if path.is_empty() { k.clone() } else { format!("{path}.{k}") };
                    (k.clone(), typed_json(x, &p, types))
                })
                .collect(),
        ),
        J::Array(a) => J::Array(a.iter().map(|x| typed_json(x, path, types)).collect()),
        J::Null => J::Null,
        scalar => {
            let Some(ty) = types.resolve(path).ty else { return scalar.clone() };
            let value = match scalar {
                J::Bool(b) => Value::Bool(*b),
                J::Number(n) => n.as_i64().map_or_else(|| Value::Float(n.as_f64().unwrap_or(0.0)), Value::Int),
                J::String(s) => Value::Str(s.as_str().into()),
                _ => return scalar.clone(),
            };
            match ty.read(value) {
                crate::field_types::Read::Value(x) => serde_json::to_value(&x).unwrap_or(J::Null),
                crate::field_types::Read::Null => J::Null,
                crate::field_types::Read::Malformed => scalar.clone(),
            }
        }
    }
}
