//! Detection rules in Elastic's detection-rules TOML format (`[metadata]`, `[rule]`,
//! `[[rule.threat]]`), parsed with a real TOML parser.

use crate::error::{Error, ErrorKind};
use crate::span::Span;
use crate::toml_read::{Doc, Table};
use serde::Serialize;

/// The severity labels detection-rules' schema and Kibana accept; anything else is refused.
pub const SEVERITIES: [&str; 4] = ["low", "medium", "high", "critical"];

/// A rule's metadata and query text. Compiling the query is a rule set's job.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Rule {
    /// `rule_id`.
    pub id: String,
    /// `name`.
    pub name: String,
    /// `description`, trimmed.
    pub description: String,
    /// `severity`: `low`, `medium`, `high` or `critical`.
    pub severity: String,
    /// `risk_score`, 0 to 100.
    pub risk_score: i64,
    /// The query text.
    pub query: String,
    /// `language`: `eql`, or `kuery` (KQL).
    pub language: String,
    /// `index` patterns.
    pub index: Vec<String>,
    /// `tags`.
    pub tags: Vec<String>,
    /// Field holding the event time for this rule (detection-rules' `timestamp_override`).
    pub timestamp_override: Option<String>,
    /// `[[rule.threat]]`: the MITRE ATT&CK mapping.
    pub threat: Vec<Threat>,
    /// Where the rule came from (a file path, `query-0`, …), for messages.
    pub origin: String,
}

/// One `[[rule.threat]]` entry.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Threat {
    /// `MITRE ATT&CK`.
    pub framework: String,
    /// The tactic.
    pub tactic: Option<Reference>,
    /// Its techniques.
    pub technique: Vec<Technique>,
}

/// A MITRE ATT&CK tactic or (sub-)technique: id and name.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Reference {
    /// `TA0007`, `T1613`, `T1552.004`, …
    pub id: String,
    /// Its name.
    pub name: String,
}

/// A MITRE ATT&CK technique with its sub-techniques.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Technique {
    /// `T1613`, …
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its sub-techniques.
    pub subtechnique: Vec<Reference>,
}

impl Rule {
    /// An ad-hoc rule for a bare query (the CLI's `--query`, the page's custom query box).
    pub fn from_query(id: &str, query: &str) -> Rule {
        Rule {
            id: id.to_string(),
            name: id.to_string(),
            severity: "medium".into(),
            risk_score: 47,
            query: query.to_string(),
            language: "eql".into(),
            origin: id.to_string(),
            ..Rule::default()
        }
    }

    /// An ad-hoc rule for a bare KQL query.
    pub fn from_kql(id: &str, query: &str) -> Rule {
        Rule { language: "kuery".into(), ..Rule::from_query(id, query) }
    }

    /// MITRE ATT&CK technique ids, sub-techniques included (`T1059`, `T1059.004`, …).
    pub fn technique_ids(&self) -> Vec<String> {
        let mut ids = Vec::new();
        for t in self.threat.iter().flat_map(|t| &t.technique) {
            ids.push(t.id.clone());
            ids.extend(t.subtechnique.iter().map(|s| s.id.clone()));
        }
        ids
    }

    /// MITRE ATT&CK tactic ids (`TA0007`, …).
    pub fn tactic_ids(&self) -> Vec<String> {
        self.threat.iter().filter_map(|t| t.tactic.as_ref().map(|r| r.id.clone())).collect()
    }
}

/// What reading one rule file gave.
#[derive(Clone, Debug)]
pub enum Loaded {
    /// An EQL rule, or a KQL `query` rule.
    Rule(Box<Rule>),
    /// A valid rule that is not EQL (KQL, ES|QL, machine learning, …): reported, never silently dropped.
    Skipped {
        /// Its `rule_id`.
        id: String,
        /// Its name.
        name: String,
        /// Why it is not run.
        reason: String,
    },
}

/// Parses one detection-rules TOML document. The error is a diagnostic positioned in `text`;
/// a query syntax error is positioned inside the TOML text where the query is written verbatim.
pub fn parse_rule_toml(text: &str, origin: &str) -> Result<Loaded, Error> {
    let doc = Doc::parse(text, origin, "rule TOML", ErrorKind::RuleFile)?;
    let root = doc.root();
    let missing = |what: &str| {
        Error::new(ErrorKind::RuleFile, text, Span::new(0, 0), format!("{origin}: the rule has no `{what}`"))
    };
    let no_table = || Error::new(ErrorKind::RuleFile, text, Span::new(0, 0), format!("{origin}: no `[rule]` table"));
    let r = root.table("rule")?.ok_or_else(no_table)?;
    // Every key is read (and type-checked) first, whatever the language: a malformed file is an
    // error even when the rule would be skipped.
    let threat = r.tables("threat")?.iter().map(read_threat).collect::<Result<Vec<_>, _>>()?;
    let description = r.str("description")?.map(|d| d.0.trim().to_string()).unwrap_or_default();
    let risk_score = r.int("risk_score")?.unwrap_or(0);
    let (index, tags) = (r.strings("index")?, r.strings("tags")?);
    let timestamp_override = r.str("timestamp_override")?.map(|t| t.0);
    let severity = r.str("severity")?;
    let query = r.str("query")?;
    let id = r.str("rule_id")?.ok_or_else(|| missing("rule_id"))?.0;
    let name = r.str("name")?.map_or_else(|| id.clone(), |n| n.0);
    let language = r.str("language")?.map(|l| l.0).unwrap_or_default();
    let kind = r.str("type")?.map(|k| k.0).unwrap_or_default();
    let runs = language == "eql" || (language == "kuery" && kind == "query");
    if !runs {
        let what = match (language.as_str(), kind.as_str()) {
            ("kuery", _) => format!("a KQL `{kind}` rule"),
            ("esql", _) => "an ES|QL rule".to_string(),
            ("lucene", _) => "a Lucene query rule".to_string(),
            (_, "machine_learning") => "a machine-learning rule".to_string(),
            (_, "threshold") | (_, "new_terms") | (_, "threat_match") => {
                format!("a {kind} rule in {language}")
            }
            ("", k) => format!("a `{k}` rule without an EQL query"),
            (l, _) => format!("a `{l}` rule"),
        };
        return Ok(Loaded::Skipped { id, name, reason: format!("{what}, not an EQL or KQL query rule") });
    }
    let severity = match severity {
        None => "medium".to_string(),
        Some((s, _)) if SEVERITIES.contains(&s.as_str()) => s,
        Some((s, at)) => {
            return Err(doc.error(at, &format!("severity must be one of low, medium, high, critical, not {s:?}")));
        }
    };
    // The query is parsed when a rule set compiles it; its errors are then placed in this text.
    let query_text = query.ok_or_else(|| missing("query"))?.0;
    Ok(Loaded::Rule(Box::new(Rule {
        id,
        name,
        description,
        severity,
        risk_score,
        query: query_text,
        language,
        index,
        tags,
        timestamp_override,
        threat,
        origin: origin.to_string(),
    })))
}

fn read_threat(t: &Table) -> Result<Threat, Error> {
    let reference = |t: &Table| -> Result<Reference, Error> {
        let id = t.str("id")?.ok_or_else(|| t.missing("id"))?.0;
        Ok(Reference { id, name: t.str("name")?.map(|n| n.0).unwrap_or_default() })
    };
    let technique = t
        .tables("technique")?
        .iter()
        .map(|x| {
            let r = reference(x)?;
            let subtechnique = x.tables("subtechnique")?.iter().map(reference).collect::<Result<_, _>>()?;
            Ok(Technique { id: r.id, name: r.name, subtechnique })
        })
        .collect::<Result<_, Error>>()?;
    Ok(Threat {
        framework: t.str("framework")?.map(|f| f.0).unwrap_or_default(),
        tactic: t.table("tactic")?.as_ref().map(reference).transpose()?,
        technique,
    })
}

/// Moves a query diagnostic into the TOML text when the query appears there verbatim (literal
/// strings); otherwise keeps query-relative positions and says so.
pub fn locate_in_toml(text: &str, value: std::ops::Range<usize>, query: &str, d: Error, origin: &str) -> Error {
    let raw = text.get(value.clone()).unwrap_or("");
    if let Some(off) = raw.find(query) {
        let at = value.start + off;
        let span = Span::new(d.span().start + at, d.span().end + at);
        return d.map_message(|m| format!("{origin}: {m}")).relocate(text, span);
    }
    let p = d.position().unwrap_or_default();
    d.map_message(|m| format!("{origin}: in the query at {}:{}: {m}", p.line, p.column))
}
