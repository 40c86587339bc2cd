//! `eqlite synth`: events that fire a rule, and its near misses, each proven by the engine.

use super::load;
use crate::SynthArgs;
use eqlite::{RuleSet, Synthesis};
use serde::Serialize;
use std::io::Write;
use std::process::ExitCode;

/// Firing events and near misses for the rule with this rule_id.
fn synthesize(rs: &RuleSet, id: &str) -> Result<Synthesis, String> {
    let i = rs.position(id).ok_or_else(|| format!("no rule with id `{id}` is loaded"))?;
    eqlite::synthesize(rs, i).map_err(|e| format!("cannot synthesize {e}"))
}

/// Prints the starter case file of the rule (`Synthesis::case_file`): `synth --init` and
/// `test --init`.
pub fn print_case_file(rs: &RuleSet, id: &str) -> Result<ExitCode, String> {
    let text = synthesize(rs, id)?.case_file();
    write!(std::io::stdout().lock(), "{text}").map_err(|e| format!("writing: {e}"))?;
    Ok(ExitCode::SUCCESS)
}

pub fn run(args: SynthArgs) -> Result<ExitCode, String> {
    let rules = load(&args.rules)?;
    let rs = rules.set;
    if args.init {
        return print_case_file(&rs, &args.rule);
    }
    let s = synthesize(&rs, &args.rule)?;
    let mut out = std::io::stdout().lock();
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
