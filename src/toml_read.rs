//! Typed reading of TOML documents (rule files, test cases) with positioned errors.
//!
//! The document is parsed by the `toml` crate into its spanned tree (`DeTable`), without serde:
//! serde's derived deserializers cost about 20 KB of the npm package's gzipped wasm, and reading
//! the handful of keys a rule file has by hand also gives every type error the span of its value.

use crate::error::{Error, ErrorKind};
use crate::span::Span;
use std::ops::Range;
use toml::de::{DeTable, DeValue};
use toml::Spanned;

/// A parsed TOML document and the text it came from (for error positions).
pub struct Doc<'i> {
    text: &'i str,
    origin: &'i str,
    kind: ErrorKind,
    root: Spanned<DeTable<'i>>,
}

/// One table of a document: its keys are read through typed getters.
#[derive(Clone)]
pub struct Table<'a, 'i> {
    doc: &'a Doc<'i>,
    /// The table's dotted path, for messages (`rule`, `rule.threat`).
    path: String,
    table: &'a DeTable<'i>,
    span: Range<usize>,
}

impl<'i> Doc<'i> {
    /// Parses `text`; a syntax error is positioned where the parser stopped. `origin` (a file
    /// name) prefixes every message, `what` names the document in them (`rule TOML`); `kind` is
    /// the error kind given to every error.
    pub fn parse(text: &'i str, origin: &'i str, what: &str, kind: ErrorKind) -> Result<Doc<'i>, Error> {
        match DeTable::parse(text) {
            Ok(root) => Ok(Doc { text, origin, kind, root }),
            Err(e) => {
                let span = e.span().map_or(Span::new(0, 0), |r| Span::new(r.start, r.end));
                Err(Error::new(kind, text, span, format!("{origin}: invalid {what}: {}", e.message().trim_end())))
            }
        }
    }

    /// The top-level table.
    pub fn root(&self) -> Table<'_, 'i> {
        Table { doc: self, path: String::new(), table: self.root.get_ref(), span: self.root.span() }
    }

    /// An error at `span` of the document's text.
    pub fn error(&self, span: Range<usize>, message: &str) -> Error {
        Error::new(self.kind, self.text, Span::new(span.start, span.end), format!("{}: {message}", self.origin))
    }
}

impl<'a, 'i> Table<'a, 'i> {
    fn key(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_string()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    fn wrong(&self, key: &str, value: &Spanned<DeValue<'i>>, want: &str) -> Error {
        let got = match value.get_ref() {
            DeValue::String(_) => "a string",
            DeValue::Integer(_) => "an integer",
            DeValue::Float(_) => "a float",
            DeValue::Boolean(_) => "a boolean",
            DeValue::Datetime(_) => "a date-time",
            DeValue::Array(_) => "an array",
            DeValue::Table(_) => "a table",
        };
        self.doc.error(value.span(), &format!("`{}` must be {want}, not {got}", self.key(key)))
    }

    /// The error for a required `key` this table lacks, at the table.
    pub fn missing(&self, key: &str) -> Error {
        self.doc.error(self.span(), &format!("`{}` is missing", self.key(key)))
    }

    /// The span of the whole table in the text.
    pub fn span(&self) -> Range<usize> {
        self.span.clone()
    }

    /// The raw value of `key`, if present.
    pub fn get(&self, key: &str) -> Option<&'a Spanned<DeValue<'i>>> {
        self.table.get(key)
    }

    /// A string value and its span (of the value, quotes included).
    pub fn str(&self, key: &str) -> Result<Option<(String, Range<usize>)>, Error> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => match v.get_ref() {
                DeValue::String(s) => Ok(Some((s.to_string(), v.span()))),
                _ => Err(self.wrong(key, v, "a string")),
            },
        }
    }

    /// An integer value.
    pub fn int(&self, key: &str) -> Result<Option<i64>, Error> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => match v.get_ref() {
                DeValue::Integer(i) => i64::from_str_radix(i.as_str(), i.radix())
                    .map(Some)
                    .map_err(|_| self.doc.error(v.span(), &format!("`{}` is out of range", self.key(key)))),
                _ => Err(self.wrong(key, v, "an integer")),
            },
        }
    }

    /// An array of strings (missing: empty).
    pub fn strings(&self, key: &str) -> Result<Vec<String>, Error> {
        let Some(v) = self.get(key) else { return Ok(Vec::new()) };
        let DeValue::Array(items) = v.get_ref() else { return Err(self.wrong(key, v, "an array of strings")) };
        items
            .iter()
            .map(|item| match item.get_ref() {
                DeValue::String(s) => Ok(s.to_string()),
                _ => Err(self.wrong(key, item, "a string")),
            })
            .collect()
    }

    /// A sub-table.
    pub fn table(&self, key: &str) -> Result<Option<Table<'a, 'i>>, Error> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => match v.get_ref() {
                DeValue::Table(t) => Ok(Some(self.child(key, t, v))),
                _ => Err(self.wrong(key, v, "a table")),
            },
        }
    }

    /// An array of tables (`[[rule.threat]]`, or an inline array of inline tables; missing: empty).
    pub fn tables(&self, key: &str) -> Result<Vec<Table<'a, 'i>>, Error> {
        let Some(v) = self.get(key) else { return Ok(Vec::new()) };
        let DeValue::Array(items) = v.get_ref() else { return Err(self.wrong(key, v, "an array of tables")) };
        items
            .iter()
            .map(|item| match item.get_ref() {
                DeValue::Table(t) => Ok(self.child(key, t, item)),
                _ => Err(self.wrong(key, item, "a table")),
            })
            .collect()
    }

    /// Refuses a key not in `allowed`, at the key: a misspelt key must not pass silently.
    pub fn only(&self, allowed: &[&str]) -> Result<(), Error> {
        match self.table.iter().find(|(k, _)| !allowed.contains(&k.get_ref().as_ref())) {
            Some((k, _)) => Err(self.doc.error(
                k.span(),
                &format!("unknown key `{}` (expected one of {})", self.key(k.get_ref()), allowed.join(", ")),
            )),
            None => Ok(()),
        }
    }

    /// An error at `span` of the document's text.
    pub fn error(&self, span: Range<usize>, message: &str) -> Error {
        self.doc.error(span, message)
    }

    fn child(&self, key: &str, table: &'a DeTable<'i>, value: &Spanned<DeValue<'i>>) -> Table<'a, 'i> {
        Table { doc: self.doc, path: self.key(key), table, span: value.span() }
    }
}
