//! Errors a person can act on: a message, the exact position in every unit an editor may count in,
//! and a rendered snippet with a caret under the offending text.

use crate::span::{SourceMap, Span};
use serde::Serialize;
use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    pub message: String,
    /// 1-based line of the start of the span.
    pub line: usize,
    /// 1-based column in characters.
    pub column: usize,
    /// 1-based column in UTF-16 code units.
    pub column_utf16: usize,
    /// Byte offsets into the source.
    pub start: usize,
    pub end: usize,
    /// UTF-16 offsets into the source.
    pub start_utf16: usize,
    pub end_utf16: usize,
    /// The message with the source line and a caret, for terminals and tooltips.
    pub rendered: String,
}

impl Diagnostic {
    pub fn new(src: &str, span: Span, message: impl Into<String>) -> Diagnostic {
        let message = message.into();
        let map = SourceMap::new(src);
        let span = Span::new(span.start.min(src.len()), span.end.min(src.len()).max(span.start.min(src.len())));
        let loc = map.location(span);
        let lc = map.line_col(span.start);
        Diagnostic {
            rendered: render(&map, span, lc.line, lc.column, &message),
            message,
            line: lc.line,
            column: lc.column,
            column_utf16: lc.column_utf16,
            start: loc.start,
            end: loc.end,
            start_utf16: loc.start_utf16,
            end_utf16: loc.end_utf16,
        }
    }

    pub fn span(&self) -> Span {
        Span::new(self.start, self.end)
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.rendered)
    }
}

impl std::error::Error for Diagnostic {}

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

/// A list of diagnostics, for places that collect several.
pub fn render_all(diags: &[Diagnostic]) -> String {
    diags.iter().map(|d| d.rendered.as_str()).collect::<Vec<_>>().join("\n\n")
}
