//! The one error type of the crate: a kind, a message a person can act on, and where it is — a
//! byte span in the text it refers to (a query, a rule file) or, for an event, the line and
//! column of the JSON reader. Positions in every unit an editor may count in, and a snippet with
//! a caret under the offending text, are computed when asked for, not when the error is made.

use crate::span::{SourceMap, Span};
use serde::ser::SerializeStruct;
use std::fmt;
use std::sync::Arc;

/// What went wrong, broadly: callers branch on this, never on the message's wording.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The query is not valid EQL syntax.
    Parse,
    /// The query parses but Elasticsearch would refuse it (arity, join keys, `runs`, an invalid
    /// regex or CIDR block, a construct of another dialect, …).
    Verify,
    /// A detection-rules TOML file is not valid TOML, or lacks `rule_id` or `query`.
    RuleFile,
    /// A rule with the same id is already loaded.
    Duplicate,
    /// A test-case file (`*.tests.toml`) is not valid, or names a rule that is not loaded.
    CaseFile,
    /// A resource limit was reached (query length, nesting, list size, regex memory, rules in a
    /// set, event size).
    Limit,
    /// An event is not a JSON object the reader accepts.
    Event,
    /// A file or directory could not be read.
    Io,
    /// A stream snapshot is truncated, corrupt, of another format version, or not a snapshot.
    Snapshot,
}

impl ErrorKind {
    /// A stable lowercase name: `parse`, `verify`, `rule_file`, `duplicate`, `case_file`, `limit`, `event`, `io`, `snapshot`.
    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::Parse => "parse",
            ErrorKind::Verify => "verify",
            ErrorKind::RuleFile => "rule_file",
            ErrorKind::Duplicate => "duplicate",
            ErrorKind::CaseFile => "case_file",
            ErrorKind::Limit => "limit",
            ErrorKind::Event => "event",
            ErrorKind::Io => "io",
            ErrorKind::Snapshot => "snapshot",
        }
    }
}

/// An error with its kind, message and position.
///
/// ```
/// use eqlite::{ErrorKind, RuleSet};
///
/// let e = RuleSet::default().add_query("q", "process where process.name = \"curl\"").unwrap_err();
/// assert_eq!(e.kind(), ErrorKind::Parse);
/// assert!(e.message().contains("use `==`"));
/// let p = e.position().unwrap();
/// assert_eq!((p.line, p.column), (1, 28));
/// assert!(e.rendered().contains("^"), "{}", e.rendered());
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    message: String,
    /// Byte range in `source`; empty when the position is unknown.
    span: Span,
    /// The text `span` points into, when the error refers to one.
    source: Option<Arc<str>>,
    /// 1-based line and column (in bytes) for errors whose text is not kept (events, which may be
    /// megabytes long).
    line_col: Option<(usize, usize)>,
}

/// Where an error is, in every unit a consumer may count in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Position {
    /// 1-based line of the start of the span.
    pub line: usize,
    /// 1-based column in characters.
    pub column: usize,
    /// 1-based column in UTF-16 code units (JavaScript string indices, Monaco, CodeMirror).
    pub column_utf16: usize,
    /// Byte offsets into the text.
    pub start: usize,
    /// End of the span (bytes, exclusive).
    pub end: usize,
    /// UTF-16 offsets into the text.
    pub start_utf16: usize,
    /// End of the span (UTF-16, exclusive).
    pub end_utf16: usize,
}

impl Error {
    /// An error at `span` of `src` (the text is kept, so that positions can be computed later);
    /// for tools that report their own findings in the same form.
    pub fn new(kind: ErrorKind, src: &str, span: Span, message: impl Into<String>) -> Error {
        let start = span.start.min(src.len());
        let end = span.end.min(src.len()).max(start);
        Error { kind, message: message.into(), span: Span::new(start, end), source: Some(src.into()), line_col: None }
    }

    /// An error that refers to no text.
    pub(crate) fn bare(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error { kind, message: message.into(), span: Span::default(), source: None, line_col: None }
    }

    pub(crate) fn parse(src: &str, span: Span, message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Parse, src, span, message)
    }

    pub(crate) fn verify(src: &str, span: Span, message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Verify, src, span, message)
    }

    pub(crate) fn limit(src: &str, span: Span, message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Limit, src, span, message)
    }

    /// An event that could not be read, with the JSON reader's position.
    pub(crate) fn event(e: &serde_json::Error) -> Error {
        let msg = e.to_string();
        // serde_json appends " at line L column C": the position is kept separately.
        let message = match msg.rfind(" at line ") {
            Some(i) if e.line() > 0 => msg[..i].to_string(),
            _ => msg,
        };
        let line_col = (e.line() > 0).then(|| (e.line(), e.column()));
        Error { kind: ErrorKind::Event, message, span: Span::default(), source: None, line_col }
    }

    /// The same error with another message (the position stays).
    pub(crate) fn map_message(mut self, f: impl FnOnce(&str) -> String) -> Error {
        self.message = f(&self.message);
        self
    }

    /// The same error placed at `span` of another text (a query's error moved into its rule file).
    pub(crate) fn relocate(mut self, src: &str, span: Span) -> Error {
        let moved = Error::new(self.kind, src, span, String::new());
        self.span = moved.span;
        self.source = moved.source;
        self.line_col = None;
        self
    }

    /// What kind of error this is.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The message, without position.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The byte range the error refers to in its text (empty when unknown).
    pub fn span(&self) -> Span {
        self.span
    }

    /// The text the error refers to, when it was kept.
    pub fn source_text(&self) -> Option<&str> {
        self.source.as_deref()
    }

    /// Line, column and offsets, when known.
    pub fn position(&self) -> Option<Position> {
        if let Some(src) = &self.source {
            let map = SourceMap::new(src);
            let loc = map.location(self.span);
            let lc = map.line_col(self.span.start);
            return Some(Position {
                line: lc.line,
                column: lc.column,
                column_utf16: lc.column_utf16,
                start: loc.start,
                end: loc.end,
                start_utf16: loc.start_utf16,
                end_utf16: loc.end_utf16,
            });
        }
        self.line_col.map(|(line, column)| Position { line, column, column_utf16: column, ..Position::default() })
    }

    /// The message with the source line and a caret under the span, for terminals and tooltips.
    pub fn rendered(&self) -> String {
        match &self.source {
            Some(src) => {
                let map = SourceMap::new(src);
                let lc = map.line_col(self.span.start);
                render(&map, self.span, lc.line, lc.column, &self.message)
            }
            None => match self.line_col {
                Some((line, column)) => format!("error: {}\n --> {line}:{column}", self.message),
                None => format!("error: {}", self.message),
            },
        }
    }
}

/// The rendered snippet when the error has its text; otherwise one line, the message and, for an
/// event, `at line L column C` as the JSON reader says it.
impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.source, self.line_col) {
            (Some(_), _) => f.write_str(&self.rendered()),
            (None, Some((line, column))) => write!(f, "{} at line {line} column {column}", self.message),
            (None, None) => f.write_str(&self.message),
        }
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("kind", &self.kind)
            .field("message", &self.message)
            .field("position", &self.position())
            .finish()
    }
}

impl std::error::Error for Error {}

/// Serialised with its position fields flattened and the rendered snippet, as tools and the npm
/// package want it.
impl serde::Serialize for Error {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let p = self.position().unwrap_or_default();
        let mut st = s.serialize_struct("Error", 10)?;
        st.serialize_field("kind", self.kind.name())?;
        st.serialize_field("message", &self.message)?;
        st.serialize_field("line", &p.line)?;
        st.serialize_field("column", &p.column)?;
        st.serialize_field("column_utf16", &p.column_utf16)?;
        st.serialize_field("start", &p.start)?;
        st.serialize_field("end", &p.end)?;
        st.serialize_field("start_utf16", &p.start_utf16)?;
        st.serialize_field("end_utf16", &p.end_utf16)?;
        st.serialize_field("rendered", &self.rendered())?;
        st.end()
    }
}

fn render(map: &SourceMap, span: Span, line: usize, column: usize, message: &str) -> String {
    const MAX_LINE: usize = 160;
    let text = map.line_text(span.start);
    let gutter = line.to_string().len();
    // Long lines (minified rules, 1 MB queries) are cut to a window around the caret.
    let chars: Vec<char> = text.chars().collect();
    let mut first = 0;
    if chars.len() > MAX_LINE && column > MAX_LINE / 2 {
        first = (column - MAX_LINE / 2).min(chars.len().saturating_sub(MAX_LINE));
    }
    let last = (first + MAX_LINE).min(chars.len());
    let shown: String = chars[first..last].iter().map(|&c| if c == '\t' { ' ' } else { c }).collect();
    let caret_col = column - 1 - first;
    let on_line = span.text(map.source()).chars().take_while(|&c| c != '\n').count();
    let width = on_line.clamp(1, (last - first).saturating_sub(caret_col).max(1));
    let pad = " ".repeat(gutter);
    format!(
        "error: {message}\n{pad}--> {line}:{column}\n{pad} |\n{line} | {prefix}{shown}{suffix}\n{pad} | {indent}{carets}",
        prefix = if first > 0 { "…" } else { "" },
        suffix = if last < chars.len() { "…" } else { "" },
        indent = " ".repeat(caret_col + usize::from(first > 0)),
        carets = "^".repeat(width),
    )
}

/// Several errors, rendered one after the other.
pub fn render_all(errors: &[Error]) -> String {
    errors.iter().map(Error::rendered).collect::<Vec<_>>().join("\n\n")
}
