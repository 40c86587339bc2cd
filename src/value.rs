//! Runtime values. Events are read into scalars only: arrays are flattened into several values of
//! one field (Elasticsearch's multi-valued fields) and JSON `null` is simply absent.

use serde::Serialize;
use std::borrow::Cow;
use std::cmp::Ordering;
use std::fmt;

/// A scalar value of an event field, a literal or a computation.
#[derive(Clone, Debug, PartialEq)]
pub enum Value<'a> {
    /// No value.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// An integer (JSON numbers without fraction or exponent that fit in 64 bits).
    Int(i64),
    /// Any other number.
    Float(f64),
    /// A string, borrowed from the event text where it had no escapes.
    Str(Cow<'a, str>),
}

impl<'a> Value<'a> {
    /// Whether this is `Null`.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The number as a double, if this is one.
    pub fn as_f64(&self) -> Option<f64> {
        match *self {
            Value::Int(i) => Some(i as f64),
            Value::Float(f) => Some(f),
            _ => None,
        }
    }

    /// The value, owning its string.
    pub fn into_owned(self) -> Value<'static> {
        match self {
            Value::Null => Value::Null,
            Value::Bool(b) => Value::Bool(b),
            Value::Int(i) => Value::Int(i),
            Value::Float(f) => Value::Float(f),
            Value::Str(s) => Value::Str(Cow::Owned(s.into_owned())),
        }
    }

    /// A copy owning its string.
    pub fn to_owned_value(&self) -> Value<'static> {
        self.clone().into_owned()
    }

    /// Exact equality as `==` defines it: case-sensitive strings, numbers across int/float, and
    /// `None` (null) when the types cannot be compared.
    pub fn equals(&self, other: &Value) -> Option<bool> {
        match (self, other) {
            (Value::Null, _) | (_, Value::Null) => None,
            (Value::Str(a), Value::Str(b)) => Some(a == b),
            (Value::Bool(a), Value::Bool(b)) => Some(a == b),
            (Value::Int(a), Value::Int(b)) => Some(a == b),
            (a, b) => match (a.as_f64(), b.as_f64()) {
                (Some(x), Some(y)) => Some(x == y),
                _ => None,
            },
        }
    }

    /// Ordering for `<`, `<=`, `>`, `>=`: numbers numerically, strings by code point (case-sensitive).
    pub fn compare(&self, other: &Value) -> Option<Ordering> {
        match (self, other) {
            (Value::Str(a), Value::Str(b)) => Some(a.as_ref().cmp(b.as_ref())),
            (Value::Int(a), Value::Int(b)) => Some(a.cmp(b)),
            (Value::Bool(a), Value::Bool(b)) => Some(a.cmp(b)),
            (a, b) => a.as_f64()?.partial_cmp(&b.as_f64()?),
        }
    }

    /// The text `string()` and `concat()` produce, following Java's formatting of numbers.
    pub fn to_text(&self) -> Option<Cow<'_, str>> {
        match self {
            Value::Null => None,
            Value::Bool(b) => Some(Cow::Borrowed(if *b { "true" } else { "false" })),
            Value::Int(i) => Some(Cow::Owned(i.to_string())),
            Value::Float(f) => Some(Cow::Owned(java_double(*f))),
            Value::Str(s) => Some(Cow::Borrowed(s)),
        }
    }
}

/// Java's `Double.toString`: `1.0`, `42.5`, `1.0E10`, `1.0E-5`.
pub fn java_double(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "Infinity".into() } else { "-Infinity".into() };
    }
    let a = f.abs();
    if a == 0.0 || (1e-3..1e7).contains(&a) {
        let s = format!("{f}");
        if s.contains('.') {
            s
        } else {
            format!("{s}.0")
        }
    } else {
        let s = format!("{f:e}");
        let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
        let mant = if mant.contains('.') { mant.to_string() } else { format!("{mant}.0") };
        format!("{mant}E{exp}")
    }
}

impl fmt::Display for Value<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("null"),
            Value::Str(s) => write!(f, "{s:?}"),
            v => f.write_str(&v.to_text().unwrap_or_default()),
        }
    }
}

impl Serialize for Value<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Null => s.serialize_none(),
            Value::Bool(b) => s.serialize_bool(*b),
            Value::Int(i) => s.serialize_i64(*i),
            Value::Float(f) => s.serialize_f64(*f),
            Value::Str(v) => s.serialize_str(v),
        }
    }
}

impl Value<'_> {
    /// Unary minus: `null` for non-numbers and for `-i64::MIN`, like an overflow.
    pub fn negated(&self) -> Value<'static> {
        match self {
            Value::Int(i) => i.checked_neg().map_or(Value::Null, Value::Int),
            Value::Float(f) => Value::Float(-f),
            _ => Value::Null,
        }
    }
}

impl From<&crate::ast::Literal> for Value<'static> {
    fn from(l: &crate::ast::Literal) -> Value<'static> {
        use crate::ast::Literal;
        match l {
            Literal::Null => Value::Null,
            Literal::Bool(b) => Value::Bool(*b),
            Literal::Int(i) => Value::Int(*i),
            Literal::Float(f) => Value::Float(*f),
            Literal::Str(s) => Value::Str(Cow::Owned(s.clone())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_print_like_java() {
        assert_eq!(java_double(1.0), "1.0");
        assert_eq!(java_double(42.5), "42.5");
        assert_eq!(java_double(1e10), "1.0E10");
        assert_eq!(java_double(-2.5e-5), "-2.5E-5");
    }

    #[test]
    fn mixed_types_do_not_compare() {
        assert_eq!(Value::Int(1).equals(&Value::Float(1.0)), Some(true));
        assert_eq!(Value::Int(1).equals(&Value::Str("1".into())), None);
        assert_eq!(Value::Null.equals(&Value::Null), None);
    }
}
