//! The parts of an Elasticsearch index mapping that change how events are read or compared: each
//! field's type (values are read as it, see [`FieldType`]; `version` also orders
//! semantically) and `null_value` (what an explicit `null` stands for). A mapping extends and
//! overrides the default ECS types.

use crate::field_types::{FieldType, TypeTable};
use crate::value::Value;
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::borrow::Cow;
use std::cmp::Ordering;
use std::fmt;

/// A field of a mapping.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MappedField {
    /// The dotted field name.
    pub path: String,
    /// Its type; `None` for types eqlite does not read differently from JSON (and `alias`).
    pub ty: Option<FieldType>,
    /// What an explicit JSON `null` stands for.
    pub null_value: Option<Value<'static>>,
}

/// The fields of a mapping as a type table, to stack over the default ones.
pub fn to_table(mapping: &[MappedField]) -> TypeTable {
    let mut t = TypeTable::default();
    for m in mapping {
        t.insert(&m.path, m.ty, m.null_value.clone());
    }
    t
}

/// Reads `{"properties": …}` (or `{"mappings": {"properties": …}}`, or an index-keyed response of
/// the get-mapping API) into its fields (multi-fields such as `name.keyword` included), in the
/// order of the text, sub-fields before their parent.
pub fn from_es_json(text: &str) -> Result<Vec<MappedField>, String> {
    let mut out = Vec::new();
    let mut d = serde_json::Deserializer::from_str(text);
    // Streamed rather than built as a `serde_json::Value`: that costs the npm package 2 KB.
    let found = Root { out: &mut out, depth: 0 }.deserialize(&mut d).and_then(|f| d.end().map(|_| f));
    match found.map_err(|e| format!("invalid mapping JSON: {e}"))? {
        true => Ok(out),
        false => Err("the mapping has no `properties`".into()),
    }
}

/// The document or a part of it that may hold `properties`: `mappings`, or an index name's value.
struct Root<'o> {
    out: &'o mut Vec<MappedField>,
    depth: usize,
}

/// A `properties` (or multi-field `fields`) object: field name → definition.
struct Props<'o, 'p> {
    out: &'o mut Vec<MappedField>,
    prefix: &'p str,
}

/// One field's definition.
struct Def<'o> {
    out: &'o mut Vec<MappedField>,
    path: String,
}

/// A `null_value`: a scalar, or nothing.
struct NullValue;

impl<'de> DeserializeSeed<'de> for Root<'_> {
    type Value = bool;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Root<'_> {
    type Value = bool;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a mapping")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
        let mut found = false;
        while let Some(key) = map.next_key::<Cow<str>>()? {
            if key == "properties" && !found {
                map.next_value_seed(Props { out: &mut *self.out, prefix: "" })?;
                found = true;
            } else if !found && self.depth < 2 && (key == "mappings" || self.depth == 0) {
                // `{"mappings": …}`, or `{"index-name": {"mappings": …}}`: the first index's.
                found = map.next_value_seed(Root { out: &mut *self.out, depth: self.depth + 1 })?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(found)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<bool, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(false)
    }
    fn visit_bool<E>(self, _: bool) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_i64<E>(self, _: i64) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_u64<E>(self, _: u64) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_f64<E>(self, _: f64) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_str<E>(self, _: &str) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_unit<E>(self) -> Result<bool, E> {
        Ok(false)
    }
}

impl<'de> DeserializeSeed<'de> for Props<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Props<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object of field definitions")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(name) = map.next_key::<Cow<str>>()? {
            let path = if self.prefix.is_empty() { name.into_owned() } else { format!("{}.{name}", self.prefix) };
            map.next_value_seed(Def { out: &mut *self.out, path })?;
        }
        Ok(())
    }
}

impl<'de> DeserializeSeed<'de> for Def<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Def<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a field definition object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let (mut ty, mut null_value) = (None, None);
        while let Some(key) = map.next_key::<Cow<str>>()? {
            match key.as_ref() {
                "type" => ty = FieldType::from_name(&map.next_value::<Cow<str>>()?),
                "null_value" => null_value = map.next_value_seed(NullValue)?,
                // Multi-fields (`fields`) read the same value, as their own type.
                "properties" | "fields" => map.next_value_seed(Props { out: &mut *self.out, prefix: &self.path })?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        if ty.is_some() || null_value.is_some() {
            self.out.push(MappedField { path: self.path, ty, null_value });
        }
        Ok(())
    }
}

impl<'de> DeserializeSeed<'de> for NullValue {
    type Value = Option<Value<'static>>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for NullValue {
    type Value = Option<Value<'static>>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a null_value")
    }
    fn visit_bool<E>(self, b: bool) -> Result<Self::Value, E> {
        Ok(Some(Value::Bool(b)))
    }
    fn visit_i64<E>(self, i: i64) -> Result<Self::Value, E> {
        Ok(Some(Value::Int(i)))
    }
    fn visit_u64<E>(self, u: u64) -> Result<Self::Value, E> {
        Ok(Some(i64::try_from(u).map_or(Value::Float(u as f64), Value::Int)))
    }
    fn visit_f64<E>(self, f: f64) -> Result<Self::Value, E> {
        Ok(Some(Value::Float(f)))
    }
    fn visit_str<E>(self, s: &str) -> Result<Self::Value, E> {
        Ok(Some(Value::Str(Cow::Owned(s.to_string()))))
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(None)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(None)
    }
}

/// Ordering of the `version` type: numeric dot-separated parts, a pre-release before its
/// release, and versions that are not valid after all valid ones (compared as text).
pub fn compare_versions(a: &str, b: &str) -> Ordering {
    match (parse_version(a), parse_version(b)) {
        (Some(x), Some(y)) => x.0.cmp(&y.0).then_with(|| match (&x.1, &y.1) {
            (None, None) => Ordering::Equal,
            (None, Some(_)) => Ordering::Greater,
            (Some(_), None) => Ordering::Less,
            (Some(p), Some(q)) => compare_prerelease(p, q),
        }),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => a.cmp(b),
    }
}

type Version<'a> = (Vec<u64>, Option<&'a str>);

fn parse_version(s: &str) -> Option<Version<'_>> {
    let s = s.split_once('+').map_or(s, |(v, _)| v);
    let (main, pre) = match s.split_once('-') {
        Some((m, p)) if !p.is_empty() => (m, Some(p)),
        Some(_) => return None,
        None => (s, None),
    };
    let parts: Option<Vec<u64>> = main.split('.').map(|p| if p.is_empty() { None } else { p.parse().ok() }).collect();
    parts.filter(|p| !p.is_empty()).map(|p| (p, pre))
}

fn compare_prerelease(a: &str, b: &str) -> Ordering {
    for (x, y) in a.split('.').zip(b.split('.')) {
        let o = match (x.parse::<u64>(), y.parse::<u64>()) {
            (Ok(m), Ok(n)) => m.cmp(&n),
            (Ok(_), Err(_)) => Ordering::Less,
            (Err(_), Ok(_)) => Ordering::Greater,
            _ => x.cmp(y),
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    a.split('.').count().cmp(&b.split('.').count())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_order_semantically() {
        assert_eq!(compare_versions("1.11.3", "1.5.0"), Ordering::Greater);
        assert_eq!(compare_versions("1.2.4-SNAPSHOT", "1.2.4"), Ordering::Less);
        assert_eq!(compare_versions("bad", "99.0.0"), Ordering::Greater);
        assert_eq!(compare_versions("1.0.0-alpha.1", "1.0.0-alpha.beta"), Ordering::Less);
    }

    #[test]
    fn reads_types_null_values_and_multi_fields() {
        let m = from_es_json(
            r#"{"properties":{"a":{"type":"keyword","null_value":"NULL"},"b":{"properties":{"v":{"type":"version"},
                "n":{"type":"text","fields":{"keyword":{"type":"keyword"}}},"e":{"type":"alias","path":"a"}}}}}"#,
        )
        .unwrap();
        let got: Vec<(&str, Option<FieldType>)> = m.iter().map(|f| (f.path.as_str(), f.ty)).collect();
        assert_eq!(
            got,
            [
                ("a", Some(FieldType::Keyword)),
                ("b.v", Some(FieldType::Version)),
                ("b.n.keyword", Some(FieldType::Keyword)),
                ("b.n", Some(FieldType::Text)),
            ]
        );
        assert_eq!(m[0].null_value, Some(Value::Str("NULL".into())));
        // The shapes of the get-mapping API and of an index-creation body; errors.
        for wrapped in [
            r#"{"logs-1":{"mappings":{"properties":{"a":{"type":"long"}}}}}"#,
            r#"{"settings":{"number_of_shards":1},"mappings":{"dynamic":false,"properties":{"a":{"type":"long"}}}}"#,
        ] {
            assert_eq!(
                from_es_json(wrapped).unwrap()[0],
                MappedField { path: "a".into(), ty: Some(FieldType::Long), null_value: None }
            );
        }
        assert_eq!(from_es_json(r#"{"mappings":{}}"#).unwrap_err(), "the mapping has no `properties`");
        assert!(from_es_json(r#"{"properties":{"a":{"type":"long"}}"#)
            .unwrap_err()
            .starts_with("invalid mapping JSON: EOF"));
        // Nesting is bounded by serde_json's recursion limit (128), with an error.
        let deep = format!(
            r#"{{"properties":{}{{"b":{{"type":"long"}}}}{}}}"#,
            r#"{"a":{"properties":"#.repeat(70),
            "}}".repeat(70)
        );
        assert!(from_es_json(&deep).unwrap_err().contains("recursion limit exceeded"));
        let shallow = deep.replacen(r#"{"a":{"properties":"#, "", 66).replacen("}}", "", 66);
        assert_eq!(from_es_json(&shallow).unwrap()[0].path, "a.a.a.a.b");
        let t = to_table(&m);
        assert_eq!(t.lookup("b.n.keyword").ty, Some(FieldType::Keyword));
        assert_eq!(t.lookup("a").null_value, Some(Value::Str("NULL".into())));
    }
}
