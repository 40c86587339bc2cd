//! Splitting input into events, whatever its form: one JSON object, NDJSON, pretty-printed objects
//! one after another, a JSON array, an Elasticsearch search response (`hits.hits`, and the
//! `hits.events` / `hits.sequences` of an EQL search). Text in memory ([`split`]: the npm package,
//! the playground) and a byte stream ([`read`]: the CLI) run the same state machine, fed all at
//! once or chunk by chunk, so every path finds the same items at the same lines. Every item counts,
//! invalid ones too: item `i` is event position `i` in alerts.
//!
//! The first line (after a byte order mark and blank lines) decides the form:
//! - one complete JSON object and nothing else, or anything but `{` or `[`: **NDJSON**. Every
//!   non-blank line is one item from then on, so a truncated line is one invalid item and its
//!   neighbours are still events.
//! - otherwise (a `[`, an object continued on the next lines, two values on one line) it is a
//!   **document**: a sequence of JSON values, each of which may span lines. An object is an item
//!   (or, if it is a search response, its hits are); an array's elements are items.
//!
//! Recovery in a document: strings never span lines (JSON forbids a raw newline in them), so a
//! broken string cannot swallow what follows. An object that never closes is reported with its
//! error, and reading resumes at the first line after its start that opens an object at column 1
//! (up to the error's line), else after the error's line. So that a truncated object early in a
//! long stream is found without holding the rest of it, such an open object is checked at each
//! line that opens an object at column 1, whenever it has doubled in size since the last check.

use serde::Deserialize;
use serde_json::value::RawValue;
use std::io::Read;

/// Where in the input an event was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// A line of NDJSON.
    Line,
    /// A top-level value of a document, such as a pretty-printed object.
    Value,
    /// An element of a top-level JSON array.
    Element,
    /// The n-th event (1-based) of a search response.
    Hit(usize),
}

/// One event's JSON text, borrowed from the input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RawEvent<'a> {
    /// The event's JSON text.
    pub json: &'a str,
    /// 1-based line where the event starts.
    pub line: usize,
    /// 1-based column, in characters, where the event starts.
    pub column: usize,
    /// Byte offset in the input where the event starts.
    pub offset: usize,
    /// How it was found.
    pub origin: Origin,
}

impl RawEvent<'_> {
    /// An error raised while reading this event's JSON (by `RuleSet::read_json`), positioned in
    /// the whole input. If the JSON itself is invalid, that is the error, exactly as [`split`]
    /// reports it: an NDJSON line left unchecked ([`SplitOptions::check_lines`]) gives the same
    /// error either way.
    pub fn error(&self, e: &crate::Error) -> InputError {
        let start = Pos { at: self.offset, line: self.line, col: self.column.saturating_sub(1) };
        if let Err((syntax, _)) = check(self.json.as_bytes(), start) {
            return syntax;
        }
        let message = format!("invalid event: {}", e.message());
        match e.position() {
            // The reader's line and column (in bytes) within the event.
            Some(p) if p.line > 0 => start.error(self.json.as_bytes(), offset_of(self.json, p.line, p.column), message),
            // Errors without a position (the event is too large, say) point at the event.
            _ => start.error(b"", 0, message),
        }
    }
}

/// An item of the input that is not valid JSON.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputError {
    /// 1-based line.
    pub line: usize,
    /// 1-based, in characters.
    pub column: usize,
    /// Byte offset in the input.
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

/// How [`split_with`] and [`read`] treat items.
#[derive(Clone, Debug)]
pub struct SplitOptions {
    /// Whether each NDJSON line's JSON is checked here. A caller that parses every item anyway
    /// (`RuleSet::read_json`) can leave it to that parser, which finds the same errors; it then
    /// positions them with [`RawEvent::error`].
    pub check_lines: bool,
    /// NDJSON lines, array elements and bare tokens longer than this are invalid items, and are
    /// not held in memory. (A document's objects are held whole: a search response can be large.)
    pub max_item_bytes: usize,
}

impl Default for SplitOptions {
    fn default() -> Self {
        SplitOptions { check_lines: true, max_item_bytes: usize::MAX }
    }
}

/// Splits `text` into items, checking the JSON of each.
pub fn split(text: &str) -> Vec<Item<'_>> {
    split_with(text, &SplitOptions::default())
}

/// Splits `text` into items, as [`split`] does, with other options.
pub fn split_with<'a>(text: &'a str, options: &SplitOptions) -> Vec<Item<'a>> {
    let mut out = Vec::new();
    Splitter::new(options.clone()).run(text.as_bytes(), 0, true, &mut |item| out.push(item));
    out
}

/// Calls `f` with every item of a byte stream, in order. NDJSON is read in constant memory; a
/// document holds one top-level object (or array element) at a time. Bytes that are not UTF-8
/// make their item invalid.
pub fn read(mut r: impl Read, options: &SplitOptions, mut f: impl FnMut(Item<'_>)) -> std::io::Result<()> {
    let mut chunk = vec![0u8; 1 << 16];
    let mut s = Splitter::new(options.clone());
    let mut buf: Vec<u8> = Vec::with_capacity(2 * chunk.len());
    let mut base = 0;
    loop {
        let n = loop {
            match r.read(&mut chunk) {
                Ok(n) => break n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        };
        buf.extend_from_slice(&chunk[..n]);
        s.run(&buf, base, n == 0, &mut f);
        if n == 0 {
            return Ok(());
        }
        let keep = s.keep(&buf, base);
        buf.drain(..keep - base);
        base = keep;
    }
}

fn is_ws(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | b'\n')
}

fn trim_end(b: &[u8]) -> &[u8] {
    &b[..b.iter().rposition(|&c| !is_ws(c)).map_or(0, |i| i + 1)]
}

/// Characters in UTF-8 bytes (any byte that does not continue a character starts one).
fn chars(b: &[u8]) -> usize {
    b.iter().filter(|&&c| c & 0xC0 != 0x80).count()
}

/// A byte offset with its line and the characters before it on that line.
#[derive(Clone, Copy, Debug)]
struct Pos {
    at: usize,
    line: usize,
    col: usize,
}

impl Pos {
    const START: Pos = Pos { at: 0, line: 1, col: 0 };

    /// The position of `bytes[rel]`, where `bytes` start at `self`.
    fn advance(self, bytes: &[u8], rel: usize) -> Pos {
        let before = &bytes[..rel];
        match memchr::memrchr(b'\n', before) {
            None => Pos { at: self.at + rel, line: self.line, col: self.col + chars(before) },
            Some(nl) => Pos {
                at: self.at + rel,
                line: self.line + memchr::memchr_iter(b'\n', before).count(),
                col: chars(&before[nl + 1..]),
            },
        }
    }

    fn error(self, bytes: &[u8], rel: usize, message: impl Into<String>) -> InputError {
        let p = self.advance(bytes, rel.min(bytes.len()));
        InputError { line: p.line, column: p.col + 1, offset: p.at, message: message.into() }
    }
}

/// Brackets and strings seen so far in a structural scan (values are checked afterwards).
#[derive(Clone, Copy, Debug, Default)]
struct Nest {
    depth: usize,
    in_str: bool,
    esc: bool,
}

impl Nest {
    /// Steps over `c`; true when it closes the outermost bracket.
    #[inline]
    fn step(&mut self, c: u8) -> bool {
        if self.in_str {
            if c == b'\n' {
                // Not valid JSON: the string ends here, so that it cannot swallow the next lines.
                (self.in_str, self.esc) = (false, false);
            } else if self.esc {
                self.esc = false;
            } else if c == b'\\' {
                self.esc = true;
            } else if c == b'"' {
                self.in_str = false;
            }
            return false;
        }
        match c {
            b'"' => self.in_str = true,
            b'{' | b'[' => self.depth += 1,
            b'}' | b']' if self.depth > 0 => {
                self.depth -= 1;
                return self.depth == 0;
            }
            _ => {}
        }
        false
    }

    /// Steps over `bytes` until `stop` holds for a byte outside strings (`Before` it), or, with
    /// `until_closed`, the outermost bracket closes (`Closed` at it). String contents are skipped
    /// with a SIMD search: most of an event's bytes are in its strings.
    fn scan(&mut self, bytes: &[u8], until_closed: bool, mut stop: impl FnMut(&Nest, u8, usize) -> bool) -> Scan {
        let mut i = 0;
        while i < bytes.len() {
            if self.in_str {
                if bytes[i] == b'\n' {
                    // See `step`; the newline is then looked at outside the string.
                    (self.in_str, self.esc) = (false, false);
                } else if self.esc {
                    self.esc = false;
                    i += 1;
                } else {
                    match memchr::memchr3(b'"', b'\\', b'\n', &bytes[i..]) {
                        None => return Scan::More,
                        Some(k) => {
                            i += k;
                            if bytes[i] != b'\n' {
                                self.step(bytes[i]);
                                i += 1;
                            }
                        }
                    }
                }
                continue;
            }
            let c = bytes[i];
            if stop(self, c, i) {
                return Scan::Before(i);
            }
            if self.step(c) && until_closed {
                return Scan::Closed(i);
            }
            i += 1;
        }
        Scan::More
    }
}

/// Where [`Nest::scan`] stopped, relative to the bytes it was given.
enum Scan {
    Before(usize),
    Closed(usize),
    More,
}

/// An item being scanned in a document: where it starts, its nesting, and whether it has outgrown
/// the limit (its bytes are then no longer kept).
#[derive(Clone, Copy, Debug)]
struct Token {
    start: Pos,
    nest: Nest,
    long: bool,
}

impl Token {
    fn new(start: Pos) -> Token {
        Token { start, nest: Nest::default(), long: false }
    }
}

#[derive(Clone, Copy, Debug)]
enum State {
    /// Before anything but blanks: the first line decides the form.
    Start,
    /// NDJSON, at the start of a line.
    Lines,
    /// NDJSON, inside a line longer than the limit that started at `start`: its bytes are dropped.
    LongLine { start: Pos, len: usize },
    /// A document, between values.
    Between,
    /// A document's top-level object; `checked` is its size at the last check (see the module doc).
    Object { token: Token, checked: usize },
    /// A top-level scalar or garbage, up to the end of the line or the next `{` or `[`.
    Bare { token: Token },
    /// Inside a top-level array, reading `elem` if there is one.
    Array { elem: Option<Token> },
}

struct Splitter {
    options: SplitOptions,
    state: State,
    /// The scan has looked at every byte before `at`.
    at: usize,
    /// A position at or before `at` whose line and column are known; items before it are done.
    mark: Pos,
    /// Bytes scanned again after going back to recover from objects left open. Past a budget
    /// proportional to the input, recovery stops going back, so that no input takes quadratic time.
    rewound: usize,
}

/// What happened to an item the scan finished.
enum Finished {
    /// Go on after it.
    Next,
    /// It was an object left open: scan again from here.
    Resume(Pos),
}

impl Splitter {
    fn new(options: SplitOptions) -> Splitter {
        Splitter { options, state: State::Start, at: 0, mark: Pos::START, rewound: 0 }
    }

    /// Position of `at`, from the mark, which moves there.
    fn pos(&mut self, buf: &[u8], base: usize, at: usize) -> Pos {
        let p = self.mark.advance(&buf[self.mark.at - base..], at - self.mark.at);
        self.mark = p;
        p
    }

    /// The first byte the next [`Self::run`] still needs.
    fn keep(&mut self, buf: &[u8], base: usize) -> usize {
        let needed = match self.state {
            State::Object { token, .. } => Some(token.start.at),
            State::Bare { token } | State::Array { elem: Some(token) } if !token.long => Some(token.start.at),
            State::Start | State::Lines => Some(self.mark.at),
            _ => None,
        };
        match needed {
            Some(at) => at.min(self.mark.at),
            None => {
                if self.mark.at < self.at && !matches!(self.state, State::LongLine { .. }) {
                    self.pos(buf, base, self.at);
                }
                self.at
            }
        }
    }

    /// Scans `buf` (input bytes from offset `base`) from where the last call stopped, calling
    /// `emit` for each finished item; `eof` says no more bytes follow.
    fn run<'b>(&mut self, buf: &'b [u8], base: usize, eof: bool, emit: &mut dyn FnMut(Item<'b>)) {
        loop {
            let more = match self.state {
                State::Start => self.start(buf, base, eof),
                State::Lines | State::LongLine { .. } => self.lines(buf, base, eof, emit),
                _ => self.document(buf, base, eof, emit),
            };
            if !more {
                return;
            }
        }
    }

    /// Skips a byte order mark and blanks, then decides NDJSON or document. False when it needs
    /// more bytes.
    fn start(&mut self, buf: &[u8], base: usize, eof: bool) -> bool {
        const BOM: &[u8] = b"\xEF\xBB\xBF";
        if self.at == 0 {
            let b = &buf[..buf.len().min(3)];
            if BOM.starts_with(b) && b.len() < 3 && !eof {
                return false;
            }
            if b == BOM {
                self.at = 3;
                self.mark = Pos { at: 3, line: 1, col: 1 };
            }
        }
        if self.mark.at == self.at {
            let rest = &buf[self.at - base..];
            let Some(i) = rest.iter().position(|&c| !is_ws(c)) else {
                self.at += rest.len();
                self.pos(buf, base, self.at);
                return false;
            };
            self.at += i;
            self.pos(buf, base, self.at);
        }
        // `mark` is the first byte that is not blank; bytes up to `at` hold no newline.
        let line = &buf[self.mark.at - base..];
        self.state = match line[0] {
            b'[' => State::Between,
            b'{' => {
                let end = match memchr::memchr(b'\n', &buf[self.at - base..]) {
                    Some(i) => self.at + i - self.mark.at,
                    None if eof => line.len(),
                    None if line.len() > self.options.max_item_bytes => {
                        // Too long to hold, so not held: a line of its own, too long to be an event.
                        self.state = State::Lines;
                        self.at = self.mark.at;
                        return true;
                    }
                    None => {
                        self.at = base + buf.len();
                        return false;
                    }
                };
                let mut nest = Nest::default();
                match line[..end].iter().position(|&c| nest.step(c)) {
                    Some(close) if line[close + 1..end].iter().all(|&c| is_ws(c)) => State::Lines,
                    _ => State::Between,
                }
            }
            _ => State::Lines,
        };
        self.at = self.mark.at;
        true
    }

    /// NDJSON: every complete line (and at the end, the last one). False when it needs more bytes.
    fn lines<'b>(&mut self, buf: &'b [u8], base: usize, eof: bool, emit: &mut dyn FnMut(Item<'b>)) -> bool {
        let max = self.options.max_item_bytes;
        loop {
            // `mark` is where the line starts (unless it is too long); bytes up to `at` hold no newline.
            let (found, end) = match memchr::memchr(b'\n', &buf[self.at - base..]) {
                Some(i) => (true, self.at + i),
                None => (false, base + buf.len()),
            };
            if !found && !eof {
                match &mut self.state {
                    State::LongLine { len, .. } => *len += end - self.at,
                    _ if end - self.mark.at > max => {
                        self.state = State::LongLine { start: self.mark, len: end - self.mark.at }
                    }
                    _ => {}
                }
                self.at = end;
                if let State::LongLine { .. } = self.state {
                    // Its bytes are not kept.
                    self.mark.at = end;
                }
                return false;
            }
            match self.state {
                State::LongLine { start, len } => {
                    let len = len + (end - self.at);
                    emit(Err(start.error(b"", 0, too_long("line", len, max))));
                    self.state = State::Lines;
                }
                _ if end - self.mark.at > max => {
                    emit(Err(self.mark.error(b"", 0, too_long("line", end - self.mark.at, max))))
                }
                _ => self.line(&buf[self.mark.at - base..end - base], self.mark, emit),
            }
            if !found {
                self.at = end;
                self.mark.at = end;
                return false;
            }
            self.at = end + 1;
            self.mark = Pos { at: end + 1, line: self.mark.line + 1, col: 0 };
        }
    }

    /// One NDJSON line (without its newline) starting at `start`.
    fn line<'b>(&self, bytes: &'b [u8], start: Pos, emit: &mut dyn FnMut(Item<'b>)) {
        let lead = bytes.iter().take_while(|&&c| is_ws(c)).count();
        let t = trim_end(&bytes[lead..]);
        if t.is_empty() {
            return;
        }
        let p = Pos { at: start.at + lead, line: start.line, col: start.col + lead };
        let json = if self.options.check_lines {
            match check(t, p) {
                Ok(json) => json,
                Err((e, _)) => return emit(Err(e)),
            }
        } else {
            match std::str::from_utf8(t) {
                Ok(json) => json,
                Err(e) => return emit(Err(p.error(t, e.valid_up_to(), "invalid UTF-8"))),
            }
        };
        if is_search_response(json) {
            if let Some(hits) = search_hits(json) {
                return emit_hits(p, json, hits, emit);
            }
        }
        emit(Ok(RawEvent { json, line: p.line, column: p.col + 1, offset: p.at, origin: Origin::Line }));
    }

    /// A document, from `at`. True when the scan must go on (after an object left open at the
    /// end, from where it resumes).
    fn document<'b>(&mut self, buf: &'b [u8], base: usize, eof: bool, emit: &mut dyn FnMut(Item<'b>)) -> bool {
        let max = self.options.max_item_bytes;
        let end = base + buf.len();
        while self.at < end {
            let from = self.at;
            let rest = &buf[from - base..];
            match self.state {
                State::Between => {
                    let Some(i) = rest.iter().position(|&c| !is_ws(c)) else {
                        self.at = end;
                        break;
                    };
                    self.at += i;
                    if rest[i] == b'[' {
                        self.state = State::Array { elem: None };
                        self.at += 1;
                        continue;
                    }
                    // The token's own scan steps over its first byte.
                    let token = Token::new(self.pos(buf, base, self.at));
                    self.state =
                        if rest[i] == b'{' { State::Object { token, checked: 0 } } else { State::Bare { token } };
                }
                State::Object { mut token, checked } => {
                    let start = token.start;
                    let at_line_start = |i: usize| buf[from + i - base - 1] == b'\n';
                    let scan = token.nest.scan(rest, true, |nest, c, i| {
                        c == b'{' && nest.depth > 0 && at_line_start(i) && from + i - start.at >= 2 * checked
                    });
                    match scan {
                        Scan::Closed(i) => {
                            self.at = from + i + 1;
                            self.state = State::Between;
                            self.finish_object(&buf[start.at - base..self.at - base], start, true, emit);
                        }
                        Scan::Before(i) => {
                            // A line opening an object at column 1: see whether this one already failed.
                            self.at = from + i;
                            let prefix = &buf[start.at - base..self.at - base];
                            self.state = State::Object { token, checked: prefix.len() };
                            if let Err((err, false)) = check(prefix, start) {
                                let resume = self.recover(prefix, start, err, emit);
                                self.resume(resume);
                            }
                        }
                        Scan::More => {
                            self.at = end;
                            self.state = State::Object { token, checked };
                        }
                    }
                }
                State::Bare { mut token } => {
                    match token.nest.scan(rest, false, |_, c, _| matches!(c, b'\n' | b'{' | b'[')) {
                        Scan::Before(i) => {
                            // That byte starts what follows (a newline is a blank).
                            self.at = from + i;
                            self.state = State::Between;
                            self.finish_token(buf, base, token, self.at, Origin::Value, emit);
                        }
                        _ => {
                            self.at = end;
                            token.long |= end - token.start.at > max;
                            self.state = State::Bare { token };
                        }
                    }
                }
                State::Array { elem: None } => {
                    let Some(i) = rest.iter().position(|&c| !is_ws(c)) else {
                        self.at = end;
                        break;
                    };
                    self.at += i;
                    match rest[i] {
                        b']' => {
                            self.state = State::Between;
                            self.at += 1;
                        }
                        b',' => {
                            let p = self.pos(buf, base, self.at);
                            emit(Err(p.error(b"", 0, "an empty element in the array")));
                            self.at += 1;
                        }
                        _ => self.state = State::Array { elem: Some(Token::new(self.pos(buf, base, self.at))) },
                    }
                }
                State::Array { elem: Some(mut token) } => {
                    match token.nest.scan(rest, false, |nest, c, _| nest.depth == 0 && (c == b',' || c == b']')) {
                        Scan::Before(i) => {
                            self.at = from + i + 1;
                            self.state = if rest[i] == b']' { State::Between } else { State::Array { elem: None } };
                            self.finish_token(buf, base, token, from + i, Origin::Element, emit);
                        }
                        _ => {
                            self.at = end;
                            token.long |= end - token.start.at > max;
                            self.state = State::Array { elem: Some(token) };
                        }
                    }
                }
                // `run` hands these to `start` and `lines`.
                State::Start | State::Lines | State::LongLine { .. } => return true,
            }
        }
        if !eof {
            return false;
        }
        match self.state {
            State::Object { token, .. } => {
                self.state = State::Between;
                let bytes = trim_end(&buf[token.start.at - base..]);
                if let Finished::Resume(p) = self.finish_object(bytes, token.start, false, emit) {
                    self.resume(p);
                    return true;
                }
            }
            State::Bare { token } => {
                self.state = State::Between;
                self.finish_token(buf, base, token, end, Origin::Value, emit);
            }
            State::Array { elem } => {
                self.state = State::Between;
                if let Some(token) = elem {
                    self.finish_token(buf, base, token, end, Origin::Element, emit);
                }
                let p = self.pos(buf, base, end);
                emit(Err(p.error(b"", 0, "the array is not closed with `]`")));
            }
            _ => {}
        }
        false
    }

    fn resume(&mut self, p: Pos) {
        self.state = State::Between;
        self.at = p.at;
        self.mark = p;
    }

    /// A top-level object; `closed` when its brackets balanced, else it was left open.
    fn finish_object<'b>(
        &mut self,
        bytes: &'b [u8],
        start: Pos,
        closed: bool,
        emit: &mut dyn FnMut(Item<'b>),
    ) -> Finished {
        let err = match check(bytes, start) {
            Ok(json) => {
                match search_hits(json) {
                    Some(hits) => emit_hits(start, json, hits, emit),
                    None => emit(Ok(RawEvent {
                        json,
                        line: start.line,
                        column: start.col + 1,
                        offset: start.at,
                        origin: Origin::Value,
                    })),
                }
                return Finished::Next;
            }
            Err((err, _)) => err,
        };
        if closed {
            emit(Err(err));
            Finished::Next
        } else {
            Finished::Resume(self.recover(bytes, start, err, emit))
        }
    }

    /// Reports an object left open (`bytes`, from `start`, whose first error is `err`) and says
    /// where to go on: the first line after its first, up to the error's, that starts with `{`
    /// (the object is then what comes before that line); else the line after the error's, and
    /// always that once the budget for going back is spent.
    fn recover<'b>(&mut self, bytes: &[u8], start: Pos, err: InputError, emit: &mut dyn FnMut(Item<'b>)) -> Pos {
        let rel = err.offset - start.at;
        let err_line_start = memchr::memrchr(b'\n', &bytes[..rel]).map_or(0, |i| i + 1);
        if self.rewound <= 2 * (start.at + bytes.len()) + (1 << 20) {
            let mut ls = memchr::memchr(b'\n', bytes).map_or(bytes.len(), |i| i + 1);
            while ls <= err_line_start && ls < bytes.len() {
                if bytes[ls] == b'{' {
                    self.rewound += bytes.len() - ls;
                    let head = trim_end(&bytes[..ls]);
                    emit(Err(check(head, start).err().map_or(err, |(e, _)| e)));
                    return start.advance(bytes, ls);
                }
                ls = memchr::memchr(b'\n', &bytes[ls..]).map_or(bytes.len(), |i| ls + i + 1);
            }
        }
        emit(Err(err));
        let after = memchr::memchr(b'\n', &bytes[rel..]).map_or(bytes.len(), |i| rel + i + 1);
        self.rewound += bytes.len() - after;
        start.advance(bytes, after)
    }

    /// A bare token or an array element, which ends before `end`.
    fn finish_token<'b>(
        &mut self,
        buf: &'b [u8],
        base: usize,
        token: Token,
        end: usize,
        origin: Origin,
        emit: &mut dyn FnMut(Item<'b>),
    ) {
        let start = token.start;
        if token.long || end - start.at > self.options.max_item_bytes {
            let what = if origin == Origin::Element { "array element" } else { "value" };
            let message = too_long(what, end - start.at, self.options.max_item_bytes);
            return emit(Err(start.error(b"", 0, message)));
        }
        match check(trim_end(&buf[start.at - base..end - base]), start) {
            Ok(json) => emit(Ok(RawEvent { json, line: start.line, column: start.col + 1, offset: start.at, origin })),
            Err((e, _)) => emit(Err(e)),
        }
    }
}

fn too_long(what: &str, len: usize, max: usize) -> String {
    format!("the {what} is {len} bytes long; the limit for an event is {max} bytes")
}

/// `bytes` (from `start`) as the text of one JSON value, or its first error and whether that error
/// is only that the text ends too soon.
fn check(bytes: &[u8], start: Pos) -> Result<&str, (InputError, bool)> {
    let json = std::str::from_utf8(bytes).map_err(|e| (start.error(bytes, e.valid_up_to(), "invalid UTF-8"), false))?;
    match serde_json::from_str::<&RawValue>(json) {
        Ok(_) => Ok(json),
        Err(e) => Err((start.error(bytes, error_offset(json, &e), describe(&e)), e.is_eof())),
    }
}

/// Emits the hits of a search response `json` that starts at `start`.
fn emit_hits<'b>(start: Pos, json: &'b str, hits: Vec<&'b str>, emit: &mut dyn FnMut(Item<'b>)) {
    let (mut cur, mut cur_rel) = (start, 0);
    for (k, hit) in hits.into_iter().enumerate() {
        let rel = hit.as_ptr() as usize - json.as_ptr() as usize;
        if rel < cur_rel {
            (cur, cur_rel) = (start, 0);
        }
        cur = cur.advance(&json.as_bytes()[cur_rel..], rel - cur_rel);
        cur_rel = rel;
        emit(Ok(RawEvent {
            json: hit,
            line: cur.line,
            column: cur.col + 1,
            offset: cur.at,
            origin: Origin::Hit(k + 1),
        }));
    }
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

/// Whether an NDJSON line may be a whole search response (checked with a SIMD substring search,
/// as this runs on every line).
fn is_search_response(json: &str) -> bool {
    static HITS: std::sync::OnceLock<memchr::memmem::Finder<'static>> = std::sync::OnceLock::new();
    let f = HITS.get_or_init(|| memchr::memmem::Finder::new(b"\"hits\""));
    f.find(json.as_bytes()).is_some()
        && (json.contains("\"_source\"") || json.contains("\"sequences\"") || json.contains("\"events\""))
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

fn describe(e: &serde_json::Error) -> String {
    let msg = e.to_string();
    // Drop serde_json's own " at line L column C" suffix: the position is reported separately.
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg,
    }
}

/// Byte offset of a serde_json error in `json`. serde_json puts an unexpected end on the last byte
/// it read; it is reported just after the text, where something is missing.
fn error_offset(json: &str, e: &serde_json::Error) -> usize {
    if e.is_eof() {
        trim_end(json.as_bytes()).len()
    } else {
        offset_of(json, e.line(), e.column())
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
    fn a_reader_error_is_positioned_in_the_whole_input() {
        let text = "{\n\"a\":1}\n  {\"é\": [1,\n 2, 1e400]}\n";
        let items = split(text);
        let raw = *items[1].as_ref().unwrap();
        assert_eq!((raw.line, raw.column, raw.origin), (3, 3, Origin::Value));
        // A reader that refuses what the splitter accepted: the position is in the input.
        let e = crate::Error::event(&serde_json::from_str::<serde_json::Value>(raw.json).unwrap_err());
        let err = raw.error(&e);
        assert_eq!((err.line, err.column), (4, 9), "{err}");
        assert!(err.message.starts_with("invalid event: number out of range"), "{err}");
        // Invalid JSON gives the splitter's own error, as if the splitter had checked it.
        let raw = RawEvent { json: "{\"é\": x}", line: 4, column: 3, offset: 40, origin: Origin::Line };
        let e = crate::Error::event(&serde_json::from_str::<serde_json::Value>(raw.json).unwrap_err());
        assert_eq!(raw.error(&e), InputError { line: 4, column: 9, offset: 47, message: "expected value".into() });
    }

    #[test]
    fn large_inputs_split_in_linear_time() {
        let line = "{\"a\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}\n";
        let text = line.repeat(200_000);
        let items = split(&text);
        assert_eq!(items.len(), 200_000);
        assert_eq!(items[199_999].as_ref().unwrap().line, 200_000);
        // A document of open objects is checked in amortised linear time too.
        let text = format!("{{\"a\":\n{}", "{\"b\":1}\n".repeat(100_000));
        let items = split(&text);
        assert_eq!(items.len(), 100_001);
        assert!(items[0].is_err() && items[1..].iter().all(Result::is_ok));
    }
}
