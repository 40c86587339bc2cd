//! Values that make one leaf test of a condition true or false: a wildcard pattern filled in, a
//! member of a regex's automaton, an address inside a CIDR block, a string of the length asked,
//! the operand an arithmetic comparison needs. These are candidates only: the solver keeps those
//! the engine itself finds to give the wanted result.

use crate::ast::{ArithOp, CompareOp, Function, MatchOp};
use crate::event::FieldId;
use crate::matcher::lucene;
use crate::matcher::node::{Node, NodeKind};
use crate::value::Value;
use regex_syntax::hir::{Class, Hir, HirKind};
use std::borrow::Cow;
use std::net::IpAddr;

pub type V = Value<'static>;

/// What fills a wildcard `*`: a short word, so that `*\\cmd.exe` reads as a path.
const FILL: &str = "x";

pub fn text(s: impl Into<String>) -> V {
    Value::Str(Cow::Owned(s.into()))
}

/// The field a leaf test reads, when it reads exactly one.
pub fn single_field(n: &Node) -> Option<FieldId> {
    let mut ids = Vec::new();
    n.fields(&mut ids);
    ids.dedup();
    (ids.len() == 1).then(|| ids[0])
}

/// Candidate values of the leaf's field for which the leaf would be `want`. An empty inner list
/// means "the field absent".
pub fn candidates(leaf: &Node, want: bool) -> Vec<Vec<V>> {
    let mut out: Vec<Vec<V>> = Vec::new();
    let mut push_all = |targets: Vec<V>, x: &Node| {
        for t in targets {
            for v in invert(x, &t) {
                out.push(vec![v]);
            }
        }
    };
    match &leaf.kind {
        NodeKind::Compare(op, a, b) | NodeKind::CompareVersions(op, a, b) => {
            let (x, c, op) = match (&a.kind, &b.kind) {
                (_, NodeKind::Const(c)) => (&**a, c, *op),
                (NodeKind::Const(c), _) => (&**b, c, flip(*op)),
                _ => return out,
            };
            let op = if want { op } else { negate(op) };
            if c.is_null() {
                // `x == null` was compiled to a presence test; what remains compares to null.
                return out;
            }
            push_all(targets(op, c), x);
        }
        NodeKind::IsNull(x, negated) => {
            if want != *negated {
                out.push(vec![]);
            } else {
                push_all(fillers(), x);
            }
        }
        NodeKind::In(x, set, negated) => {
            if want != *negated {
                push_all(set.source.iter().take(3).cloned().collect(), x);
            } else {
                let mut t: Vec<V> = set.source.iter().take(2).flat_map(others).collect();
                t.extend(fillers());
                push_all(t, x);
            }
        }
        NodeKind::Match(x, pats) => {
            let positive = pattern_members(pats.op, &pats.source);
            if want {
                push_all(positive, x);
            } else {
                let mut t: Vec<V> = positive.iter().flat_map(others).collect();
                t.push(text("eqlite"));
                push_all(t, x);
            }
        }
        NodeKind::Call { function, args, .. } if !args.is_empty() => {
            let x = &args[0];
            let arg = |i: usize| match args.get(i).map(|a| &a.kind) {
                Some(NodeKind::Const(Value::Str(s))) => Some(s.to_string()),
                _ => None,
            };
            let positive: Vec<V> = match function {
                Function::StartsWith => arg(1).map(|s| vec![text(format!("{s}{FILL}"))]).unwrap_or_default(),
                Function::EndsWith => arg(1).map(|s| vec![text(format!("{FILL}{s}"))]).unwrap_or_default(),
                Function::StringContains => arg(1).map(|s| vec![text(format!("{FILL}{s}{FILL}"))]).unwrap_or_default(),
                Function::CidrMatch => {
                    (1..args.len()).filter_map(arg).filter_map(|b| address_in(&b)).take(2).map(text).collect()
                }
                _ => vec![],
            };
            if want {
                push_all(positive, x);
            } else {
                let mut t: Vec<V> = positive.iter().flat_map(others).collect();
                if *function == Function::CidrMatch {
                    t.extend([text("203.0.113.7"), text("2001:db8::7")]);
                }
                t.push(text("eqlite"));
                push_all(t, x);
            }
        }
        NodeKind::Field(..) => out.push(vec![Value::Bool(want)]),
        _ => {}
    }
    out
}

fn flip(op: CompareOp) -> CompareOp {
    match op {
        CompareOp::Lt => CompareOp::Gt,
        CompareOp::Le => CompareOp::Ge,
        CompareOp::Gt => CompareOp::Lt,
        CompareOp::Ge => CompareOp::Le,
        o => o,
    }
}

fn negate(op: CompareOp) -> CompareOp {
    match op {
        CompareOp::Eq => CompareOp::Ne,
        CompareOp::Ne => CompareOp::Eq,
        CompareOp::Lt => CompareOp::Ge,
        CompareOp::Le => CompareOp::Gt,
        CompareOp::Gt => CompareOp::Le,
        CompareOp::Ge => CompareOp::Lt,
    }
}

/// Values `t` with `t op c`, nearest first.
fn targets(op: CompareOp, c: &V) -> Vec<V> {
    let step = |up: bool| -> Vec<V> {
        match c {
            Value::Int(i) => vec![Value::Int(if up { i.saturating_add(1) } else { i.saturating_sub(1) })],
            Value::Float(f) => vec![Value::Float(if up { f + 1.0 } else { f - 1.0 })],
            Value::Str(s) if up => vec![text(format!("{s}a"))],
            Value::Str(s) if !s.is_empty() => {
                vec![text(""), text(&s[..s.len() - s.chars().last().map_or(0, char::len_utf8)])]
            }
            _ => vec![],
        }
    };
    match op {
        CompareOp::Eq => vec![c.clone()],
        CompareOp::Ne => others(c),
        CompareOp::Lt => step(false),
        CompareOp::Gt => step(true),
        CompareOp::Le => [vec![c.clone()], step(false)].concat(),
        CompareOp::Ge => [vec![c.clone()], step(true)].concat(),
    }
}

/// Values for a field that must merely be present (or differ from everything listed), one per
/// kind of field: text, number, address.
pub fn fillers() -> Vec<V> {
    vec![text("eqlite"), Value::Int(1), text("10.0.0.7")]
}

/// Values near `c` but different from it: the smallest edits first.
pub fn others(c: &V) -> Vec<V> {
    match c {
        Value::Str(s) if s.parse::<IpAddr>().is_ok() => {
            // Another address of the same network: the last byte changed.
            let ip: IpAddr = s.parse().expect("an address");
            let other = match ip {
                IpAddr::V4(a) => IpAddr::V4(std::net::Ipv4Addr::from(u32::from(a) ^ 1)),
                IpAddr::V6(a) => IpAddr::V6(std::net::Ipv6Addr::from(u128::from(a) ^ 1)),
            };
            vec![text(other.to_string()), text(if ip.is_ipv4() { "10.0.0.7" } else { "fd00::7" })]
        }
        Value::Str(s) => {
            let mut out = Vec::new();
            if let Some(last) = s.chars().last() {
                let repl = if last.eq_ignore_ascii_case(&'x') { 'y' } else { 'x' };
                out.push(text(format!("{}{repl}", &s[..s.len() - last.len_utf8()])));
                out.push(text(format!("{s}{repl}")));
                out.push(text(format!("{repl}{s}")));
            } else {
                out.push(text("x"));
            }
            out
        }
        Value::Int(i) => vec![Value::Int(i.wrapping_add(1)), Value::Int(i.wrapping_sub(1))],
        Value::Float(f) => vec![Value::Float(f + 1.0)],
        Value::Bool(b) => vec![Value::Bool(!b)],
        Value::Null => vec![text("eqlite")],
    }
}

/// Strings each pattern matches (the first few patterns), and the non-string constants of `:`.
fn pattern_members(op: MatchOp, source: &[V]) -> Vec<V> {
    let mut out = Vec::new();
    for p in source.iter().take(3) {
        match (op, p) {
            (MatchOp::Regex { insensitive }, Value::Str(s)) => {
                if let Some(m) = lucene::parse(s, insensitive).ok().and_then(|h| member(&h)) {
                    out.push(text(m));
                }
            }
            (_, Value::Str(s)) => {
                out.push(text(s.replace(['*', '?'], FILL)));
                if s.contains('*') {
                    out.push(text(s.replace('*', "").replace('?', FILL)));
                }
            }
            (_, v) => out.push(v.clone()),
        }
    }
    out
}

/// Characters to pick from a class, in order of preference (readable ones first).
const PREFERRED: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-_./\\: ";

/// A shortest-ish string of the language of `hir`: alternations take their first branch,
/// repetitions their minimum, classes a readable character.
pub fn member(hir: &Hir) -> Option<String> {
    let mut out = String::new();
    member_into(hir, &mut out, 0).then_some(out)
}

fn member_into(hir: &Hir, out: &mut String, depth: usize) -> bool {
    if depth > 200 || out.len() > 4096 {
        return false;
    }
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => true,
        HirKind::Literal(l) => match std::str::from_utf8(&l.0) {
            Ok(s) => {
                out.push_str(s);
                true
            }
            Err(_) => false,
        },
        HirKind::Class(Class::Unicode(c)) => {
            let pick = PREFERRED
                .chars()
                .find(|ch| c.ranges().iter().any(|r| r.start() <= *ch && *ch <= r.end()))
                .or_else(|| c.ranges().first().map(|r| r.start()));
            pick.map(|ch| out.push(ch)).is_some()
        }
        HirKind::Class(Class::Bytes(c)) => {
            let pick = c.ranges().iter().find(|r| r.start().is_ascii()).map(|r| r.start() as char);
            pick.map(|ch| out.push(ch)).is_some()
        }
        HirKind::Repetition(r) => (0..r.min).all(|_| member_into(&r.sub, out, depth + 1)),
        HirKind::Capture(c) => member_into(&c.sub, out, depth + 1),
        HirKind::Concat(v) => v.iter().all(|h| member_into(h, out, depth + 1)),
        HirKind::Alternation(v) => v.iter().any(|h| {
            let mark = out.len();
            member_into(h, out, depth + 1) || {
                out.truncate(mark);
                false
            }
        }),
    }
}

/// An address inside a block: the block's second address (its first is the network itself).
fn address_in(block: &str) -> Option<String> {
    let (addr, prefix) = block.split_once('/').unwrap_or((block, ""));
    let net: IpAddr = addr.trim().parse().ok()?;
    let prefix: u32 = if prefix.is_empty() {
        if net.is_ipv4() {
            32
        } else {
            128
        }
    } else {
        prefix.trim().parse().ok()?
    };
    let (value, bits) = match net {
        IpAddr::V4(a) => (u128::from(u32::from(a)), 32),
        IpAddr::V6(a) => (u128::from(a), 128),
    };
    let host_bits = bits - prefix.min(bits);
    let mask = if host_bits == 128 { 0 } else { u128::MAX << host_bits };
    let base = value & mask;
    let ip = if host_bits >= 2 { base + 1 } else { base };
    Some(match net {
        IpAddr::V4(_) => std::net::Ipv4Addr::from(ip as u32).to_string(),
        IpAddr::V6(_) => std::net::Ipv6Addr::from(ip).to_string(),
    })
}

/// Field values for which the expression `x` (a field, possibly inside functions and
/// arithmetic) evaluates to `target`.
fn invert(x: &Node, target: &V) -> Vec<V> {
    match &x.kind {
        NodeKind::Field(..) => vec![target.clone()],
        NodeKind::Arith(op, a, b) => arith(op.function(), a, b, target),
        NodeKind::Neg(a) => match target {
            Value::Int(i) => invert(a, &Value::Int(i.wrapping_neg())),
            Value::Float(f) => invert(a, &Value::Float(-f)),
            _ => vec![],
        },
        NodeKind::Call { function, args, .. } => match (function, args.as_slice()) {
            (Function::Add | Function::Subtract | Function::Multiply | Function::Divide | Function::Modulo, [a, b]) => {
                arith(*function, a, b, target)
            }
            (Function::Length, [a]) => match target {
                Value::Int(n) if (0..=4096).contains(n) => invert(a, &text("a".repeat(*n as usize))),
                _ => vec![],
            },
            (Function::String, [a]) => match target {
                Value::Str(s) => {
                    let mut out = invert(a, target);
                    if let Ok(i) = s.parse::<i64>() {
                        out.extend(invert(a, &Value::Int(i)));
                    }
                    out
                }
                _ => vec![],
            },
            (Function::Number, [a, rest @ ..]) => {
                let base = match rest.first().map(|r| &r.kind) {
                    Some(NodeKind::Const(Value::Int(b))) => *b,
                    _ => 10,
                };
                match (target, base) {
                    (Value::Int(i), 16) => invert(a, &text(format!("{i:x}"))),
                    (Value::Int(i), _) => invert(a, &text(i.to_string())),
                    (Value::Float(f), _) => invert(a, &text(f.to_string())),
                    _ => vec![],
                }
            }
            (Function::Substring, [a, start, ..]) => match (target, &start.kind) {
                (Value::Str(s), NodeKind::Const(Value::Int(k))) if (0..=4096).contains(k) => {
                    invert(a, &text(format!("{}{s}", "x".repeat(*k as usize))))
                }
                _ => vec![],
            },
            (Function::Between, [a, left, right, ..]) => match (target, &left.kind, &right.kind) {
                (Value::Str(s), NodeKind::Const(Value::Str(l)), NodeKind::Const(Value::Str(r))) => {
                    invert(a, &text(format!("{l}{s}{r}")))
                }
                _ => vec![],
            },
            (Function::Concat, parts) => {
                let Value::Str(s) = target else { return vec![] };
                let fixed: Option<Vec<&str>> = parts
                    .iter()
                    .map(|p| match &p.kind {
                        NodeKind::Const(Value::Str(c)) => Some(Some(c.as_ref())),
                        NodeKind::Const(_) => None,
                        _ => Some(None),
                    })
                    .map(|o| o.map(|c| c.unwrap_or("")))
                    .collect();
                let var: Vec<&Node> = parts.iter().filter(|p| !matches!(p.kind, NodeKind::Const(_))).collect();
                match (fixed, var.as_slice()) {
                    (Some(f), [one]) => {
                        let mut rest = s.to_string();
                        for c in f.iter().filter(|c| !c.is_empty()) {
                            rest = rest.replacen(c, "", 1);
                        }
                        invert(one, &text(rest))
                    }
                    _ => vec![],
                }
            }
            _ => vec![],
        },
        _ => vec![],
    }
}

/// Inverts `f(a, b) == target` where one operand is a constant.
fn arith(f: Function, a: &Node, b: &Node, target: &V) -> Vec<V> {
    let num = |v: &V| v.as_f64();
    let (Some(t), into_int) = (num(target), matches!(target, Value::Int(_))) else { return vec![] };
    let back = |x: f64| -> V {
        if into_int && x.fract() == 0.0 && x.abs() < 9e15 {
            Value::Int(x as i64)
        } else {
            Value::Float(x)
        }
    };
    let op = match f {
        Function::Add => ArithOp::Add,
        Function::Subtract => ArithOp::Sub,
        Function::Multiply => ArithOp::Mul,
        Function::Divide => ArithOp::Div,
        _ => ArithOp::Mod,
    };
    match (&a.kind, &b.kind) {
        (_, NodeKind::Const(c)) => {
            let Some(c) = num(c) else { return vec![] };
            let x = match op {
                ArithOp::Add => t - c,
                ArithOp::Sub => t + c,
                ArithOp::Mul if c != 0.0 => t / c,
                ArithOp::Div => t * c,
                ArithOp::Mod if c != 0.0 && t.abs() < c.abs() => t,
                _ => return vec![],
            };
            invert(a, &back(x))
        }
        (NodeKind::Const(c), _) => {
            let Some(c) = num(c) else { return vec![] };
            let x = match op {
                ArithOp::Add => t - c,
                ArithOp::Sub => c - t,
                ArithOp::Mul if c != 0.0 => t / c,
                ArithOp::Div if t != 0.0 => c / t,
                _ => return vec![],
            };
            invert(b, &back(x))
        }
        _ => vec![],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regex_members_are_members() {
        for (p, ins) in
            [("[a-z]+\\.exe", false), ("(cmd|powershell)\\.exe", true), (".*\\d{3}-x", false), ("<1-10>", false)]
        {
            let hir = lucene::parse(p, ins).unwrap();
            let m = member(&hir).unwrap();
            assert!(lucene::compile(p, ins).unwrap().is_match(&m), "{p} -> {m}");
        }
    }

    #[test]
    fn addresses_fall_inside_their_blocks() {
        use crate::matcher::cidr::Cidr;
        for b in ["10.0.0.0/8", "192.168.1.7", "fe80::/10", "0.0.0.0/0", "::1"] {
            let a: IpAddr = address_in(b).unwrap().parse().unwrap();
            assert!(Cidr::parse(b).unwrap().contains(&a), "{b} -> {a}");
        }
    }
}
