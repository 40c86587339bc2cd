//! The compiled form of an event query: a tree of [`Node`]s over interned field ids, with `in`
//! lists as hash sets, pattern lists as wildcard sets or regexes, and CIDR blocks parsed. This is
//! the bottom of the matcher: compiling builds it, evaluation, the prefilter and explanations read
//! it. Each node keeps its source span for explanations.

use crate::ast::{self, CompareOp, Function, MatchOp};
use crate::event::FieldId;
use crate::matcher::cidr::Cidr;
use crate::matcher::lucene::Regex;
use crate::matcher::wildcard::{fold, fold_into, WildcardSet};
use crate::span::Span;
use crate::value::Value;
use rustc_hash::FxHashSet as HashSet;

#[derive(Clone, Debug)]
pub struct Node {
    pub kind: NodeKind,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub enum NodeKind {
    Const(Value<'static>),
    /// `optional`: written `?field`; in `==`/`!=` an absent optional field is the literal `null`.
    Field(FieldId, bool),
    And(Vec<Node>),
    Or(Vec<Node>),
    Not(Box<Node>),
    /// KQL's `not` (Elasticsearch's `must_not`): true unless the operand is true.
    MustNot(Box<Node>),
    /// A KQL value on a `text` field: an analysed match.
    Text(Box<Node>, crate::matcher::text::TextQuery),
    Compare(CompareOp, Box<Node>, Box<Node>),
    /// A comparison involving a field of the `version` type.
    CompareVersions(CompareOp, Box<Node>, Box<Node>),
    /// `x == null` (`negated`: `x != null`): presence tests, never null themselves.
    IsNull(Box<Node>, bool),
    In(Box<Node>, LiteralSet, bool),
    Match(Box<Node>, Patterns),
    Arith(ast::ArithOp, Box<Node>, Box<Node>),
    Neg(Box<Node>),
    Call {
        function: Function,
        insensitive: bool,
        args: Vec<Node>,
        cidrs: Vec<Cidr>,
    },
}

/// The right-hand side of `:`, `like`, `regex` and their `~` forms.
#[derive(Clone, Debug)]
pub struct Patterns {
    pub op: MatchOp,
    pub strings: StringPatterns,
    /// Non-string constants of `:` (`pid : 4`), compared for equality.
    pub others: LiteralSet,
    /// The patterns as written, for explanations.
    pub source: Vec<Value<'static>>,
}

#[derive(Clone, Debug)]
pub enum StringPatterns {
    Wildcards(WildcardSet),
    /// (index in `source`, regex)
    Regexes(Vec<(usize, Regex)>),
}

/// The literals of an `in` list.
#[derive(Clone, Debug, Default)]
pub struct LiteralSet {
    pub insensitive: bool,
    strings: HashSet<String>,
    /// Integers are kept exact: as doubles, 131509374446778111 and 131509374446778110 are equal.
    ints: HashSet<i64>,
    floats: Vec<f64>,
    bools: Vec<bool>,
    pub source: Vec<Value<'static>>,
}

impl LiteralSet {
    pub fn new(values: Vec<Value<'static>>, insensitive: bool) -> LiteralSet {
        let mut s = LiteralSet { insensitive, ..LiteralSet::default() };
        for v in &values {
            match v {
                Value::Str(x) => {
                    s.strings.insert(if insensitive { fold(x) } else { x.to_string() });
                }
                Value::Bool(b) => s.bools.push(*b),
                Value::Int(i) => {
                    s.ints.insert(*i);
                }
                Value::Float(f) => s.floats.push(*f),
                Value::Null => {}
            }
        }
        s.source = values;
        s
    }

    pub fn is_empty(&self) -> bool {
        self.strings.is_empty() && self.ints.is_empty() && self.floats.is_empty() && self.bools.is_empty()
    }

    /// Membership of one value; `None` when the value is null or of a type the list lacks.
    pub fn contains(&self, v: &Value, scratch: &mut String) -> Option<bool> {
        match v {
            Value::Null => None,
            Value::Str(s) if !self.strings.is_empty() => {
                let key = if self.insensitive { fold_into(s, scratch) } else { s };
                Some(self.strings.contains(key))
            }
            Value::Bool(b) if !self.bools.is_empty() => Some(self.bools.contains(b)),
            // As `==` compares: integers exactly, an integer and a double as doubles.
            Value::Int(i) if !self.ints.is_empty() || !self.floats.is_empty() => {
                Some(self.ints.contains(i) || self.floats.contains(&(*i as f64)))
            }
            Value::Float(x) if !self.ints.is_empty() || !self.floats.is_empty() => {
                Some(self.floats.contains(x) || self.ints.iter().any(|&j| j as f64 == *x))
            }
            _ => None,
        }
    }

    /// The list entry equal to `v`, for explanations.
    pub fn position(&self, v: &Value) -> Option<usize> {
        self.source.iter().position(|s| match (s, v) {
            (Value::Str(a), Value::Str(b)) if self.insensitive => fold(a) == fold(b),
            _ => s.equals(v) == Some(true),
        })
    }
}

/// A compiled `category where condition`.
#[derive(Clone, Debug)]
pub struct EventMatcher {
    /// `None` for `any`.
    pub category: Option<String>,
    pub category_span: Span,
    pub condition: Node,
    pub span: Span,
}

impl Node {
    /// Adds the fields this condition reads to `out`.
    pub fn fields(&self, out: &mut Vec<FieldId>) {
        match &self.kind {
            NodeKind::Const(_) => {}
            NodeKind::Field(f, _) => out.push(*f),
            NodeKind::And(v) | NodeKind::Or(v) => v.iter().for_each(|n| n.fields(out)),
            NodeKind::Not(x)
            | NodeKind::MustNot(x)
            | NodeKind::Text(x, _)
            | NodeKind::Neg(x)
            | NodeKind::IsNull(x, _)
            | NodeKind::In(x, ..)
            | NodeKind::Match(x, _) => x.fields(out),
            NodeKind::Compare(_, a, b) | NodeKind::CompareVersions(_, a, b) | NodeKind::Arith(_, a, b) => {
                a.fields(out);
                b.fields(out);
            }
            NodeKind::Call { args, .. } => args.iter().for_each(|n| n.fields(out)),
        }
    }
}
