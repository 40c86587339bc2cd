//! From pest's parse tree to the [`ast`](crate::ast): escapes resolved, unquoted values trimmed
//! as Kibana trims them, nested-field paths prefixed, `*` found.

use super::grammar::Rule;
use crate::ast::*;
use crate::error::Error;
use crate::span::Span;
use pest::iterators::{Pair, Pairs};

type Result<T> = std::result::Result<T, Error>;

pub struct Builder<'s> {
    pub src: &'s str,
}

/// The children of a pair without punctuation and keywords, which only exist for error messages.
fn children<'i>(p: Pair<'i, Rule>) -> impl Iterator<Item = Pair<'i, Rule>> {
    p.into_inner().filter(|c| {
        !matches!(
            c.as_rule(),
            Rule::lparen
                | Rule::rparen
                | Rule::lbrace
                | Rule::rbrace
                | Rule::colon
                | Rule::kw_or
                | Rule::kw_and
                | Rule::EOI
        )
    })
}

fn span(p: &Pair<Rule>) -> Span {
    let s = p.as_span();
    Span::new(s.start(), s.end())
}

/// A quoted or unquoted string with its escapes resolved, cut at its unescaped `*`.
struct Text {
    /// The literal pieces around unescaped `*` (one piece: no wildcard).
    pieces: Vec<String>,
    quoted: bool,
    span: Span,
}

impl Text {
    fn joined(&self) -> String {
        self.pieces.join("*")
    }
}

fn junction(kind: fn(Vec<Expr>) -> ExprKind, mut v: Vec<Expr>) -> Expr {
    if v.len() == 1 {
        return v.pop().expect("one operand");
    }
    let span = v[0].span.to(v[v.len() - 1].span);
    Expr { kind: kind(v), span }
}

impl Builder<'_> {
    pub fn query(&self, mut pairs: Pairs<Rule>) -> Result<Expr> {
        let query = pairs.next().expect("grammar: query");
        let or = children(query).next().expect("grammar: or_query");
        self.or_query(or, &[])
    }

    /// `prefix`: the paths of the nested fields (`f: { … }`) around this query.
    fn or_query(&self, p: Pair<Rule>, prefix: &[String]) -> Result<Expr> {
        let v = children(p).map(|a| self.and_query(a, prefix)).collect::<Result<Vec<_>>>()?;
        Ok(junction(ExprKind::Or, v))
    }

    fn and_query(&self, p: Pair<Rule>, prefix: &[String]) -> Result<Expr> {
        let v = children(p).map(|n| self.not_query(n, prefix)).collect::<Result<Vec<_>>>()?;
        Ok(junction(ExprKind::And, v))
    }

    fn not_query(&self, p: Pair<Rule>, prefix: &[String]) -> Result<Expr> {
        self.negatable(p, |c| match c.as_rule() {
            Rule::or_query => self.or_query(c, prefix),
            Rule::nested => self.nested(c, prefix),
            Rule::range => self.range(c, prefix),
            Rule::field_value => self.field_value(c, prefix),
            Rule::free_text => {
                let t = self.text(c.into_inner().next().expect("grammar: value"))?;
                Err(Error::parse(
                    self.src,
                    t.span,
                    "a value without a field (free text) is not supported: eqlite reads only the fields \
                     a query names; write `field: value`",
                ))
            }
            r => unreachable!("grammar: not_query {r:?}"),
        })
    }

    /// An operand after an optional `not` (KQL's `must_not`).
    fn negatable<'i>(
        &self,
        p: Pair<'i, Rule>,
        mut operand: impl FnMut(Pair<'i, Rule>) -> Result<Expr>,
    ) -> Result<Expr> {
        let whole = span(&p);
        let mut negated = false;
        let mut inner = None;
        for c in children(p) {
            if c.as_rule() == Rule::kw_not {
                negated = true;
            } else {
                inner = Some(operand(c)?);
            }
        }
        let inner = inner.expect("grammar: an operand");
        Ok(if negated { Expr { kind: ExprKind::MustNot(Box::new(inner)), span: whole } } else { inner })
    }

    fn nested(&self, p: Pair<Rule>, prefix: &[String]) -> Result<Expr> {
        let mut it = children(p);
        let field = self.field(it.next().expect("grammar: nested field"), prefix)?;
        self.or_query(it.next().expect("grammar: nested query"), &field.path)
    }

    fn range(&self, p: Pair<Rule>, prefix: &[String]) -> Result<Expr> {
        let whole = span(&p);
        let mut it = children(p);
        let field = self.field(it.next().expect("grammar: range field"), prefix)?;
        let op = match it.next().expect("grammar: range op").as_str() {
            "<" => CompareOp::Lt,
            "<=" => CompareOp::Le,
            ">" => CompareOp::Gt,
            _ => CompareOp::Ge,
        };
        let t = self.text(it.next().and_then(|l| l.into_inner().next()).expect("grammar: range value"))?;
        let text = t.joined();
        // Kibana sends the value as text and Elasticsearch reads it as the field's type; a number
        // (quoted or not) stays a number for fields of no known type, whose values are JSON's.
        let value = match text.parse::<i64>() {
            Ok(i) => Literal::Int(i),
            _ => match text.parse::<f64>() {
                Ok(f) if f.is_finite() && !text.contains(char::is_alphabetic) => Literal::Float(f),
                _ => Literal::Str(text),
            },
        };
        let lhs = Expr { span: field.span, kind: ExprKind::Field(field) };
        let rhs = Expr { kind: ExprKind::Literal(value), span: t.span };
        Ok(Expr { kind: ExprKind::Compare(op, Box::new(lhs), Box::new(rhs)), span: whole })
    }

    fn field_value(&self, p: Pair<Rule>, prefix: &[String]) -> Result<Expr> {
        let whole = span(&p);
        let mut it = children(p);
        let field = self.field(it.next().expect("grammar: field"), prefix)?;
        let values = it.next().expect("grammar: values");
        let mut e = self.values(&field, values)?;
        if matches!(e.kind, ExprKind::Kql { .. }) {
            e.span = whole;
        }
        Ok(e)
    }

    /// `value`, `(a or b …)`, `not …`.
    fn values(&self, field: &Field, p: Pair<Rule>) -> Result<Expr> {
        match p.as_rule() {
            Rule::value => self.leaf(field, p),
            Rule::or_values => self.or_values(field, p),
            _ => self.not_values(field, p),
        }
    }

    fn or_values(&self, field: &Field, p: Pair<Rule>) -> Result<Expr> {
        let v = children(p).map(|a| self.and_values(field, a)).collect::<Result<Vec<_>>>()?;
        Ok(junction(ExprKind::Or, v))
    }

    fn and_values(&self, field: &Field, p: Pair<Rule>) -> Result<Expr> {
        let v = children(p).map(|n| self.not_values(field, n)).collect::<Result<Vec<_>>>()?;
        Ok(junction(ExprKind::And, v))
    }

    fn not_values(&self, field: &Field, p: Pair<Rule>) -> Result<Expr> {
        self.negatable(p, |c| self.values(field, c))
    }

    fn leaf(&self, field: &Field, p: Pair<Rule>) -> Result<Expr> {
        let t = self.text(p.into_inner().next().expect("grammar: value"))?;
        let value = if t.pieces.len() > 1 && t.pieces.iter().all(|s| s.trim().is_empty()) {
            KqlValue::Exists
        } else if t.pieces.len() > 1 {
            KqlValue::Wildcard(t.pieces)
        } else {
            KqlValue::Term { text: t.pieces.into_iter().next().unwrap_or_default(), quoted: t.quoted }
        };
        Ok(Expr { kind: ExprKind::Kql { field: field.clone(), value, value_span: t.span }, span: t.span })
    }

    fn field(&self, p: Pair<Rule>, prefix: &[String]) -> Result<Field> {
        let t = self.text(p.into_inner().next().expect("grammar: field"))?;
        let name = t.joined();
        if name.is_empty() || name.split('.').any(str::is_empty) {
            return Err(Error::parse(self.src, t.span, format!("`{name}` is not a field name")));
        }
        let path = prefix.iter().cloned().chain(name.split('.').map(String::from)).collect();
        Ok(Field { path, optional: false, span: t.span })
    }

    /// A `quoted` or `unquoted` pair as text.
    fn text(&self, p: Pair<Rule>) -> Result<Text> {
        let s = span(&p);
        if p.as_rule() == Rule::quoted {
            let raw = &self.src[s.start + 1..s.end - 1];
            return Ok(Text { pieces: vec![self.unescape(raw, s.start + 1, true)?.join("")], quoted: true, span: s });
        }
        let raw = p.as_str();
        let trimmed = raw.trim_matches(|c: char| c.is_ascii_whitespace());
        let start = s.start + (raw.len() - raw.trim_start_matches(|c: char| c.is_ascii_whitespace()).len());
        let span = Span::new(start, start + trimmed.len());
        Ok(Text { pieces: self.unescape(trimmed, start, false)?, quoted: false, span })
    }

    /// Resolves escapes (Kibana's: `\t`, `\r`, `\n`, `\uXXXX`, and in quoted strings `\"` and `\\`,
    /// in unquoted ones any special character or keyword) and cuts unquoted text at unescaped `*`.
    fn unescape(&self, raw: &str, at: usize, quoted: bool) -> Result<Vec<String>> {
        let mut pieces = vec![String::new()];
        let mut it = raw.char_indices().peekable();
        while let Some((i, c)) = it.next() {
            let cur = pieces.last_mut().expect("a piece");
            match c {
                '*' if !quoted => pieces.push(String::new()),
                '\\' => {
                    let rest = &raw[i + 1..];
                    let next = rest.chars().next();
                    match next {
                        Some('t') => cur.push('\t'),
                        Some('r') => cur.push('\r'),
                        Some('n') => cur.push('\n'),
                        Some('u') if rest.len() >= 5 && rest[1..5].chars().all(|h| h.is_ascii_hexdigit()) => {
                            let code = u32::from_str_radix(&rest[1..5], 16).expect("hex digits");
                            match char::from_u32(code) {
                                Some(ch) => cur.push(ch),
                                None => {
                                    return Err(Error::parse(
                                        self.src,
                                        Span::new(at + i, at + i + 6),
                                        format!("`\\u{}` is not a character", &rest[1..5]),
                                    ))
                                }
                            }
                            for _ in 0..5 {
                                it.next();
                            }
                            continue;
                        }
                        Some(ch) if !quoted || ch == '"' || ch == '\\' => {
                            // Escaped keywords: `\and`, `\or`, `\not` are the words themselves.
                            cur.push(ch);
                        }
                        _ => {
                            cur.push('\\');
                            continue;
                        }
                    }
                    it.next();
                }
                c => cur.push(c),
            }
        }
        Ok(pieces)
    }
}

/// A pest error as a sentence that says what KQL expected where.
pub fn from_pest(src: &str, e: pest::error::Error<Rule>) -> Error {
    let (pos, positives) = match crate::parser::errors::expected(src, e) {
        Ok(x) => x,
        Err(e) => return e,
    };
    let rest = &src[pos..];
    let token: String = match rest.chars().next() {
        None => String::new(),
        Some(c) if c.is_alphanumeric() => rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect(),
        Some(c) => c.to_string(),
    };
    let found = if token.is_empty() { "the end of the query".to_string() } else { format!("`{token}`") };
    let mut wanted: Vec<&str> = Vec::new();
    for r in &positives {
        let d = match r {
            Rule::or_query | Rule::and_query | Rule::not_query => "a query",
            Rule::field | Rule::value | Rule::literal | Rule::free_text => "a field or value",
            Rule::quoted | Rule::unquoted => "a value",
            Rule::escape => {
                "an escape (`\\` and one of `\\():<>\"*{}`, `t`, `r`, `n`, `u` and four hex digits, or a keyword)"
            }
            Rule::or_values | Rule::and_values | Rule::not_values | Rule::negated => "a value",
            Rule::colon => "`:`",
            Rule::range_op => "a comparison (`<`, `<=`, `>`, `>=`)",
            Rule::kw_or => "`or`",
            Rule::kw_and => "`and`",
            Rule::kw_not => "`not`",
            Rule::lparen => "`(`",
            Rule::rparen => "`)`",
            Rule::lbrace => "`{`",
            Rule::rbrace => "`}`",
            Rule::EOI => "the end of the query",
            _ => "",
        };
        if !d.is_empty() && !wanted.contains(&d) {
            wanted.push(d);
        }
    }
    let msg = match wanted.len() {
        0 => format!("unexpected {found}"),
        1 => format!("expected {}, found {found}", wanted[0]),
        n => format!("expected {} or {}, found {found}", wanted[..n - 1].join(", "), wanted[n - 1]),
    };
    let end = pos + token.len();
    Error::parse(src, Span::new(pos, end), msg)
}
