//! The case-file format (`NAME.tests.toml` beside `NAME.toml`): TOML read into plain data, every
//! error placed at the line and column of the key or value it is about.

use crate::error::{Error, ErrorKind};
use crate::span::Span;
use serde::Serialize;
use toml::de::{DeTable, DeValue};
use toml::Spanned;

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
    let err = |span: Span, msg: String| Error::new(ErrorKind::CaseFile, text, span, format!("{origin}: {msg}"));
    let doc = DeTable::parse(text).map_err(|e| {
        let span = e.span().map_or(Span::new(0, 0), |r| Span::new(r.start, r.end));
        err(span, format!("invalid TOML: {}", e.message().trim_end()))
    })?;
    let r = Reader { err: &err };
    let top = doc.get_ref();
    r.known(top, &["rule_id", "timestamp_field", "lateness", "mapping", "case", "benign", "excused"])?;
    let (rule_id, rule_id_span) =
        r.string(top, "rule_id")?.ok_or_else(|| err(Span::new(0, 0), "the file has no `rule_id`".into()))?;
    let settings = r.settings(top)?;
    let mut cases = Vec::new();
    for (t, span) in r.tables(top, "case")? {
        r.known(t, &["name", "expect", "alerts", "events", "events_file", "timestamp_field", "lateness", "mapping"])?;
        let (name, name_span) = r.string(t, "name")?.ok_or_else(|| err(span, "a case has no `name`".into()))?;
        let alerts = match r.value(t, "alerts") {
            None => None,
            Some(v) => Some(r.alerts(v)?),
        };
        let expect = match (r.string(t, "expect")?, alerts) {
            (None, Some(a)) => Expect::Alerts(a),
            (None, None) => {
                return Err(err(
                    name_span,
                    format!("case {name:?} has no `expect` (\"fires\" or \"silent\") or `alerts`"),
                ))
            }
            (Some((e, s)), alerts) => match (e.as_str(), alerts) {
                ("fires", None) => Expect::Fires,
                ("silent", None) => Expect::Silent,
                ("fires", Some(a)) if !a.is_empty() => Expect::Alerts(a),
                ("silent", Some(a)) if a.is_empty() => Expect::Alerts(a),
                ("fires" | "silent", Some(_)) => {
                    return Err(err(s, format!("case {name:?}: `expect = {e:?}` contradicts its `alerts`")))
                }
                _ => return Err(err(s, format!("`expect` is \"fires\" or \"silent\", not {e:?}"))),
            },
        };
        let events = match (r.string(t, "events")?, r.string(t, "events_file")?) {
            (Some((e, _)), None) => Events::Inline(e),
            (None, Some((f, _))) => Events::File(f),
            (Some(_), Some((_, s))) => {
                return Err(err(s, format!("case {name:?} has both `events` and `events_file`")))
            }
            (None, None) => return Err(err(name_span, format!("case {name:?} has no `events` or `events_file`"))),
        };
        let line = text[..name_span.start.min(text.len())].matches('\n').count() + 1;
        cases.push(Case { name, expect, events, settings: r.settings(t)?, line });
    }
    let mut benign = Vec::new();
    for (t, span) in r.tables(top, "benign")? {
        r.known(t, &["file", "known_false_positives"])?;
        let (file, _) = r.string(t, "file")?.ok_or_else(|| err(span, "a `[[benign]]` table has no `file`".into()))?;
        let mut known = Vec::new();
        for (k, kspan) in r.tables(t, "known_false_positives")? {
            r.known(k, &["events", "reason"])?;
            let events = match r.value(k, "events") {
                Some(v) => r.positions(v)?,
                None => return Err(err(kspan, "a known false positive has no `events`".into())),
            };
            let (reason, _) =
                r.string(k, "reason")?.ok_or_else(|| err(kspan, "a known false positive needs a `reason`".into()))?;
            known.push(KnownFalsePositive { events, reason });
        }
        benign.push(Benign { file, known_false_positives: known });
    }
    let mut excused = Vec::new();
    for (t, span) in r.tables(top, "excused")? {
        r.known(t, &["clause", "reason"])?;
        let (clause, cspan) =
            r.string(t, "clause")?.ok_or_else(|| err(span, "an `[[excused]]` table has no `clause`".into()))?;
        let (reason, _) =
            r.string(t, "reason")?.ok_or_else(|| err(cspan, "an excused clause needs a `reason`".into()))?;
        excused.push(Excused { clause, reason, span: cspan });
    }
    Ok(CaseFile {
        origin: origin.to_string(),
        rule_id,
        rule_id_span,
        settings,
        cases,
        benign,
        excused,
        text: text.to_string(),
    })
}

type Value<'i> = Spanned<DeValue<'i>>;

struct Reader<'e> {
    err: &'e dyn Fn(Span, String) -> Error,
}

fn span_of<T>(v: &Spanned<T>) -> Span {
    Span::new(v.span().start, v.span().end)
}

impl Reader<'_> {
    fn value<'t, 'i>(&self, t: &'t DeTable<'i>, key: &str) -> Option<&'t Value<'i>> {
        t.iter().find(|(k, _)| k.get_ref() == key).map(|(_, v)| v)
    }

    /// Refuses keys the format does not have: a misspelt `expect` must not pass silently.
    fn known(&self, t: &DeTable, keys: &[&str]) -> Result<(), Error> {
        match t.iter().find(|(k, _)| !keys.contains(&k.get_ref().as_ref())) {
            Some((k, _)) => Err((self.err)(
                span_of(k),
                format!("unknown key `{}` (expected one of {})", k.get_ref(), keys.join(", ")),
            )),
            None => Ok(()),
        }
    }

    fn string(&self, t: &DeTable, key: &str) -> Result<Option<(String, Span)>, Error> {
        match self.value(t, key) {
            None => Ok(None),
            Some(v) => match v.get_ref() {
                DeValue::String(s) => Ok(Some((s.to_string(), span_of(v)))),
                other => Err((self.err)(span_of(v), format!("`{key}` must be a string, not {}", other.type_str()))),
            },
        }
    }

    fn tables<'t, 'i>(&self, t: &'t DeTable<'i>, key: &str) -> Result<Vec<(&'t DeTable<'i>, Span)>, Error> {
        let Some(v) = self.value(t, key) else { return Ok(vec![]) };
        let not = || (self.err)(span_of(v), format!("`{key}` must be an array of tables (`[[{key}]]`)"));
        let DeValue::Array(a) = v.get_ref() else { return Err(not()) };
        a.iter()
            .map(|e| match e.get_ref() {
                DeValue::Table(t) => Ok((t, span_of(e))),
                _ => Err(not()),
            })
            .collect()
    }

    fn settings(&self, t: &DeTable) -> Result<Settings, Error> {
        let lateness_ms = match self.string(t, "lateness")? {
            None => None,
            Some((s, span)) => Some(crate::time::parse_duration(&s).map_err(|m| (self.err)(span, m))?),
        };
        Ok(Settings {
            timestamp_field: self.string(t, "timestamp_field")?.map(|s| s.0),
            lateness_ms,
            mapping: self.string(t, "mapping")?.map(|s| s.0),
        })
    }

    fn positions(&self, v: &Value) -> Result<Vec<u64>, Error> {
        let bad = |s: Span| (self.err)(s, "expected an array of event positions (0, 1, …)".into());
        let DeValue::Array(a) = v.get_ref() else { return Err(bad(span_of(v))) };
        a.iter()
            .map(|e| match e.get_ref() {
                DeValue::Integer(i) => i
                    .as_str()
                    .replace('_', "")
                    .parse::<u64>()
                    .ok()
                    .filter(|_| i.radix() == 10)
                    .ok_or_else(|| bad(span_of(e))),
                _ => Err(bad(span_of(e))),
            })
            .collect()
    }

    fn alerts(&self, v: &Value) -> Result<Vec<Vec<u64>>, Error> {
        let DeValue::Array(a) = v.get_ref() else {
            return Err((self.err)(
                span_of(v),
                "`alerts` is a list of alerts, each a list of event positions: [[0, 2]]".into(),
            ));
        };
        a.iter().map(|e| self.positions(e)).collect()
    }
}
