//! Reading events. A rule set knows every field its rules mention ([`Fields`], a trie of dotted
//! paths); an event is read by walking its JSON against that trie, keeping only those fields'
//! scalar values and skipping everything else without building it. That is why evaluation can be
//! cheaper than parsing the document into a generic tree.
//!
//! Field resolution follows Elasticsearch: nested objects and dotted keys (`{"process.name": …}`)
//! are the same thing, at any level and in any mix; arrays (also arrays of objects) make a field
//! multi-valued; `null`, `[]` and a missing key are all "no value".
//!
//! Each field is read as its mapped type ([`crate::field_types`]), looked up once when the field is
//! interned: a number in a `keyword` field becomes its text, a numeric string in a `long` field the
//! number, and a value its type refuses is dropped.

use crate::field_types::{FieldType, FieldTypes, Read};
use crate::value::Value;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::borrow::Cow;
use std::fmt;

pub type FieldId = u32;

/// Deepest JSON nesting followed inside an interesting field (serde_json also stops at 128).
const MAX_NESTING: usize = 128;

/// The interned field paths of a rule set.
#[derive(Clone, Debug, Default)]
pub struct Fields {
    names: Vec<String>,
    types: Vec<Option<FieldType>>,
    root: Trie,
    /// Deepest nesting followed inside an interesting field; `None`: [`MAX_NESTING`].
    max_nesting: Option<usize>,
    /// Where the type of a newly interned field comes from; none: every field reads as JSON.
    field_types: std::sync::Arc<FieldTypes>,
}

#[derive(Clone, Debug, Default)]
struct Trie {
    leaf: Option<FieldId>,
    /// The leaf's mapped type: values are read as it.
    ty: Option<FieldType>,
    /// A mapping's `null_value`: what an explicit JSON `null` is read as.
    null_value: Option<Value<'static>>,
    /// Sorted by segment, for binary search.
    children: Vec<(Box<str>, Trie)>,
}

impl Trie {
    /// Every key of every event object goes through here, so it avoids `memcmp` calls: a length
    /// check first, then the bytes, over the few children a node has.
    fn child(&self, seg: &str) -> Option<&Trie> {
        if self.children.len() > 24 {
            return self.children.binary_search_by(|(k, _)| k.as_ref().cmp(seg)).ok().map(|i| &self.children[i].1);
        }
        let s = seg.as_bytes();
        self.children
            .iter()
            .find(|(k, _)| k.len() == s.len() && k.as_bytes().first() == s.first() && k.as_bytes() == s)
            .map(|(_, t)| t)
    }

    /// Follows a key that may itself contain dots.
    fn walk(&self, key: &str) -> Option<&Trie> {
        // Keys are short: a plain loop beats `memchr`'s setup.
        if !key.bytes().any(|b| b == b'.') {
            return self.child(key);
        }
        key.split('.').try_fold(self, |n, seg| n.child(seg))
    }
}

impl Fields {
    /// A field table whose fields are read as the types `field_types` gives them.
    pub fn with_types(field_types: std::sync::Arc<FieldTypes>) -> Fields {
        Fields { field_types, ..Fields::default() }
    }

    /// The id of a path (already split on dots), adding it if new.
    pub fn intern<S: AsRef<str>>(&mut self, path: &[S]) -> FieldId {
        let mut node = &mut self.root;
        for seg in path.iter().flat_map(|s| s.as_ref().split('.')) {
            let i = match node.children.binary_search_by(|(k, _)| k.as_ref().cmp(seg)) {
                Ok(i) => i,
                Err(i) => {
                    node.children.insert(i, (seg.into(), Trie::default()));
                    i
                }
            };
            node = &mut node.children[i].1;
        }
        if let Some(id) = node.leaf {
            return id;
        }
        let name = path.iter().map(|s| s.as_ref()).collect::<Vec<_>>().join(".");
        let resolved = self.field_types.resolve(&name);
        // A `null_value` is read as its field's type too (`"0"` for a `long` is 0).
        let null_value = match (resolved.ty, resolved.null_value) {
            (Some(ty), Some(v)) => match ty.read(v) {
                Read::Value(v) => Some(v),
                _ => None,
            },
            (_, v) => v,
        };
        (node.ty, node.null_value) = (resolved.ty, null_value);
        let id = self.names.len() as FieldId;
        node.leaf = Some(id);
        self.names.push(name);
        self.types.push(resolved.ty);
        id
    }

    /// The mapped type of a field, if it has one.
    pub fn field_type(&self, id: FieldId) -> Option<FieldType> {
        self.types[id as usize]
    }

    /// Bounds the nesting followed inside the fields the rules read (default and most: 128):
    /// reading recurses once per level, which a host with a small stack (WAMR's interpreter) may
    /// need to cap lower. Deeper nesting there makes the event invalid, as beyond 128.
    pub fn set_max_nesting(&mut self, levels: usize) {
        self.max_nesting = Some(levels.min(MAX_NESTING));
    }

    /// The field types this table reads with.
    pub fn field_types(&self) -> &FieldTypes {
        &self.field_types
    }

    pub fn intern_dotted(&mut self, dotted: &str) -> FieldId {
        self.intern(&[dotted])
    }

    pub fn lookup(&self, dotted: &str) -> Option<FieldId> {
        self.root.walk(dotted).and_then(|n| n.leaf)
    }

    pub fn name(&self, id: FieldId) -> &str {
        &self.names[id as usize]
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// Reads one event from any serde deserializer (serde_json text, a `serde_json::Value`, a
    /// JavaScript object through serde-wasm-bindgen, …). An Elasticsearch hit
    /// (`{"_index": …, "_source": {…}}`) is unwrapped to its `_source`.
    pub fn read<'de, D: Deserializer<'de>>(&self, d: D) -> Result<Event<'de>, D::Error> {
        // Enough for the fields of typical rules without regrowing.
        let mut out = Vec::with_capacity(32);
        let limit = self.max_nesting.unwrap_or(MAX_NESTING);
        Seed { node: &self.root, out: &mut out, depth: 0, limit, root: true }.deserialize(d)?;
        Ok(Event::from_entries(out))
    }

    /// Reads one event from JSON text, borrowing its strings where they have no escapes.
    ///
    /// A lone UTF-16 surrogate escape (`"\ud800"`, as `JSON.stringify` writes a JavaScript string
    /// holding one, or a Windows file name that is not valid UTF-16) is read as U+FFFD, the
    /// replacement character, as a browser's `TextEncoder` does; serde_json refuses it, and an
    /// attacker could otherwise hide an event by putting one in a field a rule reads.
    pub fn read_json<'a>(&self, json: &'a str) -> Result<Event<'a>, serde_json::Error> {
        self.read_text(json).or_else(|e| match without_lone_surrogates(json) {
            Some(fixed) => self.read_text(&fixed).map(Event::into_owned),
            None => Err(e),
        })
    }

    fn read_text<'a>(&self, json: &'a str) -> Result<Event<'a>, serde_json::Error> {
        let mut d = serde_json::Deserializer::from_str(json);
        let ev = self.read(&mut d)?;
        d.end()?;
        Ok(ev)
    }
}

/// `json` with each lone UTF-16 surrogate escape in its strings replaced by `\ufffd`; `None` when
/// it has none. The replacement has the same length, so error positions stay true.
fn without_lone_surrogates(json: &str) -> Option<String> {
    let b = json.as_bytes();
    let unit = |i: usize| -> Option<u16> {
        let h = b.get(i..i + 6)?;
        if h[0] != b'\\' || h[1] != b'u' || !h[2..].iter().all(u8::is_ascii_hexdigit) {
            return None;
        }
        u16::from_str_radix(std::str::from_utf8(&h[2..]).ok()?, 16).ok()
    };
    let mut out: Option<Vec<u8>> = None;
    let (mut i, mut in_string) = (0, false);
    while i < b.len() {
        match b[i] {
            b'"' => in_string = !in_string,
            b'\\' if in_string => match unit(i) {
                Some(0xD800..=0xDBFF) if unit(i + 6).is_some_and(|u| (0xDC00..=0xDFFF).contains(&u)) => i += 11,
                Some(0xD800..=0xDFFF) => {
                    out.get_or_insert_with(|| b.to_vec())[i..i + 6].copy_from_slice(b"\\ufffd");
                    i += 5;
                }
                // Any other escape: skip the escaped character (it may be a quote).
                _ => i += 1,
            },
            _ => {}
        }
        i += 1;
    }
    // ASCII replaced by ASCII: still UTF-8.
    out.map(|v| String::from_utf8(v).expect("UTF-8"))
}

/// The values of the fields a rule set needs, read from one event.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Event<'a> {
    /// Grouped by field: the values of field `f` are `values[start[f]..start[f + 1]]`.
    values: Vec<Value<'a>>,
    start: Vec<u32>,
}

impl<'a> Event<'a> {
    /// Groups values by field with a counting sort (stable, so array order is kept).
    fn from_entries(entries: Vec<(FieldId, Value<'a>)>) -> Event<'a> {
        let n = entries.iter().map(|e| e.0 as usize + 1).max().unwrap_or(0);
        let mut start = vec![0u32; n + 1];
        for (f, _) in &entries {
            start[*f as usize + 1] += 1;
        }
        for i in 0..n {
            start[i + 1] += start[i];
        }
        let mut slot = start.clone();
        let mut values: Vec<Value<'a>> = vec![Value::Null; entries.len()];
        for (f, v) in entries {
            values[slot[f as usize] as usize] = v;
            slot[f as usize] += 1;
        }
        Event { values, start }
    }

    /// An event built by hand, mostly for tests.
    pub fn from_pairs(fields: &mut Fields, pairs: Vec<(&str, Value<'a>)>) -> Event<'a> {
        Event::from_entries(pairs.into_iter().map(|(k, v)| (fields.intern_dotted(k), v)).collect())
    }

    /// All values of a field; empty when the field is missing, null or `[]`.
    pub fn get(&self, f: FieldId) -> &[Value<'a>] {
        match (self.start.get(f as usize), self.start.get(f as usize + 1)) {
            (Some(&a), Some(&b)) => &self.values[a as usize..b as usize],
            _ => &[],
        }
    }

    /// The event, owning its strings.
    pub fn into_owned(self) -> Event<'static> {
        Event { start: self.start, values: self.values.into_iter().map(Value::into_owned).collect() }
    }

    /// `(field, values)` pairs of the fields present, for displays.
    pub fn fields(&self) -> impl Iterator<Item = (FieldId, &[Value<'a>])> {
        (0..self.start.len().saturating_sub(1) as FieldId).map(|f| (f, self.get(f))).filter(|(_, v)| !v.is_empty())
    }
}

struct Seed<'t, 'o, 'de> {
    node: &'t Trie,
    out: &'o mut Vec<(FieldId, Value<'de>)>,
    depth: usize,
    limit: usize,
    root: bool,
}

impl<'de> Seed<'_, '_, 'de> {
    fn push(&mut self, v: Value<'de>) {
        let Some(id) = self.node.leaf else { return };
        let v = match self.node.ty {
            None => v,
            Some(ty) => match ty.read(v) {
                Read::Value(v) => v,
                Read::Null => return self.push_null(),
                Read::Malformed => return,
            },
        };
        self.out.push((id, v));
    }

    fn push_null(&mut self) {
        if let (Some(id), Some(v)) = (self.node.leaf, &self.node.null_value) {
            self.out.push((id, v.clone()));
        }
    }

    fn scalar<E: de::Error>(mut self, v: Value<'de>) -> Result<(), E> {
        if self.root {
            return Err(E::custom("an event must be a JSON object"));
        }
        self.push(v);
        Ok(())
    }
}

impl<'de> DeserializeSeed<'de> for Seed<'_, '_, 'de> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        if self.node.leaf.is_none() && self.node.children.is_empty() {
            d.deserialize_ignored_any(IgnoredAny)?;
            return Ok(());
        }
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Seed<'_, '_, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<(), E> {
        self.scalar(Value::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<(), E> {
        self.scalar(Value::Int(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<(), E> {
        match i64::try_from(v) {
            Ok(i) => self.scalar(Value::Int(i)),
            // Beyond i64, a string field still gets every digit.
            Err(_) if self.node.ty.is_some_and(FieldType::is_string) => {
                self.scalar(Value::Str(Cow::Owned(v.to_string())))
            }
            Err(_) => self.scalar(Value::Float(v as f64)),
        }
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<(), E> {
        self.scalar(Value::Float(v))
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<(), E> {
        self.scalar(Value::Str(Cow::Borrowed(v)))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        self.scalar(Value::Str(Cow::Owned(v.to_owned())))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<(), E> {
        self.scalar(Value::Str(Cow::Owned(v)))
    }
    fn visit_unit<E: de::Error>(mut self) -> Result<(), E> {
        if self.root {
            return Err(E::custom("an event must be a JSON object, not null"));
        }
        self.push_null();
        Ok(())
    }
    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        self.visit_unit()
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        if self.root {
            return Err(de::Error::custom("an event must be a JSON object, not an array"));
        }
        if self.depth >= self.limit {
            return Err(de::Error::custom(format_args!("JSON nested more than {} levels deep", self.limit)));
        }
        while seq
            .next_element_seed(Seed {
                node: self.node,
                out: &mut *self.out,
                depth: self.depth + 1,
                limit: self.limit,
                root: false,
            })?
            .is_some()
        {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        if self.depth >= self.limit {
            return Err(de::Error::custom(format_args!("JSON nested more than {} levels deep", self.limit)));
        }
        let mut unwrapped = false;
        while let Some(key) = map.next_key_seed(KeySeed)? {
            if unwrapped {
                map.next_value::<IgnoredAny>()?;
                continue;
            }
            if self.root && key == "_source" {
                // An Elasticsearch hit: the event is `_source`, whatever came before it.
                self.out.clear();
                map.next_value_seed(Seed {
                    node: self.node,
                    out: &mut *self.out,
                    depth: self.depth + 1,
                    limit: self.limit,
                    root: false,
                })?;
                unwrapped = true;
                continue;
            }
            match self.node.walk(&key) {
                Some(child) => map.next_value_seed(Seed {
                    node: child,
                    out: &mut *self.out,
                    depth: self.depth + 1,
                    limit: self.limit,
                    root: false,
                })?,
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

/// Object keys, borrowed from the input when possible.
struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Cow<'de, str>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Cow<'de, str>, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed {
    type Value = Cow<'de, str>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object key")
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(paths: &[&str]) -> Fields {
        let mut f = Fields::default();
        for p in paths {
            f.intern_dotted(p);
        }
        f
    }

    fn strs(ev: &Event, f: &Fields, name: &str) -> Vec<String> {
        ev.get(f.lookup(name).unwrap()).iter().map(|v| v.to_string()).collect()
    }

    #[test]
    fn nested_dotted_and_mixed_keys_resolve_alike() {
        let f = fields(&["process.name", "user.extra.authentication.kubernetes.io/pod-name", "a.b.c"]);
        let ev = f
            .read_json(
                r#"{"process.name":"curl","user":{"extra":{"authentication.kubernetes.io/pod-name":["p1"]}},
                    "a":{"b.c":1},"a.b":{"c":2},"other":{"deep":[1,2,3]}}"#,
            )
            .unwrap();
        assert_eq!(strs(&ev, &f, "process.name"), ["\"curl\""]);
        assert_eq!(strs(&ev, &f, "user.extra.authentication.kubernetes.io/pod-name"), ["\"p1\""]);
        assert_eq!(strs(&ev, &f, "a.b.c"), ["1", "2"]);
    }

    #[test]
    fn arrays_flatten_and_nulls_vanish() {
        let f = fields(&["args", "o.x", "n"]);
        let ev = f.read_json(r#"{"args":["a",null,["b"]],"o":[{"x":1},{"x":[2,3]},{"y":4}],"n":null}"#).unwrap();
        assert_eq!(strs(&ev, &f, "args"), ["\"a\"", "\"b\""]);
        assert_eq!(strs(&ev, &f, "o.x"), ["1", "2", "3"]);
        assert!(ev.get(f.lookup("n").unwrap()).is_empty());
    }

    #[test]
    fn search_hits_unwrap_source() {
        let f = fields(&["process.name", "_id"]);
        let ev = f.read_json(r#"{"_index":"x","_id":"1","_source":{"process":{"name":"sh"}},"sort":[1]}"#).unwrap();
        assert_eq!(strs(&ev, &f, "process.name"), ["\"sh\""]);
        assert!(ev.get(f.lookup("_id").unwrap()).is_empty());
    }

    #[test]
    fn only_objects_are_events() {
        let f = fields(&["a"]);
        for bad in ["null", "1", "\"x\"", "[{\"a\":1}]", "true"] {
            assert!(f.read_json(bad).is_err(), "{bad}");
        }
        assert!(f.read_json("{}").is_ok());
    }

    #[test]
    fn lone_surrogate_escapes_read_as_the_replacement_character() {
        let f = fields(&["a", "b", "k\u{fffd}"]);
        let ev =
            f.read_json(r#"{"a":["x\ud800y","\udc00","\ud83d\ude00","\\ud800"],"b":"\"\ud800","k\udbff":1}"#).unwrap();
        assert_eq!(strs(&ev, &f, "a"), ["\"x\u{fffd}y\"", "\"\u{fffd}\"", "\"😀\"", r#""\\ud800""#]);
        assert_eq!(strs(&ev, &f, "b"), ["\"\\\"\u{fffd}\""]);
        assert_eq!(strs(&ev, &f, "k\u{fffd}"), ["1"]);
        // Other errors stay errors, at the same position.
        let e = f.read_json(r#"{"a":"\ud800","b":tru}"#).unwrap_err();
        assert_eq!((e.line(), e.column()), (1, 22));
        assert!(without_lone_surrogates(r#"{"a":"\ud83d\ude00 \u0041"}"#).is_none());
    }

    #[test]
    fn the_nesting_limit_can_be_lowered() {
        let mut f = fields(&["a", "b"]);
        let rec = r#"{"a":[[["x"]]],"b":1,"c":[[[[[[1]]]]]]}"#;
        assert!(f.read_json(rec).is_ok());
        f.set_max_nesting(4);
        assert_eq!(strs(&f.read_json(rec).unwrap(), &f, "a"), ["\"x\""], "unread fields do not count");
        f.set_max_nesting(3);
        assert!(f.read_json(rec).unwrap_err().to_string().contains("nested more than 3 levels"));
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let f = fields(&["a"]);
        let deep = format!("{{\"a\":{}1{}}}", "[".repeat(10_000), "]".repeat(10_000));
        assert!(f.read_json(&deep).is_err());
    }
}
