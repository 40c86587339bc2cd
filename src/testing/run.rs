//! Running a rule's cases: each on a fresh engine with only its events, then once per flipped
//! condition (see `coverage`) to find the conditions each case makes decisive.

use super::cases::{CaseFile, Events, Expect, KnownFalsePositive, Settings};
use super::coverage::{mutants, Condition};
use crate::ast::Query;
use crate::error::{Error, ErrorKind};
use crate::explain::Explanation;
use crate::rule::Rule;
use crate::ruleset::{Options, RuleSet};
use crate::stream::{Stream, StreamOptions};
use serde::Serialize;

/// A file a case names (events, a mapping, a baseline), as the shell found it.
#[derive(Clone, Debug)]
pub struct Loaded {
    /// What identifies the file (a canonical path): a baseline named twice is run once.
    pub key: String,
    /// Its text.
    pub text: String,
}

/// The files a case file names (events, mappings, baselines), by their paths as written there; an
/// error says why one could not be had. A shell without files refuses them.
pub trait Files {
    /// The file at `path`.
    fn read(&mut self, path: &str) -> Result<Loaded, String>;

    /// The fields of the Elasticsearch mapping at `path` (a shell that reads mappings returns
    /// `eqlite::mapping::from_es_json` of the file; the npm package leaves that reader out).
    fn mapping(&mut self, path: &str) -> Result<Vec<crate::mapping::MappedField>, String> {
        Err(format!("{path}: mappings are not read here"))
    }
}

/// A benign corpus given to the runner directly (`eqlite test --benign FILE`).
#[derive(Clone, Debug)]
pub struct Baseline {
    /// The name used in reports (the path as given).
    pub name: String,
    /// The file, read.
    pub file: Loaded,
}

/// A rule's cases and baselines, run, with their coverage.
#[derive(Clone, Debug, Serialize)]
pub struct RuleReport {
    /// The rule's id.
    pub rule_id: String,
    /// Its name.
    pub rule_name: String,
    /// The rule's file.
    pub origin: String,
    /// The case file, when there is one.
    pub cases_origin: Option<String>,
    /// Each case, then each baseline.
    pub cases: Vec<CaseResult>,
    /// Every condition of the query, and the cases in which it was decisive.
    pub conditions: Vec<ConditionResult>,
    /// Problems of the case file found against the query (an excused clause the query lacks).
    pub errors: Vec<String>,
    /// Decisive conditions, in percent of all conditions (100 for a query without any).
    pub coverage: f64,
    /// Cases that expect at least one alert.
    pub firing_cases: usize,
    /// Cases that expect none.
    pub silent_cases: usize,
}

impl RuleReport {
    /// Whether every case and baseline passed.
    pub fn passed(&self) -> bool {
        self.errors.is_empty() && self.cases.iter().all(|c| c.passed)
    }

    /// The conditions no case made decisive, but the excused ones.
    pub fn uncovered(&self) -> impl Iterator<Item = &ConditionResult> {
        self.conditions.iter().filter(|c| c.decisive_in.is_empty() && c.excused.is_none())
    }

    /// The conditions coverage counts: all but the excused ones no case made decisive.
    pub fn counted(&self) -> usize {
        self.conditions.iter().filter(|c| !c.decisive_in.is_empty() || c.excused.is_none()).count()
    }
}

/// A condition and the cases in which flipping it changes the outcome.
#[derive(Clone, Debug, Serialize)]
pub struct ConditionResult {
    /// The condition.
    #[serde(flatten)]
    pub condition: Condition,
    /// Names of the cases in which it was decisive.
    pub decisive_in: Vec<String>,
    /// Why it is left out of coverage, when the case file excuses it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub excused: Option<String>,
}

/// One case (or baseline) run.
#[derive(Clone, Debug, Serialize)]
pub struct CaseResult {
    /// The case's name (`benign: FILE` for a baseline).
    pub name: String,
    /// `case` or `benign`.
    pub kind: &'static str,
    /// The line of the case in its case file (0 for a baseline given on the command line).
    pub line: usize,
    /// Whether the rule did what the case expects.
    pub passed: bool,
    /// What the case expects (for a baseline: no alert but its known false positives).
    pub expected: Expect,
    /// The alerts the rule produced: each the positions of its events.
    pub got: Vec<Vec<u64>>,
    /// Why the case could not run (unreadable events, a bad mapping), or what failed a baseline.
    pub error: Option<String>,
    /// For a failure: the clause that decided the outcome.
    pub deciding: Option<Deciding>,
}

/// The clause that decided a failing case, explained.
#[derive(Clone, Debug, Serialize)]
pub struct Deciding {
    /// The clause.
    pub condition: Condition,
    /// What it found on the case's events.
    pub reason: String,
    /// The query line with a caret under the clause.
    pub snippet: String,
    /// Other conditions whose flip alone would also have made the case pass (the operands of a
    /// false `or`, for example), in source order.
    pub alternatives: Vec<Condition>,
}

/// The events, settings and rule variant a case runs with.
struct Prepared {
    events: Vec<crate::event::Event<'static>>,
    options: Options,
    rule: Rule,
    lateness_ms: u64,
}

/// Runs `rule`'s cases (from `file`) and baselines (the file's `[[benign]]` and `extra`), with
/// decisive clause coverage. `options` are the rule set options the cases start from.
pub fn run_rule(
    rule: &Rule,
    options: &Options,
    file: Option<&CaseFile>,
    extra: &[Baseline],
    load: &mut dyn Files,
) -> Result<RuleReport, Error> {
    let query = crate::kql::parse_rule_query_with(rule, &options.limits)?;
    let too_many = super::coverage::count(&query) > super::coverage::MAX_CONDITIONS;
    let flips = if too_many { vec![] } else { mutants(&query, &rule.query) };
    let mut report = RuleReport {
        rule_id: rule.id.clone(),
        rule_name: rule.name.clone(),
        origin: rule.origin.clone(),
        cases_origin: file.map(|f| f.origin.clone()),
        cases: vec![],
        errors: vec![],
        conditions: flips
            .iter()
            .map(|(c, _)| ConditionResult { condition: c.clone(), decisive_in: vec![], excused: None })
            .collect(),
        coverage: 0.0,
        firing_cases: 0,
        silent_cases: 0,
    };
    if too_many {
        report.errors.push(format!(
            "{}: coverage is not computed for a query of more than {} conditions",
            rule.origin,
            super::coverage::MAX_CONDITIONS
        ));
    }
    for x in file.map_or(&[][..], |f| &f.excused) {
        let words = |t: &str| t.split_whitespace().collect::<Vec<_>>().join(" ");
        let mut found = false;
        for c in report.conditions.iter_mut().filter(|c| words(&c.condition.text) == words(&x.clause)) {
            c.excused = Some(x.reason.clone());
            found = true;
        }
        if !found {
            let f = file.expect("excused clauses come from a case file");
            let msg = format!("{}: the excused clause is not a condition of the query", f.origin);
            report.errors.push(Error::new(ErrorKind::CaseFile, &f.text, x.span, msg).rendered());
        }
    }
    let base = Settings::default();
    for case in file.map_or(&[][..], |f| &f.cases) {
        if case.expect.fires() {
            report.firing_cases += 1;
        } else {
            report.silent_cases += 1;
        }
        let settings = case.settings.over(file.map_or(&base, |f| &f.settings));
        let mut result = CaseResult {
            name: case.name.clone(),
            kind: "case",
            line: case.line,
            passed: false,
            expected: case.expect.clone(),
            got: vec![],
            error: None,
            deciding: None,
        };
        let text = match &case.events {
            Events::Inline(t) => Ok(t.clone()),
            Events::File(p) => load.read(p).map(|l| l.text),
        };
        let prepared = text.and_then(|t| prepare(rule, options, &settings, &t, load));
        let p = match prepared {
            Ok(p) => p,
            Err(e) => {
                result.error = Some(e);
                report.cases.push(result);
                continue;
            }
        };
        let got = outcome(&p, &query)?;
        let flipped: Vec<Option<Vec<Vec<u64>>>> = flips.iter().map(|(_, m)| outcome(&p, m).ok()).collect();
        for (c, f) in report.conditions.iter_mut().zip(&flipped) {
            if f.as_ref().is_some_and(|f| *f != got) {
                c.decisive_in.push(case.name.clone());
            }
        }
        result.passed = case.expect.met_by(&got);
        if !result.passed {
            result.deciding = deciding(&p, &case.expect, &got, &flips, &flipped);
        }
        result.got = got;
        report.cases.push(result);
    }
    run_baselines(rule, options, file, extra, load, &query, &mut report);
    let decisive = report.conditions.iter().filter(|c| !c.decisive_in.is_empty()).count();
    let counted = report.counted();
    report.coverage = if counted == 0 { 100.0 } else { 100.0 * decisive as f64 / counted as f64 };
    Ok(report)
}

fn run_baselines(
    rule: &Rule,
    options: &Options,
    file: Option<&CaseFile>,
    extra: &[Baseline],
    load: &mut dyn Files,
    query: &Query,
    report: &mut RuleReport,
) {
    let mut runs: Vec<(String, Result<Loaded, String>, Vec<KnownFalsePositive>)> = Vec::new();
    for b in file.map_or(&[][..], |f| &f.benign) {
        runs.push((b.file.clone(), load.read(&b.file), b.known_false_positives.clone()));
    }
    for b in extra {
        if !runs.iter().any(|(_, l, _)| l.as_ref().is_ok_and(|l| l.key == b.file.key)) {
            runs.push((b.name.clone(), Ok(b.file.clone()), vec![]));
        }
    }
    let settings = file.map(|f| f.settings.clone()).unwrap_or_default();
    for (name, loaded, known) in runs {
        let mut result = CaseResult {
            name: format!("benign: {name}"),
            kind: "benign",
            line: 0,
            passed: false,
            expected: Expect::Alerts(known.iter().map(|k| k.events.clone()).collect()),
            got: vec![],
            error: None,
            deciding: None,
        };
        let got = loaded
            .and_then(|l| prepare(rule, options, &settings, &l.text, load))
            .and_then(|p| outcome(&p, query).map_err(|e| e.to_string()));
        match got {
            Err(e) => result.error = Some(e),
            Ok(got) => {
                let unknown: Vec<&Vec<u64>> = got.iter().filter(|a| !known.iter().any(|k| k.events == **a)).collect();
                result.passed = unknown.is_empty();
                if !unknown.is_empty() {
                    let list: Vec<String> = unknown.iter().map(|a| format!("{a:?}")).collect();
                    result.error = Some(format!(
                        "{} alert(s) on a benign corpus, not known false positives: events {}",
                        unknown.len(),
                        list.join(", ")
                    ));
                }
                result.got = got;
            }
        }
        report.cases.push(result);
    }
}

fn prepare(rule: &Rule, options: &Options, s: &Settings, text: &str, load: &mut dyn Files) -> Result<Prepared, String> {
    let mut options = options.clone();
    let mut rule = rule.clone();
    if let Some(t) = &s.timestamp_field {
        options.timestamp_field = t.clone();
        rule.timestamp_override = Some(t.clone());
    }
    if let Some(m) = &s.mapping {
        options.mapping = load.mapping(m)?;
    }
    // Events are read with the rule's fields in a rule set of the rule alone; each flipped
    // variant reads the same fields.
    let mut rs = RuleSet::new(options.clone());
    rs.add(rule.clone()).map_err(|e| e.to_string())?;
    let mut events = Vec::new();
    for item in crate::input::split(text) {
        let raw = item.map_err(|e| format!("events, line {}: {}", e.line, e.message))?;
        let ev = rs.read_json(raw.json).map_err(|e| {
            let e = raw.error(&e);
            format!("events, line {}: {}", e.line, e.message)
        })?;
        events.push(ev.into_owned());
    }
    Ok(Prepared { events, options, rule, lateness_ms: s.lateness_ms.unwrap_or(u64::MAX / 4) })
}

/// The alerts of `query` on the case's events: each the positions of its events.
fn outcome(p: &Prepared, query: &Query) -> Result<Vec<Vec<u64>>, Error> {
    let rs = variant(p, query)?;
    let mut stream = Stream::new(&rs, StreamOptions { lateness_ms: p.lateness_ms, ..StreamOptions::default() });
    let mut alerts = Vec::new();
    for (i, ev) in p.events.iter().enumerate() {
        alerts.extend(stream.push(&rs, ev, i as u64));
    }
    alerts.extend(stream.flush(&rs));
    Ok(alerts.into_iter().map(|a| a.events).collect())
}

fn variant(p: &Prepared, query: &Query) -> Result<RuleSet, Error> {
    let mut rs = RuleSet::new(p.options.clone());
    rs.add_parsed(p.rule.clone(), query.clone())?;
    Ok(rs)
}

/// The clause that decided a failing case: the first condition whose flip alone would have made
/// it pass; else, for a rule that should have fired, the first failing clause of the first stage
/// no event matched; else the query that matched.
fn deciding(
    p: &Prepared,
    expect: &Expect,
    got: &[Vec<u64>],
    flips: &[(Condition, Query)],
    flipped: &[Option<Vec<Vec<u64>>>],
) -> Option<Deciding> {
    let rs = variant(p, &crate::kql::parse_rule_query(&p.rule).ok()?).ok()?;
    // Each event against each stage of the rule.
    let trees: Vec<Vec<Explanation>> = p.events.iter().map(|ev| rs.explain(0, ev)).collect();
    let fired = !got.is_empty();
    // When the rule fired, the clause is judged on the alert's events; otherwise on them all.
    let members: Vec<usize> = match got.first() {
        Some(a) => a.iter().map(|&i| i as usize).collect(),
        None => (0..p.events.len()).collect(),
    };
    let mut fixes = flips.iter().zip(flipped).filter(|(_, f)| f.as_ref().is_some_and(|f| expect.met_by(f)));
    let fix = fixes.next();
    let alternatives: Vec<Condition> = fixes.map(|((c, _), _)| c.clone()).collect();
    let (condition, reason) = match fix {
        Some(((c, _), _)) => {
            let found = members.iter().flat_map(|&i| trees[i].iter()).find_map(|t| {
                find(t, c.start, c.end).filter(|n| (n.result == Some(true)) == fired).map(|n| n.reason.clone())
            });
            let reason = found.unwrap_or_else(|| match c.kind {
                "join key" => "the events' values for this key decided which events join".into(),
                "maxspan" => "the events' time span decided it".into(),
                "until" => "an event matched the until clause".into(),
                "runs" => "the number of matching events decided it".into(),
                _ => "flipping this clause alone changes the outcome".into(),
            });
            (c.clone(), reason)
        }
        None => {
            let stages = trees.first().map_or(0, Vec::len);
            let stage = (0..stages).find(|&s| !trees.iter().any(|t| t[s].result == Some(true)))?;
            let t = if fired { &trees[members[0]][stage] } else { &trees.first()?[stage] };
            let n = if fired { t } else { t.first_failure()? };
            let lc = crate::span::SourceMap::new(&p.rule.query).line_col(n.span.start);
            let c = Condition {
                kind: n.kind,
                text: n.text.clone(),
                start: n.span.start,
                end: n.span.end,
                line: lc.line,
                column: lc.column,
            };
            (c, n.reason.clone())
        }
    };
    let snippet =
        Error::new(ErrorKind::CaseFile, &p.rule.query, crate::span::Span::new(condition.start, condition.end), &reason)
            .rendered()
            .trim_start_matches("error: ")
            .to_string();
    Some(Deciding { condition, reason, snippet, alternatives })
}

fn find(t: &Explanation, start: usize, end: usize) -> Option<&Explanation> {
    if t.span.start == start && t.span.end == end {
        return Some(t);
    }
    t.children.iter().find_map(|c| find(c, start, end))
}
