//! The sixteen Elasticsearch EQL functions, over single values. Multi-valued arguments are handled
//! by the evaluator (each combination of values is one call). A `null` argument gives `null`, as
//! do type errors, division by zero and overflow (Elasticsearch would fail the query instead).

use crate::ast::Function;
use crate::matcher::cidr::Cidr;
use crate::matcher::wildcard::fold;
use crate::value::Value;
use std::borrow::Cow;
use std::net::IpAddr;

/// At most this many value combinations are tried for one function call or comparison; beyond
/// it the result is `null` (it would take a hostile event with huge arrays to get there).
pub const MAX_COMBINATIONS: usize = 10_000;

/// At most this many bytes of values are read and produced by the functions and arithmetic of one
/// clause (a comparison, `in`, pattern match, … of the condition) on one event; beyond it the
/// computation is `null`, like an overflow. This bounds the memory and time of `concat`, `string`,
/// `between`, … over huge multi-valued fields, whatever the event and the query.
pub const MAX_COMPUTED_BYTES: usize = 64 << 20;

type V = Value<'static>;

fn text(s: impl Into<String>) -> V {
    Value::Str(Cow::Owned(s.into()))
}

/// Java `String.length()` counts UTF-16 code units; so do positions in `indexOf`/`substring`.
fn utf16_len(s: &str) -> usize {
    s.encode_utf16().count()
}

fn int(v: &Value) -> Option<i64> {
    match *v {
        Value::Int(i) => Some(i),
        Value::Float(f) if f.fract() == 0.0 && f.abs() < 9.2e18 => Some(f as i64),
        _ => None,
    }
}

/// Applies `f` to one combination of single values.
pub fn call(f: Function, insensitive: bool, args: &[Value], cidrs: &[Cidr]) -> V {
    use Function::*;
    if args.iter().any(Value::is_null) && !matches!(f, Between | IndexOf | Substring | Number) {
        return Value::Null;
    }
    let s = |i: usize| args.get(i).and_then(Value::as_str);
    fn folded(x: &str, insensitive: bool) -> Cow<'_, str> {
        if insensitive {
            Cow::Owned(fold(x))
        } else {
            Cow::Borrowed(x)
        }
    }
    match f {
        Add | Subtract | Multiply | Divide | Modulo => arith(f, &args[0], &args[1]),
        Between => {
            let (Some(src), Some(l), Some(r)) = (s(0), s(1), s(2)) else { return Value::Null };
            let greedy = match args.get(3) {
                None => false,
                Some(Value::Bool(b)) => *b,
                Some(_) => return Value::Null,
            };
            text(between(src, l, r, greedy, insensitive))
        }
        CidrMatch => match s(0).and_then(|ip| ip.trim().parse::<IpAddr>().ok()) {
            Some(ip) => Value::Bool(cidrs.iter().any(|c| c.contains(&ip))),
            None => Value::Null,
        },
        Concat => {
            let mut out = std::string::String::new();
            for a in args {
                match a.to_text() {
                    Some(t) => out.push_str(&t),
                    None => return Value::Null,
                }
                if out.len() > MAX_COMPUTED_BYTES {
                    return Value::Null;
                }
            }
            text(out)
        }
        EndsWith | StartsWith | StringContains => {
            let (Some(a), Some(b)) = (s(0), s(1)) else { return Value::Null };
            let (a, b) = (folded(a, insensitive), folded(b, insensitive));
            Value::Bool(match f {
                EndsWith => a.ends_with(b.as_ref()),
                StartsWith => a.starts_with(b.as_ref()),
                _ => !a.is_empty() && !b.is_empty() && a.contains(b.as_ref()),
            })
        }
        IndexOf => {
            let (Some(a), Some(b)) = (s(0), s(1)) else { return Value::Null };
            let start = match args.get(2) {
                None | Some(Value::Null) => 0,
                Some(v) => match int(v) {
                    Some(i) => i.max(0) as usize,
                    None => return Value::Null,
                },
            };
            let (a, b) = (folded(a, insensitive), folded(b, insensitive));
            let units: Vec<u16> = a.encode_utf16().collect();
            let needle: Vec<u16> = b.encode_utf16().collect();
            if start > units.len() {
                return Value::Null;
            }
            if needle.is_empty() {
                return Value::Int(start as i64);
            }
            match units[start..].windows(needle.len()).position(|w| w == needle.as_slice()) {
                Some(p) => Value::Int((start + p) as i64),
                None => Value::Null,
            }
        }
        Length => match s(0) {
            Some(a) => Value::Int(utf16_len(a) as i64),
            None => Value::Null,
        },
        Number => number(&args[0], args.get(1)),
        String => match args[0].to_text() {
            Some(t) => text(t.into_owned()),
            None => Value::Null,
        },
        Substring => {
            let Some(a) = s(0) else { return Value::Null };
            let bound = |i: usize| match args.get(i) {
                None | Some(Value::Null) => Ok(None),
                Some(v) => int(v).map(Some).ok_or(()),
            };
            let (Ok(start), Ok(end)) = (bound(1), bound(2)) else { return Value::Null };
            text(substring(a, start, end))
        }
    }
}

fn arith(f: Function, a: &Value, b: &Value) -> V {
    use Function::*;
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => {
            let r = match f {
                Add => x.checked_add(*y),
                Subtract => x.checked_sub(*y),
                Multiply => x.checked_mul(*y),
                // Integer division truncates and `%` keeps the dividend's sign, as in Java.
                Divide => x.checked_div(*y),
                _ => x.checked_rem(*y),
            };
            r.map_or(Value::Null, Value::Int)
        }
        _ => {
            let (Some(x), Some(y)) = (a.as_f64(), b.as_f64()) else { return Value::Null };
            let r = match f {
                Add => x + y,
                Subtract => x - y,
                Multiply => x * y,
                Divide if y == 0.0 => return Value::Null,
                Divide => x / y,
                _ if y == 0.0 => return Value::Null,
                _ => x % y,
            };
            if r.is_finite() {
                Value::Float(r)
            } else {
                Value::Null
            }
        }
    }
}

/// Elasticsearch's `between`: the text after the first `left` up to the next `right` (or the last
/// `right` when greedy); `""` when either is not found.
pub fn between(src: &str, left: &str, right: &str, greedy: bool, insensitive: bool) -> String {
    let hay: Cow<str> = if insensitive { Cow::Owned(fold(src)) } else { Cow::Borrowed(src) };
    let (l, r) = if insensitive { (fold(left), fold(right)) } else { (left.to_string(), right.to_string()) };
    // Folding can change byte lengths; positions are only mapped back when it changed no
    // character's length (equal total lengths are not enough: `İẞ` and `i̇ß` both have 5 bytes).
    let same = !insensitive || src.chars().all(|c| c.to_lowercase().map(char::len_utf8).sum::<usize>() == c.len_utf8());
    let Some(li) = hay.find(&l) else { return String::new() };
    let from = li + l.len();
    let rest = &hay[from..];
    let ri = if greedy { rest.rfind(&r) } else { rest.find(&r) };
    match ri {
        Some(ri) if same => src[from..from + ri].to_string(),
        Some(ri) => rest[..ri].to_string(),
        None => String::new(),
    }
}

/// Python-style slicing over UTF-16 positions, clamped.
pub fn substring(s: &str, start: Option<i64>, end: Option<i64>) -> String {
    let units: Vec<u16> = s.encode_utf16().collect();
    let n = units.len() as i64;
    let norm = |i: i64| if i < 0 { (n + i).max(0) } else { i.min(n) };
    let a = start.map_or(0, norm);
    let b = end.map_or(n, norm);
    if a >= b {
        return String::new();
    }
    String::from_utf16_lossy(&units[a as usize..b as usize])
}

/// `number(s[, base])`.
fn number(v: &Value, base: Option<&Value>) -> V {
    let s = match v {
        Value::Str(s) => s.trim(),
        Value::Null => return Value::Null,
        other => return other.to_owned_value(),
    };
    let base = match base {
        None | Some(Value::Null) => None,
        Some(b) => match int(b) {
            Some(b @ 2..=36) => Some(b as u32),
            _ => return Value::Null,
        },
    };
    let (neg, body) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let (base, body) = match body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
        Some(hex) if base.is_none() || base == Some(16) => (Some(16), hex),
        _ => (base, body),
    };
    // One sign only (`--5` is not a number), and the sign is parsed with the digits so that
    // `-9223372036854775808` is i64::MIN rather than an overflow when negated.
    if body.starts_with(['+', '-']) {
        return Value::Null;
    }
    let signed: Cow<str> = if neg { Cow::Owned(format!("-{body}")) } else { Cow::Borrowed(body) };
    if let Some(b) = base {
        return match i64::from_str_radix(&signed, b) {
            Ok(n) => Value::Int(n),
            Err(_) => Value::Null,
        };
    }
    if let Ok(n) = signed.parse::<i64>() {
        return Value::Int(n);
    }
    match body.parse::<f64>() {
        Ok(f) if f.is_finite() && !body.starts_with(['+', '-']) => Value::Float(if neg { -f } else { f }),
        _ => Value::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Value<'static> {
        Value::Str(Cow::Owned(s.into()))
    }

    #[test]
    fn elasticsearch_edge_cases() {
        use Function::*;
        assert_eq!(call(Divide, false, &[Value::Int(7), Value::Int(3)], &[]), Value::Int(2));
        assert_eq!(call(Modulo, false, &[Value::Int(-10), Value::Int(-6)], &[]), Value::Int(-4));
        assert_eq!(call(Modulo, false, &[Value::Int(10), Value::Int(-6)], &[]), Value::Int(4));
        assert_eq!(call(Divide, false, &[Value::Int(1), Value::Int(0)], &[]), Value::Null);
        assert_eq!(call(StringContains, false, &[v(""), v("")], &[]), Value::Bool(false));
        assert_eq!(call(EndsWith, false, &[v(""), v("")], &[]), Value::Bool(true));
        assert_eq!(call(IndexOf, false, &[v("abc"), v("")], &[]), Value::Int(0));
        assert_eq!(call(IndexOf, false, &[v("abc"), v("c"), Value::Int(5)], &[]), Value::Null);
        assert_eq!(call(IndexOf, true, &[v("ABC"), v("b")], &[]), Value::Int(1));
        assert_eq!(call(Length, false, &[v("😀")], &[]), Value::Int(2));
        assert_eq!(call(Number, false, &[v(" 0x1F ")], &[]), Value::Int(31));
        assert_eq!(call(Number, false, &[v("2.5")], &[]), Value::Float(2.5));
        assert_eq!(call(Number, false, &[v("ff"), Value::Int(16)], &[]), Value::Int(255));
        assert_eq!(call(String, false, &[Value::Float(2.0)], &[]), v("2.0"));
        assert_eq!(call(Concat, false, &[v("a"), Value::Int(1), Value::Bool(true)], &[]), v("a1true"));
        assert_eq!(call(Concat, false, &[v("a"), Value::Null], &[]), Value::Null);
        assert_eq!(substring("hello", Some(-3), None), "llo");
        assert_eq!(substring("hello", Some(3), Some(1)), "");
        assert_eq!(between("a=1;b=2;", "=", ";", false, false), "1");
        assert_eq!(between("a=1;b=2;", "=", ";", true, false), "1;b=2");
        assert_eq!(between("abc", "x", "c", false, false), "");
    }
}
