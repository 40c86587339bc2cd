//! `eqlite explain`: every clause of every rule against every event.

use super::{for_each_item, load, open, Item};
use crate::ExplainArgs;
use eqlite::Explanation;
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
    /// matches at least one of the stages (the stage trees say which).
    matched: bool,
    explanations: Vec<Explanation>,
}

pub fn run(args: ExplainArgs) -> Result<ExitCode, String> {
    let rules = load(&args.rules)?;
    if let Some(e) = rules.errors.first() {
        return Err(format!("{} of the rules did not compile:\n{e}", rules.errors.len()));
    }
    let rs = rules.set;
    let selected: Vec<usize> = match &args.rule {
        Some(id) => vec![rs.position(id).ok_or_else(|| format!("no rule with id `{id}` is loaded"))?],
        None => (0..rs.len()).collect(),
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let (mut pos, mut bad) = (0u64, 0u64);
    let mut failure = None;
    for_each_item(open(args.input.as_deref())?, |item| {
        match item {
            Item::Event { json, line } => match rs.read_json(json) {
                Ok(ev) => {
                    for &i in &selected {
                        let r = &rs.rules()[i];
                        let explanations = rs.explain(i, &ev);
                        let matched = explanations.iter().any(|e| e.result == Some(true));
                        if args.matched && !matched {
                            continue;
                        }
                        let report = Report {
                            event: pos,
                            line,
                            rule_id: &r.rule.id,
                            rule_name: &r.rule.name,
                            matched,
                            explanations,
                        };
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
                Err(e) => {
                    bad += 1;
                    eprintln!("eqlite: line {line}: invalid event: {e}");
                }
            },
            Item::Bad(e) => {
                bad += 1;
                eprintln!("eqlite: invalid input: {e}");
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
