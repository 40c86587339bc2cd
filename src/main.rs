//! `eqlite`, the command-line tool: a thin shell over the library. The modules under `src/cli/`
//! belong to this binary only.

mod cli;

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// Evaluate Elastic EQL detection rules on JSON events, outside Elasticsearch.
///
/// Events may be one JSON object, NDJSON, a JSON array, or an Elasticsearch search response
/// (`hits.hits` are unwrapped to their `_source`). Without --rules or --query, the embedded
/// kubelet / Kubernetes-node-API rule pack is used.
#[derive(Parser)]
#[command(name = "eqlite", version = version(), about, long_about, max_term_width = 100)]
#[command(after_help = "Examples:\n  \
    eqlite scan events.ndjson                       the kubelet pack; a table on a terminal\n  \
    eqlite scan --rules detection-rules/rules logs/ every rule and every log under them\n  \
    eqlite scan --query 'process where process.name == \"curl\"' events.json.gz\n  \
    eqlite scan --format ecs logs/ > alerts.bulk    Kibana alert documents, for _bulk\n  \
    eqlite explain --rule b4bd186b-69c6-45ad-8bef-5c35bbadeaef event.json\n  \
    eqlite check --rules my-rules/                  parse and compile only; non-zero exit on errors\n  \
    eqlite rules --tag T1613                        the rules for a MITRE ATT&CK technique\n  \
    eqlite fields events.ndjson                     fields the rules need that the events lack\n  \
    eqlite test rules/ --min-coverage 100           run the rules' cases (NAME.tests.toml), with coverage\n  \
    eqlite synth --rule ID --near-misses --pretty   an event that fires the rule, and near misses\n\n\
Exit status: 0 success; 1 error (bad rule, unreadable file); 2 some events were invalid and skipped.")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Scan events and print the alerts.
    ///
    /// An ndjson alert is {"rule_id", "rule_name", "severity", "risk_score", "events", "sources"},
    /// where "events" lists the 0-based positions of the input events that make up the match
    /// (every input item counts, including invalid ones, across all inputs in order) and
    /// "sources" the file and line of each. Invalid events are reported on stderr with their
    /// file and line and skipped; the others are still scanned.
    #[command(after_help = "Examples:\n  \
        eqlite scan events.ndjson                         the kubelet pack; a table on a terminal\n  \
        eqlite scan --rules rules/ logs/ audit.log.gz     logs/: every .json .ndjson .jsonl .log (.gz .zst)\n  \
        kubectl logs pod | eqlite scan -                  events on stdin\n  \
        eqlite scan --format csv --min-severity high logs/ > alerts.csv\n  \
        eqlite scan --format ecs logs/ | curl -s -H 'Content-Type: application/x-ndjson' \\\n      \
            -XPOST localhost:9200/eqlite-alerts/_bulk --data-binary @-\n  \
        eqlite scan --with-events --tag T1613 -j 2 logs/  events inside the alerts, 2 threads\n  \
        eqlite scan --summary --profile-rules logs/ > /dev/null    what a run cost, per rule\n  \
        tail -F app.log | eqlite scan --state app.state  pending sequences survive a restart\n  \
        eqlite scan --state app.state --final < last.log the stream ends: release what waits for its end")]
    Scan(ScanArgs),
    /// Explain, clause by clause, why each rule matched each event or did not.
    ///
    /// Prints one JSON line per (event, rule): the rule, whether it matched, and the explanation
    /// tree of every clause with its source span, result (true/false/null), the values it looked
    /// at and the value and pattern that decided it.
    #[command(after_help = "Examples:\n  \
        eqlite explain --rule b4bd186b-69c6-45ad-8bef-5c35bbadeaef --pretty event.json\n  \
        eqlite explain --matched events.ndjson            only the (event, rule) pairs that matched\n  \
        eqlite explain --alerts events.ndjson             each alert, member by member")]
    Explain(ExplainArgs),
    /// Parse and compile rules only; print diagnostics; exit non-zero on any error.
    #[command(after_help = "Examples:\n  \
        eqlite check --rules my-rules/                    every *.toml below my-rules/\n  \
        eqlite check --query 'process where process.name = \"sh\"'   one query")]
    Check(RuleArgs),
    /// List the loaded rules: id, severity, risk, type (event, sequence, sample), MITRE ATT&CK
    /// ids, name, and the fields each reads.
    #[command(after_help = "Examples:\n  \
        eqlite rules                                    the embedded kubelet pack\n  \
        eqlite rules --rules detection-rules/rules --tag T1059 --format json")]
    Rules(RulesArgs),
    /// Why rules can never fire on some events: per rule, the fields it reads that never occur
    /// in them, and those whose values are of another type than the rule reads.
    #[command(after_help = "Examples:\n  \
        eqlite fields events.ndjson                     the kubelet pack against your events\n  \
        eqlite fields --rules my-rules/ logs/ --format json")]
    Fields(FieldsArgs),
    /// Run the test cases of rules (NAME.tests.toml beside NAME.toml), with clause coverage.
    ///
    /// Prints ✓/✗ per rule and case; a failure shows expected vs. got and the clause that decided
    /// it, with a caret under it in the query. A condition is decisive in a case when flipping it
    /// alone would change the rule's outcome; coverage is the share of conditions some case makes
    /// decisive. Exit status 1 on any failure, error or policy (--min-coverage, --require-cases).
    ///
    /// With --init RULE_ID, runs no cases: prints a starter case file for the rule instead (the
    /// same as `eqlite synth --rule RULE_ID --init`), to redirect into NAME.tests.toml beside
    /// NAME.toml.
    #[command(after_help = "Examples:\n  \
        eqlite test rules/ --min-coverage 100 --require-cases   every rule below rules/, with its cases\n  \
        eqlite test my-rules/x.toml --junit junit.xml           one rule and x.tests.toml beside it\n  \
        eqlite test rules/ --benign nodes-a-day.ndjson          no alert on a benign corpus\n  \
        eqlite test --init RULE_ID --rules my-rules/ > my-rules/NAME.tests.toml   starter cases")]
    Test(TestArgs),
    /// Print events that fire a rule and, with --near-misses, one near miss per decisive
    /// condition: events changed by that condition alone, which do not fire.
    ///
    /// Prints {"rule_id", "events": [ECS documents, in order], "near_misses": [{"condition",
    /// "span", "change", "events"}]}. Every output was evaluated by the engine: the events fire
    /// the rule, no near miss does. Exits 1 when no firing events can be built (the message says
    /// which condition could not be inverted).
    #[command(after_help = "Examples:\n  \
        eqlite synth --rule b4bd186b-69c6-45ad-8bef-5c35bbadeaef --pretty\n  \
        eqlite synth --rules my-rules/ --rule my-rule-id --near-misses\n  \
        eqlite synth --rules rules/ --rule ID --init > rules/NAME.tests.toml   starter test cases\n  \
        eqlite synth --query 'process where process.name : \"curl*\"' --rule query-0 --near-misses")]
    Synth(SynthArgs),
}

/// How `rules` and `fields` print.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ListFormat {
    /// For people.
    Table,
    /// Pretty-printed JSON.
    Json,
}

#[derive(Args)]
pub struct RulesArgs {
    #[command(flatten)]
    pub rules: RuleArgs,
    #[arg(long, value_enum, default_value = "table")]
    pub format: ListFormat,
}

#[derive(Args)]
pub struct FieldsArgs {
    #[command(flatten)]
    pub rules: RuleArgs,
    #[arg(long, value_enum, default_value = "table")]
    pub format: ListFormat,
    /// Events: files, directories, `-` or nothing for stdin (as for scan).
    #[arg(value_name = "PATH")]
    pub input: Vec<PathBuf>,
}

#[derive(Args)]
pub struct TestArgs {
    /// Rule files, case files (*.tests.toml), or directories searched recursively for both (a
    /// rule's case file and a case file's rule are taken along). Default: the current directory.
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// `text` (✓/✗ for people) or `json` (the results and coverage as data).
    #[arg(long, value_name = "FORMAT", default_value = "text", value_parser = ["text", "json"])]
    pub format: String,
    /// Also write JUnit XML (one testcase per case) to this file.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Fail every rule whose decisive clause coverage is below PCT percent.
    #[arg(long, value_name = "PCT")]
    pub min_coverage: Option<f64>,
    /// Fail every rule without at least one firing and one non-firing case.
    #[arg(long)]
    pub require_cases: bool,
    /// Benign corpora (JSON / NDJSON): any alert on them fails, unless a rule's case file lists
    /// it as a known false positive of that file (`[[benign]]`). It takes every value after it:
    /// give the PATHs first (`eqlite test rules/ --benign a.ndjson b.ndjson`).
    #[arg(long, value_name = "FILE", num_args = 1..)]
    pub benign: Vec<PathBuf>,
    /// Run nothing: print a starter case file (TOML) for the rule with this rule_id on stdout,
    /// e.g. into `rules/NAME.tests.toml`. One case that fires (events synthesized for the rule),
    /// then each near miss (the same events changed by one decisive condition) as a case that
    /// stays silent; every case was run by the engine. The rule is looked up in --rules, or in
    /// the embedded kubelet pack without it.
    #[arg(long, value_name = "RULE_ID", conflicts_with_all = ["paths", "format", "junit", "min_coverage", "require_cases", "benign"], help_heading = "Starter cases")]
    pub init: Option<String>,
    /// With --init: a detection-rules TOML file, or a directory searched recursively for them,
    /// holding the rule. Repeatable.
    #[arg(long = "rules", value_name = "PATH", requires = "init", help_heading = "Starter cases")]
    pub rules: Vec<PathBuf>,
}

#[derive(Args, Clone)]
pub struct RuleArgs {
    /// A detection-rules TOML file, or a directory searched recursively for them. Repeatable.
    #[arg(long = "rules", value_name = "PATH")]
    pub rules: Vec<PathBuf>,
    /// An EQL query to run as a rule named query-N (N counts from 0). Repeatable.
    #[arg(long = "query", value_name = "EQL")]
    pub queries: Vec<String>,
    /// A KQL (Kibana Query Language) query to run as a rule named kql-N. Repeatable.
    #[arg(long = "kql", value_name = "KQL")]
    pub kql: Vec<String>,
    /// Field holding the event category that `process where` tests.
    #[arg(long, value_name = "FIELD", default_value = "event.category")]
    pub category_field: String,
    /// Field holding the event time (a rule's timestamp_override wins when the event has it).
    #[arg(long, value_name = "FIELD", default_value = "@timestamp")]
    pub timestamp_field: String,
    /// Field ordering events with equal timestamps (default: input order).
    #[arg(long, value_name = "FIELD")]
    pub tiebreaker_field: Option<String>,
    /// An Elasticsearch index mapping (JSON): values of its fields are read as their types, with
    /// their null_value; it extends and overrides the ECS types and --field-types tables.
    #[arg(long, value_name = "FILE")]
    pub mapping: Option<PathBuf>,
    /// A field-type table (lines of `field type`, e.g. `my.app.port long`; format in
    /// src/field_types.rs) over the ECS types; later tables override earlier ones. Repeatable.
    #[arg(long = "field-types", value_name = "FILE")]
    pub field_types: Vec<PathBuf>,
    /// Read values as their JSON types, not as the Elastic Common Schema types of their fields
    /// (by default a number in a keyword field such as user.id is its text, a numeric string in
    /// a long field such as destination.port is the number).
    #[arg(long)]
    pub no_ecs_types: bool,
    /// Only rules of this severity or above.
    #[arg(long, value_name = "SEVERITY", value_parser = ["low", "medium", "high", "critical"], help_heading = "Rule selection")]
    pub min_severity: Option<String>,
    /// Only rules with this tag (`Domain: Kubernetes`, or just `Kubernetes`), MITRE ATT&CK
    /// tactic id (TA0002) or technique id (T1059, which takes T1059.004 too). Repeatable: any.
    #[arg(long = "tag", value_name = "TAG", help_heading = "Rule selection")]
    pub tags: Vec<String>,
    /// Only this rule. Repeatable.
    #[arg(long = "rule-id", value_name = "RULE_ID", help_heading = "Rule selection")]
    pub rule_ids: Vec<String>,
    /// Not this rule. Repeatable.
    #[arg(long = "exclude-rule", value_name = "RULE_ID", help_heading = "Rule selection")]
    pub exclude: Vec<String>,
    /// Print rules that were skipped (not EQL) and other details.
    #[arg(long, short)]
    pub verbose: bool,
}

#[derive(Args)]
pub struct ScanArgs {
    #[command(flatten)]
    pub rules: RuleArgs,
    /// Streams (stdin, pipes): how late an event may arrive (relative to the newest seen) and
    /// still join sequences in time order, e.g. 30s, 5m. Later events are counted and kept out of
    /// sequences. A regular file is ordered whole instead (see --sort-memory).
    #[arg(long, value_name = "DURATION", default_value = "1m")]
    pub lateness: String,
    /// Regular files: sequences see the whole file in time order; per sequence rule, at most
    /// this many events are sorted in memory, more go to temporary files as sorted runs.
    #[arg(long, value_name = "EVENTS", default_value_t = 1_000_000)]
    pub sort_memory: usize,
    /// Most pending partial sequence matches per rule; the oldest are evicted beyond it.
    #[arg(long, value_name = "N", default_value_t = 100_000)]
    pub max_pending: usize,
    /// Print counters (events, alerts, invalid, late, evicted) to stderr at the end, as JSON.
    #[arg(long)]
    pub stats: bool,
    /// How alerts are written [default: table on a terminal, else ndjson].
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<cli::output::Format>,
    /// Embed the matched events in ndjson alerts (`sources[].event`).
    #[arg(long)]
    pub with_events: bool,
    /// Print the summary of the run on stderr (the default when stderr is a terminal).
    #[arg(long)]
    pub summary: bool,
    /// Print on stderr the time spent matching events against each rule (the 20 costliest).
    #[arg(long)]
    pub profile_rules: bool,
    /// No summary, even on a terminal.
    #[arg(long, conflicts_with = "summary")]
    pub no_summary: bool,
    /// Threads that parse and match events [default: all cores]. The alerts and their order do
    /// not depend on it.
    #[arg(long, short = 'j', value_name = "N")]
    pub jobs: Option<usize>,
    /// Keep the stream's state in FILE across runs: restored at start when FILE exists, written
    /// at the end of the input and every --state-every (atomically: FILE.tmp, then renamed).
    /// Pending partial matches, events held within --lateness and `head`/`tail` counts carry
    /// over to the next run; what waits for the end of the stream is released only with
    /// --final. All inputs are then read as one stream in input order (regular files too, with
    /// --lateness). A corrupt or truncated FILE is reported on stderr and the scan starts from
    /// an empty state. There is no signal handling: a killed run (SIGINT, SIGTERM, kill -9)
    /// loses what it read since the last write.
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
    /// With --state: how often the state is written while events come in, e.g. 30s, 5m.
    #[arg(long, value_name = "DURATION", default_value = "30s", requires = "state")]
    pub state_every: String,
    /// With --state: this input ends the stream. What waits for the end (events held within
    /// --lateness, sequences ending in a missing event, `tail`) is released as without --state,
    /// and FILE is removed.
    #[arg(long = "final", requires = "state")]
    pub final_: bool,
    /// Events to scan: files, directories (searched recursively for .json, .ndjson, .jsonl and
    /// .log files, also .gz or .zst compressed), `-` or nothing for stdin. Compressed input is
    /// told by its content.
    #[arg(value_name = "PATH")]
    pub input: Vec<PathBuf>,
}

#[derive(Args)]
pub struct ExplainArgs {
    #[command(flatten)]
    pub rules: RuleArgs,
    /// Only this rule (by rule_id).
    #[arg(long, value_name = "RULE_ID")]
    pub rule: Option<String>,
    /// Only (event, rule) pairs that matched.
    #[arg(long)]
    pub matched: bool,
    /// Explain the alerts instead: scan all events (sequences included), then print each alert
    /// with every member event against the stage it filled, its join keys and the time gaps.
    #[arg(long, conflicts_with = "matched")]
    pub alerts: bool,
    /// Why a sequence did or did not fire: over all events (in time order), per sequence rule
    /// and join key, the stages filled and by which events, the stage still pending, and what
    /// stopped it (maxspan exceeded by how much, `until`, a missing-event stage, runs short).
    #[arg(long, conflicts_with_all = ["matched", "alerts"])]
    pub progress: bool,
    /// Pretty-print the JSON.
    #[arg(long)]
    pub pretty: bool,
    /// Events to explain; `-` or nothing for stdin.
    #[arg(value_name = "FILE")]
    pub input: Option<PathBuf>,
}

#[derive(Args)]
pub struct SynthArgs {
    #[command(flatten)]
    pub rules: RuleArgs,
    /// The rule (by rule_id).
    #[arg(long, value_name = "RULE_ID")]
    pub rule: String,
    /// Also print the near misses.
    #[arg(long)]
    pub near_misses: bool,
    /// Print a starter test-case file instead (TOML, the format of `eqlite test`: the firing
    /// events as a case that fires, each near miss as a case that stays silent), e.g. into
    /// `rules/NAME.tests.toml`.
    #[arg(long, conflicts_with_all = ["near_misses", "pretty"])]
    pub init: bool,
    /// Pretty-print the JSON.
    #[arg(long)]
    pub pretty: bool,
}

/// `--version`: the crate version and the ECS version of the embedded field types.
fn version() -> &'static str {
    let v = format!(
        "{} (Elastic Common Schema field types {})",
        env!("CARGO_PKG_VERSION"),
        eqlite::TypeTable::ecs().version().unwrap_or("?")
    );
    // Made once per run, for clap, which wants a static string.
    Box::leak(v.into_boxed_str())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Scan(a) => cli::scan::run(a),
        Command::Explain(a) => cli::explain::run(a),
        Command::Check(a) => cli::check::run(a),
        Command::Rules(a) => cli::rules::rules(a),
        Command::Fields(a) => cli::rules::fields(a),
        Command::Test(a) => cli::test::run(a),
        Command::Synth(a) => cli::synth::run(a),
    };
    match result {
        Ok(code) => code,
        Err(msg) => {
            eprintln!("eqlite: {msg}");
            ExitCode::from(1)
        }
    }
}
