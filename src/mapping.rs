//! The parts of an Elasticsearch index mapping that change how events are read or compared:
//! `null_value` (what an explicit `null` stands for) and the `version` field type. eqlite is
//! schemaless otherwise; a mapping is optional.

pub use crate::event::FieldKind;
use crate::event::Fields;
use crate::value::Value;
use serde_json::Value as Json;
use std::cmp::Ordering;

/// A field a mapping treats specially.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MappedField {
    /// The dotted field name.
    pub path: String,
    /// How its values compare.
    pub kind: FieldKind,
    /// What an explicit JSON `null` stands for.
    pub null_value: Option<Value<'static>>,
}

/// Reads `{"properties": …}` (or `{"mappings": {"properties": …}}`, or an index-keyed response of
/// the get-mapping API) into the fields that need special treatment.
pub fn from_es_json(text: &str) -> Result<Vec<MappedField>, String> {
    let json: Json = serde_json::from_str(text).map_err(|e| format!("invalid mapping JSON: {e}"))?;
    let mut out = Vec::new();
    let root = json.get("mappings").unwrap_or(&json);
    let props = match root.get("properties") {
        Some(p) => p,
        None => match root.as_object().and_then(|o| o.values().next()).and_then(|idx| idx.get("mappings")) {
            Some(m) => m.get("properties").ok_or("the mapping has no `properties`")?,
            None => return Err("the mapping has no `properties`".into()),
        },
    };
    walk(props, "", &mut out, 0);
    Ok(out)
}

fn walk(props: &Json, prefix: &str, out: &mut Vec<MappedField>, depth: usize) {
    let Some(obj) = props.as_object() else { return };
    if depth > 64 {
        return;
    }
    for (name, def) in obj {
        let path = if prefix.is_empty() { name.clone() } else { format!("{prefix}.{name}") };
        if let Some(sub) = def.get("properties") {
            walk(sub, &path, out, depth + 1);
        }
        let kind = match def.get("type").and_then(Json::as_str) {
            Some("version") => FieldKind::Version,
            _ => FieldKind::Plain,
        };
        let null_value = match def.get("null_value") {
            Some(Json::String(s)) => Some(Value::Str(s.clone().into())),
            Some(Json::Bool(b)) => Some(Value::Bool(*b)),
            Some(Json::Number(n)) => {
                Some(n.as_i64().map_or_else(|| Value::Float(n.as_f64().unwrap_or(0.0)), Value::Int))
            }
            _ => None,
        };
        if kind != FieldKind::Plain || null_value.is_some() {
            out.push(MappedField { path, kind, null_value });
        }
    }
}

/// Applies a mapping to a field table.
pub(crate) fn apply(fields: &mut Fields, mapping: &[MappedField]) {
    for m in mapping {
        fields.set_kind(&m.path, m.kind);
        if let Some(v) = &m.null_value {
            fields.set_null_value(&m.path, v.clone());
        }
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
    fn reads_null_values_and_version_types() {
        let m = from_es_json(r#"{"properties":{"a":{"type":"keyword","null_value":"NULL"},"b":{"properties":{"v":{"type":"version"}}}}}"#).unwrap();
        assert_eq!(m.len(), 2);
        assert_eq!(m[0].null_value, Some(Value::Str("NULL".into())));
        assert_eq!((m[1].path.as_str(), m[1].kind), ("b.v", FieldKind::Version));
    }
}
