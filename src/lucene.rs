//! The `regex` operator's pattern language: Lucene's `RegExp` syntax, matched against the whole
//! value. Patterns are translated into the syntax of `regex-automata` and run on its lazy DFA, so
//! matching time is linear in the value's length whatever the pattern.
//!
//! Lucene differs from Perl-style regexes: `^`, `$` are ordinary characters (the match is always
//! anchored), `\d` is just `d` (no shorthand classes), `@` is any string, `#` is the empty
//! language, `"…"` quotes a literal string, and repetitions stack (`.*?` is `(.*)?`). Lucene's
//! intersection `&`, complement `~` and numeric intervals `<1-10>` are rejected with an error.
//! `regex~` is case-insensitive for ASCII letters, like Lucene's `ASCII_CASE_INSENSITIVE` flag.

use regex_automata::hybrid::regex::{Cache, Regex as Dfa};
use regex_automata::util::pool::Pool;
use regex_automata::{hybrid, nfa::thompson, util::syntax};

/// Limits for compiled patterns, so that `x{1000}{1000}` is an error rather than gigabytes.
const NFA_SIZE_LIMIT: usize = 4 << 20;
const MAX_NESTING: usize = 64;

type CachePool = Pool<Cache, Box<dyn Fn() -> Cache + Send + Sync>>;

/// A compiled, anchored pattern with a pool of lazy-DFA caches (one per thread using it).
pub struct Regex {
    dfa: std::sync::Arc<Dfa>,
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
    fn from_dfa(dfa: std::sync::Arc<Dfa>) -> Regex {
        let d = dfa.clone();
        Regex { dfa, caches: Pool::new(Box::new(move || d.create_cache())) }
    }

    pub fn is_match(&self, s: &str) -> bool {
        let mut cache = self.caches.get();
        // The cache is never configured to give up, so an error cannot happen; treat it as no match.
        self.dfa.try_search(&mut cache, &regex_automata::Input::new(s)).ok().flatten().is_some()
    }
}

/// Compiles regex-automata syntax (already anchored) with eqlite's size limits.
pub fn build(pattern: &str) -> Result<Regex, String> {
    let dfa = Dfa::builder()
        .syntax(syntax::Config::new().nest_limit(MAX_NESTING as u32 * 4))
        .thompson(thompson::Config::new().nfa_size_limit(Some(NFA_SIZE_LIMIT)))
        .dfa(hybrid::dfa::Config::new().cache_capacity(1 << 20))
        .build(pattern)
        .map_err(|e| {
            let m = e.to_string();
            if m.contains("exceeds size limit") || m.contains("size limit") {
                "the pattern is too large to compile".to_string()
            } else {
                m
            }
        })?;
    Ok(Regex::from_dfa(std::sync::Arc::new(dfa)))
}

/// Compiles a Lucene regular expression into an anchored matcher.
pub fn compile(lucene: &str, insensitive: bool) -> Result<Regex, String> {
    let translated = translate(lucene, insensitive)?;
    build(&format!("(?s)\\A(?:{translated})\\z"))
}

/// Lucene `RegExp` → regex-automata syntax.
pub fn translate(lucene: &str, insensitive: bool) -> Result<String, String> {
    let mut p = Translator { chars: lucene.chars().collect(), pos: 0, depth: 0, insensitive };
    let out = p.union()?;
    if p.pos < p.chars.len() {
        return Err(format!("unexpected `{}` at position {}", p.chars[p.pos], p.pos));
    }
    Ok(out)
}

struct Translator {
    chars: Vec<char>,
    pos: usize,
    depth: usize,
    /// ASCII letters match either case.
    insensitive: bool,
}

pub(crate) fn lit(c: char) -> String {
    // `\<` and `\>` are word boundaries in regex-syntax, and `<`, `>` need no escaping.
    if c.is_ascii() && !c.is_ascii_alphanumeric() && !matches!(c, ' ' | '<' | '>') {
        format!("\\{c}")
    } else if c.is_whitespace() || c.is_control() {
        format!("\\x{{{:x}}}", c as u32)
    } else {
        c.to_string()
    }
}

impl Translator {
    /// A literal character, as both cases when case-insensitive.
    fn char(&self, c: char) -> String {
        if self.insensitive && c.is_ascii_alphabetic() {
            format!("[{}{}]", c.to_ascii_lowercase(), c.to_ascii_uppercase())
        } else {
            lit(c)
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
        format!("{what} at position {} is not supported by eqlite's Lucene regex translation", self.pos)
    }

    fn union(&mut self) -> Result<String, String> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return Err(format!("the pattern nests more than {MAX_NESTING} groups"));
        }
        let mut alts = vec![self.concat()?];
        while self.eat('|') {
            alts.push(self.concat()?);
        }
        self.depth -= 1;
        Ok(if alts.len() == 1 { alts.pop().unwrap_or_default() } else { format!("(?:{})", alts.join("|")) })
    }

    fn concat(&mut self) -> Result<String, String> {
        let mut out = String::new();
        while let Some(c) = self.peek() {
            match c {
                '|' | ')' => break,
                '&' => return Err(self.unsupported("intersection `&`")),
                _ => out.push_str(&self.repeat()?),
            }
        }
        Ok(out)
    }

    fn repeat(&mut self) -> Result<String, String> {
        let mut e = self.atom()?;
        loop {
            let op = match self.peek() {
                Some('*') => "*".to_string(),
                Some('+') => "+".to_string(),
                Some('?') => "?".to_string(),
                Some('{') => {
                    let start = self.pos;
                    self.pos += 1;
                    let n = self.number().ok_or_else(|| format!("expected a number after `{{` at position {start}"))?;
                    let r = if self.eat(',') {
                        match self.number() {
                            Some(m) => format!("{{{n},{m}}}"),
                            None => format!("{{{n},}}"),
                        }
                    } else {
                        format!("{{{n}}}")
                    };
                    if !self.eat('}') {
                        return Err(format!("unclosed `{{` at position {start}"));
                    }
                    e = format!("(?:{e}){r}");
                    continue;
                }
                _ => break,
            };
            self.pos += 1;
            e = format!("(?:{e}){op}");
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

    fn atom(&mut self) -> Result<String, String> {
        let c = self.peek().ok_or("unexpected end of pattern")?;
        self.pos += 1;
        Ok(match c {
            '.' => ".".into(),
            '@' => ".*".into(),
            '#' => "[^\\x00-\\x{10FFFF}]".into(),
            '~' => return Err(self.unsupported("complement `~`")),
            '<' => return Err(self.unsupported("numeric interval `<…>`")),
            '(' => {
                let inner = self.union()?;
                if !self.eat(')') {
                    return Err("unclosed `(`".into());
                }
                format!("(?:{inner})")
            }
            '"' => {
                let mut s = String::new();
                loop {
                    match self.peek() {
                        None => return Err("unclosed `\"` in the pattern".into()),
                        Some('"') => {
                            self.pos += 1;
                            break;
                        }
                        Some(ch) => {
                            s.push_str(&self.char(ch));
                            self.pos += 1;
                        }
                    }
                }
                format!("(?:{s})")
            }
            '[' => self.class()?,
            '\\' => {
                let e = self.peek().ok_or("the pattern ends with `\\`")?;
                self.pos += 1;
                self.char(e)
            }
            '*' | '+' | '?' | '{' => return Err(format!("`{c}` at position {} has nothing to repeat", self.pos - 1)),
            c => self.char(c),
        })
    }

    fn class(&mut self) -> Result<String, String> {
        let mut out = String::from("[");
        if self.eat('^') {
            out.push('^');
        }
        let mut first = true;
        loop {
            let c = self.peek().ok_or("unclosed `[`")?;
            if c == ']' && !first {
                self.pos += 1;
                break;
            }
            first = false;
            self.pos += 1;
            let c = if c == '\\' {
                let e = self.peek().ok_or("the pattern ends with `\\`")?;
                self.pos += 1;
                e
            } else {
                c
            };
            let mut hi = c;
            if self.peek() == Some('-') && self.chars.get(self.pos + 1).is_some_and(|&n| n != ']') {
                self.pos += 1;
                hi = self.peek().ok_or("unclosed `[`")?;
                self.pos += 1;
                if hi == '\\' {
                    hi = self.peek().ok_or("the pattern ends with `\\`")?;
                    self.pos += 1;
                }
                if hi < c {
                    return Err(format!("invalid range `{c}-{hi}` in a character class"));
                }
            }
            out.push_str(&format!("{}-{}", lit(c), lit(hi)));
            if self.insensitive {
                // The other case of the ASCII letters in the range.
                for (a, b) in [('a', 'z'), ('A', 'Z')] {
                    let (lo, up) = (c.max(a), hi.min(b));
                    if lo <= up {
                        let flip = |x: char| {
                            if x.is_ascii_lowercase() {
                                x.to_ascii_uppercase()
                            } else {
                                x.to_ascii_lowercase()
                            }
                        };
                        out.push_str(&format!("{}-{}", flip(lo), flip(up)));
                    }
                }
            }
        }
        out.push(']');
        Ok(out)
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
