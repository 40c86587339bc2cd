//! Source positions. Spans are UTF-8 byte offsets into the query text; browser editors count
//! UTF-16 code units, so conversions to those are provided too.

use serde::Serialize;

/// A byte range of a source text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Span {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

impl Span {
    /// The range `start..end`.
    pub fn new(start: usize, end: usize) -> Span {
        Span { start, end }
    }

    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span::new(self.start.min(other.start), self.end.max(other.end))
    }

    /// The text it covers (empty when out of range).
    pub fn text(self, src: &str) -> &str {
        src.get(self.start..self.end).unwrap_or("")
    }

    /// Its length in bytes.
    pub fn len(self) -> usize {
        self.end - self.start
    }

    /// Whether it covers nothing.
    pub fn is_empty(self) -> bool {
        self.start == self.end
    }
}

impl From<pest::Span<'_>> for Span {
    fn from(s: pest::Span<'_>) -> Span {
        Span::new(s.start(), s.end())
    }
}

/// A span in every unit a consumer may need: bytes for Rust, UTF-16 code units for JavaScript.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Location {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
    /// First UTF-16 code unit.
    pub start_utf16: usize,
    /// One past the last UTF-16 code unit.
    pub end_utf16: usize,
}

/// A 1-based line and column. `column` counts characters (Unicode scalar values), as a person
/// reads them; `column_utf16` counts UTF-16 code units, as Monaco and CodeMirror do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct LineCol {
    pub line: usize,
    pub column: usize,
    pub column_utf16: usize,
}

/// Answers position questions about one source text.
pub struct SourceMap<'a> {
    src: &'a str,
    /// An ASCII text counts the same in bytes and UTF-16 units: no scan per position (an
    /// explanation asks for one per node).
    ascii: bool,
}

impl<'a> SourceMap<'a> {
    pub fn new(src: &'a str) -> SourceMap<'a> {
        SourceMap { src, ascii: src.is_ascii() }
    }

    pub fn source(&self) -> &'a str {
        self.src
    }

    /// Clamps `byte` into the text and back onto a character boundary.
    fn floor(&self, mut byte: usize) -> usize {
        byte = byte.min(self.src.len());
        while !self.src.is_char_boundary(byte) {
            byte -= 1;
        }
        byte
    }

    pub fn utf16(&self, byte: usize) -> usize {
        if self.ascii {
            return byte.min(self.src.len());
        }
        self.src[..self.floor(byte)].encode_utf16().count()
    }

    pub fn location(&self, span: Span) -> Location {
        let start_utf16 = self.utf16(span.start);
        Location { start: span.start, end: span.end, start_utf16, end_utf16: self.utf16(span.end.max(span.start)) }
    }

    pub fn line_col(&self, byte: usize) -> LineCol {
        let byte = self.floor(byte);
        let before = &self.src[..byte];
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let line = before.matches('\n').count() + 1;
        let col_text = &self.src[line_start..byte];
        LineCol { line, column: col_text.chars().count() + 1, column_utf16: col_text.encode_utf16().count() + 1 }
    }

    /// The full line containing `byte`, without its line terminator.
    pub fn line_text(&self, byte: usize) -> &'a str {
        let byte = self.floor(byte);
        let start = self.src[..byte].rfind('\n').map_or(0, |i| i + 1);
        let end = self.src[byte..].find('\n').map_or(self.src.len(), |i| byte + i);
        self.src[start..end].trim_end_matches('\r')
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf16_and_columns_count_astral_characters_twice() {
        let src = "a == \"😀\"\nb";
        let map = SourceMap::new(src);
        let b = src.find('b').unwrap();
        assert_eq!(map.line_col(b), LineCol { line: 2, column: 1, column_utf16: 1 });
        let quote = src.rfind('"').unwrap();
        let lc = map.line_col(quote);
        assert_eq!((lc.column, lc.column_utf16), (8, 9));
        assert_eq!(map.utf16(quote), 8);
        let span = Span::new(quote - 4, quote + 1);
        assert_eq!((map.location(span).start_utf16, map.location(span).end_utf16), (6, 9));
        let ascii = SourceMap::new("a == \"b\"");
        let loc = ascii.location(Span::new(5, 99));
        assert_eq!((loc.start_utf16, loc.end_utf16, ascii.utf16(99)), (5, 8, 8));
    }
}
