//! Shared plumbing of the subcommands: loading rules and reading events.

pub mod check;
pub mod explain;
pub mod scan;

use crate::RuleArgs;
use eqlite::input::{self, InputError};
use eqlite::{Error, ErrorKind, Options, Pack, RuleSet};
use std::io::{BufRead, BufReader, Read};
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
    Ok(Options {
        category_field: args.category_field.clone(),
        timestamp_field: args.timestamp_field.clone(),
        tiebreaker_field: args.tiebreaker_field.clone(),
        mapping,
        ..Options::default()
    })
}

/// Loads `--rules` and `--query`, or the kubelet pack when neither is given. Rule errors are
/// collected, not fatal; callers decide.
pub fn load(args: &RuleArgs) -> Result<Rules, String> {
    let mut set = RuleSet::new(options(args)?);
    let pack = if args.rules.is_empty() && args.queries.is_empty() {
        Pack::kubelet()
    } else {
        let mut pack = Pack::default();
        for p in &args.rules {
            pack.extend(Pack::read(p).map_err(|e| e.message().to_string())?);
        }
        pack
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
    let skipped = report.skipped.into_iter().map(|s| (format!("{} ({})", s.origin, s.name), s.reason)).collect();
    Ok(Rules { set, skipped, errors })
}

/// `30s`, `5m`, `1h`, `500ms`, `0`.
pub fn parse_duration(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (n, unit) = s.split_at(split);
    let n: u64 = n.parse().map_err(|_| format!("`{s}` is not a duration such as 30s or 5m"))?;
    let f = match unit {
        "" | "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return Err(format!("`{s}`: unknown unit `{unit}` (ms, s, m, h, d)")),
    };
    n.checked_mul(f).ok_or_else(|| format!("`{s}` is too long"))
}

pub fn open(path: Option<&Path>) -> Result<Box<dyn BufRead>, String> {
    match path {
        None => Ok(Box::new(BufReader::with_capacity(1 << 16, std::io::stdin()))),
        Some(p) if p.as_os_str() == "-" => Ok(Box::new(BufReader::with_capacity(1 << 16, std::io::stdin()))),
        Some(p) => {
            let f = std::fs::File::open(p).map_err(|e| format!("{}: {e}", p.display()))?;
            Ok(Box::new(BufReader::with_capacity(1 << 16, f)))
        }
    }
}

/// One input item: the event's JSON, or why it is not one.
pub enum Item<'a> {
    Event { json: &'a str, line: usize },
    Bad(InputError),
}

/// Calls `f` for every input item, in order. NDJSON is read line by line (constant memory);
/// other forms (a JSON array, a pretty-printed object, a search response) are read whole.
pub fn for_each_item(mut r: Box<dyn BufRead>, mut f: impl FnMut(Item)) -> Result<(), String> {
    let io = |e: std::io::Error| format!("reading events: {e}");
    let first = loop {
        let buf = r.fill_buf().map_err(io)?;
        if buf.is_empty() {
            return Ok(());
        }
        match buf.iter().position(|b| !b.is_ascii_whitespace()) {
            Some(i) => break buf[i],
            None => {
                let n = buf.len();
                r.consume(n);
            }
        }
    };
    let mut line_no = 0;
    let mut bytes = Vec::new();
    let max = eqlite::Options::default().max_event_bytes;
    if first == b'{' {
        loop {
            let len = read_line_bounded(&mut *r, &mut bytes, max).map_err(io)?;
            if len == 0 {
                return Ok(());
            }
            line_no += 1;
            if bytes.len() > max {
                // Not kept in memory: only the first `max + 1` bytes of the line were.
                let message = format!("the line is {len} bytes long; the limit for an event is {max} bytes");
                f(Item::Bad(InputError { line: line_no, column: 1, offset: 0, message }));
                continue;
            }
            let line = match std::str::from_utf8(&bytes) {
                Ok(l) => l,
                Err(e) => {
                    let column = e.valid_up_to() + 1;
                    f(Item::Bad(InputError { line: line_no, column, offset: 0, message: "invalid UTF-8".into() }));
                    continue;
                }
            };
            let json = line.trim();
            if json.is_empty() {
                continue;
            }
            // A line that is not a complete value: the input is pretty-printed; read it whole.
            if line_no == 1 && serde_json::from_str::<&serde_json::value::RawValue>(json).is_err_and(|e| e.is_eof()) {
                let mut rest = String::from(line);
                r.read_to_string(&mut rest).map_err(io)?;
                return whole(&rest, f);
            }
            if is_search_response(json) {
                for item in input::split(json) {
                    match item {
                        Ok(e) => f(Item::Event { json: e.json, line: line_no }),
                        Err(mut e) => {
                            e.line = line_no;
                            f(Item::Bad(e));
                        }
                    }
                }
                continue;
            }
            f(Item::Event { json, line: line_no });
        }
    }
    let mut all = Vec::new();
    r.read_to_end(&mut all).map_err(io)?;
    let text = String::from_utf8(all)
        .map_err(|e| format!("the input is not valid UTF-8 (at byte {})", e.utf8_error().valid_up_to()))?;
    whole(&text, f)
}

/// Reads one line (with its `\n`) into `buf`, keeping at most `max + 1` bytes of it however long
/// it is; returns the line's full length (0 at the end of the input).
fn read_line_bounded(r: &mut dyn BufRead, buf: &mut Vec<u8>, max: usize) -> std::io::Result<usize> {
    buf.clear();
    let mut total = 0;
    loop {
        let available = match r.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if available.is_empty() {
            return Ok(total);
        }
        let (end, done) = match memchr::memchr(b'\n', available) {
            Some(i) => (i + 1, true),
            None => (available.len(), false),
        };
        let room = (max + 1).saturating_sub(buf.len());
        buf.extend_from_slice(&available[..end.min(room)]);
        r.consume(end);
        total += end;
        if done {
            return Ok(total);
        }
    }
}

/// A whole search response on one line (rare in NDJSON; checked with a SIMD substring search).
fn is_search_response(json: &str) -> bool {
    static HITS: std::sync::OnceLock<memchr::memmem::Finder<'static>> = std::sync::OnceLock::new();
    let f = HITS.get_or_init(|| memchr::memmem::Finder::new(b"\"hits\""));
    f.find(json.as_bytes()).is_some()
        && (json.contains("\"_source\"") || json.contains("\"sequences\"") || json.contains("\"events\""))
}

fn whole(text: &str, mut f: impl FnMut(Item)) -> Result<(), String> {
    for item in input::split(text) {
        match item {
            Ok(e) => f(Item::Event { json: e.json, line: e.line }),
            Err(e) => f(Item::Bad(e)),
        }
    }
    Ok(())
}

/// Whether progress lines should go to stderr.
pub fn interactive() -> bool {
    use std::io::IsTerminal;
    std::io::stderr().is_terminal()
}
