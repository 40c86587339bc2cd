//! Shared plumbing of the subcommands: loading rules and reading events.

pub mod check;
pub mod explain;
pub mod inputs;
pub mod output;
pub mod progress;
pub mod report;
pub mod rules;
pub mod scan;
pub mod state;
pub mod synth;
pub mod test;

use crate::RuleArgs;
use eqlite::input::{self, SplitOptions};
use eqlite::{Error, ErrorKind, Event, Options, Pack, RuleSet};
use std::io::Read;
use std::path::Path;

/// Rules loaded from the command line.
pub struct Rules {
    pub set: RuleSet,
    /// (file and rule name, reason) of valid rules that are not EQL.
    pub skipped: Vec<(String, String)>,
    /// Rendered errors of the files and queries that did not load.
    pub errors: Vec<String>,
}

pub fn options(args: &RuleArgs) -> Result<Options, String> {
    let mapping = match &args.mapping {
        Some(p) => {
            let text = std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()))?;
            eqlite::mapping::from_es_json(&text).map_err(|e| format!("{}: {e}", p.display()))?
        }
        None => vec![],
    };
    let mut field_types = Vec::new();
    for p in &args.field_types {
        let text = std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()))?;
        let table = eqlite::TypeTable::parse(&text).map_err(|e| format!("{}: {e}", p.display()))?;
        field_types.push(std::sync::Arc::new(table));
    }
    Ok(Options {
        category_field: args.category_field.clone(),
        timestamp_field: args.timestamp_field.clone(),
        tiebreaker_field: args.tiebreaker_field.clone(),
        ecs_types: !args.no_ecs_types,
        field_types,
        mapping,
        ..Options::default()
    })
}

/// The rules of every path (files or folders), in order.
pub fn read_packs(paths: &[std::path::PathBuf]) -> Result<Pack, Error> {
    let mut pack = Pack::default();
    for p in paths {
        pack.extend(Pack::read(p)?);
    }
    Ok(pack)
}

/// Loads `--rules`, `--query` and `--kql`, or the kubelet pack when neither is given. Rule errors are
/// collected, not fatal; callers decide.
pub fn load(args: &RuleArgs) -> Result<Rules, String> {
    let mut set = RuleSet::new(options(args)?);
    let pack = if args.rules.is_empty() && args.queries.is_empty() && args.kql.is_empty() {
        Pack::kubelet()
    } else {
        read_packs(&args.rules).map_err(|e| e.message().to_string())?
    };
    let report = set.load(&pack);
    // A file that cannot be read has no text to point into: its message says it all.
    let render = |e: &Error| if e.kind() == ErrorKind::Io { e.message().to_string() } else { e.rendered() };
    let mut errors: Vec<String> = report.errors.iter().map(render).collect();
    for (i, q) in args.queries.iter().enumerate() {
        if let Err(d) = set.add_query(&format!("query-{i}"), q) {
            errors.push(format!("--query {i}:\n{}", d.rendered()));
        }
    }
    for (i, q) in args.kql.iter().enumerate() {
        if let Err(d) = set.add_kql(&format!("kql-{i}"), q) {
            errors.push(format!("--kql {i}:\n{}", d.rendered()));
        }
    }
    for id in args.rule_ids.iter().chain(&args.exclude) {
        if set.position(id).is_none() {
            return Err(format!("no rule with id `{id}` is loaded"));
        }
    }
    let filter = eqlite::RuleFilter {
        min_severity: args.min_severity.clone(),
        tags: args.tags.clone(),
        rule_ids: args.rule_ids.clone(),
        exclude: args.exclude.clone(),
    };
    set.retain(|r| filter.keeps(r));
    let skipped = report.skipped.into_iter().map(|s| (format!("{} ({})", s.origin, s.name), s.reason)).collect();
    Ok(Rules { set, skipped, errors })
}

pub use eqlite::parse_duration;

fn open(path: Option<&Path>) -> Result<Box<dyn Read>, String> {
    match path {
        Some(p) if p.as_os_str() != "-" => {
            Ok(Box::new(std::fs::File::open(p).map_err(|e| format!("{}: {e}", p.display()))?))
        }
        _ => Ok(Box::new(std::io::stdin())),
    }
}

/// Whether the input is a regular file: a complete input, ordered whole (not stdin or a pipe,
/// which are streams).
pub fn is_file(path: Option<&Path>) -> bool {
    path.filter(|p| p.as_os_str() != "-").and_then(|p| std::fs::metadata(p).ok()).is_some_and(|m| m.is_file())
}

/// Calls `f(line, event)` for every input item, in order (see `eqlite::input` for the forms and
/// how they are told apart); an invalid item is reported on stderr with its position and passed
/// as `None`. Returns the number of invalid items.
pub fn for_each_event(
    input: Option<&Path>,
    rs: &RuleSet,
    mut f: impl FnMut(usize, Option<&Event>),
) -> Result<u64, String> {
    // `read_json` parses every item anyway: the splitter need not check NDJSON lines first.
    let options = SplitOptions { check_lines: false, max_item_bytes: rs.options().max_event_bytes };
    let mut bad = 0;
    input::read(open(input)?, &options, |item| {
        match item.and_then(|raw| rs.read_json(raw.json).map(|ev| (raw.line, ev)).map_err(|e| raw.error(&e))) {
            Ok((line, ev)) => f(line, Some(&ev)),
            Err(e) => {
                bad += 1;
                eprintln!("eqlite: {e}");
                f(e.line, None);
            }
        }
    })
    .map_err(|e| format!("reading events: {e}"))?;
    Ok(bad)
}

/// Whether progress lines should go to stderr.
pub fn interactive() -> bool {
    use std::io::IsTerminal;
    std::io::stderr().is_terminal()
}
