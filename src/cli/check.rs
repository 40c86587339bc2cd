//! `eqlite check`: parse and compile rules, report problems.

use super::load;
use crate::RuleArgs;
use std::process::ExitCode;

pub fn run(args: RuleArgs) -> Result<ExitCode, String> {
    let rules = load(&args)?;
    for e in &rules.errors {
        eprintln!("{e}\n");
    }
    if args.verbose {
        for (what, why) in &rules.skipped {
            eprintln!("skipped {what}: {why}");
        }
        let o = rules.set.options();
        let ecs = eqlite::TypeTable::ecs().version().unwrap_or("?");
        eprintln!(
            "field types: {}{} extra table(s), {} mapped field(s)",
            if o.ecs_types {
                format!("Elastic Common Schema {ecs} and Kubernetes audit logs, ")
            } else {
                "none built in, ".into()
            },
            o.field_types.len(),
            o.mapping.len()
        );
    }
    let sequences = (0..rules.set.len()).filter(|&i| rules.set.kind(i) != Some(eqlite::RuleKind::Event)).count();
    println!(
        "{} rules compiled ({} single-event, {} sequence or sample), {} skipped (not EQL or KQL query rules), {} failed",
        rules.set.len(),
        rules.set.len() - sequences,
        sequences,
        rules.skipped.len(),
        rules.errors.len()
    );
    Ok(if rules.errors.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}
