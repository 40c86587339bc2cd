//! From pest's parse tree to the typed [`ast`](crate::ast), with the checks Elasticsearch makes
//! before it runs a query (function names and arity, `runs` bounds, join-key counts, …).

use super::grammar::Rule;
use super::Limits;
use crate::ast::*;
use crate::error::Error;
use crate::span::Span;
use pest::iterators::{Pair, Pairs};

type Result<T> = std::result::Result<T, Error>;

const ES: &str = "in the Elasticsearch dialect of EQL";

pub struct Builder<'s> {
    pub src: &'s str,
    pub limits: &'s Limits,
}

/// The pair's span without trailing whitespace, which pest includes when an optional element at
/// the end of a rule is absent (`a == 1 ` in `a == 1 and b`).
fn span(p: &Pair<Rule>) -> Span {
    let s = p.as_span();
    Span::new(s.start(), s.start() + s.as_str().trim_end().len())
}

/// The children of a pair without punctuation, which only exists for error messages.
fn children<'i>(p: Pair<'i, Rule>) -> impl Iterator<Item = Pair<'i, Rule>> {
    p.into_inner().filter(|c| {
        !matches!(
            c.as_rule(),
            Rule::lparen | Rule::rparen | Rule::lbracket | Rule::rbracket | Rule::comma | Rule::assign | Rule::EOI
        )
    })
}

impl<'s> Builder<'s> {
    fn err<T>(&self, span: Span, msg: impl Into<String>) -> Result<T> {
        Err(Error::parse(self.src, span, msg))
    }

    fn limit<T>(&self, span: Span, msg: impl Into<String>) -> Result<T> {
        Err(Error::limit(self.src, span, msg))
    }

    pub fn query(&self, mut pairs: Pairs<Rule>) -> Result<Query> {
        let query = pairs.next().expect("grammar: query");
        let qspan = span(&query);
        let mut it = children(query);
        let body_pair = it.next().expect("grammar: query body");
        let body = match body_pair.as_rule() {
            Rule::event_query => QueryBody::Event(self.event_query(body_pair)?),
            Rule::sequence => QueryBody::Sequence(self.sequence(body_pair)?),
            Rule::sample => QueryBody::Sample(self.sample(body_pair)?),
            Rule::unsupported_join => {
                let s = span(&body_pair);
                return self
                    .err(Span::new(s.start, s.start + 4), format!("`join` is not supported {ES}; use `sequence`"));
            }
            r => unreachable!("grammar: query body {r:?}"),
        };
        let mut pipes = Vec::new();
        for p in it {
            pipes.push(self.pipe(p)?);
        }
        // Trailing comments and whitespace are not part of the query proper.
        let end = pipes.last().map_or(body_span(&body).end, |p| pipe_span(p).end);
        Ok(Query { span: Span::new(body_span(&body).start.max(qspan.start), end), body, pipes })
    }

    fn pipe(&self, p: Pair<Rule>) -> Result<Pipe> {
        let inner = p.into_inner().next().expect("grammar: pipe");
        let s = span(&inner);
        match inner.as_rule() {
            Rule::pipe_head | Rule::pipe_tail => {
                let n_pair = inner.clone().into_inner().nth(1).expect("grammar: pipe count");
                let n = self.positive_int(&n_pair, "the number of results")?;
                Ok(if inner.as_rule() == Rule::pipe_head { Pipe::Head(n, s) } else { Pipe::Tail(n, s) })
            }
            _ => {
                let name = inner.as_str().split(|c: char| !(c.is_alphanumeric() || c == '_')).next().unwrap_or("");
                self.err(
                    Span::new(s.start, s.start + name.len()),
                    format!("the pipe `{name}` is not supported {ES}; only `head` and `tail` are"),
                )
            }
        }
    }

    fn positive_int(&self, p: &Pair<Rule>, what: &str) -> Result<u64> {
        match p.as_str().parse::<u64>() {
            Ok(n) if n > 0 => Ok(n),
            Ok(_) => self.err(span(p), format!("{what} must be greater than 0")),
            Err(_) => self.err(span(p), format!("{what} is too large")),
        }
    }

    fn event_query(&self, p: Pair<Rule>) -> Result<EventQuery> {
        let s = span(&p);
        let mut it = children(p);
        let cat = it.next().expect("grammar: category");
        let cat_span = span(&cat);
        let inner = cat.into_inner().next().expect("grammar: category kind");
        let category = match inner.as_rule() {
            Rule::kw_any => Category::Any(cat_span),
            Rule::string => Category::Named(self.string(inner)?, cat_span),
            _ => Category::Named(inner.as_str().to_string(), cat_span),
        };
        it.next(); // where
        let condition = self.expr(it.next().expect("grammar: condition"), 0)?;
        Ok(EventQuery { category, condition, span: s })
    }

    fn join_keys(&self, p: Pair<Rule>) -> Result<Vec<Field>> {
        let mut keys = Vec::new();
        for k in children(p).skip(1) {
            let e = self.expr(k.into_inner().next().expect("grammar: join key"), 0)?;
            match e.kind {
                ExprKind::Field(f) => keys.push(f),
                _ => {
                    return self
                        .err(e.span, format!("join keys must be field names; expressions are not supported {ES}"))
                }
            }
        }
        Ok(keys)
    }

    fn stage(&self, p: Pair<Rule>) -> Result<Stage> {
        let s = span(&p);
        let mut stage = Stage {
            query: EventQuery {
                category: Category::Any(s),
                condition: Expr { kind: ExprKind::Literal(Literal::Bool(true)), span: s },
                span: s,
            },
            by: vec![],
            runs: 1,
            missing: false,
            span: s,
        };
        for c in p.into_inner() {
            match c.as_rule() {
                Rule::missing_open => stage.missing = true,
                Rule::event_query => stage.query = self.event_query(c)?,
                Rule::join_by => stage.by = self.join_keys(c)?,
                Rule::stage_runs => {
                    let n = c.clone().into_inner().find(|x| x.as_rule() == Rule::integer).expect("grammar: runs");
                    match n.as_str().parse::<u32>() {
                        Ok(r @ 1..=100) => stage.runs = r,
                        _ => {
                            return self
                                .err(span(&n), format!("`runs` must be between 1 and 100, found {}", n.as_str()))
                        }
                    }
                }
                Rule::unsupported_fork => return self.err(span(&c), format!("`fork` is not supported {ES}")),
                _ => {}
            }
        }
        Ok(stage)
    }

    fn sequence(&self, p: Pair<Rule>) -> Result<Sequence> {
        let s = span(&p);
        let mut seq = Sequence { by: vec![], maxspan: None, stages: vec![], until: None, span: s };
        for c in p.into_inner() {
            match c.as_rule() {
                Rule::join_by => seq.by = self.join_keys(c)?,
                Rule::sequence_with => {
                    seq.maxspan = Some(self.duration(c.into_inner().last().expect("grammar: time"))?)
                }
                Rule::stage => seq.stages.push(self.stage(c)?),
                Rule::until => {
                    let us = span(&c);
                    let mut st = Stage {
                        query: EventQuery {
                            category: Category::Any(us),
                            condition: Expr { kind: ExprKind::Literal(Literal::Bool(true)), span: us },
                            span: us,
                        },
                        by: vec![],
                        runs: 1,
                        missing: false,
                        span: us,
                    };
                    for u in c.into_inner() {
                        match u.as_rule() {
                            Rule::event_query => st.query = self.event_query(u)?,
                            Rule::join_by => st.by = self.join_keys(u)?,
                            _ => {}
                        }
                    }
                    seq.until = Some(st);
                }
                _ => {}
            }
        }
        Ok(seq)
    }

    fn sample(&self, p: Pair<Rule>) -> Result<Sample> {
        let s = span(&p);
        let mut sample = Sample { by: vec![], stages: vec![], span: s };
        for c in p.into_inner() {
            match c.as_rule() {
                Rule::join_by => sample.by = self.join_keys(c)?,
                Rule::stage => sample.stages.push(self.stage(c)?),
                _ => {}
            }
        }
        Ok(sample)
    }

    fn duration(&self, p: Pair<Rule>) -> Result<Duration> {
        let s = span(&p);
        let mut it = p.into_inner();
        let num = it.next().expect("grammar: time number");
        let unit = it.next();
        if num.as_str().contains('.') {
            return self.err(
                s,
                format!(
                    "fractional time spans such as `{}` are not supported {ES}; use a smaller unit",
                    p_str(self.src, s)
                ),
            );
        }
        let Some(unit) = unit else {
            return self.err(
                s,
                format!("`{}` has no time unit; write e.g. `{}s` (units: ms, s, m, h, d)", num.as_str(), num.as_str()),
            );
        };
        let factor: u64 = match unit.as_str() {
            "ms" => 1,
            "s" => 1_000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            u => return self.err(span(&unit), format!("unknown time unit `{u}`; the units are ms, s, m, h and d")),
        };
        match num.as_str().parse::<u64>().ok().and_then(|n| n.checked_mul(factor)) {
            Some(millis) => Ok(Duration { millis, span: s }),
            None => self.err(s, "time span is too large"),
        }
    }

    // -----------------------------------------------------------------------------------------
    // Expressions. `depth` bounds the nesting of the tree we build, including operator chains
    // (`1+1+…`, `not not …`) that the grammar parses without recursion.

    fn deeper(&self, depth: usize, s: Span) -> Result<usize> {
        if depth >= self.limits.max_depth {
            return self.limit(s, format!("the expression nests more than {} levels deep", self.limits.max_depth));
        }
        Ok(depth + 1)
    }

    pub fn expr(&self, p: Pair<Rule>, depth: usize) -> Result<Expr> {
        let s = span(&p);
        match p.as_rule() {
            Rule::expr | Rule::join_key => self.expr(p.into_inner().next().expect("grammar: expr"), depth),
            Rule::or_expr | Rule::and_expr => {
                let is_or = p.as_rule() == Rule::or_expr;
                let mut ops = Vec::new();
                let inner: Vec<_> =
                    p.into_inner().filter(|c| !matches!(c.as_rule(), Rule::kw_or | Rule::kw_and)).collect();
                let d = if inner.len() > 1 { depth + 1 } else { depth };
                for c in inner {
                    ops.push(self.expr(c, d)?);
                }
                if ops.len() == 1 {
                    return Ok(ops.pop().expect("one operand"));
                }
                self.deeper(depth, s)?;
                if ops.len() > self.limits.max_list {
                    return self
                        .limit(s, format!("more than {} operands in one `and`/`or` chain", self.limits.max_list));
                }
                Ok(Expr { kind: if is_or { ExprKind::Or(ops) } else { ExprKind::And(ops) }, span: s })
            }
            Rule::not_expr => {
                let mut nots: Vec<Span> = Vec::new();
                let mut inner = None;
                for c in p.into_inner() {
                    if c.as_rule() == Rule::kw_not {
                        nots.push(span(&c));
                    } else {
                        inner = Some(c);
                    }
                }
                let d = depth + nots.len();
                if d > depth {
                    self.deeper(d - 1, s)?;
                }
                let mut e = self.expr(inner.expect("grammar: not operand"), d)?;
                for n in nots.into_iter().rev() {
                    e = Expr { span: n.to(e.span), kind: ExprKind::Not(Box::new(e)) };
                }
                Ok(e)
            }
            Rule::predicate => self.predicate(p, depth),
            Rule::sum | Rule::product => {
                let mut it = p.into_inner();
                let mut acc = self.expr(it.next().expect("grammar: operand"), depth)?;
                let mut d = depth;
                while let Some(op) = it.next() {
                    d = self.deeper(d, s)?;
                    let rhs = self.expr(it.next().expect("grammar: rhs"), d)?;
                    let op = match op.as_str() {
                        "+" => ArithOp::Add,
                        "-" => ArithOp::Sub,
                        "*" => ArithOp::Mul,
                        "/" => ArithOp::Div,
                        _ => ArithOp::Mod,
                    };
                    acc = Expr { span: acc.span.to(rhs.span), kind: ExprKind::Arith(op, Box::new(acc), Box::new(rhs)) };
                }
                Ok(acc)
            }
            Rule::unary => self.unary(p, depth),
            r => unreachable!("grammar: expression {r:?}"),
        }
    }

    fn unary(&self, p: Pair<Rule>, depth: usize) -> Result<Expr> {
        let mut signs: Vec<Pair<Rule>> = Vec::new();
        let mut rest: Vec<Pair<Rule>> = Vec::new();
        let mut parens: Option<Span> = None;
        for c in p.into_inner() {
            match c.as_rule() {
                Rule::sign => signs.push(c),
                Rule::lparen | Rule::rparen => parens = Some(parens.map_or(span(&c), |o| o.to(span(&c)))),
                _ => rest.push(c),
            }
        }
        let pred = match rest.last().map(|r| r.as_rule()) {
            Some(Rule::membership | Rule::pattern_match) => rest.pop(),
            _ => None,
        };
        let operand = self.signed(signs, rest.pop().expect("grammar: primary"), parens, depth)?;
        match pred {
            None => Ok(operand),
            Some(op) => {
                let depth = self.deeper(depth, operand.span)?;
                self.membership_or_match(operand, op, depth)
            }
        }
    }

    fn signed(&self, signs: Vec<Pair<Rule>>, prim: Pair<Rule>, parens: Option<Span>, depth: usize) -> Result<Expr> {
        let negative = signs.iter().filter(|s| s.as_str() == "-").count() % 2 == 1;
        // A negative number literal is a literal (so that `-9223372036854775808` and `in (-1)` work).
        if prim.as_rule() == Rule::number && !signs.is_empty() {
            let s = span(&signs[0]).to(span(&prim));
            let text = if negative { format!("-{}", prim.as_str()) } else { prim.as_str().to_string() };
            return Ok(Expr { kind: ExprKind::Literal(self.number(&text, s)?), span: s });
        }
        let d = depth + signs.len();
        if d > depth {
            self.deeper(d - 1, span(&prim))?;
        }
        let mut e = self.primary(prim, d)?;
        if let Some(ps) = parens {
            // The span covers the parentheses, so explanations show `(a or b)`.
            e.span = ps;
        }
        for sg in signs.iter().rev() {
            if sg.as_str() == "-" {
                e = Expr { span: span(sg).to(e.span), kind: ExprKind::Neg(Box::new(e)) };
            } else {
                e.span = span(sg).to(e.span);
            }
        }
        Ok(e)
    }

    fn primary(&self, p: Pair<Rule>, depth: usize) -> Result<Expr> {
        let s = span(&p);
        let lit = |l| Ok(Expr { kind: ExprKind::Literal(l), span: s });
        match p.as_rule() {
            Rule::kw_null => lit(Literal::Null),
            Rule::kw_true => lit(Literal::Bool(true)),
            Rule::kw_false => lit(Literal::Bool(false)),
            Rule::number => lit(self.number(p.as_str(), s)?),
            Rule::string => lit(Literal::Str(self.string(p)?)),
            Rule::field => Ok(Expr { kind: ExprKind::Field(self.field(p)?), span: s }),
            Rule::function_call => self.call(p, depth),
            Rule::expr => self.expr(p, depth),
            Rule::unsupported_string => {
                let msg = if p.as_str().starts_with('?') {
                    format!("`?\"…\"` raw strings are not supported {ES}; use `\"\"\"…\"\"\"`")
                } else {
                    format!("single-quoted strings are not supported {ES}; use double quotes")
                };
                self.err(s, msg)
            }
            Rule::unsupported_lineage => {
                let kind = p.as_str().split_whitespace().next().unwrap_or("");
                self.err(
                    Span::new(s.start, s.start + kind.len()),
                    format!("lineage (`{kind} of`) is not supported {ES}"),
                )
            }
            r => unreachable!("grammar: primary {r:?}"),
        }
    }

    fn predicate(&self, p: Pair<Rule>, depth: usize) -> Result<Expr> {
        let s = span(&p);
        let mut it = p.into_inner();
        let first = it.next().expect("grammar: operand");
        let Some(op) = it.next() else {
            return self.expr(first, depth);
        };
        let depth = self.deeper(depth, s)?;
        let lhs = self.expr(first, depth)?;
        match op.as_rule() {
            Rule::comparison => {
                let mut c = op.into_inner();
                let sym = c.next().expect("grammar: compare op");
                let rhs = self.expr(c.next().expect("grammar: rhs"), depth)?;
                let op = match sym.as_str() {
                    "==" => CompareOp::Eq,
                    "!=" => CompareOp::Ne,
                    "<" => CompareOp::Lt,
                    "<=" => CompareOp::Le,
                    ">" => CompareOp::Gt,
                    ">=" => CompareOp::Ge,
                    _ => return self.err(span(&sym), format!("`=` is not supported {ES}; use `==`")),
                };
                Ok(Expr { kind: ExprKind::Compare(op, Box::new(lhs), Box::new(rhs)), span: s })
            }
            r => unreachable!("grammar: predicate {r:?}"),
        }
    }

    fn membership_or_match(&self, lhs: Expr, op: Pair<Rule>, depth: usize) -> Result<Expr> {
        let s = lhs.span.to(span(&op));
        match op.as_rule() {
            Rule::membership => {
                let mut negated = false;
                let mut insensitive = false;
                let mut list = Vec::new();
                for c in children(op) {
                    match c.as_rule() {
                        Rule::kw_not => negated = true,
                        Rule::in_op => insensitive = c.as_str().ends_with('~'),
                        _ => {
                            list.push(self.expr(c, depth)?);
                        }
                    }
                }
                if list.len() > self.limits.max_list {
                    return self.limit(
                        s,
                        format!("the `in` list has {} values; the limit is {}", list.len(), self.limits.max_list),
                    );
                }
                Ok(Expr { kind: ExprKind::In { value: Box::new(lhs), list, negated, insensitive }, span: s })
            }
            Rule::pattern_match => {
                let mut c = children(op);
                let sym = c.next().expect("grammar: match op");
                let mop = match sym.as_str() {
                    ":" => MatchOp::Colon,
                    "like" => MatchOp::Like { insensitive: false },
                    "like~" => MatchOp::Like { insensitive: true },
                    "regex" => MatchOp::Regex { insensitive: false },
                    _ => MatchOp::Regex { insensitive: true },
                };
                let mut patterns = Vec::new();
                for pat in c {
                    let ps = span(&pat);
                    let value = match pat.as_rule() {
                        Rule::unsupported_pattern => {
                            return self.err(
                                ps,
                                format!(
                                    "expected a string literal or a parenthesised list of strings after `{}`",
                                    mop.symbol()
                                ),
                            );
                        }
                        Rule::string => Literal::Str(self.string(pat)?),
                        Rule::number => self.number(pat.as_str(), ps)?,
                        Rule::kw_true => Literal::Bool(true),
                        Rule::kw_false => Literal::Bool(false),
                        _ => Literal::Null,
                    };
                    patterns.push(Lit { value, span: ps });
                }
                if patterns.len() > self.limits.max_list {
                    return self.limit(
                        s,
                        format!(
                            "the pattern list has {} values; the limit is {}",
                            patterns.len(),
                            self.limits.max_list
                        ),
                    );
                }
                Ok(Expr { kind: ExprKind::Match { op: mop, value: Box::new(lhs), patterns }, span: s })
            }
            r => unreachable!("grammar: predicate {r:?}"),
        }
    }

    fn call(&self, p: Pair<Rule>, depth: usize) -> Result<Expr> {
        let s = span(&p);
        let depth = self.deeper(depth, s)?;
        let mut it = children(p);
        let name = it.next().expect("grammar: function name");
        let name_span = span(&name);
        let mut insensitive = false;
        let mut args = Vec::new();
        for c in it {
            if c.as_rule() == Rule::insensitive {
                insensitive = true;
            } else {
                args.push(self.expr(c, depth)?);
            }
        }
        let Some(function) = Function::from_name(name.as_str()) else {
            return self.err(name_span, unknown_function(name.as_str()));
        };
        if args.len() > self.limits.max_list {
            return self.limit(s, format!("more than {} function arguments", self.limits.max_list));
        }
        Ok(Expr { kind: ExprKind::Call { function, insensitive, args, name_span }, span: s })
    }

    fn field(&self, p: Pair<Rule>) -> Result<Field> {
        let s = span(&p);
        let mut optional = false;
        let mut path = Vec::new();
        for c in p.into_inner() {
            match c.as_rule() {
                Rule::optional_mark => optional = true,
                Rule::field_segment => {
                    let seg = c.into_inner().next().expect("grammar: segment");
                    if seg.as_rule() == Rule::backquoted {
                        let raw = seg.as_str();
                        let name = raw[1..raw.len() - 1].replace("``", "`");
                        if name.is_empty() {
                            return self.err(span(&seg), "empty field name");
                        }
                        // Elasticsearch still interprets the dots of a backquoted name.
                        path.extend(name.split('.').map(str::to_string));
                    } else {
                        path.push(seg.as_str().to_string());
                    }
                }
                Rule::unsupported_index => {
                    return self.err(span(&c), format!("array indexing (`field[0]`) is not supported {ES}; a test on an array field is true if any element matches"));
                }
                _ => {}
            }
        }
        Ok(Field { path, optional, span: s })
    }

    fn number(&self, text: &str, s: Span) -> Result<Literal> {
        let is_int = !text.contains(['.', 'e', 'E']);
        if is_int {
            return match text.parse::<i64>() {
                Ok(n) => Ok(Literal::Int(n)),
                // Like Elasticsearch, integers beyond 64 bits become doubles.
                Err(_) => match text.parse::<f64>() {
                    Ok(f) if f.is_finite() => Ok(Literal::Float(f)),
                    _ => self.err(s, format!("the number `{text}` is out of range")),
                },
            };
        }
        match text.parse::<f64>() {
            Ok(f) if f.is_finite() => Ok(Literal::Float(f)),
            _ => self.err(s, format!("the number `{text}` is out of range")),
        }
    }

    pub fn string(&self, p: Pair<Rule>) -> Result<String> {
        let inner = if p.as_rule() == Rule::string { p.into_inner().next().expect("grammar: string") } else { p };
        let content = inner.into_inner().next().expect("grammar: string content");
        if content.as_rule() == Rule::raw_content {
            return Ok(content.as_str().to_string());
        }
        let base = content.as_span().start();
        let raw = content.as_str();
        let mut out = String::with_capacity(raw.len());
        let mut chars = raw.char_indices();
        while let Some((i, c)) = chars.next() {
            if c != '\\' {
                out.push(c);
                continue;
            }
            let Some((_, e)) = chars.next() else { break };
            match e {
                'n' => out.push('\n'),
                'r' => out.push('\r'),
                't' => out.push('\t'),
                'b' => out.push('\u{8}'),
                'f' => out.push('\u{c}'),
                '\\' | '"' | '\'' => out.push(e),
                'u' => {
                    let rest = &raw[i + 2..];
                    let close = rest.find('}').unwrap_or(0);
                    let hex = rest.get(1..close).unwrap_or("");
                    let esc = Span::new(base + i, base + i + 2 + close + 1);
                    if !rest.starts_with('{') || !(2..=8).contains(&hex.len()) {
                        return self.err(
                            Span::new(base + i, base + i + 2),
                            "a `\\u` escape needs 2 to 8 hex digits in braces, e.g. `\\u{200f}`",
                        );
                    }
                    match u32::from_str_radix(hex, 16).ok().and_then(char::from_u32) {
                        Some(ch) => out.push(ch),
                        None => return self.err(esc, format!("`\\u{{{hex}}}` is not a Unicode scalar value")),
                    }
                    for _ in 0..close + 1 {
                        chars.next();
                    }
                }
                other => {
                    return self.err(
                        Span::new(base + i, base + i + 1 + other.len_utf8()),
                        format!("unknown escape `\\{other}`; the escapes are \\n \\r \\t \\\\ \\\" and \\u{{…}}"),
                    )
                }
            }
        }
        Ok(out)
    }
}

fn p_str(src: &str, s: Span) -> &str {
    s.text(src)
}

fn body_span(b: &QueryBody) -> Span {
    match b {
        QueryBody::Event(q) => q.span,
        QueryBody::Sequence(s) => s.span,
        QueryBody::Sample(s) => s.span,
    }
}

fn pipe_span(p: &Pipe) -> Span {
    match p {
        Pipe::Head(_, s) | Pipe::Tail(_, s) => *s,
    }
}

fn unknown_function(name: &str) -> String {
    const ENDGAME: &[&str] = &["arrayContains", "arraySearch", "arrayCount", "match", "matchLite", "wildcard", "safe"];
    if let Some(f) = ENDGAME.iter().find(|f| f.eq_ignore_ascii_case(name)) {
        let alt = match *f {
            "wildcard" | "match" | "matchLite" => "; use `:`, `like` or `regex`",
            _ => "; a test on an array field is already true if any element matches",
        };
        return format!("`{f}` is an Endgame EQL function, not supported {ES}{alt}");
    }
    let names: Vec<&str> = Function::ALL.iter().map(|f| f.name()).collect();
    format!("unknown function `{name}`; the functions are {}", names.join(", "))
}
