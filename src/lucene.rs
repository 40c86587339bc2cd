//! The `regex` operator's pattern language: Lucene's `RegExp` syntax, matched against the whole
//! value. Patterns are translated into the syntax of `regex-automata` and run on its lazy DFA, so
//! matching time is linear in the value's length whatever the pattern.
//!
//! Lucene differs from Perl-style regexes: `^`, `$` are ordinary characters (the match is always
//! anchored), `\d` is just `d` (no shorthand classes), `@` is any string, `#` is the empty
//! language, `"…"` quotes a literal string, and repetitions stack (`.*?` is `(.*)?`). Lucene's
//! intersection `&`, complement `~` and numeric intervals `<1-10>` are rejected with an error.

use regex_automata::meta::{self, Regex};

/// Limits for compiled patterns, so that `x{1000}{1000}` is an error rather than gigabytes.
const NFA_SIZE_LIMIT: usize = 4 << 20;
const MAX_NESTING: usize = 64;

/// Compiles regex-automata syntax with eqlite's size limits.
pub fn build(pattern: &str) -> Result<Regex, String> {
    let config = meta::Config::new().nfa_size_limit(Some(NFA_SIZE_LIMIT)).hybrid_cache_capacity(2 << 20);
    Regex::builder()
        .configure(config)
        .syntax(regex_automata::util::syntax::Config::new().nest_limit(MAX_NESTING as u32 * 4))
        .build(pattern)
        .map_err(|e| match e.size_limit() {
            Some(_) => "the pattern is too large to compile".to_string(),
            None => e.to_string(),
        })
}

/// Compiles a Lucene regular expression into an anchored matcher.
pub fn compile(lucene: &str, insensitive: bool) -> Result<Regex, String> {
    let translated = translate(lucene)?;
    build(&format!("{}\\A(?:{translated})\\z", if insensitive { "(?is)" } else { "(?s)" }))
}

/// Lucene `RegExp` → regex-automata syntax.
pub fn translate(lucene: &str) -> Result<String, String> {
    let mut p = Translator { chars: lucene.chars().collect(), pos: 0, depth: 0 };
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
                            s.push_str(&lit(ch));
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
                lit(e)
            }
            '*' | '+' | '?' | '{' => return Err(format!("`{c}` at position {} has nothing to repeat", self.pos - 1)),
            c => lit(c),
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
            out.push_str(&lit(c));
            if self.peek() == Some('-') && self.chars.get(self.pos + 1).is_some_and(|&n| n != ']') {
                self.pos += 1;
                let mut hi = self.peek().ok_or("unclosed `[`")?;
                self.pos += 1;
                if hi == '\\' {
                    hi = self.peek().ok_or("the pattern ends with `\\`")?;
                    self.pos += 1;
                }
                if hi < c {
                    return Err(format!("invalid range `{c}-{hi}` in a character class"));
                }
                out.push('-');
                out.push_str(&lit(hi));
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
    }

    #[test]
    fn huge_patterns_are_refused() {
        assert!(compile("(a{1000}){1000}", false).is_err());
    }
}
