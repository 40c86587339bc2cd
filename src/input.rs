//! Splitting pasted or piped text into events, whatever its form: one JSON object, NDJSON (or any
//! sequence of JSON objects), a JSON array, an Elasticsearch search response (`hits.hits`, and the
//! `hits.events` / `hits.sequences` of an EQL search). Each event keeps its line so that errors can
//! say where they are; an invalid item is reported and the rest still come through.

use serde::Deserialize;
use serde_json::value::RawValue;

/// One event's JSON text, borrowed from the input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RawEvent<'a> {
    /// The event's JSON text.
    pub json: &'a str,
    /// 1-based line where the event starts.
    pub line: usize,
    /// Byte offset where the event starts.
    pub offset: usize,
}

/// An item of the input that is not valid JSON.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputError {
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// Byte offset.
    pub offset: usize,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for InputError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}, column {}: {}", self.line, self.column, self.message)
    }
}

/// One item of the input: an event or why it is not one.
pub type Item<'a> = Result<RawEvent<'a>, InputError>;

/// Line numbers are filled in afterwards by [`number_lines`], in one pass over the text.
fn error_at(text: &str, offset: usize, message: String) -> InputError {
    let offset = offset.min(text.len());
    let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    InputError { line: 0, column: text[line_start..offset].chars().count() + 1, offset, message }
}

fn raw<'a>(text: &'a str, json: &'a str) -> RawEvent<'a> {
    let offset = json.as_ptr() as usize - text.as_ptr() as usize;
    RawEvent { json, line: 0, offset }
}

/// Sets every item's line, counting newlines once from item to item (items come in text order).
fn number_lines(text: &str, items: &mut [Item<'_>]) {
    let (mut at, mut line) = (0usize, 1usize);
    for item in items {
        let (offset, slot) = match item {
            Ok(e) => (e.offset, &mut e.line),
            Err(e) => (e.offset, &mut e.line),
        };
        if offset < at {
            (at, line) = (0, 1);
        }
        line += memchr::memchr_iter(b'\n', &text.as_bytes()[at..offset]).count();
        at = offset;
        *slot = line;
    }
}

/// Splits `text` into events.
pub fn split(text: &str) -> Vec<Item<'_>> {
    let start = text.len() - text.trim_start().len();
    let mut items = match text.as_bytes().get(start) {
        None => vec![],
        Some(b'[') => split_array(text, start),
        _ => split_stream(text),
    };
    number_lines(text, &mut items);
    items
}

#[derive(Deserialize)]
struct SearchResponse<'a> {
    #[serde(borrow)]
    hits: Hits<'a>,
}

#[derive(Deserialize)]
struct Hits<'a> {
    #[serde(borrow, default)]
    hits: Option<Vec<&'a RawValue>>,
    #[serde(borrow, default)]
    events: Option<Vec<&'a RawValue>>,
    #[serde(borrow, default)]
    sequences: Option<Vec<EqlSequence<'a>>>,
}

#[derive(Deserialize)]
struct EqlSequence<'a> {
    #[serde(borrow)]
    events: Vec<&'a RawValue>,
}

/// The events of a search response, if `json` is one.
fn search_hits(json: &str) -> Option<Vec<&str>> {
    if !json.contains("\"hits\"") {
        return None;
    }
    let r: SearchResponse = serde_json::from_str(json).ok()?;
    let h = r.hits;
    if h.hits.is_none() && h.events.is_none() && h.sequences.is_none() {
        // `{"hits": {"count": 3}}` is an event that happens to have a `hits` field.
        return None;
    }
    let mut out: Vec<&str> = h.hits.unwrap_or_default().into_iter().map(RawValue::get).collect();
    out.extend(h.events.unwrap_or_default().into_iter().map(RawValue::get));
    for s in h.sequences.unwrap_or_default() {
        out.extend(s.events.into_iter().map(RawValue::get));
    }
    Some(out)
}

/// A sequence of JSON values (NDJSON, or pretty-printed objects one after another). After an
/// error, reading resumes at the next line.
fn split_stream(text: &str) -> Vec<Item<'_>> {
    let mut out = Vec::new();
    let mut from = 0;
    while from < text.len() {
        let mut stream = serde_json::Deserializer::from_str(&text[from..]).into_iter::<&RawValue>();
        let mut resume = None;
        for item in stream.by_ref() {
            match item {
                Ok(v) => match search_hits(v.get()) {
                    Some(hits) => out.extend(hits.into_iter().map(|j| Ok(raw(text, j)))),
                    None => out.push(Ok(raw(text, v.get()))),
                },
                Err(e) => {
                    // serde_json counts lines and columns from `from`.
                    let local = &text[from..];
                    let err_off = offset_of(local, e.line(), e.column());
                    out.push(Err(error_at(text, from + err_off, describe(&e))));
                    let next_line = local[err_off..].find('\n').map_or(local.len(), |i| err_off + i + 1);
                    resume = Some(from + next_line.max(1));
                    break;
                }
            }
        }
        match resume {
            Some(r) => from = r,
            None => break,
        }
    }
    out
}

fn describe(e: &serde_json::Error) -> String {
    let msg = e.to_string();
    // Drop serde_json's own " at line L column C" suffix: the position is reported separately.
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg,
    }
}

/// Byte offset of a serde_json (1-based line, 1-based column in bytes) position.
fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let mut off = 0;
    for _ in 1..line {
        match text[off..].find('\n') {
            Some(i) => off += i + 1,
            None => return text.len(),
        }
    }
    let mut o = (off + column.saturating_sub(1)).min(text.len());
    while !text.is_char_boundary(o) {
        o -= 1;
    }
    o
}

/// A JSON array, split element by element without parsing the elements, so that one bad element
/// does not hide the others.
fn split_array<'a>(text: &'a str, open: usize) -> Vec<Item<'a>> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut in_str = false;
    let mut elem_start: Option<usize> = None;
    let mut i = open + 1;
    let mut closed = false;
    let flush = |s: usize, e: usize, out: &mut Vec<Item<'a>>| {
        let piece = text[s..e].trim();
        if piece.is_empty() {
            return;
        }
        let at = s + (text[s..e].len() - text[s..e].trim_start().len());
        match serde_json::from_str::<&RawValue>(piece) {
            Ok(v) => out.push(Ok(raw(text, &text[at..at + v.get().len()]))),
            Err(e) => out.push(Err(error_at(text, at + offset_of(piece, e.line(), e.column()), describe(&e)))),
        }
    };
    while i < b.len() {
        let c = b[i];
        if in_str {
            match c {
                b'\\' => i += 1,
                b'"' => in_str = false,
                _ => {}
            }
        } else {
            match c {
                b'"' => in_str = true,
                b'{' | b'[' => depth += 1,
                b'}' | b']' if depth > 0 => depth -= 1,
                b']' => {
                    if let Some(s) = elem_start.take() {
                        flush(s, i, &mut out);
                    }
                    closed = true;
                    break;
                }
                b',' if depth == 0 => {
                    match elem_start.take() {
                        Some(s) => flush(s, i, &mut out),
                        None => out.push(Err(error_at(text, i, "an empty element in the array".into()))),
                    }
                    i += 1;
                    continue;
                }
                _ => {}
            }
        }
        if elem_start.is_none() && !c.is_ascii_whitespace() {
            elem_start = Some(i);
        }
        i += 1;
    }
    if !closed {
        if let Some(s) = elem_start {
            flush(s, b.len(), &mut out);
        }
        out.push(Err(error_at(text, text.len(), "the array is not closed with `]`".into())));
    } else if !text[i + 1..].trim().is_empty() {
        out.push(Err(error_at(
            text,
            i + 1 + (text[i + 1..].len() - text[i + 1..].trim_start().len()),
            "text after the end of the array".into(),
        )));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jsons(text: &str) -> Vec<String> {
        split(text).into_iter().map(|i| i.map(|r| r.json.to_string()).unwrap_or_else(|e| format!("ERR {e}"))).collect()
    }

    #[test]
    fn every_form() {
        assert_eq!(jsons(r#"{"a":1}"#), [r#"{"a":1}"#]);
        assert_eq!(jsons("{\"a\":1}\n{\"a\":2}\n"), [r#"{"a":1}"#, r#"{"a":2}"#]);
        assert_eq!(jsons("{\n  \"a\": 1\n}\n{\n  \"a\": 2\n}"), ["{\n  \"a\": 1\n}", "{\n  \"a\": 2\n}"]);
        assert_eq!(jsons(r#" [ {"a":1}, {"a":[1,2]} ] "#), [r#"{"a":1}"#, r#"{"a":[1,2]}"#]);
        assert_eq!(
            jsons(r#"{"took":1,"hits":{"total":{"value":1},"hits":[{"_source":{"a":1}}]}}"#),
            [r#"{"_source":{"a":1}}"#]
        );
        assert_eq!(jsons(r#"{"hits":{"sequences":[{"events":[{"x":1},{"x":2}]}]}}"#), [r#"{"x":1}"#, r#"{"x":2}"#]);
        assert!(jsons("").is_empty());
        assert_eq!(jsons(r#"{"hits":{"count":3}}"#), [r#"{"hits":{"count":3}}"#]);
    }

    #[test]
    fn errors_have_positions_and_the_rest_survives() {
        let items = split("{\"a\":1}\n{\"a\": nope}\n{\"a\":3}\n");
        assert_eq!(items.len(), 3);
        let e = items[1].clone().unwrap_err();
        assert_eq!((e.line, e.column), (2, 8));
        assert_eq!(items[2].as_ref().unwrap().line, 3);

        let items = split("[{\"a\":1},\n {\"a\":},\n {\"a\":\"x]\"}]");
        assert_eq!(items.len(), 3);
        let e = items[1].clone().unwrap_err();
        assert_eq!(e.line, 2);
        assert_eq!(items[2].as_ref().unwrap().json, "{\"a\":\"x]\"}");
        assert!(split("[{\"a\":1}").last().unwrap().is_err());
    }

    #[test]
    fn large_inputs_split_in_linear_time() {
        let line = "{\"a\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}\n";
        let text = line.repeat(200_000);
        let items = split(&text);
        assert_eq!(items.len(), 200_000);
        assert_eq!(items[199_999].as_ref().unwrap().line, 200_000);
    }
}
