//! Wildcard patterns of `:`, `like` and `like~`: `*` is any run of characters, `?` exactly one,
//! the whole string must match, and there is no escape character (as in Elasticsearch).
//!
//! Matching is linear in the length of the value: patterns with only `*` wildcards are matched
//! segment by segment with substring search (leftmost placement of each segment is optimal, so
//! there is no backtracking); patterns with `?` inside literal text go to a DFA-based regex.

use memchr::memmem::Finder;
use regex_automata::meta::Regex;
use std::collections::HashSet;

#[derive(Clone, Debug)]
pub struct Wildcard {
    kind: Kind,
    /// Compare lowercase text (the pattern is stored lowercased).
    insensitive: bool,
}

#[derive(Clone, Debug)]
enum Kind {
    Exact(String),
    Prefix(String),
    Suffix(String),
    Contains(Box<Finder<'static>>),
    /// Only `*` and `?`: a bound on the number of characters.
    Length {
        min: usize,
        exact: bool,
    },
    /// `p0*p1*…*pn`.
    Segments {
        first: String,
        middle: Vec<Finder<'static>>,
        last: String,
    },
    Regex(Regex),
}

/// Lowercases `s` into `buf` (Unicode simple lowercase; ASCII fast path).
pub fn fold_into<'b>(s: &str, buf: &'b mut String) -> &'b str {
    buf.clear();
    if s.is_ascii() {
        buf.extend(s.bytes().map(|b| b.to_ascii_lowercase() as char));
    } else {
        buf.extend(s.chars().flat_map(char::to_lowercase));
    }
    buf
}

pub fn fold(s: &str) -> String {
    let mut b = String::new();
    fold_into(s, &mut b);
    b
}

pub fn has_wildcards(p: &str) -> bool {
    p.contains(['*', '?'])
}

impl Wildcard {
    pub fn new(pattern: &str, insensitive: bool) -> Result<Wildcard, String> {
        let p = if insensitive { fold(pattern) } else { pattern.to_string() };
        let kind = if !has_wildcards(&p) {
            Kind::Exact(p)
        } else if p.chars().all(|c| c == '*' || c == '?') {
            Kind::Length { min: p.matches('?').count(), exact: !p.contains('*') }
        } else if p.contains('?') {
            Kind::Regex(wildcard_regex(pattern, insensitive)?)
        } else {
            let parts: Vec<&str> = p.split('*').collect();
            match parts.as_slice() {
                [pre, ""] => Kind::Prefix(pre.to_string()),
                ["", suf] => Kind::Suffix(suf.to_string()),
                ["", mid, ""] => Kind::Contains(Box::new(Finder::new(mid.as_bytes()).into_owned())),
                _ => Kind::Segments {
                    first: parts[0].to_string(),
                    last: parts[parts.len() - 1].to_string(),
                    middle: parts[1..parts.len() - 1]
                        .iter()
                        .filter(|m| !m.is_empty())
                        .map(|m| Finder::new(m.as_bytes()).into_owned())
                        .collect(),
                },
            }
        };
        Ok(Wildcard { kind, insensitive })
    }

    /// `scratch` holds the lowercased value for case-insensitive patterns, reused across calls.
    pub fn is_match(&self, s: &str, scratch: &mut String) -> bool {
        if let Kind::Regex(re) = &self.kind {
            return re.is_match(s);
        }
        let s = if self.insensitive { fold_into(s, scratch) } else { s };
        match &self.kind {
            Kind::Exact(p) => s == p,
            Kind::Prefix(p) => s.starts_with(p.as_str()),
            Kind::Suffix(p) => s.ends_with(p.as_str()),
            Kind::Contains(f) => f.find(s.as_bytes()).is_some(),
            Kind::Length { min, exact } => {
                let n = if s.is_ascii() { s.len() } else { s.chars().count() };
                if *exact {
                    n == *min
                } else {
                    n >= *min
                }
            }
            Kind::Segments { first, middle, last } => {
                if s.len() < first.len() + last.len() || !s.starts_with(first.as_str()) || !s.ends_with(last.as_str()) {
                    return false;
                }
                let mut rest = &s.as_bytes()[first.len()..s.len() - last.len()];
                for f in middle {
                    match f.find(rest) {
                        Some(i) => rest = &rest[i + f.needle().len()..],
                        None => return false,
                    }
                }
                true
            }
            Kind::Regex(_) => unreachable!(),
        }
    }

    /// The exact string this pattern matches, if it has no wildcards.
    pub fn exact(&self) -> Option<&str> {
        match &self.kind {
            Kind::Exact(s) => Some(s),
            _ => None,
        }
    }
}

fn wildcard_regex(pattern: &str, insensitive: bool) -> Result<Regex, String> {
    let mut re = String::from(if insensitive { "(?is)\\A(?:" } else { "(?s)\\A(?:" });
    for c in pattern.chars() {
        match c {
            '*' => re.push_str(".*"),
            '?' => re.push('.'),
            c => re.push_str(&crate::lucene::lit(c)),
        }
    }
    re.push_str(")\\z");
    crate::lucene::build(&re).map_err(|e| format!("cannot compile the wildcard pattern: {e}"))
}

/// The patterns of one `like (…)` / `: (…)` list. Patterns without wildcards go into a hash set.
#[derive(Clone, Debug)]
pub struct WildcardSet {
    exact: HashSet<String>,
    /// (index in the source list, pattern)
    patterns: Vec<(usize, Wildcard)>,
    /// Source list index of each exact string, for explanations.
    exact_index: Vec<(String, usize)>,
    insensitive: bool,
}

impl WildcardSet {
    /// `patterns` pairs each pattern with the position reported by [`WildcardSet::find`].
    pub fn new<'p>(
        patterns: impl IntoIterator<Item = (usize, &'p str)>,
        insensitive: bool,
    ) -> Result<WildcardSet, String> {
        let mut set = WildcardSet { exact: HashSet::new(), patterns: vec![], exact_index: vec![], insensitive };
        for (i, p) in patterns {
            let w = Wildcard::new(p, insensitive)?;
            match w.exact() {
                Some(e) => {
                    set.exact_index.push((e.to_string(), i));
                    set.exact.insert(e.to_string());
                }
                None => set.patterns.push((i, w)),
            }
        }
        Ok(set)
    }

    pub fn is_empty(&self) -> bool {
        self.exact.is_empty() && self.patterns.is_empty()
    }

    /// The index (in the source list) of a pattern that matches `s`.
    pub fn find(&self, s: &str, scratch: &mut String) -> Option<usize> {
        if !self.exact.is_empty() {
            let key = if self.insensitive { fold_into(s, scratch) } else { s };
            if self.exact.contains(key) {
                return self.exact_index.iter().find(|(e, _)| e == key).map(|(_, i)| *i);
            }
        }
        self.patterns.iter().find(|(_, w)| w.is_match(s, scratch)).map(|(i, _)| *i)
    }

    pub fn is_match(&self, s: &str, scratch: &mut String) -> bool {
        if !self.exact.is_empty() {
            let key = if self.insensitive { fold_into(s, scratch) } else { s };
            if self.exact.contains(key) {
                return true;
            }
        }
        self.patterns.iter().any(|(_, w)| w.is_match(s, scratch))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, s: &str) -> bool {
        Wildcard::new(p, false).unwrap().is_match(s, &mut String::new())
    }
    fn mi(p: &str, s: &str) -> bool {
        Wildcard::new(p, true).unwrap().is_match(s, &mut String::new())
    }

    #[test]
    fn star_and_question_mark() {
        assert!(m("http*:10250*", "https://10.0.0.1:10250/pods"));
        assert!(!m("http*:10250*", "https://10.0.0.1:10251/pods"));
        assert!(m("?*", "x") && !m("?*", ""));
        assert!(m("*", ""));
        assert!(m("a?c", "abc") && !m("a?c", "abbc") && m("a?c", "aéc"));
        assert!(m("*a*b*c*", "xxaxxbxxcxx") && !m("*a*b*c*", "cba"));
        assert!(m("ab*ab", "abab") && !m("ab*ab", "aba"));
        assert!(m(r"C:\*\x.exe", r"C:\Windows\x.exe"), "backslash is literal");
        assert!(m("*/?cMD<*", "x /scMD<y") && !m("*/?cMD<*", "x /cMD<y"));
    }

    #[test]
    fn case_folding() {
        assert!(mi("*CURL*", "/usr/bin/curl") && !m("*CURL*", "/usr/bin/curl"));
        assert!(mi("straße", "STRASSE") == "straße".eq("strasse"));
        assert!(mi("ÄB?", "äbc"));
    }

    #[test]
    fn sets_report_which_pattern_matched() {
        let s = WildcardSet::new(["curl", "wget*", "*.sh"].into_iter().enumerate(), true).unwrap();
        let mut buf = String::new();
        assert_eq!(s.find("CURL", &mut buf), Some(0));
        assert_eq!(s.find("x.SH", &mut buf), Some(2));
        assert_eq!(s.find("nc", &mut buf), None);
    }
}
