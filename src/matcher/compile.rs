//! AST → matcher. Compiling does, once per rule, everything that does not depend on the event:
//! field paths become ids in the rule set's shared [`Fields`] table, `in` lists become hash sets
//! (lowercased for `in~`), wildcard lists become [`WildcardSet`]s, regexes are compiled, and CIDR
//! blocks are parsed. Each node keeps its source span for explanations.

use crate::ast::{self, CompareOp, ExprKind, Function, Literal, MatchOp};
use crate::error::Error;
use crate::event::{FieldId, Fields};
use crate::field_types::{FieldType, Read};
use crate::matcher::cidr::Cidr;
use crate::matcher::lucene;
use crate::matcher::node::{EventMatcher, LiteralSet, Node, NodeKind, Patterns, StringPatterns};
use crate::matcher::wildcard::WildcardSet;
use crate::span::Span;
use crate::value::Value;

pub struct Compiler<'a> {
    pub src: &'a str,
    pub fields: &'a mut Fields,
    /// Memory the rule's regexes need so far, bounded by [`lucene::MAX_RULE_REGEX_BYTES`].
    pub regex_bytes: usize,
}

type Result<T> = std::result::Result<T, Error>;

impl Compiler<'_> {
    fn err<T>(&self, span: Span, msg: impl Into<String>) -> Result<T> {
        Err(Error::verify(self.src, span, msg))
    }

    pub fn event_query(&mut self, q: &ast::EventQuery) -> Result<EventMatcher> {
        let (category, category_span) = match &q.category {
            ast::Category::Any(s) => (None, *s),
            ast::Category::Named(c, s) => (Some(c.clone()), *s),
        };
        Ok(EventMatcher { category, category_span, condition: self.expr(&q.condition)?, span: q.span })
    }

    pub fn field(&mut self, f: &ast::Field) -> FieldId {
        self.fields.intern(&f.path)
    }

    pub fn expr(&mut self, e: &ast::Expr) -> Result<Node> {
        let kind = match &e.kind {
            ExprKind::Literal(l) => NodeKind::Const(l.into()),
            ExprKind::Field(f) => NodeKind::Field(self.field(f), f.optional),
            ExprKind::And(v) => NodeKind::And(self.operands(v)?),
            ExprKind::Or(v) => NodeKind::Or(self.operands(v)?),
            ExprKind::Not(x) => NodeKind::Not(Box::new(self.expr(x)?)),
            ExprKind::MustNot(x) => NodeKind::MustNot(Box::new(self.expr(x)?)),
            ExprKind::Kql { field, value, value_span } => return self.kql(e.span, field, value, *value_span),
            ExprKind::Neg(x) => NodeKind::Neg(Box::new(self.expr(x)?)),
            ExprKind::Arith(op, a, b) => NodeKind::Arith(*op, Box::new(self.expr(a)?), Box::new(self.expr(b)?)),
            ExprKind::Compare(op, a, b) => {
                let is_null = |x: &ast::Expr| matches!(x.kind, ExprKind::Literal(Literal::Null));
                match op {
                    CompareOp::Eq | CompareOp::Ne if is_null(b) || is_null(a) => {
                        let operand = if is_null(b) { a } else { b };
                        NodeKind::IsNull(Box::new(self.expr(operand)?), *op == CompareOp::Ne)
                    }
                    _ => {
                        let (mut a, mut b) = (self.expr(a)?, self.expr(b)?);
                        self.typed_literal(&a, &mut b);
                        self.typed_literal(&b, &mut a);
                        let is_version = |n: &Node| matches!(n.kind, NodeKind::Field(f, _) if self.fields.field_type(f) == Some(FieldType::Version));
                        if is_version(&a) || is_version(&b) {
                            NodeKind::CompareVersions(*op, Box::new(a), Box::new(b))
                        } else {
                            NodeKind::Compare(*op, Box::new(a), Box::new(b))
                        }
                    }
                }
            }
            ExprKind::In { value, list, negated, insensitive } => {
                let values = list
                    .iter()
                    .map(|x| match &x.kind {
                        ExprKind::Literal(l) => Ok(Value::from(l)),
                        _ => self.err(x.span, "only literals are supported in `in` lists"),
                    })
                    .collect::<Result<Vec<_>>>()?;
                let value = self.expr(value)?;
                let values = values.into_iter().map(|v| self.typed(&value, v)).collect();
                NodeKind::In(Box::new(value), LiteralSet::new(values, *insensitive), *negated)
            }
            ExprKind::Match { op, value, patterns } => {
                let value = self.expr(value)?;
                // `user.id : 0` on a keyword field is the pattern "0".
                let as_text = |p: &ast::Lit| match Value::from(&p.value) {
                    v @ (Value::Int(_) | Value::Float(_) | Value::Bool(_)) => match self.typed(&value, v) {
                        Value::Str(t) => ast::Lit { value: Literal::Str(t.into_owned()), span: p.span },
                        _ => p.clone(),
                    },
                    _ => p.clone(),
                };
                let patterns: Vec<ast::Lit> = patterns.iter().map(as_text).collect();
                let patterns = self.patterns(*op, &patterns)?;
                NodeKind::Match(Box::new(value), patterns)
            }
            ExprKind::Call { function, insensitive, args, .. } => {
                let mut cidrs = Vec::new();
                if *function == Function::CidrMatch {
                    for a in &args[1..] {
                        match &a.kind {
                            ExprKind::Literal(Literal::Str(s)) => match Cidr::parse(s) {
                                Ok(c) => cidrs.push(c),
                                Err(m) => return self.err(a.span, m),
                            },
                            _ => return self.err(a.span, "`cidrMatch` needs string literals for its address blocks"),
                        }
                    }
                }
                let args = args.iter().map(|x| self.expr(x)).collect::<Result<_>>()?;
                NodeKind::Call { function: *function, insensitive: *insensitive, args, cidrs }
            }
        };
        Ok(Node { kind, span: e.span })
    }

    /// KQL's `field: value` as Kibana compiles it to Elasticsearch for the field's type: `*` is
    /// `exists`; on `text` fields a value is an analysed `match` (quoted: `match_phrase`); on other
    /// fields a term (exact, case-sensitive, read as the field's type; a CIDR block on `ip`
    /// fields), and unquoted `*` makes a case-sensitive wildcard. A field of no known type is read
    /// as its JSON value: the value matches its text, and a number or boolean it spells. A field
    /// name with `*` stands for every field of the type tables it matches (as Kibana expands it
    /// over the data view); one matching none is the field named with `*` itself, which no usual
    /// event has (Kibana sends it as is and Elasticsearch finds no such field).
    #[inline(never)]
    fn kql(&mut self, span: Span, field: &ast::Field, value: &ast::KqlValue, value_span: Span) -> Result<Node> {
        use crate::ast::KqlValue;
        let name = field.name();
        let paths: Vec<String> = if name.contains('*') {
            let known = self.fields.field_types().matching(&name);
            if known.is_empty() {
                vec![name]
            } else {
                known
            }
        } else {
            vec![name]
        };
        let mut nodes = Vec::new();
        for path in paths {
            let id = self.fields.intern_dotted(&path);
            let ty = self.fields.field_type(id);
            let f = Box::new(Node { kind: NodeKind::Field(id, false), span: field.span });
            let kind = match value {
                KqlValue::Exists => NodeKind::IsNull(f, true),
                KqlValue::Wildcard(pieces) if ty.is_some_and(FieldType::is_text) => {
                    NodeKind::Text(f, crate::matcher::text::TextQuery::wildcard(pieces))
                }
                KqlValue::Wildcard(pieces) => {
                    let plain = pieces.iter().all(|p| !p.contains(['*', '?']));
                    let (op, pattern) = if plain {
                        (MatchOp::Like { insensitive: false }, pieces.join("*"))
                    } else {
                        let escaped: Vec<String> = pieces.iter().map(|p| lucene::escape(p)).collect();
                        (MatchOp::Regex { insensitive: false }, escaped.join(".*"))
                    };
                    let lit = ast::Lit { value: Literal::Str(pattern), span: value_span };
                    NodeKind::Match(f, self.patterns(op, &[lit])?)
                }
                KqlValue::Term { text, quoted } if ty.is_some_and(FieldType::is_text) => {
                    NodeKind::Text(f, crate::matcher::text::TextQuery::new(text, *quoted))
                }
                // A CIDR block on an `ip` field, or on a field of no known type (whose values may be
                // addresses): the addresses in it.
                KqlValue::Term { text, .. }
                    if matches!(ty, None | Some(FieldType::Ip)) && text.contains('/') && Cidr::parse(text).is_ok() =>
                {
                    NodeKind::Call {
                        function: Function::CidrMatch,
                        insensitive: false,
                        args: vec![
                            *f,
                            Node { kind: NodeKind::Const(Value::Str(text.clone().into())), span: value_span },
                        ],
                        cidrs: vec![Cidr::parse(text).expect("checked")],
                    }
                }
                KqlValue::Term { text, .. } => {
                    let t = Value::Str(text.clone().into());
                    let values = match ty {
                        Some(ty) => match ty.read(t.clone()) {
                            Read::Value(v) => vec![v.into_owned()],
                            _ => vec![t],
                        },
                        None => {
                            let mut v = vec![t];
                            match (text.parse::<i64>(), text.parse::<f64>(), text.as_str()) {
                                (Ok(i), ..) => v.push(Value::Int(i)),
                                (_, Ok(x), _) if x.is_finite() && text.trim() == text => v.push(Value::Float(x)),
                                (.., "true") => v.push(Value::Bool(true)),
                                (.., "false") => v.push(Value::Bool(false)),
                                _ => {}
                            }
                            v
                        }
                    };
                    NodeKind::In(f, LiteralSet::new(values, false), false)
                }
            };
            nodes.push(Node { kind, span });
        }
        Ok(if nodes.len() == 1 { nodes.pop().expect("one field") } else { Node { kind: NodeKind::Or(nodes), span } })
    }

    /// A literal compared with a field that has a mapped type, read as that type, as
    /// Elasticsearch's term and range queries read it: `user.id == 0` on a keyword field is
    /// `user.id == "0"`, `destination.port == "10250"` is `== 10250`. A literal the type refuses
    /// stays as written (and compares with nothing).
    fn typed(&self, field: &Node, v: Value<'static>) -> Value<'static> {
        let NodeKind::Field(f, _) = field.kind else { return v };
        match self.fields.field_type(f).map(|ty| ty.read(v.clone())) {
            Some(Read::Value(x)) => x.into_owned(),
            _ => v,
        }
    }

    fn typed_literal(&self, field: &Node, lit: &mut Node) {
        if let NodeKind::Const(v) = &mut lit.kind {
            *v = self.typed(field, std::mem::replace(v, Value::Null));
        }
    }

    /// The operands of `and`/`or`, cheapest and most selective first. Three-valued `and` and `or`
    /// do not depend on operand order, so this changes how soon evaluation stops, never the
    /// result; explanations put operands back in source order.
    fn operands(&mut self, v: &[ast::Expr]) -> Result<Vec<Node>> {
        let mut nodes = v.iter().map(|x| self.expr(x)).collect::<Result<Vec<_>>>()?;
        nodes.sort_by_cached_key(|n| cost(n, self.fields));
        Ok(nodes)
    }

    // Out of line: `expr` recurses once per level of the query, and in WAMR's interpreter every
    // frame holds all of a function's locals, so the pattern-set building stays out of its frame.
    #[inline(never)]
    fn patterns(&mut self, op: MatchOp, pats: &[ast::Lit]) -> Result<Patterns> {
        let source: Vec<Value<'static>> = pats.iter().map(|p| Value::from(&p.value)).collect();
        let others = LiteralSet::new(source.iter().filter(|v| !matches!(v, Value::Str(_))).cloned().collect(), false);
        let strs: Vec<(usize, &str, Span)> = pats
            .iter()
            .enumerate()
            .filter_map(|(i, p)| match &p.value {
                Literal::Str(s) => Some((i, s.as_str(), p.span)),
                _ => None,
            })
            .collect();
        let strings = match op {
            MatchOp::Regex { insensitive } => StringPatterns::Regexes(
                strs.iter()
                    .map(|(i, s, span)| match lucene::compile(s, insensitive) {
                        Ok(r) => {
                            self.regex_bytes += r.memory_usage();
                            if self.regex_bytes > lucene::MAX_RULE_REGEX_BYTES {
                                return Err(Error::limit(
                                    self.src,
                                    *span,
                                    format!(
                                        "the rule's regular expressions need more than {} MiB together; the limit is reached here",
                                        lucene::MAX_RULE_REGEX_BYTES >> 20
                                    ),
                                ));
                            }
                            Ok((*i, r))
                        }
                        Err(m) => self.err(*span, format!("invalid regular expression: {m}")),
                    })
                    .collect::<Result<_>>()?,
            ),
            MatchOp::Colon | MatchOp::Like { .. } => {
                let insensitive = !matches!(op, MatchOp::Like { insensitive: false });
                StringPatterns::Wildcards(WildcardSet::new(strs.iter().map(|(i, s, _)| (*i, *s)), insensitive))
            }
        };
        Ok(Patterns { op, strings, others, source })
    }
}

/// A rough evaluation cost, with a penalty for fields that most events share (so tests on them
/// rarely end an `and` early). Only used to order `and`/`or` operands.
fn cost(n: &Node, fields: &Fields) -> u32 {
    let field_cost = |n: &Node| match &n.kind {
        NodeKind::Field(f, _) => {
            let name = fields.name(*f);
            let common = ["event.type", "event.category", "event.kind", "data_stream.", "agent.", "ecs."]
                .iter()
                .any(|p| name.starts_with(p))
                || name == "container.id";
            // Arguments and command lines are long or multi-valued.
            let bulky = name.ends_with("args") || name.ends_with("command_line");
            1 + 4 * u32::from(common) + 3 * u32::from(bulky)
        }
        NodeKind::Const(_) => 0,
        _ => 8 + cost(n, fields),
    };
    match &n.kind {
        NodeKind::Const(_) => 0,
        NodeKind::Field(..) => field_cost(n),
        NodeKind::Not(x) | NodeKind::MustNot(x) | NodeKind::Neg(x) => cost(x, fields),
        NodeKind::Text(x, _) => 6 + field_cost(x),
        NodeKind::And(v) | NodeKind::Or(v) => v.iter().map(|c| cost(c, fields)).sum::<u32>() + 1,
        NodeKind::Compare(_, a, b) | NodeKind::CompareVersions(_, a, b) => 1 + field_cost(a) + field_cost(b),
        NodeKind::IsNull(x, _) => field_cost(x),
        NodeKind::In(x, ..) => 2 + field_cost(x),
        NodeKind::Match(x, p) => {
            let per = match &p.strings {
                StringPatterns::Wildcards(_) => 3 + p.source.len() as u32 / 8,
                StringPatterns::Regexes(r) => 12 * r.len() as u32,
            };
            per + field_cost(x)
        }
        NodeKind::Arith(_, a, b) => 6 + field_cost(a) + field_cost(b),
        NodeKind::Call { args, .. } => 10 + args.iter().map(field_cost).sum::<u32>(),
    }
}
