//! Wildcard patterns of `:`, `like` and `like~`: `*` is any run of characters, `?` exactly one,
//! the whole string must match, and there is no escape character (as in Elasticsearch).
//!
//! Matching never backtracks: the pattern is split at `*` into segments; the first must match at
//! the start, the last at the end, and each middle one is placed at its leftmost occurrence after
//! the previous one (leftmost placement is always optimal). Segments without `?` are found with a
//! substring search; so `*a*a*a*a*a*b` costs one pass per segment, not an exponential search.

use memchr::memmem::Finder;
use rustc_hash::FxHashMap;

#[derive(Clone, Debug)]
pub struct Wildcard {
    kind: Kind,
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
    /// No `*` but some `?`: the whole value against one segment.
    Fixed(Segment),
    /// `s0*s1*…*sn` (n ≥ 1), segments possibly holding `?`.
    Segments {
        first: Segment,
        middle: Vec<Segment>,
        last: Segment,
    },
}

/// A run of pattern text between two `*`.
#[derive(Clone, Debug)]
struct Segment {
    text: String,
    chars: usize,
    /// Substring search for segments without `?`.
    finder: Option<Box<Finder<'static>>>,
}

impl Segment {
    fn new(text: &str) -> Segment {
        let finder = (!text.contains('?')).then(|| Box::new(Finder::new(text.as_bytes()).into_owned()));
        Segment { text: text.to_string(), chars: text.chars().count(), finder }
    }

    /// The end of a match starting at byte `at` of `s`.
    fn match_at(&self, s: &str, at: usize) -> Option<usize> {
        if self.finder.is_some() {
            return s[at..].starts_with(self.text.as_str()).then(|| at + self.text.len());
        }
        let mut hay = s[at..].char_indices();
        for p in self.text.chars() {
            let (_, h) = hay.next()?;
            if p != '?' && p != h {
                return None;
            }
        }
        Some(hay.next().map_or(s.len(), |(i, _)| at + i))
    }

    /// The leftmost match in `s[from..to]`: (start, end).
    fn find(&self, s: &str, from: usize, to: usize) -> Option<(usize, usize)> {
        if let Some(f) = &self.finder {
            return f.find(&s.as_bytes()[from..to]).map(|i| (from + i, from + i + self.text.len()));
        }
        let window = &s[..to];
        window[from..].char_indices().map(|(i, _)| from + i).find_map(|i| self.match_at(window, i).map(|e| (i, e)))
    }
}

/// Lowercases `s` into `buf` (Unicode simple lowercase; ASCII fast path).
pub fn fold_into<'b>(s: &str, buf: &'b mut String) -> &'b str {
    buf.clear();
    if s.is_ascii() {
        buf.push_str(s);
        buf.make_ascii_lowercase();
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
    /// A pattern; `insensitive` stores it lowercased, and the caller folds the values it tests.
    pub fn new(pattern: &str, insensitive: bool) -> Wildcard {
        let p = if insensitive { fold(pattern) } else { pattern.to_string() };
        let kind = if !has_wildcards(&p) {
            Kind::Exact(p)
        } else if p.chars().all(|c| c == '*' || c == '?') {
            Kind::Length { min: p.matches('?').count(), exact: !p.contains('*') }
        } else if !p.contains('*') {
            Kind::Fixed(Segment::new(&p))
        } else {
            let parts: Vec<&str> = p.split('*').collect();
            match parts.as_slice() {
                [pre, ""] if !pre.contains('?') => Kind::Prefix(pre.to_string()),
                ["", suf] if !suf.contains('?') => Kind::Suffix(suf.to_string()),
                ["", mid, ""] if !mid.contains('?') => {
                    Kind::Contains(Box::new(Finder::new(mid.as_bytes()).into_owned()))
                }
                _ => Kind::Segments {
                    first: Segment::new(parts[0]),
                    last: Segment::new(parts[parts.len() - 1]),
                    middle: parts[1..parts.len() - 1]
                        .iter()
                        .filter(|m| !m.is_empty())
                        .map(|m| Segment::new(m))
                        .collect(),
                },
            }
        };
        Wildcard { kind }
    }

    /// `s` already folded when the pattern is case-insensitive.
    fn matches_prepared(&self, s: &str) -> bool {
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
            Kind::Fixed(seg) => seg.match_at(s, 0) == Some(s.len()),
            Kind::Segments { first, middle, last } => {
                let Some(mut at) = first.match_at(s, 0) else { return false };
                // The last segment is anchored at the end: find where it would start.
                let last_start = if last.chars == 0 {
                    s.len()
                } else {
                    match s.char_indices().rev().nth(last.chars - 1) {
                        Some((i, _)) => i,
                        None => return false,
                    }
                };
                if last_start < at || last.match_at(s, last_start) != Some(s.len()) {
                    return false;
                }
                for seg in middle {
                    match seg.find(s, at, last_start) {
                        Some((_, end)) => at = end,
                        None => return false,
                    }
                }
                true
            }
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

/// The patterns of one `like (…)` / `: (…)` list. Patterns without wildcards go into a hash set.
#[derive(Clone, Debug)]
pub struct WildcardSet {
    /// Patterns without wildcards, with their index in the source list.
    exact: FxHashMap<String, usize>,
    /// (index in the source list, pattern)
    patterns: Vec<(usize, Wildcard)>,
    insensitive: bool,
}

impl WildcardSet {
    /// `patterns` pairs each pattern with the position reported by [`WildcardSet::find`].
    pub fn new<'p>(patterns: impl IntoIterator<Item = (usize, &'p str)>, insensitive: bool) -> WildcardSet {
        let mut set = WildcardSet { exact: FxHashMap::default(), patterns: vec![], insensitive };
        for (i, p) in patterns {
            let w = Wildcard::new(p, insensitive);
            match w.exact() {
                Some(e) => {
                    set.exact.entry(e.to_string()).or_insert(i);
                }
                None => set.patterns.push((i, w)),
            }
        }
        set
    }

    pub fn is_empty(&self) -> bool {
        self.exact.is_empty() && self.patterns.is_empty()
    }

    /// The index (in the source list) of a pattern that matches `s`.
    pub fn find(&self, s: &str, scratch: &mut String) -> Option<usize> {
        let key = if self.insensitive { fold_into(s, scratch) } else { s };
        if let Some(&i) = self.exact.get(key) {
            return Some(i);
        }
        self.patterns.iter().find(|(_, w)| w.matches_prepared(key)).map(|(i, _)| *i)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, s: &str) -> bool {
        Wildcard::new(p, false).matches_prepared(s)
    }
    fn mi(p: &str, s: &str) -> bool {
        Wildcard::new(p, true).matches_prepared(&fold(s))
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
        assert!(m("?:\\*\\x?.exe", "C:\\dir\\xy.exe") && !m("?:\\*\\x?.exe", "C:\\dir\\x.exe"));
        assert!(m("*a?c*", "zzabcz") && m("ab*b?", "abxbz") && !m("ab*b?", "abb"));
        assert!(m("?", "é") && !m("?", "") && m("é?", "éa"));
        let evil = "a".repeat(50_000);
        assert!(!m("*a*a*a*a*a*a*a*a*b", &evil), "no exponential backtracking");
        assert!(!m("*a?a*a?a*a?a*b", &evil[..5000]));
    }

    #[test]
    fn case_folding() {
        assert!(mi("*CURL*", "/usr/bin/curl") && !m("*CURL*", "/usr/bin/curl"));
        assert!(mi("straße", "STRASSE") == "straße".eq("strasse"));
        assert!(mi("ÄB?", "äbc"));
    }

    #[test]
    fn sets_report_which_pattern_matched() {
        let s = WildcardSet::new(["curl", "wget*", "*.sh"].into_iter().enumerate(), true);
        let mut buf = String::new();
        assert_eq!(s.find("CURL", &mut buf), Some(0));
        assert_eq!(s.find("x.SH", &mut buf), Some(2));
        assert_eq!(s.find("nc", &mut buf), None);
    }
}
