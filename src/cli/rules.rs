//! `eqlite rules`: the loaded rules, described. `eqlite fields`: why a rule can never fire on
//! the given events (fields they lack, or hold with another type).

use super::inputs::{self, Counters};
use super::load;
use crate::{FieldsArgs, ListFormat, RulesArgs};
use eqlite::{FieldCensus, RuleSummary};
use std::io::Write;
use std::process::ExitCode;

fn loaded(args: &crate::RuleArgs) -> Result<eqlite::RuleSet, String> {
    let rules = load(args)?;
    if let Some(e) = rules.errors.first() {
        return Err(format!("{} of the rules did not compile:\n{e}", rules.errors.len()));
    }
    Ok(rules.set)
}

fn write_out(f: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) -> Result<ExitCode, String> {
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    match f(&mut out).and_then(|_| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(format!("writing: {e}")),
        _ => Ok(ExitCode::SUCCESS),
    }
}

fn mitre(s: &RuleSummary) -> String {
    let ids: Vec<&str> = s.tactics.iter().chain(&s.techniques).map(|r| r.id.as_str()).collect();
    ids.join(" ")
}

pub fn rules(args: RulesArgs) -> Result<ExitCode, String> {
    let rs = loaded(&args.rules)?;
    let summaries = rs.summaries();
    write_out(|w| {
        if args.format == ListFormat::Json {
            serde_json::to_writer_pretty(&mut *w, &summaries)?;
            return writeln!(w);
        }
        let (id, m) =
            summaries.iter().fold((7, 5), |(id, m), s| (s.rule_id.len().max(id), mitre(s).len().max(m).min(40)));
        writeln!(w, "{:<id$}  {:<8}  {:>4}  {:<8}  {:<m$}  NAME", "RULE_ID", "SEVERITY", "RISK", "TYPE", "MITRE")?;
        for s in &summaries {
            let kind =
                serde_json::to_value(s.kind).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
            writeln!(
                w,
                "{:<id$}  {:<8}  {:>4}  {:<8}  {:<m$}  {}",
                s.rule_id,
                s.severity,
                s.risk_score,
                kind,
                mitre(s),
                s.name
            )?;
            writeln!(w, "{:<id$}  fields: {}", "", s.fields.join(", "))?;
        }
        Ok(())
    })
}

pub fn fields(args: FieldsArgs) -> Result<ExitCode, String> {
    let rs = loaded(&args.rules)?;
    let sources = inputs::expand(&args.input)?;
    let mut census = FieldCensus::new(rs.options().type_tables());
    let counters = Counters::default();
    let split = eqlite::input::SplitOptions { check_lines: false, max_item_bytes: rs.options().max_event_bytes };
    let mut bad = 0u64;
    for src in &sources {
        let read = inputs::open(src, &counters).and_then(|r| {
            eqlite::input::read(r, &split, |item| match item.map(|raw| (raw, serde_json::from_str(raw.json))) {
                Ok((_, Ok(v))) => census.add(&v),
                Ok((raw, Err(_))) => {
                    bad += 1;
                    if let Err(e) = rs.read_json(raw.json) {
                        eprintln!("eqlite: {}: {}", src.name, raw.error(&e));
                    }
                }
                Err(e) => {
                    bad += 1;
                    eprintln!("eqlite: {}: {e}", src.name);
                }
            })
            .map_err(|e| format!("{}: {e}", src.name))
        });
        if let Err(e) = read {
            bad += 1;
            eprintln!("eqlite: {e}");
        }
    }
    let gaps: Vec<_> = rs.summaries().iter().map(|s| census.gaps(s)).collect();
    let code = if bad > 0 { ExitCode::from(2) } else { ExitCode::SUCCESS };
    write_out(|w| {
        if args.format == ListFormat::Json {
            serde_json::to_writer_pretty(&mut *w, &gaps)?;
            return writeln!(w);
        }
        let clean = gaps.iter().filter(|g| g.missing.is_empty() && g.mistyped.is_empty()).count();
        writeln!(
            w,
            "{} events; {clean} of {} rules find every field they read, of its type",
            census.events,
            gaps.len()
        )?;
        for g in gaps.iter().filter(|g| !g.missing.is_empty() || !g.mistyped.is_empty()) {
            writeln!(w, "\n{} ({})", g.name, g.rule_id)?;
            if !g.missing.is_empty() {
                writeln!(w, "  never in the data: {}", g.missing.join(", "))?;
            }
            for m in &g.mistyped {
                let found: Vec<String> = m.found.iter().map(|(k, n)| format!("{n} {k}")).collect();
                let refused =
                    if m.refused > 0 { format!(" ({} refused as {})", m.refused, m.expected) } else { String::new() };
                writeln!(
                    w,
                    "  {} is {}, found {}{refused}",
                    m.field,
                    m.expected,
                    if found.is_empty() { "values it refuses".into() } else { found.join(", ") }
                )?;
            }
        }
        Ok(())
    })
    .map(|c| if c == ExitCode::SUCCESS { code } else { c })
}
