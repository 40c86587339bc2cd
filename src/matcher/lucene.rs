//! The `regex` operator's pattern language: Lucene's `RegExp` syntax, matched against the whole
//! value. Patterns are parsed here straight into regex-automata's intermediate representation
//! and run on its lazy DFA, so matching time is linear in the value's length whatever the pattern.
//!
//! Lucene differs from Perl-style regexes: `^`, `$` are ordinary characters (the match is always
//! anchored), `\d` is just `d` (no shorthand classes), `@` is any string, `#` is the empty
//! language, `"…"` quotes a literal string, and repetitions stack (`.*?` is `(.*)?`). Lucene's
//! intersection `&`, complement `~` and numeric intervals `<1-10>` are rejected with an error.
//! `regex~` is case-insensitive for ASCII letters, like Lucene's `ASCII_CASE_INSENSITIVE` flag.

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
    let out = p.union()?;
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

impl Parser {
    /// A literal character, as both cases when case-insensitive.
    fn char(&self, c: char) -> Hir {
        if self.insensitive && c.is_ascii_alphabetic() {
            let (l, u) = (c.to_ascii_lowercase(), c.to_ascii_uppercase());
            Hir::class(Class::Unicode(class([(l, l), (u, u)])))
        } else {
            Hir::literal(c.encode_utf8(&mut [0; 4]).as_bytes())
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

    fn unsupported(&self, what: &str) -> String {
        format!("{what} at position {} is not supported by eqlite's Lucene regex support", self.pos)
    }

    fn union(&mut self) -> Result<Hir, String> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return Err(format!("the pattern nests more than {MAX_NESTING} groups"));
        }
        let mut alts = vec![self.concat()?];
        while self.eat('|') {
            alts.push(self.concat()?);
        }
        self.depth -= 1;
        Ok(Hir::alternation(alts))
    }

    fn concat(&mut self) -> Result<Hir, String> {
        let mut out = Vec::new();
        while let Some(c) = self.peek() {
            match c {
                '|' | ')' => break,
                '&' => return Err(self.unsupported("intersection `&`")),
                _ => out.push(self.repeat()?),
            }
        }
        Ok(Hir::concat(out))
    }

    fn repeat(&mut self) -> Result<Hir, String> {
        let mut e = self.atom()?;
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
                        return Err(format!("unclosed `{{` at position {start}"));
                    }
                    if n > MAX_REPEAT || m.is_some_and(|m| m > MAX_REPEAT || m < n) {
                        return Err(format!("invalid repetition at position {start} (bounds up to {MAX_REPEAT})"));
                    }
                    e = Hir::repetition(Repetition { min: n, max: m, greedy: true, sub: Box::new(e) });
                    continue;
                }
                _ => break,
            };
            self.pos += 1;
            e = Hir::repetition(Repetition { min, max, greedy: true, sub: Box::new(e) });
        }
        Ok(e)
    }

    fn number(&mut self) -> Option<u32> {
        let start = self.pos;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.pos += 1;
        }
        self.chars[start..self.pos].iter().collect::<String>().parse().ok()
    }

    fn escaped(&mut self) -> Result<char, String> {
        let e = self.peek().ok_or("the pattern ends with `\\`")?;
        self.pos += 1;
        Ok(e)
    }

    fn atom(&mut self) -> Result<Hir, String> {
        let c = self.peek().ok_or("unexpected end of pattern")?;
        self.pos += 1;
        Ok(match c {
            '.' => Hir::dot(Dot::AnyChar),
            '@' => {
                Hir::repetition(Repetition { min: 0, max: None, greedy: true, sub: Box::new(Hir::dot(Dot::AnyChar)) })
            }
            '#' => Hir::fail(),
            '~' => return Err(self.unsupported("complement `~`")),
            '<' => return Err(self.unsupported("numeric interval `<…>`")),
            '(' => {
                let inner = self.union()?;
                if !self.eat(')') {
                    return Err("unclosed `(`".into());
                }
                inner
            }
            '"' => {
                let mut parts = Vec::new();
                loop {
                    match self.peek() {
                        None => return Err("unclosed `\"` in the pattern".into()),
                        Some('"') => {
                            self.pos += 1;
                            break;
                        }
                        Some(ch) => {
                            parts.push(self.char(ch));
                            self.pos += 1;
                        }
                    }
                }
                Hir::concat(parts)
            }
            '[' => self.class()?,
            '\\' => {
                let e = self.escaped()?;
                self.char(e)
            }
            '*' | '+' | '?' | '{' => return Err(format!("`{c}` at position {} has nothing to repeat", self.pos - 1)),
            c => self.char(c),
        })
    }

    fn class(&mut self) -> Result<Hir, String> {
        let negated = self.eat('^');
        let mut ranges: Vec<(char, char)> = Vec::new();
        let mut first = true;
        loop {
            let c = self.peek().ok_or("unclosed `[`")?;
            if c == ']' && !first {
                self.pos += 1;
                break;
            }
            first = false;
            self.pos += 1;
            let lo = if c == '\\' { self.escaped()? } else { c };
            let mut hi = lo;
            if self.peek() == Some('-') && self.chars.get(self.pos + 1).is_some_and(|&n| n != ']') {
                self.pos += 1;
                let h = self.peek().ok_or("unclosed `[`")?;
                self.pos += 1;
                hi = if h == '\\' { self.escaped()? } else { h };
                if hi < lo {
                    return Err(format!("invalid range `{lo}-{hi}` in a character class"));
                }
            }
            ranges.push((lo, hi));
            if self.insensitive {
                // The other case of the ASCII letters in the range.
                for (a, b) in [('a', 'z'), ('A', 'Z')] {
                    let (l, u) = (lo.max(a), hi.min(b));
                    if l <= u {
                        let flip = |x: char| {
                            if x.is_ascii_lowercase() {
                                x.to_ascii_uppercase()
                            } else {
                                x.to_ascii_lowercase()
                            }
                        };
                        ranges.push((flip(l), flip(u)));
                    }
                }
            }
        }
        let mut cls = class(ranges);
        if negated {
            cls.negate();
        }
        Ok(Hir::class(Class::Unicode(cls)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, s: &str) -> bool {
        compile(p, false).unwrap().is_match(s)
    }

    #[test]
    fn lucene_semantics() {
        assert!(m(".*?net1[ ]+localgroup.*?", "net1  localgroup x"));
        assert!(!m("cu", "curl"), "anchored at both ends");
        assert!(m("a^b$", "a^b$"), "^ and $ are literal");
        assert!(m("\\<a\\>", "<a>") && m("[<>]", ">"));
        assert!(m("\\d", "d") && !m("\\d", "1"), "no shorthand classes");
        assert!(m("@", "anything") && !m("#", ""));
        assert!(m("\"a.b\"c", "a.bc") && !m("\"a.b\"c", "axbc"));
        assert!(m("[a-z]{4,15}", "abcd") && !m("[a-z]{4,15}", "abc"));
        assert!(m("(ab|cd)+", "abcdab"));
        assert!(compile("a&b", false).is_err() && compile("~a", false).is_err());
        assert!(compile("CuRl", true).unwrap().is_match("curl"));
        assert!(
            compile("[a-c]+X", true).unwrap().is_match("AbCx") && !compile("[a-c]+X", false).unwrap().is_match("AbCx")
        );
        assert!(
            compile("ä", true).unwrap().is_match("ä") && !compile("ä", true).unwrap().is_match("Ä"),
            "ASCII-only folding"
        );
    }

    #[test]
    fn catastrophic_patterns_stay_linear() {
        // A backtracking engine would not finish these in the lifetime of the test run; the lazy
        // DFA reads each value once.
        let evil = "a".repeat(100_000);
        for p in ["(a+)+b", "(a|aa)*b", "(a*)*b", ".*a.*a.*a.*a.*b"] {
            assert!(!compile(p, false).unwrap().is_match(&evil), "{p}");
        }
    }

    #[test]
    fn huge_patterns_are_refused() {
        assert!(compile("(a{1000}){1000}", false).is_err());
    }
}
