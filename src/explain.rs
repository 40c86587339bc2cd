//! Why a rule fired or did not: one node per clause of the query, each with its source text and
//! span, its three-valued result, the values it looked at and the value (and pattern) that
//! decided it. Every clause is evaluated (no short-circuit), so the tree is complete. The hot path
//! never builds this; it is computed on demand with the same predicate functions as matching.

use crate::ast::{CompareOp, MatchOp};
use crate::event::{Event, FieldId, Fields};
use crate::matcher::eval::{self, Junction, Scratch};
use crate::matcher::lucene;
use crate::matcher::node::{EventMatcher, Node, NodeKind};
use crate::matcher::wildcard::{fold, WildcardSet};
use crate::span::{Location, SourceMap, Span};
use crate::value::Value;
use serde::Serialize;

/// At most this many values of one operand are listed.
const MAX_VALUES: usize = 32;

/// One clause of a query and how it evaluated on one event, with its operands below it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Explanation {
    /// The clause's source text.
    pub text: String,
    /// Where it is in the query, in bytes and UTF-16 units.
    pub span: Location,
    /// `query`, `category`, `and`, `or`, `not`, `compare`, `in`, `match`, `exists` or `value`.
    pub kind: &'static str,
    /// Three-valued: `None` when a value was missing or types did not compare.
    pub result: Option<bool>,
    /// The field tested, when the operand is a plain field.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// The operand's values (capped at 32; `values_total` says how many there were).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<Value<'static>>,
    /// How many values there were, when more than were listed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub values_total: Option<usize>,
    /// The value, and the pattern or literal, that decided the outcome.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decided_by: Option<Decision>,
    /// When the clause fails only by case: the event's spelling (`value`) and the rule's
    /// (`pattern`); `reason` names the operator that would match.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub case_only: Option<Decision>,
    /// On a stage's `query` node: the event matches a missing-event stage (`![…]`) or `until`,
    /// so it prevents the sequence rather than advancing it.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub prevents: bool,
    /// One sentence for people.
    pub reason: String,
    /// The operands of `and`, `or`, `not`; the category and condition of a query.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<Explanation>,
}

/// The value that decided a clause, and the pattern or literal it met.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Decision {
    /// The event's value.
    pub value: Value<'static>,
    /// The pattern, list entry or operand it was compared with.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pattern: Option<Value<'static>>,
}

impl Explanation {
    /// The first clause, depth first, whose result is not `true` and that has no failing child:
    /// the "near miss" an analyst wants to see first.
    pub fn first_failure(&self) -> Option<&Explanation> {
        if self.result == Some(true) {
            return None;
        }
        self.children.iter().find_map(|c| c.first_failure()).or(Some(self))
    }
}

pub struct Explainer<'a> {
    pub src: &'a str,
    pub map: SourceMap<'a>,
    pub fields: &'a Fields,
}

fn tri(r: Option<bool>) -> &'static str {
    match r {
        Some(true) => "true",
        Some(false) => "false",
        None => "null",
    }
}

impl<'a> Explainer<'a> {
    pub fn new(src: &'a str, fields: &'a Fields) -> Explainer<'a> {
        Explainer { src, map: SourceMap::new(src), fields }
    }

    fn node(&self, span: Span, kind: &'static str, result: Option<bool>, reason: String) -> Explanation {
        Explanation {
            text: span.text(self.src).to_string(),
            span: self.map.location(span),
            kind,
            result,
            field: None,
            values: vec![],
            values_total: None,
            decided_by: None,
            case_only: None,
            prevents: false,
            reason,
            children: vec![],
        }
    }

    /// The explanation of `category where condition` for one event.
    pub fn event_query(&self, m: &EventMatcher, ev: &Event, category_field: FieldId) -> Explanation {
        let cx = &mut Scratch::default();
        let cat_ok = eval::category_matches(m, ev, category_field);
        let cond = self.expr(&m.condition, ev, cx);
        let result = if cat_ok { cond.result } else { Some(false) };
        let mut root = self.node(m.span, "query", result, String::new());
        root.reason = match (cat_ok, cond.result) {
            (false, _) => "the event is not of this category".into(),
            (true, Some(true)) => "the event matches".into(),
            (true, r) => format!("the condition is {}", tri(r)),
        };
        if let Some(c) = &m.category {
            let vals = ev.get(category_field);
            let mut n = self.node(m.category_span, "category", Some(cat_ok), String::new());
            n.field = Some(self.fields.name(category_field).to_string());
            n.values = vals.iter().take(MAX_VALUES).map(Value::to_owned_value).collect();
            n.reason = if cat_ok {
                n.decided_by = Some(Decision { value: Value::Str(c.clone().into()), pattern: None });
                format!("{} contains {c:?}", n.field.as_deref().unwrap_or_default())
            } else if vals.is_empty() {
                format!("the event has no {}", n.field.as_deref().unwrap_or_default())
            } else {
                format!("{} does not contain {c:?}", n.field.as_deref().unwrap_or_default())
            };
            root.children.push(n);
        }
        root.children.push(cond);
        root
    }

    pub fn expr(&self, n: &Node, ev: &Event, cx: &mut Scratch) -> Explanation {
        match &n.kind {
            NodeKind::And(v) | NodeKind::Or(v) => {
                let is_and = matches!(n.kind, NodeKind::And(_));
                // The matcher may evaluate operands in another order; explain them as written.
                let mut ordered: Vec<&Node> = v.iter().collect();
                ordered.sort_by_key(|c| c.span.start);
                let children: Vec<Explanation> = ordered.into_iter().map(|c| self.expr(c, ev, cx)).collect();
                let j = if is_and { Junction::And } else { Junction::Or };
                let (decisive, neutral) = (Some(j.decisive()), Some(!j.decisive()));
                let result = eval::junction(j, children.iter().map(|c| c.result));
                let word = if is_and { "and" } else { "or" };
                let count = |want| children.iter().filter(|c| c.result == want).count();
                let nulls = count(None);
                let reason = match result {
                    // Null operands are counted apart and named: a missing field is the usual
                    // reason, and the next thing an analyst checks.
                    r if r == decisive && nulls > 0 => {
                        let missing: Vec<String> = children
                            .iter()
                            .filter(|c| c.result.is_none())
                            .map(|c| match &c.field {
                                Some(f) if c.values.is_empty() => format!("`{f}` is missing"),
                                _ => format!("`{}` is null", c.text),
                            })
                            .collect();
                        format!("{} {}, {nulls} null: {}", count(decisive), tri(decisive), missing.join(", "))
                    }
                    r if r == decisive => {
                        format!("{} of {} operands {}", count(decisive), children.len(), tri(decisive))
                    }
                    r if r == neutral => format!("all {} operands {}", children.len(), tri(neutral)),
                    _ => format!("{} of {} operands null", count(None), children.len()),
                };
                let mut e = self.node(n.span, word, result, reason);
                e.children = children;
                e
            }
            NodeKind::Not(x) | NodeKind::MustNot(x) => {
                let child = self.expr(x, ev, cx);
                let result = match n.kind {
                    NodeKind::MustNot(_) => Some(child.result != Some(true)),
                    _ => child.result.map(|b| !b),
                };
                let mut e = self.node(n.span, "not", result, format!("the negated clause is {}", tri(child.result)));
                e.children = vec![child];
                e
            }
            _ => self.leaf(n, ev, cx),
        }
    }

    fn leaf(&self, n: &Node, ev: &Event, cx: &mut Scratch) -> Explanation {
        let outcome = eval::predicate(n, ev, cx);
        let (kind, operand, rhs): (&'static str, Option<&Node>, Option<&Node>) = match &n.kind {
            NodeKind::Compare(_, a, b) | NodeKind::CompareVersions(_, a, b) => ("compare", Some(&**a), Some(&**b)),
            NodeKind::IsNull(a, _) => ("exists", Some(&**a), None),
            NodeKind::In(a, _, _) => ("in", Some(&**a), None),
            NodeKind::Match(a, _) | NodeKind::Text(a, _) => ("match", Some(&**a), None),
            _ => ("value", Some(n), None),
        };
        let mut e = self.node(n.span, kind, outcome.result, String::new());
        let vals: Vec<Value> = operand.map(|o| eval::values(o, ev, cx).into_owned()).unwrap_or_default();
        let present: Vec<&Value> = vals.iter().filter(|v| !v.is_null()).collect();
        if let Some(NodeKind::Field(f, _)) = operand.map(|o| &o.kind) {
            e.field = Some(self.fields.name(*f).to_string());
        }
        let subject =
            e.field.clone().unwrap_or_else(|| operand.map_or(String::new(), |o| o.span.text(self.src).to_string()));
        e.values = present.iter().take(MAX_VALUES).map(|v| v.to_owned_value()).collect();
        if present.len() > MAX_VALUES {
            e.values_total = Some(present.len());
        }
        let pattern_at = |i: usize, j: usize| -> Option<Value<'static>> {
            match &n.kind {
                NodeKind::In(_, set, _) => {
                    vals.get(i).and_then(|v| set.position(v)).and_then(|p| set.source.get(p).cloned())
                }
                NodeKind::Match(_, p) => p.source.get(j).cloned(),
                NodeKind::Text(_, q) => Some(Value::Str(q.source.clone().into())),
                _ => rhs.map(|r| {
                    eval::values(r, ev, &mut Scratch::default())
                        .get(j)
                        .map(Value::to_owned_value)
                        .unwrap_or(Value::Null)
                }),
            }
        };
        if let Some((i, j)) = outcome.witness {
            let value = vals.get(i).map(Value::to_owned_value).unwrap_or(Value::Null);
            let pattern = if kind == "exists" || kind == "value" { None } else { pattern_at(i, j) };
            e.decided_by = Some(Decision { value, pattern });
        }
        let rhs_text = rhs.map_or(String::new(), |r| r.span.text(self.src).to_string());
        let one_or_all = |single: &dyn Fn(&Value) -> String, many: &dyn Fn(usize) -> String| match present.as_slice() {
            [v] => single(v),
            vs => many(vs.len()),
        };
        let d = e.decided_by.clone();
        let pat = |d: &Decision| d.pattern.as_ref().map_or(String::new(), |p| p.to_string());
        e.reason = match (&n.kind, outcome.result) {
            (NodeKind::IsNull(_, negated), Some(r)) => {
                if r != *negated {
                    format!("{subject} has no value")
                } else {
                    format!("{subject} has a value")
                }
            }
            (NodeKind::Compare(..) | NodeKind::In(..) | NodeKind::Match(..) | NodeKind::Text(..), _)
                if present.is_empty() =>
            {
                format!("{subject} has no value")
            }
            (NodeKind::Compare(op, ..) | NodeKind::CompareVersions(op, ..), Some(r)) => match (op, r, &d) {
                // `!=` is false because some value is equal.
                (CompareOp::Ne, false, Some(d)) => format!("{} == {}", d.value, pat(d)),
                (CompareOp::Ne, true, _) => one_or_all(&|v| format!("{v} is not {rhs_text}"), &|k| {
                    format!("none of the {k} values is {rhs_text}")
                }),
                (_, true, Some(d)) => format!("{} {} {}", d.value, op.symbol(), pat(d)),
                _ => one_or_all(&|v| format!("{v} is not {} {rhs_text}", op.symbol()), &|k| {
                    format!("none of the {k} values is {} {rhs_text}", op.symbol())
                }),
            },
            (NodeKind::In(_, _, negated), Some(r)) => match (r != *negated, &d) {
                // Some value is in the list (for `not in` that makes it false).
                (true, Some(d)) => format!("{} is in the list", d.value),
                _ => one_or_all(&|v| format!("{v} is not in the list"), &|k| {
                    format!("none of the {k} values is in the list")
                }),
            },
            (NodeKind::Text(_, q), Some(true)) => {
                format!("{} matched the words of {:?}", d.map_or(Value::Null, |d| d.value), q.source)
            }
            (NodeKind::Text(_, q), Some(false)) => {
                one_or_all(&|v| format!("{v} does not match the words of {:?}", q.source), &|k| {
                    format!("none of the {k} values matches the words of {:?}", q.source)
                })
            }
            (NodeKind::Match(..), Some(true)) => match &d {
                Some(d) => format!("{} matched {}", d.value, pat(d)),
                None => "a value matched".into(),
            },
            (NodeKind::Match(..), Some(false)) => {
                one_or_all(&|v| format!("{v} matched no pattern"), &|k| format!("none of the {k} values matched"))
            }
            (_, None) => "the values cannot be compared (a value is missing, or of another type)".to_string(),
            (_, Some(r)) => format!("the value is {r}"),
        };
        if outcome.result != Some(true) {
            if let Some((value, pattern, with)) = case_only(n, &present, rhs, ev, cx) {
                e.reason = format!("{}; {value} would match {pattern} with {with} (only the case differs)", e.reason);
                e.case_only = Some(Decision { value, pattern: Some(pattern) });
            }
        }
        e
    }
}

/// A case-sensitive comparison (`==`, `in`, `like`, `regex`) that a value would pass
/// case-insensitively: (the value, the rule's spelling, the operator that would match).
fn case_only(
    n: &Node,
    present: &[&Value],
    rhs: Option<&Node>,
    ev: &Event,
    cx: &mut Scratch,
) -> Option<(Value<'static>, Value<'static>, &'static str)> {
    let strings = || present.iter().filter_map(|v| v.as_str().map(|s| (*v, s)));
    let folded = |a: &str, b: &str| a != b && fold(a) == fold(b);
    let find_equal = |pats: &[Value], with| {
        strings().find_map(|(v, s)| {
            pats.iter()
                .find(|p| p.as_str().is_some_and(|p| folded(s, p)))
                .map(|p| (v.to_owned_value(), p.to_owned_value(), with))
        })
    };
    match &n.kind {
        NodeKind::Compare(CompareOp::Eq, _, _) => {
            let pats: Vec<Value> = rhs.map(|r| eval::values(r, ev, cx).into_owned()).unwrap_or_default();
            find_equal(&pats, "`:` or `in~`")
        }
        NodeKind::In(_, set, false) if !set.insensitive => find_equal(&set.source, "`in~`"),
        NodeKind::Match(_, p) => {
            let (op, test): (&'static str, fn(&str, &str) -> bool) = match p.op {
                MatchOp::Like { insensitive: false } => ("`like~` or `:`", |v, pat| {
                    WildcardSet::new([(0, pat)], true).find(v, &mut String::new()).is_some()
                }),
                MatchOp::Regex { insensitive: false } => {
                    ("`regex~`", |v, pat| lucene::compile(pat, true).is_ok_and(|r| r.is_match(v)))
                }
                _ => return None,
            };
            strings().find_map(|(v, s)| {
                p.source
                    .iter()
                    .find(|pat| pat.as_str().is_some_and(|pat| test(s, pat)))
                    .map(|pat| (v.to_owned_value(), pat.to_owned_value(), op))
            })
        }
        _ => None,
    }
}

/// One event of an alert, explained against the stage it filled.
#[derive(Clone, Debug, Serialize)]
pub struct StageExplanation {
    /// Index of the stage in the query (a `with runs=N` stage fills N slots with the same index).
    pub stage: usize,
    /// The event's input position.
    pub event: u64,
    /// The event's time (the rule's timestamp field), as written in the event.
    pub timestamp: Option<Value<'static>>,
    /// The field `timestamp` was read from: the rule's `timestamp_override` (such as
    /// `event.ingested`) when the event has it, else the rule set's timestamp field.
    pub timestamp_field: String,
    /// Milliseconds since the previous event of the alert.
    pub gap_ms: Option<f64>,
    /// The join keys: field names and the event's values for them.
    pub keys: Vec<JoinKey>,
    /// The event against the stage's query.
    pub explanation: Explanation,
}

/// A join key of a sequence or sample stage, and an event's values for it.
#[derive(Clone, Debug, Serialize)]
pub struct JoinKey {
    /// The key field.
    pub field: String,
    /// The event's values for it.
    pub values: Vec<Value<'static>>,
}
