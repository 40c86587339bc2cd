//! `eqlite test`: run the cases beside rules (`NAME.tests.toml`), print ✓/✗ and coverage, write
//! JUnit XML; the runner and coverage are the library's (`eqlite::testing`).

use crate::TestArgs;
use eqlite::testing::{self, Baseline, CaseFile, CaseResult, Expect, Loaded, RuleReport};
use eqlite::{Error, ErrorKind, Options, Pack, RuleSet};
use serde::Serialize;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// What a whole run gives, for `--format json`.
#[derive(Serialize)]
struct Run {
    passed: bool,
    /// Decisive conditions over all rules, in percent.
    coverage: f64,
    rules: Vec<Checked>,
    /// Rule and case files that could not be read, and case files for rules that are not loaded.
    errors: Vec<String>,
}

/// A rule's report and the policy checks (`--min-coverage`, `--require-cases`) it failed.
#[derive(Serialize)]
struct Checked {
    #[serde(flatten)]
    report: RuleReport,
    problems: Vec<String>,
}

fn key(p: &Path) -> String {
    std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf()).display().to_string()
}

/// Files named in a case file, relative to its directory.
struct Dir(PathBuf);

impl testing::Files for Dir {
    fn read(&mut self, path: &str) -> Result<Loaded, String> {
        read(&self.0.join(path))
    }

    fn mapping(&mut self, path: &str) -> Result<Vec<eqlite::mapping::MappedField>, String> {
        let l = read(&self.0.join(path))?;
        eqlite::mapping::from_es_json(&l.text).map_err(|e| format!("{path}: {e}"))
    }
}

fn read(p: &Path) -> Result<Loaded, String> {
    let text = std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()))?;
    Ok(Loaded { key: key(p), text })
}

/// The rule and case files the paths name; a rule's case file and a case file's rule come along.
fn files(paths: &[PathBuf]) -> Result<(Vec<PathBuf>, Vec<PathBuf>), String> {
    let (mut rules, mut cases) = (BTreeSet::new(), BTreeSet::new());
    for p in paths {
        let found = eqlite::toml_files(p).and_then(|r| Ok((r, eqlite::case_files(p)?))).map_err(|e| e.to_string())?;
        for r in found.0 {
            if testing::is_case_file(&r.to_string_lossy()) {
                continue;
            }
            let c = r.with_extension("tests.toml");
            if c.is_file() {
                cases.insert(c);
            }
            rules.insert(r);
        }
        for c in found.1.into_iter().filter(|c| testing::is_case_file(&c.to_string_lossy())) {
            let r = PathBuf::from(c.to_string_lossy().trim_end_matches(".tests.toml").to_string() + ".toml");
            if r.is_file() {
                rules.insert(r);
            }
            cases.insert(c);
        }
    }
    Ok((rules.into_iter().collect(), cases.into_iter().collect()))
}

/// `--init RULE_ID`: the rule's starter case file on stdout, as `eqlite synth --init` prints it.
fn init(id: &str, paths: &[PathBuf]) -> Result<ExitCode, String> {
    let pack = if paths.is_empty() { Pack::kubelet() } else { super::read_packs(paths).map_err(|e| e.to_string())? };
    let mut rs = RuleSet::new(Options::default());
    let report = rs.load(&pack);
    if rs.position(id).is_none() {
        let from = if paths.is_empty() { "the embedded kubelet pack".to_string() } else { list(paths) };
        let mut msg = format!("no rule with id `{id}` is loaded (from {from})");
        if let Some(s) = report.skipped.iter().find(|s| s.rule_id == id) {
            msg += &format!("; {} ({}) was skipped: {}", s.origin, s.name, s.reason);
        }
        for e in &report.errors {
            msg += &format!("\n{}", render(e));
        }
        return Err(msg);
    }
    super::synth::print_case_file(&rs, id)
}

pub fn run(args: TestArgs) -> Result<ExitCode, String> {
    if let Some(id) = &args.init {
        return init(id, &args.rules);
    }
    let paths = if args.paths.is_empty() { vec![PathBuf::from(".")] } else { args.paths.clone() };
    let (rule_files, case_paths) = files(&paths)?;
    let mut errors: Vec<String> = Vec::new();
    let mut pack = Pack::default();
    for f in &rule_files {
        pack.extend(Pack::read(f).map_err(|e| e.to_string())?);
    }
    let mut rs = RuleSet::new(Options::default());
    let report = rs.load(&pack);
    errors.extend(report.errors.iter().map(render));
    let mut case_files: Vec<(PathBuf, CaseFile)> = Vec::new();
    for p in &case_paths {
        let origin = p.display().to_string();
        match read(p)
            .map_err(|e| e.to_string())
            .and_then(|l| testing::parse_cases(&l.text, &origin).map_err(|e| render(&e)))
        {
            Ok(f) => case_files.push((p.clone(), f)),
            Err(e) => errors.push(e),
        }
    }
    for (_, f) in &case_files {
        if rs.position(&f.rule_id).is_none() {
            let msg = format!("{}: no rule with id {:?} is loaded (from {})", f.origin, f.rule_id, list(&paths));
            errors.push(render(&Error::new(ErrorKind::CaseFile, &f.text, f.rule_id_span, msg)));
        }
    }
    let mut baselines = Vec::new();
    for b in &args.benign {
        baselines.push(Baseline { name: b.display().to_string(), file: read(b)? });
    }
    let mut rules = Vec::new();
    for rule in rs.rules() {
        let file = case_files.iter().find(|(_, f)| f.rule_id == rule.id);
        let dir = file.and_then(|(p, _)| p.parent()).unwrap_or(Path::new(".")).to_path_buf();
        let r = testing::run_rule(rule, rs.options(), file.map(|(_, f)| f), &baselines, &mut Dir(dir))
            .map_err(|e| format!("{}: {}", rule.origin, e.message()))?;
        let mut problems = Vec::new();
        if args.require_cases && (r.firing_cases == 0 || r.silent_cases == 0) {
            problems.push(format!(
                "needs at least one firing and one non-firing case (has {} firing, {} non-firing)",
                r.firing_cases, r.silent_cases
            ));
        }
        if let Some(min) = args.min_coverage {
            if r.coverage < min {
                problems.push(format!("coverage {} is below --min-coverage {min}%", percent(r.coverage)));
            }
        }
        rules.push(Checked { report: r, problems });
    }
    let total: usize = rules.iter().map(|r| r.report.counted()).sum();
    let decisive: usize = rules.iter().map(|r| r.report.counted() - r.report.uncovered().count()).sum();
    let coverage = if total == 0 { 100.0 } else { 100.0 * decisive as f64 / total as f64 };
    let passed = errors.is_empty() && rules.iter().all(|r| r.report.passed() && r.problems.is_empty());
    let run = Run { passed, coverage, rules, errors };
    if let Some(path) = &args.junit {
        std::fs::write(path, junit(&run)).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    if args.format == "json" {
        println!("{}", serde_json::to_string_pretty(&run).map_err(|e| e.to_string())?);
    } else {
        print!("{}", text(&run, decisive, total));
    }
    Ok(if run.passed { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

fn render(e: &Error) -> String {
    if e.kind() == ErrorKind::Io {
        e.message().to_string()
    } else {
        e.rendered()
    }
}

fn list(paths: &[PathBuf]) -> String {
    paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
}

fn percent(p: f64) -> String {
    if p.fract() == 0.0 {
        format!("{p:.0}%")
    } else {
        format!("{p:.1}%")
    }
}

fn alerts(a: &[Vec<u64>]) -> String {
    match a.len() {
        0 => "no alert".into(),
        n => format!(
            "{n} alert{}: {}",
            if n == 1 { "" } else { "s" },
            a.iter().map(|e| format!("events {e:?}")).collect::<Vec<_>>().join(", ")
        ),
    }
}

fn expected(e: &Expect) -> String {
    match e {
        Expect::Fires => "at least one alert".into(),
        Expect::Silent => "no alert".into(),
        Expect::Alerts(a) => alerts(a),
    }
}

/// What went wrong in a case, in lines for people.
fn failure(c: &CaseResult) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(e) = &c.error {
        out.push(e.clone());
    }
    if c.kind == "case" && c.error.is_none() {
        out.push(format!("expected {}", expected(&c.expected)));
        out.push(format!("got      {}", alerts(&c.got)));
    }
    if let Some(d) = &c.deciding {
        out.push(format!(
            "deciding clause ({}) at {}:{}: {}",
            d.condition.kind, d.condition.line, d.condition.column, d.reason
        ));
        out.extend(d.snippet.lines().skip(1).map(str::to_string));
        if !d.alternatives.is_empty() {
            out.push("flipping any one of these alone would also make it pass:".into());
            for c in &d.alternatives {
                out.push(format!("  {} at {}:{}: {}", c.kind, c.line, c.column, one_line(&c.text)));
            }
        }
    }
    out
}

fn text(run: &Run, decisive: usize, total: usize) -> String {
    let mut s = String::new();
    for e in &run.errors {
        s += &format!("error: {}\n\n", e.trim_start_matches("error: "));
    }
    let (mut cases, mut failed) = (0, 0);
    for r in &run.rules {
        let rep = &r.report;
        let ok = rep.passed() && r.problems.is_empty();
        let covered = rep.counted() - rep.uncovered().count();
        s += &format!(
            "{} {} ({}) — {} case{}, coverage {} ({covered}/{})\n",
            if ok { "✓" } else { "✗" },
            rep.rule_name,
            rep.origin,
            rep.cases.len(),
            if rep.cases.len() == 1 { "" } else { "s" },
            percent(rep.coverage),
            rep.counted()
        );
        for e in &rep.errors {
            s += &format!("    ✗ {}\n", e.trim_start_matches("error: ").replace('\n', "\n      "));
        }
        for c in &rep.cases {
            cases += 1;
            s += &format!("    {} {}\n", if c.passed { "✓" } else { "✗" }, c.name);
            if !c.passed {
                failed += 1;
                for l in failure(c) {
                    s += &format!("        {l}\n");
                }
            }
        }
        for p in &r.problems {
            s += &format!("    ✗ {p}\n");
        }
        for x in rep.conditions.iter().filter(|c| c.decisive_in.is_empty()) {
            if let Some(why) = &x.excused {
                let c = &x.condition;
                s += &format!("    excused {} at {}:{}: {} ({why})\n", c.kind, c.line, c.column, one_line(&c.text));
            }
        }
        if rep.coverage < 100.0 {
            for u in rep.uncovered() {
                let c = &u.condition;
                s += &format!(
                    "    uncovered {} at {}:{} (bytes {}..{}): {}\n",
                    c.kind,
                    c.line,
                    c.column,
                    c.start,
                    c.end,
                    one_line(&c.text)
                );
            }
        }
    }
    s += &format!(
        "\n{} rule{}, {cases} case{}: {} passed, {failed} failed; coverage {} ({decisive}/{total} conditions decisive){}\n",
        run.rules.len(),
        if run.rules.len() == 1 { "" } else { "s" },
        if cases == 1 { "" } else { "s" },
        cases - failed,
        percent(run.coverage),
        if run.errors.is_empty() { String::new() } else { format!("; {} error(s)", run.errors.len()) }
    );
    s
}

/// A clause as one line of at most 100 characters.
fn one_line(s: &str) -> String {
    let s = s.split_whitespace().collect::<Vec<_>>().join(" ");
    match s.char_indices().nth(100) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s,
    }
}

fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o += "&amp;",
            '<' => o += "&lt;",
            '>' => o += "&gt;",
            '"' => o += "&quot;",
            '\'' => o += "&apos;",
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\t' | '\r') => {}
            c => o.push(c),
        }
    }
    o
}

/// JUnit XML: one testsuite per rule, one testcase per case and baseline, and one per policy the
/// rule fails (coverage, required cases); the run's errors are a suite of their own.
fn junit(run: &Run) -> String {
    let mut suites = String::new();
    let (mut tests, mut failures) = (0, 0);
    for r in &run.rules {
        let rep = &r.report;
        let mut body = String::new();
        let mut fails = 0;
        for c in &rep.cases {
            let file = if c.kind == "case" { rep.cases_origin.clone() } else { None }.unwrap_or(rep.origin.clone());
            body += &format!(
                "    <testcase name=\"{}\" classname=\"{}\" file=\"{}\" line=\"{}\"",
                esc(&c.name),
                esc(&rep.rule_id),
                esc(&file),
                c.line
            );
            if c.passed {
                body += "/>\n";
            } else {
                fails += 1;
                let lines = failure(c);
                body += &format!(
                    ">\n      <failure message=\"{}\" type=\"{}\">{}</failure>\n    </testcase>\n",
                    esc(lines.first().map_or("failed", String::as_str)),
                    if c.kind == "case" { "case" } else { "benign" },
                    esc(&lines.join("\n"))
                );
            }
        }
        for p in &r.problems {
            fails += 1;
            let uncovered: Vec<String> = rep
                .uncovered()
                .map(|u| {
                    format!("{} at {}:{}: {}", u.condition.kind, u.condition.line, u.condition.column, u.condition.text)
                })
                .collect();
            body += &format!(
                "    <testcase name=\"policy\" classname=\"{}\">\n      <failure message=\"{}\" type=\"policy\">{}</failure>\n    </testcase>\n",
                esc(&rep.rule_id),
                esc(p),
                esc(&uncovered.join("\n"))
            );
        }
        let n = rep.cases.len() + r.problems.len();
        tests += n;
        failures += fails;
        suites += &format!(
            "  <testsuite name=\"{}\" tests=\"{n}\" failures=\"{fails}\" errors=\"0\" skipped=\"0\">\n    <properties>\n      <property name=\"rule_id\" value=\"{}\"/>\n      <property name=\"coverage\" value=\"{:.1}\"/>\n    </properties>\n{body}  </testsuite>\n",
            esc(&rep.rule_name),
            esc(&rep.rule_id),
            rep.coverage
        );
    }
    if !run.errors.is_empty() {
        let mut body = String::new();
        for (i, e) in run.errors.iter().enumerate() {
            body += &format!(
                "    <testcase name=\"error {}\" classname=\"eqlite\">\n      <error message=\"{}\">{}</error>\n    </testcase>\n",
                i + 1,
                esc(e.lines().next().unwrap_or_default()),
                esc(e)
            );
        }
        tests += run.errors.len();
        suites += &format!(
            "  <testsuite name=\"eqlite\" tests=\"{}\" failures=\"0\" errors=\"{}\">\n{body}  </testsuite>\n",
            run.errors.len(),
            run.errors.len()
        );
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"eqlite test\" tests=\"{tests}\" failures=\"{failures}\" errors=\"{}\">\n{suites}</testsuites>\n",
        run.errors.len()
    )
}
