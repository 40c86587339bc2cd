//! The summary `scan` prints on stderr at the end of a run.

use super::inputs::{Counters, Source};
use super::scan::Totals;
use eqlite::RuleSet;
use std::time::Duration;

/// How many rules the summary lists by alerts.
const TOP: usize = 5;

pub fn summary(rs: &RuleSet, t: &Totals, counters: &Counters, elapsed: Duration, sources: &[Source]) {
    let secs = elapsed.as_secs_f64().max(1e-9);
    let bytes = counters.read();
    let mb = bytes as f64 / 1e6;
    let files = if sources.len() == 1 { sources[0].name.clone() } else { format!("{} files", sources.len()) };
    eprintln!(
        "scanned {} events ({mb:.1} MB, {files}) in {secs:.2} s: {:.0} events/s, {:.1} MB/s; {} invalid",
        t.events,
        t.events as f64 / secs,
        mb / secs,
        t.invalid
    );
    let mut by_severity = [0u64; 4];
    for (&i, &n) in &t.per_rule {
        if let Some(k) = rs.rule(i).and_then(|r| eqlite::SEVERITIES.iter().position(|s| *s == r.severity)) {
            by_severity[k] += n;
        }
    }
    let severities: Vec<String> =
        eqlite::SEVERITIES.iter().rev().zip(by_severity.iter().rev()).map(|(s, n)| format!("{s} {n}")).collect();
    eprintln!("{} alerts ({}); {} of {} rules fired", t.alerts, severities.join(", "), t.per_rule.len(), rs.len());
    let mut top: Vec<(usize, u64)> = t.per_rule.iter().map(|(&i, &n)| (i, n)).collect();
    top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    for (i, n) in top.into_iter().take(TOP) {
        if let Some(r) = rs.rule(i) {
            eprintln!("{n:>8}  {:<8}  {}", r.severity, r.name);
        }
    }
}

/// How many rules --profile-rules lists.
const PROFILED: usize = 20;

/// --profile-rules: the rules that cost the most time, with their share of the time spent matching.
pub fn profile(rs: &RuleSet, t: &Totals) {
    let total: f64 = t.spent.iter().map(Duration::as_secs_f64).sum::<f64>().max(1e-12);
    let mut by_time: Vec<(usize, Duration)> = t.spent.iter().copied().enumerate().collect();
    by_time.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    eprintln!("time matching events against each rule ({:.1} ms in all, over every thread):", total * 1e3);
    for (i, d) in by_time.into_iter().take(PROFILED).filter(|(_, d)| !d.is_zero()) {
        if let Some(r) = rs.rule(i) {
            let ms = d.as_secs_f64() * 1e3;
            eprintln!("{ms:>10.2} ms {:>5.1}%  {}  {}", 100.0 * d.as_secs_f64() / total, r.id, r.name);
        }
    }
}
