//! How `scan` writes alerts: NDJSON, a table for people, CSV, or ECS alert documents for
//! Elasticsearch's `_bulk` API.

use eqlite::{Alert, EcsContext, EcsMember, Rule, RuleKind};
use serde::Serialize;
use serde_json::value::RawValue;
use std::io::Write;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// One JSON object a line (the default when stdout is not a terminal).
    Ndjson,
    /// Time, severity, rule and the event's key fields (the default on a terminal).
    Table,
    /// One row per alert, with a header.
    Csv,
    /// Kibana's alert documents (.alerts-security.alerts-*), as `_bulk` create actions.
    Ecs,
}

/// One event of an alert: where it came from and, when the format needs it, its JSON text.
pub struct Member<'a> {
    pub file: &'a str,
    pub line: usize,
    pub text: Option<&'a str>,
}

/// Fields a table row and a CSV row show for an event, the first three it has.
const KEY_FIELDS: &[&str] = &[
    "process.command_line",
    "process.args",
    "process.executable",
    "process.name",
    "file.path",
    "registry.path",
    "dns.question.name",
    "url.full",
    "url.original",
    "kubernetes.audit.requestURI",
    "kubernetes.audit.verb",
    "destination.ip",
    "destination.port",
    "source.ip",
    "user.name",
    "host.name",
];

enum Sink {
    Plain(Box<dyn Write>),
    Csv(Box<csv::Writer<Box<dyn Write>>>),
}

pub struct Output<'r> {
    format: Format,
    with_events: bool,
    colour: bool,
    sink: Sink,
    cx: EcsContext<'r>,
    header: bool,
    /// The terminal's width, when the table goes to one.
    width: Option<usize>,
}

#[derive(Serialize)]
struct Located<'a> {
    file: &'a str,
    line: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    event: Option<&'a RawValue>,
}

#[derive(Serialize)]
struct NdjsonAlert<'a> {
    #[serde(flatten)]
    alert: &'a Alert,
    sources: Vec<Located<'a>>,
}

impl<'r> Output<'r> {
    pub fn new(format: Format, with_events: bool, colour: bool, w: Box<dyn Write>, cx: EcsContext<'r>) -> Output<'r> {
        let sink = match format {
            Format::Csv => Sink::Csv(Box::new(csv::Writer::from_writer(w))),
            _ => Sink::Plain(w),
        };
        let width = colour.then(|| console::Term::stdout().size().1 as usize).filter(|&w| w > 0);
        Output { format, with_events, colour, sink, cx, header: false, width }
    }

    /// Whether the format needs the events' text (else only where they came from).
    pub fn needs_text(format: Format, with_events: bool) -> bool {
        format != Format::Ndjson || with_events
    }

    pub fn alert(&mut self, a: &Alert, rule: &Rule, kind: RuleKind, members: &[Member]) -> std::io::Result<()> {
        let events: Vec<Option<serde_json::Value>> =
            members.iter().map(|m| m.text.and_then(|t| serde_json::from_str(t).ok())).collect();
        match (&mut self.sink, self.format) {
            (Sink::Plain(w), Format::Ndjson) => {
                let sources = members
                    .iter()
                    .map(|m| Located {
                        file: m.file,
                        line: m.line,
                        event: m.text.filter(|_| self.with_events).and_then(|t| serde_json::from_str(t).ok()),
                    })
                    .collect();
                serde_json::to_writer(&mut *w, &NdjsonAlert { alert: a, sources })?;
                w.write_all(b"\n")
            }
            (Sink::Plain(w), Format::Table) => {
                let time = events.iter().flatten().find_map(|e| scalar(e, self.cx.timestamp_field)).unwrap_or_default();
                let sev = format!("{:<8}", a.severity);
                let sev = if self.colour { coloured(&sev, &a.severity) } else { sev };
                let fields: Vec<String> = events.iter().flatten().map(key_fields).filter(|f| !f.is_empty()).collect();
                let fields = if fields.is_empty() {
                    members.iter().map(|m| format!("{}:{}", m.file, m.line)).collect::<Vec<_>>().join(" ")
                } else {
                    fields.join(" → ")
                };
                // On a terminal a row stays on one line: the fields give way.
                let fields = match self.width {
                    Some(width) => truncate(&fields, width.saturating_sub(24 + 2 + 8 + 2 + 48 + 2).max(20)),
                    None => fields,
                };
                writeln!(w, "{time:<24}  {sev}  {:<48}  {fields}", truncate(&a.rule_name, 48))
            }
            (Sink::Plain(w), _) => {
                let uuid = alert_uuid(a, members);
                let ms: Vec<EcsMember> = events
                    .iter()
                    .zip(members)
                    .map(|(e, m)| EcsMember {
                        event: e.as_ref().unwrap_or(&serde_json::Value::Null),
                        id: format!("{}:{}", m.file, m.line),
                    })
                    .collect();
                for doc in eqlite::ecs_alert_documents(rule, kind, &ms, &self.cx, &uuid) {
                    writeln!(w, "{{\"create\":{{\"_id\":{}}}}}", serde_json::json!(doc["kibana.alert.uuid"]))?;
                    serde_json::to_writer(&mut *w, &doc)?;
                    w.write_all(b"\n")?;
                }
                Ok(())
            }
            (Sink::Csv(w), _) => {
                if !self.header {
                    self.header = true;
                    w.write_record([
                        "time",
                        "severity",
                        "risk_score",
                        "rule_id",
                        "rule_name",
                        "events",
                        "sources",
                        "fields",
                    ])?;
                }
                let time = events.iter().flatten().find_map(|e| scalar(e, self.cx.timestamp_field)).unwrap_or_default();
                let positions: Vec<String> = a.events.iter().map(u64::to_string).collect();
                let sources: Vec<String> = members.iter().map(|m| format!("{}:{}", m.file, m.line)).collect();
                let fields: Vec<String> = events.iter().flatten().map(key_fields).collect();
                w.write_record([
                    time.as_str(),
                    &a.severity,
                    &a.risk_score.to_string(),
                    &a.rule_id,
                    &a.rule_name,
                    &positions.join(" "),
                    &sources.join(" "),
                    &fields.join(" | "),
                ])?;
                Ok(())
            }
        }
    }

    pub fn flush(&mut self) -> std::io::Result<()> {
        match &mut self.sink {
            Sink::Plain(w) => w.flush(),
            Sink::Csv(w) => w.flush(),
        }
    }
}

/// A field's value as text: a string as is, anything else as JSON; arrays joined by spaces.
fn scalar(ev: &serde_json::Value, path: &str) -> Option<String> {
    match eqlite::json_lookup(ev, path)? {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Null => None,
        serde_json::Value::Array(a) => Some(
            a.iter().map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_string)).collect::<Vec<_>>().join(" "),
        ),
        v => Some(v.to_string()),
    }
}

fn key_fields(ev: &serde_json::Value) -> String {
    let mut out = Vec::new();
    for f in KEY_FIELDS {
        // process.args repeats the command line when both are there.
        if *f == "process.args" && out.iter().any(|s: &String| s.starts_with("process.command_line=")) {
            continue;
        }
        if let Some(v) = scalar(ev, f) {
            out.push(format!("{f}={v}"));
        }
        if out.len() == 3 {
            break;
        }
    }
    out.join(" ")
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        return s.to_string();
    }
    let mut t: String = s.chars().take(n - 1).collect();
    t.push('…');
    t
}

fn coloured(text: &str, severity: &str) -> String {
    let s = console::style(text).force_styling(true);
    match severity {
        "critical" => s.red().bold(),
        "high" => s.red(),
        "medium" => s.yellow(),
        _ => s.cyan(),
    }
    .to_string()
}

/// A stable id for an alert (the same run twice gives the same ids): a hash of the rule and of
/// where its events came from, written as a UUID.
fn alert_uuid(a: &Alert, members: &[Member]) -> String {
    use std::hash::{Hash, Hasher};
    let hash = |salt: u8| {
        // SipHash with fixed keys: stable from run to run, unlike a HashMap's.
        #[allow(deprecated)]
        let mut h = std::hash::SipHasher::new_with_keys(0x6571_6c69_7465, salt as u64);
        a.rule_id.hash(&mut h);
        a.events.hash(&mut h);
        for m in members {
            m.file.hash(&mut h);
            m.line.hash(&mut h);
        }
        h.finish()
    };
    let (x, y) = (hash(1), hash(2));
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        x >> 32,
        (x >> 16) & 0xffff,
        x & 0xffff,
        y >> 48,
        y & 0xffff_ffff_ffff
    )
}
