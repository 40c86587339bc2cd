//! Reads NDJSON events (a file, or stdin), runs the kubelet pack over them (or the rules of a
//! directory given as the second argument), and prints each alert with the clauses that made it
//! fire: what an analyst's first look at an alert needs.
//!
//! ```sh
//! cargo run --example triage -- events.ndjson
//! cargo run --example triage -- events.ndjson ../detection-rules/rules
//! ```

use eqlite::{Explanation, Options, Pack, RuleSet, Stream, StreamOptions};
use std::io::BufRead;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let pack = match args.get(1) {
        Some(dir) => Pack::read(dir.as_ref())?,
        None => Pack::kubelet(),
    };
    let mut rules = RuleSet::new(Options::default());
    let report = rules.load(&pack);
    for e in &report.errors {
        eprintln!("{e}");
    }
    eprintln!("{} rules loaded, {} skipped (not EQL)", report.loaded.len(), report.skipped.len());

    let input: Box<dyn BufRead> = match args.first().map(String::as_str) {
        None | Some("-") => Box::new(std::io::stdin().lock()),
        Some(path) => Box::new(std::io::BufReader::new(std::fs::File::open(path)?)),
    };
    let lines: Vec<String> = input.lines().collect::<Result<_, _>>()?;
    // The events are kept so that each alert's members can be explained.
    let events: Vec<_> = lines.iter().map(|l| rules.read_json(l)).collect();

    // A whole file is complete: time order can wait for its end.
    let mut stream = Stream::new(&rules, StreamOptions { lateness_ms: u64::MAX / 4, ..StreamOptions::default() });
    let mut alerts = Vec::new();
    for (pos, ev) in events.iter().enumerate() {
        match ev {
            Ok(ev) => alerts.extend(stream.push(&rules, ev, pos as u64)),
            Err(e) => eprintln!("line {}: {e}", pos + 1),
        }
    }
    alerts.extend(stream.flush(&rules));

    for alert in &alerts {
        let lines: Vec<String> = alert.events.iter().map(|p| (p + 1).to_string()).collect();
        println!("[{}] {} (lines {})", alert.severity, alert.rule_name, lines.join(", "));
        let stages = rules.explain_alert(alert, |p| events.get(p as usize).and_then(|e| e.as_ref().ok()));
        for stage in stages {
            print_decisive(&stage.explanation, 1);
        }
    }
    eprintln!("{} events, {} alerts", events.len(), alerts.len());
    Ok(())
}

/// The clauses that held, down to the tests on event values.
fn print_decisive(e: &Explanation, depth: usize) {
    if e.result != Some(true) {
        return;
    }
    if e.children.is_empty() {
        println!("{}{}  — {}", "  ".repeat(depth), e.text, e.reason);
    }
    for c in &e.children {
        print_decisive(c, depth + 1);
    }
}
