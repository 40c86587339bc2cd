//! Which rules can match an event at all. Most detection rules require fields to hold one of a
//! few literal values (`host.os.type == "windows"`, `process.name in ("curl", "wget")`,
//! `event.type == "start"`, or `process.name == "nc" or process.args == "-e"`); such a rule is
//! filed under every one of those requirements, and is only evaluated for events that meet them
//! all. Rules without such a requirement are filed by category. This keeps the cost per event nearly flat as a rule set grows from 16 to 1,000
//! rules: a Windows rule costs nothing on a Linux event.

use crate::ast::{CompareOp, MatchOp};
use crate::event::{Event, FieldId};
use crate::matcher::node::{EventMatcher, Node, NodeKind, StringPatterns};
use crate::matcher::wildcard::{fold, fold_into};
use crate::value::Value;
use rustc_hash::FxHashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use substrings::{Finder, Scratch};

/// One way to meet a requirement: `field` has one of `values`, a value starting with one of
/// `prefixes` (the literal start of a wildcard pattern such as `"python*"`), or a value containing
/// one of `substrings` (the longest literal run of a pattern that starts with a wildcard, such as
/// `"/curl"` of `"*/curl"`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Required {
    pub field: FieldId,
    /// Values, prefixes and substrings are lowercased and compared with lowercased event values.
    pub insensitive: bool,
    pub values: Vec<String>,
    pub prefixes: Vec<String>,
    pub substrings: Vec<String>,
}

impl Required {
    fn is_empty(&self) -> bool {
        self.values.is_empty() && self.prefixes.is_empty() && self.substrings.is_empty()
    }
}

/// The longest run of literal characters in a wildcard pattern: every value the pattern matches
/// contains it (folding is per character, so this holds for folded values and patterns too).
fn longest_literal(pattern: &str) -> &str {
    pattern.split(['*', '?']).max_by_key(|s| s.len()).unwrap_or("")
}

/// A condition every match satisfies: at least one of its alternatives holds.
pub type Group = Vec<Required>;

/// The requirements among the top-level conjuncts of a condition.
pub fn requirements(n: &Node) -> Vec<Group> {
    match &n.kind {
        NodeKind::And(v) => v.iter().flat_map(requirements).collect(),
        _ => required(n).into_iter().collect(),
    }
}

/// The requirement a single clause imposes, if any.
fn required(n: &Node) -> Option<Group> {
    let field_of = |x: &Node| match x.kind {
        NodeKind::Field(f, _) => Some(f),
        _ => None,
    };
    let one = |r: Required| Some(vec![r]);
    match &n.kind {
        NodeKind::Compare(CompareOp::Eq, a, b) => match (field_of(a), &b.kind) {
            (Some(field), NodeKind::Const(Value::Str(s))) => {
                one(Required { field, values: vec![s.to_string()], ..Required::default() })
            }
            _ => None,
        },
        NodeKind::In(x, set, false) => {
            let values: Option<Vec<String>> = set.source.iter().map(|v| v.as_str().map(str::to_string)).collect();
            let insensitive = set.insensitive;
            one(Required {
                field: field_of(x)?,
                insensitive,
                values: values?.into_iter().map(|v| if insensitive { fold(&v) } else { v }).collect(),
                ..Required::default()
            })
        }
        NodeKind::Match(x, p) => {
            let insensitive = match p.op {
                MatchOp::Colon => true,
                MatchOp::Like { insensitive } => insensitive,
                MatchOp::Regex { .. } => return None,
            };
            if !matches!(p.strings, StringPatterns::Wildcards(_)) || !p.others.is_empty() {
                return None;
            }
            let mut r = Required { field: field_of(x)?, insensitive, ..Required::default() };
            for v in &p.source {
                let v = v.as_str()?;
                let v = if insensitive { fold(v) } else { v.to_string() };
                match v.find(['*', '?']) {
                    None => r.values.push(v),
                    Some(0) => match longest_literal(&v) {
                        // `"*"`, `"?*"`: no literal at all, so no requirement.
                        "" => return None,
                        lit => r.substrings.push(lit.to_string()),
                    },
                    Some(i) => r.prefixes.push(v[..i].to_string()),
                }
            }
            Some(vec![r])
        }
        // A branch of `and`s requires what any one of its conjuncts requires: the first that does.
        NodeKind::And(v) => v.iter().find_map(required),
        // `a == "x" or b == "y"`: met when one branch's requirement is; every branch must have one.
        NodeKind::Or(v) => {
            let mut acc: Group = Vec::new();
            for c in v {
                for r in required(c)? {
                    match acc.iter_mut().find(|a| a.field == r.field && a.insensitive == r.insensitive) {
                        Some(a) => {
                            a.values.extend(r.values);
                            a.prefixes.extend(r.prefixes);
                            a.substrings.extend(r.substrings);
                        }
                        None => acc.push(r),
                    }
                }
            }
            Some(acc)
        }
        _ => None,
    }
}

/// The literals required of one field (compared folded or not), each numbered as a key.
#[derive(Clone, Debug, Default)]
struct Bucket {
    field: FieldId,
    insensitive: bool,
    values: FxHashMap<String, u32>,
    /// Prefixes, and the byte lengths of those prefixes.
    prefixes: FxHashMap<String, u32>,
    prefix_lens: Vec<usize>,
    /// Substrings while building; then their keys in the automaton's pattern order.
    substrings: FxHashMap<String, u32>,
    substring_keys: Vec<u32>,
    automaton: Option<Finder>,
}

/// Which of a set of literals occur anywhere in a value. Natively an Aho-Corasick automaton; in
/// WebAssembly, where aho-corasick would add 34 KB gzipped to the npm package, an unanchored lazy
/// DFA over the same literals from regex-automata (already there for regexes), about half as fast
/// with the whole corpus. Both report the same set.
#[cfg(not(target_arch = "wasm32"))]
mod substrings {
    use aho_corasick::AhoCorasick;

    #[derive(Clone, Debug)]
    pub struct Finder(AhoCorasick);

    #[derive(Clone, Debug, Default)]
    pub struct Scratch;

    impl Finder {
        pub fn new(literals: &[&str]) -> Option<Finder> {
            AhoCorasick::new(literals).ok().map(Finder)
        }

        pub fn scratch(&self) -> Scratch {
            Scratch
        }

        /// Calls `found` with the index of every literal in `value` (possibly more than once);
        /// false if the search failed.
        pub fn each(&self, _: &mut Scratch, value: &str, mut found: impl FnMut(usize)) -> bool {
            self.0.find_overlapping_iter(value).for_each(|m| found(m.pattern().as_usize()));
            true
        }
    }
}

#[cfg(target_arch = "wasm32")]
use lazy_dfa as substrings;

#[cfg(any(target_arch = "wasm32", test))]
mod lazy_dfa {
    use regex_automata::hybrid::dfa::{Cache, DFA};
    use regex_automata::nfa::thompson;
    use regex_automata::{Input, MatchKind, PatternSet};
    use regex_syntax::hir::Hir;

    /// Most memory the automaton may use per [`Scratch`] (its states are built as values need
    /// them; when full, it starts over).
    const CACHE_CAPACITY: usize = 2 << 20;

    #[derive(Clone, Debug)]
    pub struct Finder(DFA);

    #[derive(Clone, Debug)]
    pub struct Scratch(Cache, PatternSet);

    impl Finder {
        pub fn new(literals: &[&str]) -> Option<Finder> {
            // From HIR literals, not pattern text: no regex parser linked in for this.
            let hirs: Vec<Hir> = literals.iter().map(|l| Hir::literal(l.as_bytes())).collect();
            let nfa = thompson::Compiler::new().build_many_from_hir(&hirs).ok()?;
            let config = DFA::config().match_kind(MatchKind::All).cache_capacity(CACHE_CAPACITY);
            DFA::builder().configure(config).build_from_nfa(nfa).ok().map(Finder)
        }

        pub fn scratch(&self) -> Scratch {
            Scratch(self.0.create_cache(), PatternSet::new(self.0.pattern_len()))
        }

        pub fn each(&self, s: &mut Scratch, value: &str, found: impl FnMut(usize)) -> bool {
            s.1.clear();
            let ok = self.0.try_which_overlapping_matches(&mut s.0, &Input::new(value), &mut s.1).is_ok();
            s.1.iter().map(|p| p.as_usize()).for_each(found);
            ok
        }
    }
}

/// Numbers prefilters, so that [`Hits`] tables and caches are never used with another one.
static BUILT: AtomicU64 = AtomicU64::new(1);

/// The rule index of a rule set (single-event rules only).
///
/// Each literal a rule requires is a key. A rule is filed under the keys of one requirement
/// group, its most selective (the one whose literals the fewest other rules require: a value
/// many rules require, such as `host.os.type == "linux"`, is likely common in events too); its
/// other groups are checked against the keys the event met. So the work per event follows the
/// keys it meets and the rules filed under them, not every rule that mentions a common value.
#[derive(Clone, Debug, Default)]
pub struct Prefilter {
    buckets: Vec<Bucket>,
    /// Per key, the rules filed under it.
    filed: Vec<Vec<u32>>,
    /// Per rule, its other requirement groups, each as the keys any one of which meets it.
    others: Vec<Vec<Vec<u32>>>,
    /// Keys met by every event: substrings no automaton could hold.
    always: Vec<u32>,
    /// Rules without a usable requirement, by category, and those of `any`.
    by_category: FxHashMap<String, Vec<u32>>,
    any: Vec<u32>,
    id: u64,
}

/// Per-event state of [`Prefilter::candidates`], reused from event to event: stamps instead of
/// clearing per-key and per-rule tables.
#[derive(Clone, Debug, Default)]
pub struct Hits {
    /// Per key, the number of the last event that met it.
    seen: Vec<u32>,
    /// Per rule, the number of the last event for which it was considered.
    taken: Vec<u32>,
    /// The keys the current event met.
    met: Vec<u32>,
    event: u32,
    /// The prefilter these tables are for, and its automata's caches and match sets, per bucket.
    owner: u64,
    caches: Vec<Option<Scratch>>,
}

/// Requirement groups kept per rule; more would narrow little further.
const MAX_GROUPS: usize = 8;

impl Prefilter {
    /// The key of a literal of `r`, numbered on first use.
    fn key(&mut self, r: &Required, kind: u8, literal: &str, weight: &mut Vec<u64>) -> u32 {
        let b = match self.buckets.iter().position(|b| b.field == r.field && b.insensitive == r.insensitive) {
            Some(b) => b,
            None => {
                self.buckets.push(Bucket { field: r.field, insensitive: r.insensitive, ..Bucket::default() });
                self.buckets.len() - 1
            }
        };
        let bucket = &mut self.buckets[b];
        let map = match kind {
            0 => &mut bucket.values,
            1 => &mut bucket.prefixes,
            _ => &mut bucket.substrings,
        };
        if let Some(&k) = map.get(literal) {
            return k;
        }
        let k = self.filed.len() as u32;
        map.insert(literal.to_string(), k);
        if kind == 1 {
            if let Err(i) = bucket.prefix_lens.binary_search(&literal.len()) {
                bucket.prefix_lens.insert(i, literal.len());
            }
        }
        self.filed.push(Vec::new());
        // One- and two-character substrings are in most values.
        weight.push(if kind == 2 && literal.len() < 3 { 10_000 } else { 0 });
        k
    }

    /// Files each rule (`(index, matcher)`) under the keys of its most selective requirement.
    pub fn build<'m>(matchers: impl Iterator<Item = (usize, &'m EventMatcher)>) -> Prefilter {
        let all: Vec<(usize, &EventMatcher, Vec<Group>)> =
            matchers.map(|(i, m)| (i, m, requirements(&m.condition))).collect();
        let rules = all.iter().map(|(i, ..)| i + 1).max().unwrap_or(0);
        let id = BUILT.fetch_add(1, Ordering::Relaxed);
        let mut p = Prefilter { others: vec![Vec::new(); rules], id, ..Prefilter::default() };
        let mut weight = Vec::new();
        // Per rule, its groups as sorted key lists.
        let mut keyed: Vec<(usize, &EventMatcher, Vec<Vec<u32>>)> = Vec::new();
        for (i, m, groups) in &all {
            let groups = groups.iter().filter(|g| !g.is_empty() && g.iter().all(|r| !r.is_empty()));
            let mut ks: Vec<Vec<u32>> = Vec::new();
            for group in groups.take(MAX_GROUPS) {
                let mut g = Vec::new();
                for r in group {
                    let kinds = [(0, &r.values), (1, &r.prefixes), (2, &r.substrings)];
                    for (kind, lits) in kinds {
                        for l in lits {
                            g.push(p.key(r, kind, l, &mut weight));
                        }
                    }
                }
                g.sort_unstable();
                g.dedup();
                ks.push(g);
            }
            keyed.push((*i, m, ks));
        }
        // How many rules require each key.
        let mut shared = weight;
        for k in keyed.iter().flat_map(|(.., ks)| ks.iter().flatten()) {
            shared[*k as usize] += 1;
        }
        for (i, m, mut groups) in keyed {
            let score = |g: &Vec<u32>| g.iter().map(|&k| shared[k as usize]).sum::<u64>();
            match (0..groups.len()).min_by_key(|&g| score(&groups[g])) {
                Some(best) => {
                    for &k in &groups.swap_remove(best) {
                        p.filed[k as usize].push(i as u32);
                    }
                    p.others[i] = groups;
                }
                None => match &m.category {
                    Some(c) => p.by_category.entry(c.clone()).or_default().push(i as u32),
                    None => p.any.push(i as u32),
                },
            }
        }
        for b in &mut p.buckets {
            let mut subs: Vec<(String, u32)> = std::mem::take(&mut b.substrings).into_iter().collect();
            subs.sort_unstable_by_key(|s| s.1);
            // One pass over each value finds every indexed substring in it, however many rules
            // there are. Building fails only past the automaton's size limits; those substrings
            // then count as present in every event (still correct, only slower).
            let literals: Vec<&str> = subs.iter().map(|s| s.0.as_str()).collect();
            b.automaton = (!subs.is_empty()).then(|| Finder::new(&literals)).flatten();
            match b.automaton {
                Some(_) => b.substring_keys = subs.iter().map(|s| s.1).collect(),
                None => p.always.extend(subs.iter().map(|s| s.1)),
            }
        }
        p
    }

    /// The rules worth evaluating for an event, each once, in rule order. A rule filed under
    /// values still has its category checked by the caller; rules filed by category do not need to.
    pub fn candidates(
        &self,
        ev: &Event,
        category_field: FieldId,
        hits: &mut Hits,
        fold_buf: &mut String,
    ) -> Vec<(usize, bool)> {
        let mut out: Vec<(usize, bool)> = Vec::new();
        for c in ev.get(category_field) {
            if let Some(list) = c.as_str().and_then(|c| self.by_category.get(c)) {
                out.extend(list.iter().map(|&i| (i as usize, false)));
            }
        }
        out.extend(self.any.iter().map(|&i| (i as usize, false)));
        hits.event = hits.event.wrapping_add(1);
        if hits.event == 0 || hits.owner != self.id {
            // Another prefilter's tables (or stamps about to repeat): start from zero, event 1.
            hits.seen = vec![0; self.filed.len()];
            hits.taken = vec![0; self.others.len()];
            hits.caches = self.buckets.iter().map(|b| b.automaton.as_ref().map(Finder::scratch)).collect();
            hits.event = 1;
            hits.owner = self.id;
        }
        let now = hits.event;
        let (seen, met) = (&mut hits.seen, &mut hits.met);
        met.clear();
        let mut mark = |k: u32| {
            if std::mem::replace(&mut seen[k as usize], now) != now {
                met.push(k);
            }
        };
        self.always.iter().for_each(|&k| mark(k));
        for (b, cache) in self.buckets.iter().zip(hits.caches.iter_mut()) {
            for v in ev.get(b.field) {
                let Some(s) = v.as_str() else { continue };
                let key = if b.insensitive { fold_into(s, fold_buf) } else { s };
                if let Some(&k) = b.values.get(key) {
                    mark(k);
                }
                for &n in b.prefix_lens.iter().take_while(|&&n| n <= key.len()) {
                    if let Some(&k) = key.get(..n).and_then(|p| b.prefixes.get(p)) {
                        mark(k);
                    }
                }
                if let (Some(finder), Some(scratch)) = (&b.automaton, cache.as_mut()) {
                    // A failed search (not expected: the automata are not configured to give up)
                    // counts every substring as present: still correct, only slower.
                    if !finder.each(scratch, key, |p| mark(b.substring_keys[p])) {
                        b.substring_keys.iter().for_each(|&k| mark(k));
                    }
                }
            }
        }
        for &k in &hits.met {
            for &r in &self.filed[k as usize] {
                let r = r as usize;
                if std::mem::replace(&mut hits.taken[r], now) == now {
                    continue;
                }
                if self.others[r].iter().all(|g| g.iter().any(|&k| hits.seen[k as usize] == now)) {
                    out.push((r, true));
                }
            }
        }
        out.sort_unstable();
        // An event may list a category twice (`["process", "process"]`).
        out.dedup_by_key(|c| c.0);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Fields;
    use crate::matcher::compile::Compiler;

    /// Compiles event queries against one field table.
    fn compile(fields: &mut Fields, q: &str) -> EventMatcher {
        let ast = crate::parser::parse_query(q).unwrap();
        let crate::ast::QueryBody::Event(e) = &ast.body else { panic!("not an event query: {q}") };
        Compiler { src: q, fields, regex_bytes: 0 }.event_query(e).unwrap()
    }

    fn reqs(q: &str) -> Vec<(String, bool, Vec<String>)> {
        let mut fields = Fields::default();
        let m = compile(&mut fields, q);
        let mut r: Vec<_> = requirements(&m.condition)
            .into_iter()
            .flatten()
            // Prefixes shown as `prefix*`.
            .map(|r| {
                let prefixes = r.prefixes.into_iter().map(|p| format!("{p}*"));
                let substrings = r.substrings.into_iter().map(|p| format!("*{p}*"));
                let values = r.values.into_iter().chain(prefixes).chain(substrings).collect();
                (fields.name(r.field).to_string(), r.insensitive, values)
            })
            .collect();
        r.sort_by(|a, b| a.0.cmp(&b.0));
        r
    }

    #[test]
    fn requirements_come_from_top_level_conjuncts() {
        let r = reqs(
            r#"process where host.os.type == "linux" and process.name in ("curl", "wget") and process.args : ("-K", "x*")"#,
        );
        assert_eq!(
            r,
            [
                ("host.os.type".into(), false, vec!["linux".into()]),
                ("process.args".into(), true, vec!["-k".into(), "x*".into()]),
                ("process.name".into(), false, vec!["curl".into(), "wget".into()])
            ]
        );
        let r = reqs(r#"any where (file.name : "A.EXE" or file.name : "b.exe") and not process.name == "x""#);
        assert_eq!(r, [("file.name".into(), true, vec!["a.exe".into(), "b.exe".into()])]);
        let r = reqs(
            r#"any where process.name : "NC" or (process.args == "-e" and user.id == "0") or process.name == "x""#,
        );
        // The `and` branch requires what its first conjunct (in evaluation order) requires.
        assert_eq!(
            r,
            [
                ("process.name".into(), false, vec!["x".into()]),
                ("process.name".into(), true, vec!["nc".into()]),
                ("user.id".into(), false, vec!["0".into()])
            ]
        );
        // Patterns that start with a wildcard require their longest literal run.
        assert_eq!(
            reqs(r#"process where process.name == "a" or user.name like "*b""#),
            [("process.name".into(), false, vec!["a".into()]), ("user.name".into(), false, vec!["*b*".into()])]
        );
        assert_eq!(
            reqs(r#"any where process.executable : ("*/CURL", "?x*/bin/*sh")"#),
            [("process.executable".into(), true, vec!["*/curl*".into(), "*/bin/*".into()])]
        );
        assert!(reqs(r#"process where process.name == "a" or user.name like "*""#).is_empty());
        assert!(reqs(r#"process where process.name like ("curl*", "?*")"#).is_empty());
        assert_eq!(
            reqs(r#"process where process.name like ("curl*", "wget?x*")"#),
            [("process.name".into(), false, vec!["curl*".into(), "wget*".into()])]
        );
        assert_eq!(reqs(r#"process where process.name : "PY*""#), [("process.name".into(), true, vec!["py*".into()])]);
        assert_eq!(
            reqs(r#"process where process.name like ("curl*", "*wget")"#),
            [("process.name".into(), false, vec!["curl*".into(), "*wget*".into()])]
        );
    }

    #[test]
    fn both_substring_finders_find_the_same_literals() {
        let literals = ["/curl", "curl", "url -", "é/", "a", "/tmp/", "://127.0.0.1"];
        let native = substrings::Finder::new(&literals).unwrap();
        let dfa = lazy_dfa::Finder::new(&literals).unwrap();
        for value in ["", "/usr/bin/curl -k", "curl", "xé/a", "http://127.0.0.1/tmp/x", "nothing here", "é"] {
            let (mut a, mut b) = (Vec::new(), Vec::new());
            assert!(native.each(&mut native.scratch(), value, |p| a.push(p)));
            assert!(dfa.each(&mut dfa.scratch(), value, |p| b.push(p)));
            a.sort_unstable();
            a.dedup();
            let want: Vec<usize> = (0..literals.len()).filter(|&i| value.contains(literals[i])).collect();
            assert_eq!((&a, &b), (&want, &want), "{value}");
        }
    }

    #[test]
    fn a_rule_is_a_candidate_only_when_every_requirement_holds() {
        let rules = [
            ("win", r#"process where host.os.type == "windows" and process.name : ("CMD.exe", "net.exe")"#),
            ("lin", r#"process where host.os.type == "linux" and event.type in ("start", "exec")"#),
            ("free", r#"process where process.pid > 4"#),
            ("prefix", r#"process where process.name : ("PYTHON*", "perl")"#),
            ("all", r#"any where event.type : "START" and event.type == "start""#),
            ("or", r#"process where process.name == "nc" or (process.args == "-e" and user.id == "0")"#),
            ("sub", r#"any where process.args : ("*-K*", "*/CURL") and process.name like~ "*sh""#),
        ];
        let mut fields = Fields::default();
        let cat = fields.intern_dotted("event.category");
        let matchers: Vec<EventMatcher> = rules.iter().map(|(_, q)| compile(&mut fields, q)).collect();
        let p = Prefilter::build(matchers.iter().enumerate());
        let (mut hits, mut buf) = (Hits::default(), String::new());
        let mut ids = |json: &str| -> Vec<&str> {
            let ev = fields.read_json(json).unwrap();
            p.candidates(&ev, cat, &mut hits, &mut buf).into_iter().map(|(i, _)| rules[i].0).collect()
        };
        let linux = r#"{"event":{"category":"process","type":["start","info"]},"host":{"os":{"type":"linux"}},"process":{"name":"net.exe"}}"#;
        assert_eq!(ids(linux), ["lin", "free", "all"]);
        let windows = r#"{"event":{"category":"process","type":"start"},"host":{"os":{"type":"windows"}},"process":{"name":["x","Cmd.EXE"]}}"#;
        assert_eq!(ids(windows), ["win", "free", "all"]);
        assert_eq!(ids(r#"{"event":{"category":"process"},"host":{"os":{"type":"windows"}}}"#), ["free"]);
        assert_eq!(ids(r#"{"event":{"type":"START"}}"#), Vec::<&str>::new());
        assert_eq!(ids(r#"{"event":{"category":["process","process"]}}"#), ["free"]);
        assert_eq!(
            ids(r#"{"event":{"category":"process"},"process":{"args":["-l","-e"]},"user":{"id":"0"}}"#),
            ["free", "or"]
        );
        assert_eq!(ids(r#"{"event":{"category":"process"},"process":{"name":"nc","args":"-e"}}"#), ["free", "or"]);
        assert_eq!(ids(r#"{"event":{"category":"process"},"process":{"args":"-e"},"user":{"id":"1"}}"#), ["free"]);
        // Prefixes of wildcard patterns, case-folded for `:`; the prefix itself and exact values.
        let mut prefix =
            |name: &str| ids(&format!(r#"{{"event":{{"category":"process"}},"process":{{"name":"{name}"}}}}"#));
        for name in ["python3.11", "Python", "PERL", "pythoné"] {
            assert_eq!(prefix(name), ["free", "prefix"], "{name}");
        }
        for name in ["pytho", "perl5", "é", ""] {
            assert_eq!(prefix(name), ["free"], "{name}");
        }
        // Substrings anywhere in any value, case-folded for `:`, `like~`; both groups needed.
        let mut sub = |args: &str, name: &str| {
            ids(&format!(r#"{{"event":{{"category":"file"}},"process":{{"args":{args},"name":"{name}"}}}}"#))
        };
        for (args, name) in [(r#"["x", "a-kb"]"#, "bash"), (r#""/usr/bin/Curl""#, "SH"), (r#""-k""#, "shx")] {
            assert_eq!(sub(args, name), ["sub"], "{args} {name}");
        }
        for (args, name) in [(r#"["-", "k"]"#, "bash"), (r#""/curl""#, "s h"), (r#""curl -x""#, "sh")] {
            assert_eq!(sub(args, name), Vec::<&str>::new(), "{args} {name}");
        }
    }
}
