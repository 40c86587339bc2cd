//! The syntax tree of an EQL query. Every node carries the byte span of the source text it came
//! from, so that explanations and diagnostics can point back into the query exactly.

use crate::span::Span;

/// A whole query: its body and its pipes.
#[derive(Clone, Debug, PartialEq)]
pub struct Query {
    /// An event query, a sequence or a sample.
    pub body: QueryBody,
    /// `| head N`, `| tail N`, in order.
    pub pipes: Vec<Pipe>,
    /// The whole query text.
    pub span: Span,
}

/// What a query matches.
#[derive(Clone, Debug, PartialEq)]
pub enum QueryBody {
    /// `category where condition`.
    Event(EventQuery),
    /// `sequence [...] [...]`.
    Sequence(Sequence),
    /// `sample [...] [...]`.
    Sample(Sample),
}

/// `category where condition`
#[derive(Clone, Debug, PartialEq)]
pub struct EventQuery {
    /// The category before `where`.
    pub category: Category,
    /// The condition after `where`.
    pub condition: Expr,
    /// The whole event query.
    pub span: Span,
}

/// The event category an event query applies to.
#[derive(Clone, Debug, PartialEq)]
pub enum Category {
    /// `any where`: every event, whatever its category.
    Any(Span),
    /// A category name, such as `process`.
    Named(String, Span),
}

/// `sequence [by keys] [with maxspan=…] stage stage+ [until stage]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Sequence {
    /// Keys shared by all stages (`sequence by a, b`).
    pub by: Vec<Field>,
    /// `with maxspan=…`, in milliseconds.
    pub maxspan: Option<Duration>,
    /// The stages, in order.
    pub stages: Vec<Stage>,
    /// `until [query]`: ends the pending matches of its join key.
    pub until: Option<Stage>,
    /// The whole sequence.
    pub span: Span,
}

/// `sample [by keys] stage stage+`.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    /// Keys shared by all stages.
    pub by: Vec<Field>,
    /// The filters, in order.
    pub stages: Vec<Stage>,
    /// The whole sample.
    pub span: Span,
}

/// One bracketed term of a sequence or sample: `[query] by keys with runs=N`, or `![query]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Stage {
    /// The event query in brackets.
    pub query: EventQuery,
    /// The stage's own join keys, after the shared ones.
    pub by: Vec<Field>,
    /// `with runs=N` (1 when absent).
    pub runs: u32,
    /// `![…]`: no matching event may occur in this slot.
    pub missing: bool,
    /// The whole stage.
    pub span: Span,
}

/// A time span such as `5s`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Duration {
    /// In milliseconds.
    pub millis: u64,
    /// As written.
    pub span: Span,
}

/// A pipe after the query.
#[derive(Clone, Debug, PartialEq)]
pub enum Pipe {
    /// `| head N`: the first N results.
    Head(u64, Span),
    /// `| tail N`: the last N results.
    Tail(u64, Span),
}

/// An expression with its span.
#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    /// What it is.
    pub kind: ExprKind,
    /// Its source text.
    pub span: Span,
}

/// The kinds of expression.
#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    /// A constant.
    Literal(Literal),
    /// A field reference.
    Field(Field),
    /// `a and b and c` is one node with three operands, so that explanations read naturally.
    And(Vec<Expr>),
    /// `a or b or c`, one node.
    Or(Vec<Expr>),
    /// `not x`.
    Not(Box<Expr>),
    /// KQL's `not x`: Elasticsearch's `must_not`, true unless `x` is true, so `not f: v` holds
    /// for an event without `f` (EQL's `not` of a missing field is `null`).
    MustNot(Box<Expr>),
    /// KQL's `field: value`, compiled by the field's type: a term, an analysed match on `text`
    /// fields, a wildcard or a presence test.
    Kql {
        /// The field (its path may hold `*` segments, as in `file.hash.*`).
        field: Field,
        /// What it is compared with.
        value: KqlValue,
        /// The value as written.
        value_span: Span,
    },
    /// `a == b`, `a < b`, …
    Compare(CompareOp, Box<Expr>, Box<Expr>),
    /// `a + b`, `a * b`, …
    Arith(ArithOp, Box<Expr>, Box<Expr>),
    /// `-x`.
    Neg(Box<Expr>),
    /// `x in (…)`, `x not in~ (…)`.
    In {
        /// The tested value.
        value: Box<Expr>,
        /// The literals of the list.
        list: Vec<Expr>,
        /// `not in`.
        negated: bool,
        /// `in~`.
        insensitive: bool,
    },
    /// `x : "…"`, `x like~ ("…", "…")`, `x regex "…"`.
    Match {
        /// `:`, `like`, `regex` and their `~` forms.
        op: MatchOp,
        /// The tested value.
        value: Box<Expr>,
        /// String literals, or for `:` any constant (`pid : 4`).
        patterns: Vec<Lit>,
    },
    /// A function call such as `startsWith~(a, "b")`.
    Call {
        /// Which function.
        function: Function,
        /// The `~` form.
        insensitive: bool,
        /// Its arguments.
        args: Vec<Expr>,
        /// The function name as written, e.g. `cidrmatch`.
        name_span: Span,
    },
}

/// The value of a KQL `field: value`.
#[derive(Clone, Debug, PartialEq)]
pub enum KqlValue {
    /// `*`: the field has a value.
    Exists,
    /// A value, escapes resolved. `quoted` values are phrases on `text` fields and never numbers.
    Term {
        /// The text.
        text: String,
        /// Written in double quotes.
        quoted: bool,
    },
    /// An unquoted value with unescaped `*`: the literal pieces around the wildcards (two or more).
    Wildcard(Vec<String>),
}

/// A constant.
#[derive(Clone, Debug, PartialEq)]
pub enum Literal {
    /// `null`.
    Null,
    /// `true`, `false`.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A number with a fraction or exponent.
    Float(f64),
    /// A string, escapes resolved.
    Str(String),
}

/// A literal with its span (a pattern of `:`, `like`, `regex`).
#[derive(Clone, Debug, PartialEq)]
pub struct Lit {
    /// The constant.
    pub value: Literal,
    /// As written.
    pub span: Span,
}

/// A field reference. `path` is already split on dots, including dots inside backquoted segments
/// (Elasticsearch interprets them), and backquotes are removed.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Field {
    /// The path segments.
    pub path: Vec<String>,
    /// `?field`: an absent value is a legal join key.
    pub optional: bool,
    /// As written.
    pub span: Span,
}

impl Field {
    /// The dotted name, as a user would write it without backquotes.
    pub fn name(&self) -> String {
        self.path.join(".")
    }
}

/// The comparison operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CompareOp {
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

impl CompareOp {
    /// The operator as written.
    pub fn symbol(self) -> &'static str {
        match self {
            Self::Eq => "==",
            Self::Ne => "!=",
            Self::Lt => "<",
            Self::Le => "<=",
            Self::Gt => ">",
            Self::Ge => ">=",
        }
    }
}

/// The arithmetic operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArithOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `%`
    Mod,
}

impl ArithOp {
    /// The function the operator stands for: `a + b` is `add(a, b)`, edge cases included.
    pub fn function(self) -> Function {
        match self {
            ArithOp::Add => Function::Add,
            ArithOp::Sub => Function::Subtract,
            ArithOp::Mul => Function::Multiply,
            ArithOp::Div => Function::Divide,
            ArithOp::Mod => Function::Modulo,
        }
    }
}

/// The pattern operators. `Colon` is `:` (case-insensitive wildcard equality).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MatchOp {
    /// `:`
    Colon,
    /// `like`, `like~`
    Like {
        /// The `~` form.
        insensitive: bool,
    },
    /// `regex`, `regex~`
    Regex {
        /// The `~` form.
        insensitive: bool,
    },
}

impl MatchOp {
    /// The operator as written.
    pub fn symbol(self) -> &'static str {
        match self {
            Self::Colon => ":",
            Self::Like { insensitive: false } => "like",
            Self::Like { insensitive: true } => "like~",
            Self::Regex { insensitive: false } => "regex",
            Self::Regex { insensitive: true } => "regex~",
        }
    }
}

/// The sixteen functions of Elasticsearch EQL.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Function {
    /// `add(a, b)`
    Add,
    /// `between(s, left, right[, greedy])`
    Between,
    /// `cidrMatch(ip, block, …)`
    CidrMatch,
    /// `concat(…)`
    Concat,
    /// `divide(a, b)`
    Divide,
    /// `endsWith(s, suffix)`
    EndsWith,
    /// `indexOf(s, sub[, start])`
    IndexOf,
    /// `length(s)`
    Length,
    /// `modulo(a, b)`
    Modulo,
    /// `multiply(a, b)`
    Multiply,
    /// `number(s[, base])`
    Number,
    /// `startsWith(s, prefix)`
    StartsWith,
    /// `string(x)`
    String,
    /// `stringContains(s, sub)`
    StringContains,
    /// `substring(s, start[, end])`
    Substring,
    /// `subtract(a, b)`
    Subtract,
}

impl Function {
    /// Every function.
    pub const ALL: [Function; 16] = [
        Self::Add,
        Self::Between,
        Self::CidrMatch,
        Self::Concat,
        Self::Divide,
        Self::EndsWith,
        Self::IndexOf,
        Self::Length,
        Self::Modulo,
        Self::Multiply,
        Self::Number,
        Self::StartsWith,
        Self::String,
        Self::StringContains,
        Self::Substring,
        Self::Subtract,
    ];

    /// The canonical camelCase name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Add => "add",
            Self::Between => "between",
            Self::CidrMatch => "cidrMatch",
            Self::Concat => "concat",
            Self::Divide => "divide",
            Self::EndsWith => "endsWith",
            Self::IndexOf => "indexOf",
            Self::Length => "length",
            Self::Modulo => "modulo",
            Self::Multiply => "multiply",
            Self::Number => "number",
            Self::StartsWith => "startsWith",
            Self::String => "string",
            Self::StringContains => "stringContains",
            Self::Substring => "substring",
            Self::Subtract => "subtract",
        }
    }

    /// Function names are case-insensitive in Elasticsearch (`cidrmatch`, `endswith` occur in rules).
    pub fn from_name(name: &str) -> Option<Function> {
        Self::ALL.into_iter().find(|f| f.name().eq_ignore_ascii_case(name))
    }

    /// Minimum and maximum number of arguments (`None`: unbounded).
    pub fn arity(self) -> (usize, Option<usize>) {
        match self {
            Self::Add | Self::Divide | Self::Modulo | Self::Multiply | Self::Subtract => (2, Some(2)),
            Self::Between => (3, Some(4)),
            Self::CidrMatch => (2, None),
            Self::Concat => (1, None),
            Self::EndsWith | Self::StartsWith | Self::StringContains => (2, Some(2)),
            Self::IndexOf => (2, Some(3)),
            Self::Length | Self::String => (1, Some(1)),
            Self::Number => (1, Some(2)),
            Self::Substring => (2, Some(3)),
        }
    }

    /// Whether a `~` variant exists (case-insensitive string comparison inside the function).
    pub fn has_insensitive_variant(self) -> bool {
        matches!(self, Self::Between | Self::EndsWith | Self::IndexOf | Self::StartsWith | Self::StringContains)
    }
}

impl Query {
    /// The event queries of the query, in source order (one for an event query; the stages,
    /// then `until`, for a sequence).
    pub fn event_queries(&self) -> Vec<&EventQuery> {
        match &self.body {
            QueryBody::Event(q) => vec![q],
            QueryBody::Sequence(s) => s.stages.iter().chain(s.until.iter()).map(|st| &st.query).collect(),
            QueryBody::Sample(s) => s.stages.iter().map(|st| &st.query).collect(),
        }
    }
}
