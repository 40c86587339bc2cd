//! The case-file format (`NAME.tests.toml` beside `NAME.toml`): TOML read into plain data, every
//! error placed at the line and column of the key or value it is about.

use crate::error::{Error, ErrorKind};
use crate::span::Span;
use crate::toml_read::{Doc, Table};
use serde::Serialize;
use std::ops::Range;
use toml::de::DeValue;

/// A case file: the cases of one rule, and its benign baselines.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CaseFile {
    /// Where it came from (a path), for messages.
    pub origin: String,
    /// The `rule_id` the cases are for.
    pub rule_id: String,
    /// Where `rule_id`'s value is in the file.
    #[serde(skip)]
    pub rule_id_span: Span,
    /// File-level settings, under each case's own.
    pub settings: Settings,
    /// The `[[case]]` tables, in order.
    pub cases: Vec<Case>,
    /// The `[[benign]]` tables.
    pub benign: Vec<Benign>,
    /// The `[[excused]]` tables: conditions no event can make decisive, left out of coverage.
    pub excused: Vec<Excused>,
    /// The file's text, so that errors found later (an unknown rule id) can point into it.
    #[serde(skip)]
    pub text: String,
}

/// Optional settings of a case file or of one case.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Settings {
    /// The field holding event time (default: the rule's `timestamp_override`, else `@timestamp`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamp_field: Option<String>,
    /// How late an event may be and still join sequences, in milliseconds (default: no limit,
    /// the case's events are one batch ordered by time).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lateness_ms: Option<u64>,
    /// An Elasticsearch mapping file, relative to the case file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mapping: Option<String>,
}

impl Settings {
    /// These settings, with `base`'s where these have none.
    pub fn over(&self, base: &Settings) -> Settings {
        Settings {
            timestamp_field: self.timestamp_field.clone().or_else(|| base.timestamp_field.clone()),
            lateness_ms: self.lateness_ms.or(base.lateness_ms),
            mapping: self.mapping.clone().or_else(|| base.mapping.clone()),
        }
    }
}

/// One case: events and what the rule must do on them.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Case {
    /// Its name.
    pub name: String,
    /// What the rule must do.
    pub expect: Expect,
    /// The events.
    pub events: Events,
    /// The case's own settings (the file's apply where it has none).
    pub settings: Settings,
    /// The line of the case's `name` in the file (1-based).
    pub line: usize,
}

/// What a rule must do on a case's events.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Expect {
    /// At least one alert.
    Fires,
    /// No alert.
    Silent,
    /// Exactly these alerts, each the 0-based positions of its events in the case, in order.
    Alerts(Vec<Vec<u64>>),
}

impl Expect {
    /// Whether alerts with these event lists meet the expectation.
    pub fn met_by(&self, got: &[Vec<u64>]) -> bool {
        match self {
            Expect::Fires => !got.is_empty(),
            Expect::Silent => got.is_empty(),
            Expect::Alerts(want) => want == got,
        }
    }

    /// Whether the rule should fire.
    pub fn fires(&self) -> bool {
        match self {
            Expect::Fires => true,
            Expect::Silent => false,
            Expect::Alerts(a) => !a.is_empty(),
        }
    }
}

/// A case's events: JSON text in the case file, or a file beside it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Events {
    /// One JSON object, a JSON array of objects, or NDJSON.
    Inline(String),
    /// A JSON or NDJSON file, relative to the case file.
    File(String),
}

/// A benign baseline: no alert of the rule on it, but the known false positives.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Benign {
    /// The events file, relative to the case file.
    pub file: String,
    /// Alerts that are expected, and why.
    pub known_false_positives: Vec<KnownFalsePositive>,
}

/// A condition left out of coverage, with the reason (a clause subsumed by another, which no
/// event can make decisive).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Excused {
    /// The condition's source text as in the query (runs of whitespace compare equal).
    pub clause: String,
    /// Why no case can make it decisive.
    pub reason: String,
    /// Where `clause`'s value is in the case file.
    #[serde(skip)]
    pub span: Span,
}

/// An alert of a benign baseline that is expected.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct KnownFalsePositive {
    /// The alert's events: 0-based positions in the baseline file.
    pub events: Vec<u64>,
    /// Why it is accepted.
    pub reason: String,
}

/// Reads a case file; the error is positioned in `text`.
///
/// ```
/// let text = "rule_id = \"r1\"\n\n[[case]]\nname = \"curl\"\nexpect = \"fires\"\n\
///             events = '{\"event\": {\"category\": \"process\"}, \"process\": {\"name\": \"curl\"}}'\n";
/// let file = eqlite::testing::parse_cases(text, "r1.tests.toml").unwrap();
/// assert_eq!(file.cases[0].expect, eqlite::testing::Expect::Fires);
/// let e = eqlite::testing::parse_cases("rule_id = \"r1\"\n[[case]]\nname = \"x\"\nexpect = \"maybe\"\n", "t").unwrap_err();
/// assert_eq!(e.position().unwrap().line, 4);
/// ```
pub fn parse_cases(text: &str, origin: &str) -> Result<CaseFile, Error> {
    let doc = Doc::parse(text, origin, "TOML", ErrorKind::CaseFile)?;
    let top = doc.root();
    top.only(&["rule_id", "timestamp_field", "lateness", "mapping", "case", "benign", "excused"])?;
    let (rule_id, id_at) = top.str("rule_id")?.ok_or_else(|| doc.error(0..0, "the file has no `rule_id`"))?;
    let mut cases = Vec::new();
    for t in top.tables("case")? {
        t.only(&["name", "expect", "alerts", "events", "events_file", "timestamp_field", "lateness", "mapping"])?;
        let (name, name_at) = t.str("name")?.ok_or_else(|| t.missing("name"))?;
        let alerts = t.get("alerts").map(|v| alerts(&t, v)).transpose()?;
        let expect = match (t.str("expect")?, alerts) {
            (None, Some(a)) => Expect::Alerts(a),
            (None, None) => {
                return Err(
                    t.error(name_at, &format!("case {name:?} has no `expect` (\"fires\" or \"silent\") or `alerts`"))
                )
            }
            (Some((e, at)), alerts) => match (e.as_str(), alerts) {
                ("fires", None) => Expect::Fires,
                ("silent", None) => Expect::Silent,
                ("fires", Some(a)) if !a.is_empty() => Expect::Alerts(a),
                ("silent", Some(a)) if a.is_empty() => Expect::Alerts(a),
                ("fires" | "silent", Some(_)) => {
                    return Err(t.error(at, &format!("case {name:?}: `expect = {e:?}` contradicts its `alerts`")))
                }
                _ => return Err(t.error(at, &format!("`expect` is \"fires\" or \"silent\", not {e:?}"))),
            },
        };
        let events = match (t.str("events")?, t.str("events_file")?) {
            (Some((e, _)), None) => Events::Inline(e),
            (None, Some((f, _))) => Events::File(f),
            (Some(_), Some((_, at))) => {
                return Err(t.error(at, &format!("case {name:?} has both `events` and `events_file`")))
            }
            (None, None) => return Err(t.error(name_at, &format!("case {name:?} has no `events` or `events_file`"))),
        };
        let line = text[..name_at.start.min(text.len())].matches('\n').count() + 1;
        cases.push(Case { name, expect, events, settings: settings(&t)?, line });
    }
    let mut benign = Vec::new();
    for t in top.tables("benign")? {
        t.only(&["file", "known_false_positives"])?;
        let (file, _) = t.str("file")?.ok_or_else(|| t.missing("file"))?;
        let mut known = Vec::new();
        for k in t.tables("known_false_positives")? {
            k.only(&["events", "reason"])?;
            let events = positions(&k, k.get("events").ok_or_else(|| k.missing("events"))?)?;
            let (reason, _) = k.str("reason")?.ok_or_else(|| k.missing("reason"))?;
            known.push(KnownFalsePositive { events, reason });
        }
        benign.push(Benign { file, known_false_positives: known });
    }
    let mut excused = Vec::new();
    for t in top.tables("excused")? {
        t.only(&["clause", "reason"])?;
        let (clause, at) = t.str("clause")?.ok_or_else(|| t.missing("clause"))?;
        let (reason, _) = t.str("reason")?.ok_or_else(|| t.missing("reason"))?;
        excused.push(Excused { clause, reason, span: Span::new(at.start, at.end) });
    }
    Ok(CaseFile {
        origin: origin.to_string(),
        rule_id,
        rule_id_span: Span::new(id_at.start, id_at.end),
        settings: settings(&top)?,
        cases,
        benign,
        excused,
        text: text.to_string(),
    })
}

fn settings(t: &Table) -> Result<Settings, Error> {
    let lateness_ms = match t.str("lateness")? {
        None => None,
        Some((s, at)) => Some(crate::time::parse_duration(&s).map_err(|m| t.error(at, &m))?),
    };
    Ok(Settings {
        timestamp_field: t.str("timestamp_field")?.map(|s| s.0),
        lateness_ms,
        mapping: t.str("mapping")?.map(|s| s.0),
    })
}

type Value<'i> = toml::Spanned<DeValue<'i>>;

fn positions(t: &Table, v: &Value) -> Result<Vec<u64>, Error> {
    let bad = |at: Range<usize>| t.error(at, "expected an array of event positions (0, 1, …)");
    let DeValue::Array(a) = v.get_ref() else { return Err(bad(v.span())) };
    a.iter()
        .map(|e| match e.get_ref() {
            DeValue::Integer(i) => u64::from_str_radix(i.as_str(), i.radix()).map_err(|_| bad(e.span())),
            _ => Err(bad(e.span())),
        })
        .collect()
}

fn alerts(t: &Table, v: &Value) -> Result<Vec<Vec<u64>>, Error> {
    let DeValue::Array(a) = v.get_ref() else {
        return Err(t.error(v.span(), "`alerts` is a list of alerts, each a list of event positions: [[0, 2]]"));
    };
    a.iter().map(|e| positions(t, e)).collect()
}
