//! The `regex` operator's pattern language: Lucene's `RegExp` syntax as Elasticsearch 8.x runs it
//! (Lucene 9 with the syntax flags `ALL`, plus `ASCII_CASE_INSENSITIVE` for `regex~`), matched
//! against the whole value. Patterns are parsed here straight into regex-automata's intermediate
//! representation and run on its lazy DFA, so matching time is linear in the value's length
//! whatever the pattern.
//!
//! Lucene differs from Perl-style regexes: `^`, `$` are ordinary characters (the match is always
//! anchored), `@` is any string, `#` the empty language, `"…"` quotes a literal string, `<1-10>`
//! is a decimal number in an interval, repetitions stack (`.*?` is `(.*)?`), and the first item
//! of a concatenation is a character whatever it is (`*a` matches "*a"). `\d \D \s \S \w \W`
//! are ASCII classes (`\s` is `[ \t\n\r]`), in brackets too; a backslash before any other ASCII
//! letter is an error, before anything else it makes that character literal. `regex~` folds the
//! ASCII letters of characters and strings but not of ranges (`[a-z]` stays lowercase), as
//! Lucene does. Lucene's intersection `&` and complement `~` are refused with an error (they need
//! a determinized automaton), and so are repetition bounds over 1,000; a pattern Lucene finds too
//! complex to determinize is matched all the same. `tests/lucene_syntax.rs` has a case for every
//! rule, checked against Lucene itself.

use regex_automata::hybrid::dfa::{Cache, DFA};
use regex_automata::nfa::thompson;
use regex_automata::util::pool::Pool;
use regex_automata::Input;
use regex_syntax::hir::{Class, ClassUnicode, ClassUnicodeRange, Dot, Hir, HirKind, Look, Repetition};
use std::sync::Arc;

/// Limits for compiled patterns, so that `x{1000}{1000}` is an error rather than gigabytes.
const NFA_SIZE_LIMIT: usize = 4 << 20;
const MAX_NESTING: usize = 64;
const MAX_REPEAT: u32 = 1000;
/// Most memory one pattern's lazy DFA may use per thread (its states are built as values need them).
const CACHE_CAPACITY: usize = 1 << 20;
/// Most memory the patterns of one rule may need together: compiled automata plus their lazy-DFA
/// caches (see [`Regex::memory_usage`]). At 1 MiB of cache each, about 60 patterns.
pub const MAX_RULE_REGEX_BYTES: usize = 64 << 20;

type CachePool = Pool<Cache, Box<dyn Fn() -> Cache + Send + Sync>>;

/// A compiled, anchored pattern with a pool of lazy-DFA caches (one per thread using it).
pub struct Regex {
    dfa: Arc<DFA>,
    caches: CachePool,
}

impl Clone for Regex {
    fn clone(&self) -> Regex {
        Regex::from_dfa(self.dfa.clone())
    }
}

impl std::fmt::Debug for Regex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Regex")
    }
}

impl Regex {
    fn from_dfa(dfa: Arc<DFA>) -> Regex {
        let d = dfa.clone();
        Regex { dfa, caches: Pool::new(Box::new(move || d.create_cache())) }
    }

    /// The memory this pattern may use: its automaton, and its lazy DFA's cache when full.
    pub fn memory_usage(&self) -> usize {
        self.dfa.get_nfa().memory_usage() + CACHE_CAPACITY
    }

    pub fn is_match(&self, s: &str) -> bool {
        let mut cache = self.caches.get();
        // The cache is never configured to give up, so an error cannot happen; treat it as no match.
        self.dfa.try_search_fwd(&mut cache, &Input::new(s)).ok().flatten().is_some()
    }
}

/// A pattern matching exactly `s`: a backslash before every character that is not an ASCII
/// letter or digit (before a letter it would name a class).
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 2);
    for c in s.chars() {
        if !c.is_ascii_alphanumeric() {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Compiles a Lucene regular expression into a whole-value matcher.
pub fn compile(lucene: &str, insensitive: bool) -> Result<Regex, String> {
    let hir = parse(lucene, insensitive)?;
    let anchored = Hir::concat(vec![Hir::look(Look::Start), hir, Hir::look(Look::End)]);
    let nfa = thompson::Compiler::new()
        .configure(thompson::Config::new().nfa_size_limit(Some(NFA_SIZE_LIMIT)))
        .build_from_hir(&anchored)
        .map_err(|_| "the pattern is too large to compile".to_string())?;
    let dfa = DFA::builder()
        .configure(DFA::config().cache_capacity(CACHE_CAPACITY))
        .build_from_nfa(nfa)
        .map_err(|e| format!("cannot compile the pattern: {e}"))?;
    Ok(Regex::from_dfa(Arc::new(dfa)))
}

/// Lucene `RegExp` → regex-automata's HIR.
pub fn parse(lucene: &str, insensitive: bool) -> Result<Hir, String> {
    let mut p = Parser { chars: lucene.chars().collect(), pos: 0, depth: 0, insensitive };
    // Lucene reads an empty pattern as the empty string; anywhere else an atom must follow.
    let out = if p.chars.is_empty() { Piece::Text(String::new()) } else { p.union()? };
    let out = out.hir(&p);
    if p.pos < p.chars.len() {
        return Err(format!("unexpected `{}` at position {}", p.chars[p.pos], p.pos));
    }
    // Stacked repetitions (`a**********…`) nest without groups; the NFA compiler recurses over
    // the nesting, so it is bounded here (a 5,000-deep pattern overflows a 1 MiB wasm stack).
    if depth(&out) > MAX_HIR_DEPTH {
        return Err(format!("the pattern nests more than {MAX_HIR_DEPTH} levels of groups and repetitions"));
    }
    Ok(out)
}

/// Deepest nesting of a parsed pattern (groups, repetitions, concatenations, alternations).
const MAX_HIR_DEPTH: usize = MAX_NESTING * 4;

/// Longest bound of a numeric interval `<n-m>`, in characters: its automaton grows with the
/// square of the digit count, and Lucene's bounds are `int`s (10 digits) plus leading zeros.
const MAX_INTERVAL_DIGITS: usize = 64;

/// The nesting depth of `hir`, without recursion.
fn depth(hir: &Hir) -> usize {
    let mut max = 0;
    let mut stack = vec![(hir, 1usize)];
    while let Some((h, d)) = stack.pop() {
        max = max.max(d);
        match h.kind() {
            HirKind::Repetition(r) => stack.push((&r.sub, d + 1)),
            HirKind::Capture(c) => stack.push((&c.sub, d + 1)),
            HirKind::Concat(v) | HirKind::Alternation(v) => stack.extend(v.iter().map(|x| (x, d + 1))),
            _ => {}
        }
    }
    max
}

struct Parser {
    chars: Vec<char>,
    pos: usize,
    depth: usize,
    /// ASCII letters match either case.
    insensitive: bool,
}

fn class(ranges: impl IntoIterator<Item = (char, char)>) -> ClassUnicode {
    ClassUnicode::new(ranges.into_iter().map(|(a, b)| ClassUnicodeRange::new(a, b)))
}

/// The predefined class of `\c`, as Lucene 9's `RegExp.expandPredefined` spells it (ASCII only;
/// its `\s` has no vertical tab or form feed, unlike Java's).
fn predefined(c: char) -> Option<ClassUnicode> {
    let (ranges, negated): (&[(char, char)], bool) = match c {
        'd' | 'D' => (&[('0', '9')], c == 'D'),
        's' | 'S' => (&[(' ', ' '), ('\t', '\n'), ('\r', '\r')], c == 'S'),
        'w' | 'W' => (&[('a', 'z'), ('A', 'Z'), ('_', '_'), ('0', '9')], c == 'W'),
        _ => return None,
    };
    let mut cls = class(ranges.iter().copied());
    if negated {
        cls.negate();
    }
    Some(cls)
}

/// Whether `h` matches nothing. Every such expression is built as an empty class (by
/// [`concat`], [`alternation`], [`repetition`]), so no walk is needed; regex-syntax's own
/// `minimum_len` cannot tell (it is `None` for `a|#` too).
fn never(h: &Hir) -> bool {
    match h.kind() {
        HirKind::Class(Class::Unicode(c)) => c.ranges().is_empty(),
        HirKind::Class(Class::Bytes(c)) => c.ranges().is_empty(),
        _ => false,
    }
}

fn concat(parts: Vec<Hir>) -> Hir {
    if parts.iter().any(never) {
        Hir::fail()
    } else {
        Hir::concat(parts)
    }
}

fn alternation(alts: Vec<Hir>) -> Hir {
    Hir::alternation(alts.into_iter().filter(|a| !never(a)).collect())
}

/// `sub{min,max}`. Lucene's unbounded repetition of the empty language stays empty (its
/// `Operations.repeat` returns an automaton without states as it is), so `#*` matches nothing,
/// while `#?` and `#{0,2}` match the empty string.
fn repetition(sub: Hir, min: u32, max: Option<u32>) -> Hir {
    if never(&sub) {
        return if min == 0 && max.is_some() { Hir::empty() } else { Hir::fail() };
    }
    Hir::repetition(Repetition { min, max, greedy: true, sub: Box::new(sub) })
}

/// A parsed item as Lucene 9's parser builds it, kept apart from the HIR for one quirk of
/// `regex~`: Lucene merges neighbouring characters and strings into one string while it builds a
/// concatenation (`RegExp.makeConcatenation`), and folds a string's case through
/// `Operations.concatenate` of its characters, which for an empty string is the empty language.
/// So `()`, `""` or an empty pattern match nothing under `regex~` unless merged into a
/// neighbouring character (`a()` is "a"); under `regex` they are the empty string. The merging
/// follows Lucene 9.9 and later, which fold a concatenation from the left (9.5 folded from the
/// right, which merges a few of these differently).
enum Piece {
    /// Characters and strings (`REGEXP_CHAR`, `REGEXP_STRING`).
    Text(String),
    /// A concatenation (`REGEXP_CONCATENATION`), kept whole inside a larger one (a group),
    /// where its first or last item may still merge with a string beside it.
    Group(Vec<Piece>),
    Other(Hir),
}

impl Piece {
    fn hir(self, p: &Parser) -> Hir {
        match self {
            Piece::Text(t) if t.is_empty() && p.insensitive => Hir::fail(),
            Piece::Text(t) => Hir::concat(t.chars().map(|c| p.char(c)).collect()),
            Piece::Group(items) => concat(items.into_iter().map(|i| i.hir(p)).collect()),
            Piece::Other(h) => h,
        }
    }
}

/// What a character position holds once a leading backslash is read.
enum Escape {
    /// `\d`, `\D`, `\s`, `\S`, `\w`, `\W`.
    Class(ClassUnicode),
    /// A literal character; `range` is false for `\\`, which Lucene 9 never takes as the start
    /// of a range `a-b` in brackets (it returns that character before looking for the `-`).
    Char { c: char, range: bool },
}

impl Parser {
    /// A literal character, as both cases when case-insensitive.
    fn char(&self, c: char) -> Hir {
        if self.insensitive && c.is_ascii_alphabetic() {
            Hir::class(Class::Unicode(self.folded(c)))
        } else {
            Hir::literal(c.encode_utf8(&mut [0; 4]).as_bytes())
        }
    }

    /// `c` and, when case-insensitive, its other ASCII case (Lucene's `toCaseInsensitiveChar`,
    /// which it applies to single characters and strings only, never to the ranges of `[a-z]`).
    fn folded(&self, c: char) -> ClassUnicode {
        if self.insensitive && c.is_ascii_alphabetic() {
            let (l, u) = (c.to_ascii_lowercase(), c.to_ascii_uppercase());
            class([(l, l), (u, u)])
        } else {
            class([(c, c)])
        }
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    /// The next character, whatever it is (Lucene's `next`).
    fn next(&mut self) -> Result<char, String> {
        let c = self.peek().ok_or_else(|| format!("the pattern ends early (at position {})", self.pos))?;
        self.pos += 1;
        Ok(c)
    }

    fn unsupported(&self, what: &str) -> String {
        format!(
            "{what} at position {} is not supported by eqlite (Elasticsearch accepts it; it needs a determinized \
             automaton, which the lazy DFA does not build)",
            self.pos
        )
    }

    fn union(&mut self) -> Result<Piece, String> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return Err(format!("the pattern nests more than {MAX_NESTING} groups"));
        }
        let mut alts = vec![self.concat()?];
        while self.eat('|') {
            alts.push(self.concat()?);
        }
        if self.peek() == Some('&') {
            return Err(self.unsupported("intersection `&`"));
        }
        self.depth -= 1;
        Ok(if alts.len() == 1 {
            alts.pop().unwrap()
        } else {
            Piece::Other(alternation(alts.into_iter().map(|a| a.hir(self)).collect()))
        })
    }

    /// A concatenation. Like Lucene, its first item is read whatever character comes next, so
    /// `|`, `)`, `&`, `*`, `+`, `?` and `{` there are literal characters (`*a` matches "*a").
    fn concat(&mut self) -> Result<Piece, String> {
        // Lucene folds the items from the left with `makeConcatenation`, which merges a string
        // with a string that ends what is built so far (also the last item of a group that is
        // all of it), and a string that is all of it with a group of two that starts with one.
        let mut out: Vec<Piece> = Vec::new();
        loop {
            let item = self.repeat()?;
            let alone = out.len() == 1;
            match (out.last_mut(), item) {
                (Some(Piece::Text(a)), Piece::Text(b)) => a.push_str(&b),
                (Some(Piece::Group(g)), Piece::Text(b)) if alone && matches!(g.last(), Some(Piece::Text(_))) => {
                    let Some(Piece::Text(a)) = g.last_mut() else { unreachable!() };
                    a.push_str(&b);
                    let Some(Piece::Group(g)) = out.pop() else { unreachable!() };
                    out = g;
                }
                (Some(Piece::Text(a)), Piece::Group(mut g)) if alone && matches!(g[..], [Piece::Text(_), _]) => {
                    let Piece::Text(b) = g.remove(0) else { unreachable!() };
                    a.push_str(&b);
                    out.extend(g);
                }
                (_, item) => out.push(item),
            }
            if !self.peek().is_some_and(|c| !matches!(c, '|' | ')' | '&')) {
                break;
            }
        }
        Ok(if out.len() == 1 { out.pop().unwrap() } else { Piece::Group(out) })
    }

    /// An item and the repetitions after it, which stack (`a?*` is `(a?)*`).
    fn repeat(&mut self) -> Result<Piece, String> {
        let mut item = self.atom()?;
        loop {
            let (min, max) = match self.peek() {
                Some('*') => (0, None),
                Some('+') => (1, None),
                Some('?') => (0, Some(1)),
                Some('{') => {
                    let start = self.pos;
                    self.pos += 1;
                    let n = self.number().ok_or_else(|| format!("expected a number after `{{` at position {start}"))?;
                    let m = if self.eat(',') { self.number() } else { Some(n) };
                    if !self.eat('}') {
                        return Err(format!("expected `}}` to close the `{{` at position {start}"));
                    }
                    // Lucene 9.5 reads `{3,2}` as the empty language, 9.9 refuses it: it can only
                    // be a mistake, so it is refused here too.
                    if n > MAX_REPEAT || m.is_some_and(|m| m > MAX_REPEAT || m < n) {
                        return Err(format!("invalid repetition at position {start} (bounds up to {MAX_REPEAT})"));
                    }
                    item = Piece::Other(repetition(item.hir(self), n, m));
                    continue;
                }
                _ => break,
            };
            self.pos += 1;
            item = Piece::Other(repetition(item.hir(self), min, max));
        }
        Ok(item)
    }

    /// The digits at the cursor, if any; a value too large for Lucene's `int` comes back as
    /// `u32::MAX`, beyond every bound.
    fn number(&mut self) -> Option<u32> {
        let start = self.pos;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.pos += 1;
        }
        (self.pos > start).then(|| self.chars[start..self.pos].iter().collect::<String>().parse().unwrap_or(u32::MAX))
    }

    /// After an optional backslash: a predefined class or one character (Lucene's
    /// `matchPredefinedCharacterClass` followed by `parseCharExp`).
    fn escape(&mut self) -> Result<Escape, String> {
        let start = self.pos;
        if !self.eat('\\') {
            return Ok(Escape::Char { c: self.next()?, range: true });
        }
        let c = self.peek().ok_or_else(|| format!("the pattern ends with `\\` (at position {start})"))?;
        self.pos += 1;
        if let Some(cls) = predefined(c) {
            Ok(Escape::Class(cls))
        } else if c.is_ascii_alphabetic() {
            // Like Java's `Pattern`, Lucene refuses a backslash before a letter that names no class.
            Err(format!("`\\{c}` at position {start} is not a valid escape (the classes are \\d \\D \\s \\S \\w \\W)"))
        } else {
            Ok(Escape::Char { c, range: c != '\\' })
        }
    }

    fn atom(&mut self) -> Result<Piece, String> {
        let start = self.pos;
        let c = self.peek().ok_or_else(|| format!("the pattern ends early (at position {start})"))?;
        if c == '~' {
            return Err(self.unsupported("complement `~`"));
        }
        if !matches!(c, '[' | '.' | '#' | '@' | '"' | '(' | '<') {
            return Ok(match self.escape()? {
                Escape::Class(cls) => Piece::Other(Hir::class(Class::Unicode(cls))),
                Escape::Char { c, .. } => Piece::Text(c.to_string()),
            });
        }
        self.pos += 1;
        let any = || Hir::dot(Dot::AnyChar);
        Ok(match c {
            '[' => self.class()?,
            '.' => Piece::Other(any()),
            '#' => Piece::Other(Hir::fail()),
            '@' => Piece::Other(repetition(any(), 0, None)),
            '"' => {
                let end = (self.pos..self.chars.len())
                    .find(|&i| self.chars[i] == '"')
                    .ok_or_else(|| format!("the `\"` at position {start} is not closed"))?;
                let text = self.chars[self.pos..end].iter().collect();
                self.pos = end + 1;
                Piece::Text(text)
            }
            '(' => {
                if self.eat(')') {
                    return Ok(Piece::Text(String::new()));
                }
                let inner = self.union()?;
                if !self.eat(')') {
                    return Err(format!("the `(` at position {start} is not closed"));
                }
                inner
            }
            _ => Piece::Other(self.interval(start)?),
        })
    }

    /// A bracket expression after its `[`. As in Lucene 9, every item is read as a class, a
    /// character or a range `a-b` (taking whatever character follows the `-`, so `[a-]` is an
    /// error), and the first item may be `]`; `\d`-style classes work inside, `[^…]` negates.
    fn class(&mut self) -> Result<Piece, String> {
        let open = self.pos - 1;
        let negated = self.eat('^');
        let mut set = ClassUnicode::empty();
        // A lone character (`[x]`) is Lucene's `REGEXP_CHAR`, which merges like any character.
        let mut lone = None;
        let mut items = 0;
        loop {
            items += 1;
            match self.escape().map_err(|e| self.unclosed(open, e))? {
                Escape::Class(cls) => set.union(&cls),
                Escape::Char { c: lo, range } if range && self.eat('-') => {
                    // The end of a range is always one character: `\` before it only escapes it.
                    self.eat('\\');
                    let hi = self.next().map_err(|e| self.unclosed(open, e))?;
                    if hi < lo {
                        return Err(format!("invalid range `{lo}-{hi}` in the class at position {open}"));
                    }
                    set.union(&class([(lo, hi)]));
                }
                Escape::Char { c, .. } => {
                    lone = Some(c);
                    set.union(&self.folded(c));
                }
            }
            if self.peek().is_none_or(|c| c == ']') {
                break;
            }
        }
        if !self.eat(']') {
            return Err(format!("the `[` at position {open} is not closed"));
        }
        if negated {
            set.negate();
        }
        Ok(match lone {
            Some(c) if items == 1 && !negated => Piece::Text(c.to_string()),
            _ => Piece::Other(Hir::class(Class::Unicode(set))),
        })
    }

    /// Running out of pattern inside brackets is reported as the unclosed bracket.
    fn unclosed(&self, open: usize, e: String) -> String {
        if self.pos >= self.chars.len() {
            format!("the `[` at position {open} is not closed")
        } else {
            e
        }
    }

    /// `<n-m>` after its `<`: the decimal numbers from n to m (Lucene's `INTERVAL` syntax, which
    /// Elasticsearch enables). `<name>` names an automaton, and Elasticsearch defines none.
    fn interval(&mut self, open: usize) -> Result<Hir, String> {
        let start = self.pos;
        while self.peek().is_some_and(|c| c != '>') {
            self.pos += 1;
        }
        if !self.eat('>') {
            return Err(format!("the `<` at position {open} is not closed by `>`"));
        }
        let body: String = self.chars[start..self.pos - 1].iter().collect();
        let Some((lo, hi)) = body.split_once('-') else {
            return Err(format!(
                "`<{body}>` at position {open} names an automaton, and there are none (a numeric interval is `<1-10>`)"
            ));
        };
        // Lucene parses the bounds with Java's `Integer.parseInt`: ASCII digits with an optional
        // `+`, at most 2^31 - 1 (Java also takes non-ASCII digits; they are refused here).
        let bound = |s: &str| s.parse::<u32>().ok().filter(|&n| n <= i32::MAX as u32);
        let (Some(a), Some(b)) = (bound(lo), bound(hi)) else {
            return Err(format!("invalid numeric interval `<{body}>` at position {open}"));
        };
        if lo.len().max(hi.len()) > MAX_INTERVAL_DIGITS {
            return Err(format!(
                "the numeric interval at position {open} has bounds longer than {MAX_INTERVAL_DIGITS} characters"
            ));
        }
        // Bounds written with the same number of characters fix the length (zero-padded).
        let digits = if lo.len() == hi.len() { lo.len() } else { 0 };
        Ok(decimal_interval(a.min(b), a.max(b), digits))
    }
}

/// The decimal numbers from `min` to `max` (Lucene's `Automata.makeDecimalInterval`): with
/// `digits > 0` exactly that many digits, zero-padded; otherwise any number of leading zeros.
fn decimal_interval(min: u32, max: u32, digits: usize) -> Hir {
    let padded = |n: u32, len: usize| format!("{n:0len$}").into_bytes();
    if digits > 0 {
        return fixed_length_range(&padded(min, digits), &padded(max, digits));
    }
    let len = |n: u32| n.to_string().len();
    let (lo_len, hi_len) = (len(min), len(max));
    let lengths = (lo_len..=hi_len).map(|l| {
        let lo = if l == lo_len { min } else { 10u32.pow(l as u32 - 1) };
        let hi = if l == hi_len { max } else { 10u32.pow(l as u32) - 1 };
        fixed_length_range(&padded(lo, l), &padded(hi, l))
    });
    let zeros = repetition(Hir::literal(*b"0"), 0, None);
    Hir::concat(vec![zeros, Hir::alternation(lengths.collect())])
}

/// The digit strings of one length from `lo` to `hi` (both that long, `lo <= hi`): a flat
/// alternation of a shared prefix, one digit range and free digits, so its depth stays constant.
fn fixed_length_range(lo: &[u8], hi: &[u8]) -> Hir {
    let n = lo.len();
    let Some(k) = (0..n).find(|&i| lo[i] != hi[i]) else {
        return Hir::literal(lo);
    };
    let run = |prefix: &[u8], a: u8, b: u8, rest: usize| {
        let any = Hir::class(Class::Unicode(class([('0', '9')])));
        Hir::concat(vec![
            Hir::literal(prefix),
            Hir::class(Class::Unicode(class([(a as char, b as char)]))),
            repetition(any, rest as u32, Some(rest as u32)),
        ])
    };
    let mut alts = vec![Hir::literal(lo)];
    // Above `lo` with its first k+1 digits: it first exceeds `lo` at some later digit j.
    alts.extend((k + 1..n).filter(|&j| lo[j] < b'9').map(|j| run(&lo[..j], lo[j] + 1, b'9', n - j - 1)));
    if lo[k] + 1 < hi[k] {
        alts.push(run(&lo[..k], lo[k] + 1, hi[k] - 1, n - k - 1));
    }
    // Below `hi` with its first k+1 digits: it first falls short of `hi` at some later digit j.
    alts.extend((k + 1..n).filter(|&j| hi[j] > b'0').map(|j| run(&hi[..j], b'0', hi[j] - 1, n - j - 1)));
    alts.push(Hir::literal(hi));
    Hir::alternation(alts)
}
