//! Values of `text` fields as Elasticsearch searches them: analysed into lowercase words (the
//! standard analyser, approximated as runs of letters and digits), so KQL's `message: segfault`
//! is a `match` query (any word of the query), `message: "module verification failed"` a
//! `match_phrase` (the words in a row) and `message: *fault*` a wildcard on each word.

use crate::matcher::wildcard::WildcardSet;

/// What a KQL value on a `text` field asks of the field's words.
#[derive(Clone, Debug)]
pub struct TextQuery {
    /// The value as written (escapes resolved), for explanations.
    pub source: String,
    words: Vec<String>,
    kind: Kind,
}

#[derive(Clone, Debug)]
enum Kind {
    /// `match`: any of the words.
    Any,
    /// `match_phrase`: all the words, consecutive and in order.
    Phrase,
    /// A wildcard pattern against each word (lowercased, as the field's normaliser would).
    Wildcard(WildcardSet),
}

/// The words of a text, lowercased.
pub fn words(s: &str) -> impl Iterator<Item = String> + '_ {
    s.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_lowercase)
}

impl TextQuery {
    /// A quoted (`match_phrase`) or unquoted (`match`) value.
    pub fn new(text: &str, quoted: bool) -> TextQuery {
        let words: Vec<String> = words(text).collect();
        let kind = if quoted && words.len() > 1 { Kind::Phrase } else { Kind::Any };
        TextQuery { source: text.to_string(), words, kind }
    }

    /// An unquoted value with `*`: the literal pieces around the wildcards.
    pub fn wildcard(pieces: &[String]) -> TextQuery {
        let pattern = pieces.iter().map(|p| p.to_lowercase()).collect::<Vec<_>>().join("*");
        let set = WildcardSet::new(std::iter::once((0, pattern.as_str())), false);
        TextQuery { source: pieces.join("*"), words: vec![], kind: Kind::Wildcard(set) }
    }

    /// Whether the value of a text field matches.
    pub fn matches(&self, value: &str, scratch: &mut String) -> bool {
        match &self.kind {
            Kind::Wildcard(set) => words(value).any(|w| set.find(&w, scratch).is_some()),
            Kind::Any => words(value).any(|w| self.words.contains(&w)),
            Kind::Phrase => {
                let have: Vec<String> = words(value).collect();
                have.windows(self.words.len()).any(|w| w == self.words.as_slice())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn match_phrase_and_wildcard_read_words() {
        let mut s = String::new();
        let v = "loading out-of-tree module taints kernel.";
        assert!(TextQuery::new("loading out-of-tree module taints kernel.", true).matches(v, &mut s));
        assert!(TextQuery::new("Module Taints", true).matches(v, &mut s));
        assert!(!TextQuery::new("taints module", true).matches(v, &mut s));
        assert!(TextQuery::new("taints module", false).matches(v, &mut s));
        assert!(!TextQuery::new("segfault", false).matches(v, &mut s));
        assert!(TextQuery::wildcard(&["".into(), "TAINT".into(), "".into()]).matches(v, &mut s));
        assert!(!TextQuery::wildcard(&["".into(), "of-tree".into()]).matches(v, &mut s));
        assert!(!TextQuery::new("...", false).matches(v, &mut s));
    }
}
