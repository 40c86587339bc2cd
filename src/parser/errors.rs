//! Turns pest's "expected one of these rules" into a sentence a rule author understands.

use super::grammar::Rule;
use crate::error::Error;
use crate::span::Span;
use pest::error::{ErrorVariant, InputLocation};

const OPERATORS: &[&str] =
    &["==", "!=", "<", "<=", ">", ">=", ":", "like", "like~", "regex", "regex~", "in", "in~", "not in", "not in~"];

/// Where a pest error is and which rules it expected there (a custom error is final).
pub(crate) fn expected<R: pest::RuleType>(src: &str, e: pest::error::Error<R>) -> Result<(usize, Vec<R>), Error> {
    let pos = match e.location {
        InputLocation::Pos(p) => p,
        InputLocation::Span((s, _)) => s,
    };
    match e.variant {
        ErrorVariant::ParsingError { positives, .. } => Ok((pos, positives)),
        ErrorVariant::CustomError { message } => Err(Error::parse(src, Span::new(pos, pos), message)),
    }
}

pub fn from_pest(src: &str, e: pest::error::Error<Rule>) -> Error {
    let (pos, positives) = match expected(src, e) {
        Ok(x) => x,
        Err(e) => return e,
    };
    let rest = &src[pos..];
    let token = next_token(rest);
    let span = Span::new(pos, pos + token.len());

    let expects = |r: Rule| positives.contains(&r);
    let wants_operator = expects(Rule::compare_op) || expects(Rule::match_op) || expects(Rule::in_op);

    // Operators from other languages are a common slip.
    if wants_operator {
        let op: String = rest.chars().take_while(|c| "=!<>~&|^:".contains(*c)).collect();
        if !op.is_empty() {
            return unknown_operator(src, Span::new(pos, pos + op.len()), &op);
        }
    }
    // `a === 1`, `a =! 1`: an operator run that continues past a valid operator.
    const OP_CHARS: &str = "=!<>~&|^";
    // (`a ~= 1` fails after `a~`, read as the start of a `~` function call.)
    let wants_value = expects(Rule::expr)
        || expects(Rule::sum)
        || expects(Rule::unary)
        || expects(Rule::field)
        || (expects(Rule::lparen) && src[..pos].trim_end().ends_with('~'));
    if wants_value && rest.starts_with(|c| OP_CHARS.contains(c)) {
        let before = src[..pos].trim_end();
        let head = before.len() - before.trim_end_matches(|c| OP_CHARS.contains(c)).len();
        let tail: usize = rest.chars().take_while(|c| OP_CHARS.contains(*c)).map(char::len_utf8).sum();
        if head > 0 {
            let start = before.len() - head;
            let op = format!("{}{}", &before[start..], &rest[..tail]);
            return unknown_operator(src, Span::new(start, pos + tail), &op);
        }
    }
    if positives == [Rule::kw_where] {
        let what = if token.is_empty() { "the end of the query".to_string() } else { format!("`{token}`") };
        return Error::parse(src, span, format!("expected `where` after the event category, found {what}"));
    }
    if expects(Rule::string) && expects(Rule::lparen) && !expects(Rule::expr) {
        let before = src[..pos].trim_end();
        let op = ["like~", "like", "regex~", "regex", ":"].into_iter().find(|op| before.ends_with(op)).unwrap_or(":");
        return Error::parse(
            src,
            span,
            format!("expected a string literal or a parenthesised list of strings after `{op}`"),
        );
    }

    let mut wanted: Vec<&str> = Vec::new();
    for r in &positives {
        let d = describe(*r);
        if !d.is_empty() && !wanted.contains(&d) {
            wanted.push(d);
        }
    }
    let found = if token.is_empty() { "the end of the query".to_string() } else { format!("`{token}`") };
    let msg = match wanted.len() {
        0 => format!("unexpected {found}"),
        1 => format!("expected {}, found {found}", wanted[0]),
        n => format!("expected {} or {}, found {found}", wanted[..n - 1].join(", "), wanted[n - 1]),
    };
    Error::parse(src, span, msg)
}

fn unknown_operator(src: &str, span: Span, op: &str) -> Error {
    let hint = match op {
        "&&" | "&" => " (use `and`)",
        "||" => " (use `or`)",
        "!" => " (use `not`)",
        "<>" => " (use `!=`)",
        "=~" | "~=" | "!~" => " (use `regex`, `like` or `:`)",
        _ => "",
    };
    Error::parse(src, span, format!("unknown operator `{op}`{hint}; the operators are {}", OPERATORS.join(" ")))
}

/// The next word, symbol run or quoted string at the start of `rest`, for "found …".
fn next_token(rest: &str) -> &str {
    let mut chars = rest.char_indices();
    let Some((_, first)) = chars.next() else {
        return "";
    };
    let end = if first.is_alphanumeric() || first == '_' || first == '@' || first == '?' {
        rest.char_indices()
            .skip(1)
            .find(|(_, c)| !(c.is_alphanumeric() || *c == '_' || *c == '@' || *c == '.'))
            .map_or(rest.len(), |(i, _)| i)
    } else if first == '"' {
        rest[1..].find('"').map_or(rest.len(), |i| i + 2)
    } else if first.is_whitespace() {
        return "";
    } else {
        first.len_utf8()
    };
    let t = &rest[..end];
    // Keep messages short even when the offending token is a 1 MB string.
    match t.char_indices().nth(40) {
        Some((i, _)) => &t[..i],
        None => t,
    }
}

fn describe(r: Rule) -> &'static str {
    use Rule::*;
    match r {
        EOI => "the end of the query",
        kw_where => "`where`",
        kw_and => "`and`",
        kw_or => "`or`",
        kw_not => "`not`",
        kw_by => "`by`",
        kw_with => "`with`",
        kw_maxspan => "`maxspan`",
        kw_runs => "`runs`",
        kw_until | until => "`until`",
        kw_head | kw_tail => "`head` or `tail`",
        pipe => "a pipe `|`",
        join_by => "`by`",
        sequence_with | stage_runs => "`with`",
        query | event_query | category => "an event category such as `process` or `any`",
        stage | lbracket | missing_open => "`[`",
        rbracket => "`]`",
        lparen => "`(`",
        rparen => "`)`",
        comma => "`,`",
        assign => "`=`",
        expr | or_expr | and_expr | not_expr | predicate | sum | product | unary | field | function_call | number
        | kw_true | kw_false | kw_null => "a value (a field, literal or function call)",
        string => "a string",
        integer => "an integer",
        time_value | time_number => "a time span such as `30s`",
        time_unit => "a time unit (ms, s, m, h or d)",
        compare_op | in_op | match_op | comparison | membership | pattern_match | add_op | mul_op => "an operator",
        insensitive => "`~`",
        _ => "",
    }
}
