//! `eqlite synth`: events that fire a rule, and its near misses, each proven by the engine.

use super::load;
use crate::SynthArgs;
use serde::Serialize;
use std::io::Write;
use std::process::ExitCode;

pub fn run(args: SynthArgs) -> Result<ExitCode, String> {
    let rules = load(&args.rules)?;
    let rs = rules.set;
    let i = rs.position(&args.rule).ok_or_else(|| format!("no rule with id `{}` is loaded", args.rule))?;
    let s = eqlite::synthesize(&rs, i).map_err(|e| format!("cannot synthesize {e}"))?;
    let mut out = std::io::stdout().lock();
    if args.init {
        write!(out, "{}", s.case_file()).map_err(|e| format!("writing: {e}"))?;
        return Ok(ExitCode::SUCCESS);
    }
    // Without --near-misses, the same document less that member.
    #[derive(Serialize)]
    struct Firing<'a> {
        rule_id: &'a str,
        events: &'a [serde_json::Value],
    }
    let firing = Firing { rule_id: &s.rule_id, events: &s.events };
    let text = match (args.near_misses, args.pretty) {
        (true, true) => serde_json::to_string_pretty(&s),
        (true, false) => serde_json::to_string(&s),
        (false, true) => serde_json::to_string_pretty(&firing),
        (false, false) => serde_json::to_string(&firing),
    };
    writeln!(out, "{}", text.map_err(|e| e.to_string())?).map_err(|e| format!("writing: {e}"))?;
    Ok(ExitCode::SUCCESS)
}
