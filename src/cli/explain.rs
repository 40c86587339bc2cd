//! `eqlite explain`: every clause of every rule against every event.

use super::{for_each_event, load};
use crate::ExplainArgs;
use eqlite::StageExplanation;
use eqlite::{Alert, Event, Explanation, RuleKind, RuleSet};
use eqlite::{Stream, StreamOptions};
use serde::Serialize;
use std::io::Write;
use std::process::ExitCode;

#[derive(Serialize)]
struct Report<'a> {
    event: u64,
    line: usize,
    rule_id: &'a str,
    rule_name: &'a str,
    /// For an event rule: whether the event matches. For a sequence or sample: whether it
    /// matches at least one of the stages that advance it (the stage trees say which).
    matched: bool,
    /// For a sequence: the event matches a missing-event stage or `until`, so it prevents
    /// matches rather than advancing them.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    prevents: bool,
    explanations: Vec<Explanation>,
}

pub fn run(args: ExplainArgs) -> Result<ExitCode, String> {
    let rules = load(&args.rules)?;
    if let Some(e) = rules.errors.first() {
        return Err(format!("{} of the rules did not compile:\n{e}", rules.errors.len()));
    }
    let rs = rules.set;
    if args.alerts {
        return alerts(&rs, &args);
    }
    if args.progress {
        return progress(&rs, &args);
    }
    let selected: Vec<usize> = match &args.rule {
        Some(id) => vec![rs.position(id).ok_or_else(|| format!("no rule with id `{id}` is loaded"))?],
        None => (0..rs.len()).collect(),
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut pos = 0u64;
    let mut failure = None;
    let bad = for_each_event(args.input.as_deref(), &rs, |line, ev| {
        if let Some(ev) = ev {
            for &i in &selected {
                let Some(r) = rs.rule(i) else { continue };
                let explanations = rs.explain(i, ev);
                let matched = explanations.iter().any(|e| e.result == Some(true) && !e.prevents);
                let prevents = explanations.iter().any(|e| e.prevents);
                if args.matched && !matched {
                    continue;
                }
                let report =
                    Report { event: pos, line, rule_id: &r.id, rule_name: &r.name, matched, prevents, explanations };
                let written = if args.pretty {
                    serde_json::to_writer_pretty(&mut out, &report)
                } else {
                    serde_json::to_writer(&mut out, &report)
                };
                if let Err(e) = written.map_err(std::io::Error::from).and_then(|_| out.write_all(b"\n")) {
                    failure.get_or_insert(e);
                }
            }
        }
        pos += 1;
    })?;
    if let Some(e) = out.flush().err().or(failure) {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            return Err(format!("writing output: {e}"));
        }
    }
    Ok(if bad > 0 { ExitCode::from(2) } else { ExitCode::SUCCESS })
}

#[derive(Serialize)]
struct AlertReport<'a> {
    alert: &'a Alert,
    stages: Vec<StageExplanation>,
}

fn write<T: Serialize>(out: &mut impl Write, v: &T, pretty: bool) -> std::io::Result<()> {
    if pretty {
        serde_json::to_writer_pretty(&mut *out, v)?;
    } else {
        serde_json::to_writer(&mut *out, v)?;
    }
    out.write_all(b"\n")
}

/// The whole input in memory (invalid items as `None`), with the number of invalid items.
type AllEvents = (Vec<Option<Event<'static>>>, u64);

fn read_all(rs: &RuleSet, args: &ExplainArgs) -> Result<AllEvents, String> {
    let mut events: Vec<Option<Event<'static>>> = Vec::new();
    let bad = for_each_event(args.input.as_deref(), rs, |_, ev| events.push(ev.map(|ev| ev.clone().into_owned())))?;
    Ok((events, bad))
}

/// `explain --progress`: per sequence rule, how far each join key got over the whole input.
fn progress(rs: &RuleSet, args: &ExplainArgs) -> Result<ExitCode, String> {
    let selected = match &args.rule {
        Some(id) => {
            let i = rs.position(id).ok_or_else(|| format!("no rule with id `{id}` is loaded"))?;
            if rs.kind(i) != Some(RuleKind::Sequence) {
                return Err(format!("rule `{id}` is not a sequence"));
            }
            vec![i]
        }
        None => (0..rs.len()).filter(|&i| rs.kind(i) == Some(RuleKind::Sequence)).collect(),
    };
    let (events, bad) = read_all(rs, args)?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    for i in selected {
        let all = events.iter().enumerate().filter_map(|(p, e)| e.as_ref().map(|e| (p as u64, e)));
        let Some(progress) = eqlite::sequence_progress(rs, i, all) else { continue };
        if let Err(e) = write(&mut out, &progress, args.pretty) {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                return Ok(ExitCode::SUCCESS);
            }
            return Err(format!("writing output: {e}"));
        }
    }
    out.flush().map_err(|e| format!("writing output: {e}"))?;
    Ok(if bad > 0 { ExitCode::from(2) } else { ExitCode::SUCCESS })
}

/// `explain --alerts`: the whole input is kept in memory to explain each alert's members.
fn alerts(rs: &RuleSet, args: &ExplainArgs) -> Result<ExitCode, String> {
    let (events, bad) = read_all(rs, args)?;
    // The input is complete: sequences see it in time order.
    let mut stream = Stream::new(rs, StreamOptions { whole_input: true, ..StreamOptions::default() });
    let mut found = Vec::new();
    for (i, ev) in events.iter().enumerate() {
        if let Some(ev) = ev {
            found.extend(stream.push(rs, ev, i as u64));
        }
    }
    found.extend(stream.flush(rs));
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    for a in found.iter().filter(|a| args.rule.as_ref().is_none_or(|id| *id == a.rule_id)) {
        let stages = rs.explain_alert(a, |p| events.get(p as usize).and_then(Option::as_ref));
        if let Err(e) = write(&mut out, &AlertReport { alert: a, stages }, args.pretty) {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                return Ok(ExitCode::SUCCESS);
            }
            return Err(format!("writing output: {e}"));
        }
    }
    out.flush().map_err(|e| format!("writing output: {e}"))?;
    Ok(if bad > 0 { ExitCode::from(2) } else { ExitCode::SUCCESS })
}
