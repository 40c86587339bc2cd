//! Elasticsearch field types, and reading event values as their field's mapped type.
//!
//! Elasticsearch indexes a value as its field's type, not as its JSON type: a JSON number in a
//! `keyword` field is the string `"0"`, a numeric string in a `long` field is the number (the
//! mapping's `coerce`, on by default). Elastic's data lands in indices mapped with the Elastic
//! Common Schema, so the ECS types (`types/ecs.types`, generated from `@elastic/ecs`) are the
//! default; an Elasticsearch mapping and further type tables extend and override them. A value
//! Elasticsearch would refuse for its type is dropped, as with `ignore_malformed` (which Elastic's
//! `logs-*-*` data streams set), so the rest of the event is still read.
//!
//! ## Type tables
//!
//! A table is text, one field per line: a dotted name and its type (`user.id keyword`). A line
//! indented deeper than the one above it names a sub-field of it; a name may be given without a
//! type, as a parent. `*type` after the type (`labels object *keyword`) gives every sub-field the
//! table does not list that type, as an object's `object_type` does (sub-fields of a `flattened`
//! field are `keyword` anyway). A line `[name]` at the left margin starts a named set of sub-fields
//! (optionally with a type for the set's own field); `field =name` then puts that set under
//! `field`, which is how the ECS table stays small. `#` starts a comment line; `#! version V`
//! records the table's version.

use crate::value::Value;
use std::borrow::Cow;
use std::net::IpAddr;
use std::sync::{Arc, OnceLock};

/// An Elasticsearch field type. Types not listed here are read as their JSON values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FieldType {
    /// `keyword`: exact strings.
    Keyword,
    /// `constant_keyword`: one string for the whole index.
    ConstantKeyword,
    /// `wildcard`: strings for grep-like queries.
    Wildcard,
    /// `text`: analysed full text.
    Text,
    /// `match_only_text`: full text without scoring.
    MatchOnlyText,
    /// `version`: software versions, ordered semantically.
    Version,
    /// `long`: 64-bit integers.
    Long,
    /// `integer`: 32-bit integers.
    Integer,
    /// `short`: 16-bit integers.
    Short,
    /// `byte`: 8-bit integers.
    Byte,
    /// `unsigned_long`: 64-bit unsigned integers.
    UnsignedLong,
    /// `double`: 64-bit floating point.
    Double,
    /// `float`: 32-bit floating point (read at double precision).
    Float,
    /// `half_float`: 16-bit floating point (read at double precision).
    HalfFloat,
    /// `scaled_float`: a fixed-point number (read as a double).
    ScaledFloat,
    /// `boolean`.
    Boolean,
    /// `ip`: IPv4 and IPv6 addresses.
    Ip,
    /// `date`: ISO-8601 text or epoch milliseconds (kept as written).
    Date,
    /// `date_nanos`: `date` at nanosecond resolution.
    DateNanos,
    /// `object`: a parent of sub-fields.
    Object,
    /// `nested`: objects indexed one by one.
    Nested,
    /// `flattened`: an object whose every leaf is a keyword.
    Flattened,
    /// `geo_point`: read as its JSON value.
    GeoPoint,
    /// `binary`: base64 text, read as its JSON value.
    Binary,
}

const NAMES: &[(&str, FieldType)] = &[
    ("keyword", FieldType::Keyword),
    ("constant_keyword", FieldType::ConstantKeyword),
    ("wildcard", FieldType::Wildcard),
    ("text", FieldType::Text),
    ("match_only_text", FieldType::MatchOnlyText),
    ("version", FieldType::Version),
    ("long", FieldType::Long),
    ("integer", FieldType::Integer),
    ("short", FieldType::Short),
    ("byte", FieldType::Byte),
    ("unsigned_long", FieldType::UnsignedLong),
    ("double", FieldType::Double),
    ("float", FieldType::Float),
    ("half_float", FieldType::HalfFloat),
    ("scaled_float", FieldType::ScaledFloat),
    ("boolean", FieldType::Boolean),
    ("ip", FieldType::Ip),
    ("date", FieldType::Date),
    ("date_nanos", FieldType::DateNanos),
    ("object", FieldType::Object),
    ("nested", FieldType::Nested),
    ("flattened", FieldType::Flattened),
    ("geo_point", FieldType::GeoPoint),
    ("binary", FieldType::Binary),
];

/// What a value of a field becomes once read as the field's type.
#[derive(Clone, Debug, PartialEq)]
pub enum Read<'a> {
    /// The value as the type reads it.
    Value(Value<'a>),
    /// Read as an explicit `null` (an empty string in a numeric field): the field's `null_value`.
    Null,
    /// Elasticsearch would refuse it for this type: not indexed, as with `ignore_malformed`.
    Malformed,
}

impl FieldType {
    /// The type of an Elasticsearch type name (`"keyword"`, `"long"`, …).
    pub fn from_name(name: &str) -> Option<FieldType> {
        NAMES.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
    }

    /// The Elasticsearch name of the type.
    pub fn name(self) -> &'static str {
        NAMES.iter().find(|(_, t)| *t == self).map_or("?", |(n, _)| n)
    }

    /// Types whose values are strings: numbers and booleans become their text.
    pub fn is_string(self) -> bool {
        use FieldType::*;
        matches!(self, Keyword | ConstantKeyword | Wildcard | Text | MatchOnlyText | Version)
    }

    /// Analyzed (full-text) types, as opposed to the exact-value `keyword` family.
    pub fn is_text(self) -> bool {
        matches!(self, FieldType::Text | FieldType::MatchOnlyText)
    }

    /// Integer types and their range (`unsigned_long` beyond `i64` reads as a double).
    pub(crate) fn integer_range(self) -> Option<(f64, f64)> {
        use FieldType::*;
        Some(match self {
            Long => (i64::MIN as f64, i64::MAX as f64),
            Integer => (i32::MIN as f64, i32::MAX as f64),
            Short => (i16::MIN as f64, i16::MAX as f64),
            Byte => (i8::MIN as f64, i8::MAX as f64),
            UnsignedLong => (0.0, u64::MAX as f64),
            _ => return None,
        })
    }

    /// Reads one JSON scalar as this type, the way Elasticsearch indexes it.
    pub fn read<'a>(self, v: Value<'a>) -> Read<'a> {
        use FieldType::*;
        if v.is_null() {
            return Read::Null;
        }
        if self.is_string() {
            return Read::Value(match v {
                Value::Int(i) => Value::Str(Cow::Owned(i.to_string())),
                Value::Float(f) => Value::Str(Cow::Owned(float_text(f))),
                Value::Bool(b) => Value::Str(Cow::Borrowed(if b { "true" } else { "false" })),
                v => v,
            });
        }
        if let Some((min, max)) = self.integer_range() {
            return match &v {
                Value::Int(i) if (min..=max).contains(&(*i as f64)) && (self != UnsignedLong || *i >= 0) => {
                    Read::Value(v)
                }
                Value::Float(f) => integer(f.trunc(), min, max),
                Value::Str(s) if s.is_empty() => Read::Null,
                Value::Str(s) => match s.parse::<i64>() {
                    Ok(i) => integer(i as f64, min, max).or_exact(i),
                    Err(_) => decimal(s).map_or(Read::Malformed, |f| integer(f.trunc(), min, max)),
                },
                _ => Read::Malformed,
            };
        }
        match self {
            Double | Float | HalfFloat | ScaledFloat => match v {
                Value::Int(i) => Read::Value(Value::Float(i as f64)),
                Value::Float(_) => Read::Value(v),
                Value::Str(s) if s.is_empty() => Read::Null,
                Value::Str(s) => decimal(&s).map_or(Read::Malformed, |f| Read::Value(Value::Float(f))),
                _ => Read::Malformed,
            },
            Boolean => match v {
                Value::Bool(_) => Read::Value(v),
                Value::Str(s) => match s.as_ref() {
                    "true" => Read::Value(Value::Bool(true)),
                    "false" | "" => Read::Value(Value::Bool(false)),
                    _ => Read::Malformed,
                },
                _ => Read::Malformed,
            },
            Ip => match v {
                Value::Str(s) => match s.parse::<IpAddr>() {
                    Ok(ip) => {
                        let canonical = ip.to_canonical().to_string();
                        Read::Value(Value::Str(if canonical == s { s } else { Cow::Owned(canonical) }))
                    }
                    Err(_) => Read::Malformed,
                },
                _ => Read::Malformed,
            },
            // Dates stay as written: checking them would parse every event's timestamps twice
            // (the stream parses the one it orders by). Only a boolean is no date at all.
            Date | DateNanos => match v {
                Value::Bool(_) => Read::Malformed,
                v => Read::Value(v),
            },
            _ => Read::Value(v),
        }
    }
}

impl<'a> Read<'a> {
    /// An integer that fits keeps its exact value (a double would round it beyond 2^53).
    fn or_exact(self, i: i64) -> Read<'a> {
        match self {
            Read::Value(_) => Read::Value(Value::Int(i)),
            r => r,
        }
    }
}

/// A whole number in range, as a value (`i64` when it fits, else a double).
fn integer<'a>(f: f64, min: f64, max: f64) -> Read<'a> {
    if !(min..=max).contains(&f) {
        return Read::Malformed;
    }
    if f >= i64::MIN as f64 && f < i64::MAX as f64 {
        Read::Value(Value::Int(f as i64))
    } else {
        Read::Value(Value::Float(f))
    }
}

/// A decimal number as Java's `BigDecimal` and `Double.parseDouble` accept it in a numeric field:
/// digits with an optional sign, fraction and exponent; no spaces, no `inf` or `NaN`.
fn decimal(s: &str) -> Option<f64> {
    let b = s.as_bytes();
    let mut i = usize::from(matches!(b.first(), Some(b'+' | b'-')));
    let digits = |i: &mut usize| {
        let start = *i;
        while b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i - start
    };
    let mut n = digits(&mut i);
    if b.get(i) == Some(&b'.') {
        i += 1;
        n += digits(&mut i);
    }
    if n == 0 {
        return None;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        i += usize::from(matches!(b.get(i), Some(b'+' | b'-')));
        if digits(&mut i) == 0 {
            return None;
        }
    }
    if i != b.len() {
        return None;
    }
    s.parse::<f64>().ok().filter(|f| f.is_finite())
}

/// The text of a JSON number that was read as a double, as Java's `Double.toString` writes it
/// (`1.0`, `1.5`, `1.0E21`), which is also what `string()` gives. Elasticsearch keeps the JSON
/// text as written, which is the same for the usual `1.0` and `1.5`.
pub fn float_text(f: f64) -> String {
    crate::value::java_double(f)
}

/// Marks a line given a set on the stack of open lines: nothing may be listed under it.
const SHARED: u32 = u32::MAX;

/// A field-type table: a tree of name segments, possibly sharing subtrees.
#[derive(Clone, Debug, Default)]
pub struct TypeTable {
    nodes: Vec<Node>,
    version: Option<String>,
}

#[derive(Clone, Debug, Default)]
struct Node {
    ty: Option<FieldType>,
    /// The type of sub-fields not listed (an object's `object_type`).
    rest: Option<FieldType>,
    null_value: Option<Value<'static>>,
    /// Sorted by segment.
    children: Vec<(Box<str>, u32)>,
}

/// What a table says about one field.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Resolved {
    /// The field's type; `None` when the table does not list it (its values read as JSON).
    pub ty: Option<FieldType>,
    /// What an explicit JSON `null` of the field stands for (a mapping's `null_value`).
    pub null_value: Option<Value<'static>>,
}

impl TypeTable {
    fn root() -> TypeTable {
        TypeTable { nodes: vec![Node::default()], version: None }
    }

    /// The Elastic Common Schema table embedded in the library.
    pub fn ecs() -> &'static Arc<TypeTable> {
        static T: OnceLock<Arc<TypeTable>> = OnceLock::new();
        T.get_or_init(|| Arc::new(TypeTable::parse(include_str!("types/ecs.types")).expect("the ECS table parses")))
    }

    /// The Kubernetes audit-log fields (`kubernetes.audit.*`) of Elastic's Kubernetes integration.
    pub fn kubernetes_audit() -> &'static Arc<TypeTable> {
        static T: OnceLock<Arc<TypeTable>> = OnceLock::new();
        T.get_or_init(|| {
            Arc::new(TypeTable::parse(include_str!("types/kubernetes-audit.types")).expect("the table parses"))
        })
    }

    /// The `#! version` of the table, if it has one.
    pub fn version(&self) -> Option<&str> {
        self.version.as_deref()
    }

    /// Fields listed (with a type), for displays and tests.
    pub fn len(&self) -> usize {
        let mut n = 0;
        self.walk(0, &mut |_, node| n += usize::from(node.ty.is_some()));
        n
    }

    /// Whether the table lists no field.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The typed fields whose dotted name matches `pattern`, where `*` is any run of characters
    /// (dots included, as Kibana matches field names), added to `out`.
    fn matching(&self, pattern: &str, out: &mut Vec<String>) {
        fn go(t: &TypeTable, at: u32, name: &mut String, pieces: &[&str], out: &mut Vec<String>) {
            let node = &t.nodes[at as usize];
            if node.ty.is_some() && glob(pieces, name) && !out.contains(name) {
                out.push(name.clone());
            }
            for (seg, c) in &node.children {
                let len = name.len();
                if len > 0 {
                    name.push('.');
                }
                name.push_str(seg);
                // Only names that can still match are followed.
                if name.starts_with(pieces[0]) || pieces[0].starts_with(name.as_str()) {
                    go(t, *c, name, pieces, out);
                }
                name.truncate(len);
            }
        }
        if self.nodes.is_empty() {
            return;
        }
        let pieces: Vec<&str> = pattern.split('*').collect();
        go(self, 0, &mut String::new(), &pieces, out);
    }

    fn walk(&self, at: u32, f: &mut impl FnMut(u32, &Node)) {
        let node = &self.nodes[at as usize];
        f(at, node);
        for (_, c) in &node.children {
            self.walk(*c, f);
        }
    }

    fn child(&self, at: u32, seg: &str) -> Option<u32> {
        let c = &self.nodes[at as usize].children;
        c.binary_search_by(|(k, _)| k.as_ref().cmp(seg)).ok().map(|i| c[i].1)
    }

    /// The node at `path` under `at`, made if missing. Never walks into a shared set: a table
    /// being built from a mapping has none, and parsing adds to sets only while defining them.
    fn node_mut(&mut self, mut at: u32, path: &str) -> u32 {
        for seg in path.split('.') {
            at = match self.child(at, seg) {
                Some(c) => c,
                None => {
                    let id = self.nodes.len() as u32;
                    self.nodes.push(Node::default());
                    let c = &mut self.nodes[at as usize].children;
                    let i = c.binary_search_by(|(k, _)| k.as_ref().cmp(seg)).unwrap_err();
                    c.insert(i, (seg.into(), id));
                    id
                }
            };
        }
        at
    }

    /// Adds or replaces a field.
    pub fn insert(&mut self, path: &str, ty: Option<FieldType>, null_value: Option<Value<'static>>) {
        if self.nodes.is_empty() {
            *self = TypeTable::root();
        }
        let n = self.node_mut(0, path);
        let node = &mut self.nodes[n as usize];
        node.ty = ty.or(node.ty);
        node.null_value = null_value.or(node.null_value.take());
    }

    /// Gives the unlisted sub-fields of `path` a type (an object's `object_type`).
    pub fn insert_rest(&mut self, path: &str, ty: FieldType) {
        if self.nodes.is_empty() {
            *self = TypeTable::root();
        }
        let n = self.node_mut(0, path);
        self.nodes[n as usize].rest = Some(ty);
    }

    /// The type of a field (a dotted path). Sub-fields of a `flattened` field are keywords, those
    /// of an object with an `object_type` have that type, unless listed.
    pub fn lookup(&self, path: &str) -> Resolved {
        if self.nodes.is_empty() {
            return Resolved::default();
        }
        let mut at = 0;
        let mut rest = None;
        for seg in path.split('.') {
            let node = &self.nodes[at as usize];
            rest = match node.ty {
                Some(FieldType::Flattened) => Some(FieldType::Keyword),
                _ => node.rest.or(rest),
            };
            match self.child(at, seg) {
                Some(c) => at = c,
                None => return Resolved { ty: rest, null_value: None },
            }
        }
        let node = &self.nodes[at as usize];
        Resolved { ty: node.ty.or(rest), null_value: node.null_value.clone() }
    }

    /// Reads a table (see the module documentation). Errors name the line.
    pub fn parse(text: &str) -> Result<TypeTable, String> {
        let mut t = TypeTable::root();
        let mut sets: Vec<(String, u32)> = Vec::new();
        // (indentation, node) of the open lines: the parents of the next one.
        let mut stack: Vec<(usize, u32)> = Vec::new();
        // The root of the set being defined, if any.
        let mut base = 0;
        // Nodes of sets already put somewhere: a later line must not add to them.
        let mut frozen: Vec<bool> = Vec::new();
        for (no, line) in text.lines().enumerate() {
            let err = |msg: String| format!("line {}: {msg}", no + 1);
            let body = line.trim_start();
            let indent = line.len() - body.len();
            if let Some(v) = body.strip_prefix("#!") {
                if let Some(v) = v.trim().strip_prefix("version ") {
                    t.version = Some(v.trim().to_string());
                }
                continue;
            }
            if body.is_empty() || body.starts_with('#') {
                continue;
            }
            if body.contains('\t') || line[..indent].contains('\t') {
                return Err(err("tabs are not allowed; indent with spaces and separate with spaces".into()));
            }
            let mut words = body.split(' ').filter(|w| !w.is_empty());
            let name = words.next().unwrap_or_default();
            if indent == 0 {
                stack.clear();
                base = 0;
                if let Some(set) = name.strip_prefix('[') {
                    let Some(set) = set.strip_suffix(']').filter(|s| !s.is_empty()) else {
                        return Err(err(format!("`{name}`: a set is named `[name]`")));
                    };
                    if sets.iter().any(|(s, _)| s == set) {
                        return Err(err(format!("the set `{set}` is defined twice")));
                    }
                    base = t.nodes.len() as u32;
                    t.nodes.push(Node::default());
                    sets.push((set.to_string(), base));
                    stack.push((0, base));
                    t.attributes(base, words).map_err(err)?;
                    continue;
                }
            }
            while stack.last().is_some_and(|(i, _)| *i >= indent) {
                stack.pop();
            }
            let parent = stack.last().map_or(base, |(_, n)| *n);
            if indent > 0 && stack.is_empty() {
                return Err(err("an indented line needs a field above it".into()));
            }
            if parent == SHARED {
                return Err(err("a field given a set (`=name`) takes its sub-fields from the set".into()));
            }
            if name.split('.').any(|s| s.is_empty() || s == "*") || name.starts_with(['[', '=', '*']) {
                return Err(err(format!("`{name}` is not a field name")));
            }
            let words: Vec<&str> = words.collect();
            if let Some(set) = words.iter().find_map(|w| w.strip_prefix('=')) {
                let Some(&(_, node)) = sets.iter().find(|(s, _)| s == set) else {
                    return Err(err(format!("no set `{set}` is defined above this line")));
                };
                if words.len() > 1 {
                    return Err(err(format!("`{name} ={set}`: a field given a set takes the set's type")));
                }
                // The field is the set's own node, shared.
                let (head, last) = name.rsplit_once('.').unwrap_or(("", name));
                let at = if head.is_empty() { parent } else { t.place(parent, head, &frozen).map_err(err)? };
                if t.child(at, last).is_some() {
                    return Err(err(format!("`{name}` is listed twice")));
                }
                let c = &mut t.nodes[at as usize].children;
                let i = c.binary_search_by(|(k, _)| k.as_ref().cmp(last)).unwrap_err();
                c.insert(i, (last.into(), node));
                frozen.resize(t.nodes.len(), false);
                t.walk(node, &mut |n, _| frozen[n as usize] = true);
                stack.push((indent, SHARED));
                continue;
            }
            let node = t.place(parent, name, &frozen).map_err(err)?;
            t.attributes(node, words.into_iter()).map_err(err)?;
            stack.push((indent, node));
        }
        Ok(t)
    }

    /// `node_mut`, refusing to change a set that is already in use.
    fn place(&mut self, parent: u32, path: &str, frozen: &[bool]) -> Result<u32, String> {
        let mut at = parent;
        let mut start = 0;
        for seg in path.split('.') {
            match self.child(at, seg) {
                Some(c) if frozen.get(c as usize).copied().unwrap_or(false) => {
                    return Err(format!("`{}` takes its sub-fields from a set", &path[..start + seg.len()]));
                }
                Some(c) => at = c,
                None => return Ok(self.node_mut(at, &path[start..])),
            }
            start += seg.len() + 1;
        }
        Ok(at)
    }

    /// A line's type and `*type` words.
    fn attributes<'w>(&mut self, node: u32, words: impl Iterator<Item = &'w str>) -> Result<(), String> {
        for w in words {
            let (rest, name) = match w.strip_prefix('*') {
                Some(n) => (true, n),
                None => (false, w),
            };
            let Some(ty) = FieldType::from_name(name) else {
                return Err(format!("unknown field type `{name}`"));
            };
            let n = &mut self.nodes[node as usize];
            if rest {
                n.rest = Some(ty);
            } else if n.ty.is_some() {
                return Err(format!("two types (`{}` and `{name}`)", n.ty.unwrap().name()));
            } else {
                n.ty = Some(ty);
            }
        }
        Ok(())
    }
}

/// The field types a rule set reads events with: tables in order, each overriding the ones before.
#[derive(Clone, Debug, Default)]
pub struct FieldTypes {
    tables: Vec<Arc<TypeTable>>,
}

impl FieldTypes {
    /// Tables, lowest first.
    pub fn new(tables: Vec<Arc<TypeTable>>) -> FieldTypes {
        FieldTypes { tables }
    }

    /// The type and `null_value` of a field: from the last table that gives each.
    pub fn resolve(&self, path: &str) -> Resolved {
        let mut out = Resolved::default();
        for t in self.tables.iter().rev() {
            let r = t.lookup(path);
            out.ty = out.ty.or(r.ty);
            out.null_value = out.null_value.or(r.null_value);
            if out.ty.is_some() && out.null_value.is_some() {
                break;
            }
        }
        out
    }

    /// The fields of every table whose name matches a pattern with `*` (any run of characters).
    pub fn matching(&self, pattern: &str) -> Vec<String> {
        let mut out = Vec::new();
        for t in &self.tables {
            t.matching(pattern, &mut out);
        }
        out
    }

    /// The tables, lowest first.
    pub fn tables(&self) -> &[Arc<TypeTable>] {
        &self.tables
    }

    /// Whether there is no table (every value reads as JSON).
    pub fn is_empty(&self) -> bool {
        self.tables.is_empty()
    }
}

/// Whether `s` is the pieces of a `*` pattern with anything between them.
fn glob(pieces: &[&str], s: &str) -> bool {
    let (first, last) = (pieces[0], pieces[pieces.len() - 1]);
    if pieces.len() == 1 {
        return s == first;
    }
    if !s.starts_with(first) || s.len() < first.len() + last.len() || !s.ends_with(last) {
        return false;
    }
    let mut rest = &s[first.len()..s.len() - last.len()];
    for p in &pieces[1..pieces.len() - 1] {
        match rest.find(p) {
            Some(i) => rest = &rest[i + p.len()..],
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(ty: &str, v: Value<'static>) -> Read<'static> {
        FieldType::from_name(ty).unwrap().read(v)
    }

    fn s(x: &str) -> Value<'static> {
        Value::Str(Cow::Owned(x.to_string()))
    }

    #[test]
    fn keyword_fields_read_numbers_and_booleans_as_their_text() {
        for ty in ["keyword", "constant_keyword", "wildcard", "match_only_text", "version"] {
            assert_eq!(read(ty, Value::Int(0)), Read::Value(s("0")));
            assert_eq!(read(ty, Value::Int(-42)), Read::Value(s("-42")));
            assert_eq!(read(ty, Value::Float(1.0)), Read::Value(s("1.0")));
            assert_eq!(read(ty, Value::Float(1.5)), Read::Value(s("1.5")));
            assert_eq!(read(ty, Value::Bool(true)), Read::Value(s("true")));
            assert_eq!(read(ty, s("root")), Read::Value(s("root")));
        }
        assert_eq!(float_text(1e21), "1.0E21");
        assert_eq!(float_text(0.1), "0.1");
        assert_eq!(float_text(-0.0), "-0.0");
    }

    #[test]
    fn numeric_fields_coerce_numeric_strings_and_drop_others() {
        assert_eq!(read("long", s("10250")), Read::Value(Value::Int(10250)));
        assert_eq!(read("long", s("-7")), Read::Value(Value::Int(-7)));
        assert_eq!(read("long", s("+7")), Read::Value(Value::Int(7)));
        // coerce truncates fractions, as Elasticsearch does for integer types.
        assert_eq!(read("long", s("1.9")), Read::Value(Value::Int(1)));
        assert_eq!(read("long", Value::Float(-1.9)), Read::Value(Value::Int(-1)));
        assert_eq!(read("long", s("1e3")), Read::Value(Value::Int(1000)));
        assert_eq!(read("long", s("9007199254740993")), Read::Value(Value::Int(9_007_199_254_740_993)));
        assert_eq!(read("long", s("")), Read::Null);
        for bad in ["abc", "0x10", " 1", "1 ", "NaN", "inf", "1e", ".", "-", "1.2.3"] {
            assert_eq!(read("long", s(bad)), Read::Malformed, "{bad}");
            assert_eq!(read("double", s(bad)), Read::Malformed, "{bad}");
        }
        assert_eq!(read("long", Value::Bool(true)), Read::Malformed);
        // Out of the type's range: refused.
        assert_eq!(read("integer", Value::Int(1 << 40)), Read::Malformed);
        assert_eq!(read("byte", s("128")), Read::Malformed);
        assert_eq!(read("short", s("-32768")), Read::Value(Value::Int(-32768)));
        assert_eq!(read("unsigned_long", Value::Int(-1)), Read::Malformed);
        assert_eq!(read("long", s("99999999999999999999")), Read::Malformed);
        assert_eq!(read("double", s("1.5")), Read::Value(Value::Float(1.5)));
        assert_eq!(read("float", Value::Int(3)), Read::Value(Value::Float(3.0)));
        assert_eq!(read("scaled_float", s("-2e-3")), Read::Value(Value::Float(-0.002)));
    }

    #[test]
    fn booleans_ips_and_dates_read_as_elasticsearch_indexes_them() {
        assert_eq!(read("boolean", s("true")), Read::Value(Value::Bool(true)));
        assert_eq!(read("boolean", s("false")), Read::Value(Value::Bool(false)));
        assert_eq!(read("boolean", s("")), Read::Value(Value::Bool(false)));
        assert_eq!(read("boolean", s("yes")), Read::Malformed);
        assert_eq!(read("boolean", Value::Int(1)), Read::Malformed);
        assert_eq!(read("ip", s("10.0.0.1")), Read::Value(s("10.0.0.1")));
        assert_eq!(read("ip", s("::ffff:10.0.0.1")), Read::Value(s("10.0.0.1")));
        assert_eq!(read("ip", s("2001:DB8:0:0:0:0:0:1")), Read::Value(s("2001:db8::1")));
        for bad in ["010.0.0.1", "10.0.0.256", "10.0.0.1:80", "example.com", ""] {
            assert_eq!(read("ip", s(bad)), Read::Malformed, "{bad}");
        }
        assert_eq!(read("ip", Value::Int(167772161)), Read::Malformed);
        assert_eq!(read("date", s("2026-08-20T02:00:00.000Z")), Read::Value(s("2026-08-20T02:00:00.000Z")));
        assert_eq!(read("date", Value::Int(1_700_000_000_000)), Read::Value(Value::Int(1_700_000_000_000)));
        assert_eq!(read("date", s("yesterday")), Read::Value(s("yesterday")));
        assert_eq!(read("date", Value::Bool(true)), Read::Malformed);
        assert_eq!(read("geo_point", s("41.12,-71.34")), Read::Value(s("41.12,-71.34")));
    }

    #[test]
    fn the_ecs_table_types_ecs_fields() {
        let t = TypeTable::ecs();
        assert!(t.version().is_some_and(|v| v.starts_with(char::is_numeric)));
        assert!(t.len() > 2500, "{}", t.len());
        let ty = |p: &str| t.lookup(p).ty;
        assert_eq!(ty("user.id"), Some(FieldType::Keyword));
        assert_eq!(ty("process.parent.user.id"), Some(FieldType::Keyword));
        assert_eq!(ty("destination.port"), Some(FieldType::Long));
        assert_eq!(ty("source.ip"), Some(FieldType::Ip));
        assert_eq!(ty("@timestamp"), Some(FieldType::Date));
        assert_eq!(ty("process.command_line"), Some(FieldType::Wildcard));
        assert_eq!(ty("process.command_line.text"), Some(FieldType::MatchOnlyText));
        assert_eq!(ty("process.interactive"), Some(FieldType::Boolean));
        assert_eq!(ty("threat.enrichments.indicator.file.pe.imphash"), Some(FieldType::Keyword));
        // Sub-fields of objects with an object_type, and of flattened fields.
        assert_eq!(ty("labels.env"), Some(FieldType::Keyword));
        assert_eq!(ty("container.labels.app"), Some(FieldType::Keyword));
        assert_eq!(ty("dll.pe.imports.name"), Some(FieldType::Keyword));
        // Not ECS.
        assert_eq!(ty("process"), None);
        assert_eq!(ty("user.id.x"), None);
        assert_eq!(ty("process_name"), None);
        assert_eq!(ty("kubernetes.audit.verb"), None);
        assert_eq!(TypeTable::kubernetes_audit().lookup("kubernetes.audit.verb").ty, Some(FieldType::Keyword));
        assert_eq!(
            TypeTable::kubernetes_audit()
                .lookup("kubernetes.audit.user.extra.authentication.kubernetes.io/pod-name")
                .ty,
            Some(FieldType::Keyword)
        );
    }

    #[test]
    fn tables_parse_with_sets_and_report_errors_by_line() {
        let t = TypeTable::parse(
            "#! version 1.2\n[geo]\n location geo_point\n name keyword\nhost\n geo =geo\n ip ip\n a.b long\nx.* keyword\n",
        );
        assert_eq!(t.unwrap_err(), "line 9: `x.*` is not a field name");
        let t = TypeTable::parse(
            "#! version 1.2\n[geo]\n location geo_point\n name keyword\nhost\n geo =geo\n ip ip\n a.b long\nlabels object *keyword\nsource.geo =geo\n",
        )
        .unwrap();
        assert_eq!(t.version(), Some("1.2"));
        assert_eq!(t.lookup("host.geo.name").ty, Some(FieldType::Keyword));
        assert_eq!(t.lookup("source.geo.location").ty, Some(FieldType::GeoPoint));
        assert_eq!(t.lookup("host.a.b").ty, Some(FieldType::Long));
        assert_eq!(t.lookup("labels.x.y").ty, Some(FieldType::Keyword));
        assert_eq!(t.lookup("geo.name").ty, None);
        for (bad, msg) in [
            ("a kewyord", "line 1: unknown field type `kewyord`"),
            (" a keyword", "line 1: an indented line needs a field above it"),
            ("a =nope", "line 1: no set `nope` is defined above this line"),
            ("a\tkeyword", "line 1: tabs are not allowed; indent with spaces and separate with spaces"),
            ("a keyword long", "line 1: two types (`keyword` and `long`)"),
            ("[s]\n x long\n[s]", "line 3: the set `s` is defined twice"),
            ("[s]\n x long\na =s\n y long", "line 4: a field given a set (`=name`) takes its sub-fields from the set"),
            ("[s]\n x long\na =s\na.x.y long", "line 4: `a` takes its sub-fields from a set"),
        ] {
            assert_eq!(TypeTable::parse(bad).unwrap_err(), msg);
        }
    }

    #[test]
    fn later_tables_override_earlier_ones() {
        let mut mapping = TypeTable::default();
        mapping.insert("user.id", Some(FieldType::Long), None);
        mapping.insert("custom.flag", Some(FieldType::Boolean), Some(Value::Bool(false)));
        let types = FieldTypes::new(vec![TypeTable::ecs().clone(), Arc::new(mapping)]);
        assert_eq!(types.resolve("user.id").ty, Some(FieldType::Long));
        assert_eq!(types.resolve("user.name").ty, Some(FieldType::Keyword));
        assert_eq!(
            types.resolve("custom.flag"),
            Resolved { ty: Some(FieldType::Boolean), null_value: Some(Value::Bool(false)) }
        );
        assert_eq!(types.resolve("custom.other"), Resolved::default());
    }
}
