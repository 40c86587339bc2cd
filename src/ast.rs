//! The syntax tree of an EQL query. Every node carries the byte span of the source text it came
//! from, so that explanations and diagnostics can point back into the query exactly.

use crate::span::Span;

#[derive(Clone, Debug, PartialEq)]
pub struct Query {
    pub body: QueryBody,
    pub pipes: Vec<Pipe>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum QueryBody {
    Event(EventQuery),
    Sequence(Sequence),
    Sample(Sample),
}

/// `category where condition`
#[derive(Clone, Debug, PartialEq)]
pub struct EventQuery {
    pub category: Category,
    pub condition: Expr,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Category {
    /// `any where`: every event, whatever its category.
    Any(Span),
    Named(String, Span),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Sequence {
    /// Keys shared by all stages (`sequence by a, b`).
    pub by: Vec<Field>,
    /// `with maxspan=…`, in milliseconds.
    pub maxspan: Option<Duration>,
    pub stages: Vec<Stage>,
    pub until: Option<Stage>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    pub by: Vec<Field>,
    pub stages: Vec<Stage>,
    pub span: Span,
}

/// One bracketed term of a sequence or sample: `[query] by keys with runs=N`, or `![query]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Stage {
    pub query: EventQuery,
    pub by: Vec<Field>,
    /// `with runs=N` (1 when absent).
    pub runs: u32,
    /// `![…]`: no matching event may occur in this slot.
    pub missing: bool,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Duration {
    pub millis: u64,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Pipe {
    Head(u64, Span),
    Tail(u64, Span),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    Literal(Literal),
    Field(Field),
    /// `a and b and c` is one node with three operands, so that explanations read naturally.
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Not(Box<Expr>),
    Compare(CompareOp, Box<Expr>, Box<Expr>),
    Arith(ArithOp, Box<Expr>, Box<Expr>),
    Neg(Box<Expr>),
    /// `x in (…)`, `x not in~ (…)`.
    In {
        value: Box<Expr>,
        list: Vec<Expr>,
        negated: bool,
        insensitive: bool,
    },
    /// `x : "…"`, `x like~ ("…", "…")`, `x regex "…"`.
    Match {
        op: MatchOp,
        value: Box<Expr>,
        /// String literals, or for `:` any constant (`pid : 4`).
        patterns: Vec<Lit>,
    },
    Call {
        function: Function,
        insensitive: bool,
        args: Vec<Expr>,
        /// The function name as written, e.g. `cidrmatch`.
        name_span: Span,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub enum Literal {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Lit {
    pub value: Literal,
    pub span: Span,
}

/// A field reference. `path` is already split on dots, including dots inside backquoted segments
/// (Elasticsearch interprets them), and backquotes are removed.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Field {
    pub path: Vec<String>,
    /// `?field`: an absent value is a legal join key.
    pub optional: bool,
    pub span: Span,
}

impl Field {
    /// The dotted name, as a user would write it without backquotes.
    pub fn name(&self) -> String {
        self.path.join(".")
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CompareOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CompareOp {
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

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArithOp {
    Add,
    Sub,
    Mul,
    Div,
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
    Colon,
    Like { insensitive: bool },
    Regex { insensitive: bool },
}

impl MatchOp {
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
    Add,
    Between,
    CidrMatch,
    Concat,
    Divide,
    EndsWith,
    IndexOf,
    Length,
    Modulo,
    Multiply,
    Number,
    StartsWith,
    String,
    StringContains,
    Substring,
    Subtract,
}

impl Function {
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
