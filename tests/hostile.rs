//! Hostile input at every native entry point: the library (queries, rule TOML, events, streams)
//! and the `eqlite` binary. Each test asserts the behaviour — a clear error naming the limit, or
//! the correct result — not merely the absence of a crash. The fuzzers' regression inputs
//! (`fuzz/regressions/<target>/*`) are replayed here through the fuzz targets' own checks.

mod cli;

#[path = "../fuzz/src/checks.rs"]
#[allow(dead_code)]
mod checks;
#[path = "../fuzz/src/naive.rs"]
#[allow(dead_code)]
mod naive;

use cli::{alerts, eqlite};
use eqlite::ast::Function;
use eqlite::Value;
use eqlite::{parse_query_with, Limits, Options, RuleSet};
use eqlite::{Stream, StreamOptions};
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The ids of the rules that match one event (JSON text).
fn matching(rs: &RuleSet, json: &str) -> Vec<String> {
    let ev = rs.read_json(json).unwrap_or_else(|e| panic!("{e}: {}", &json[..json.len().min(200)]));
    rs.matches(&ev).into_iter().map(|i| rs.rule(i).unwrap().id.clone()).collect()
}

fn one_rule(query: &str) -> RuleSet {
    let mut rs = RuleSet::default();
    rs.add_query("q", query).unwrap_or_else(|d| panic!("{}", d.rendered()));
    rs
}

fn fires(query: &str, json: &str) -> bool {
    !matching(&one_rule(query), json).is_empty()
}

fn error(query: &str) -> String {
    let mut rs = RuleSet::default();
    match rs.add_query("q", query) {
        Ok(_) => panic!("accepted: {}", &query[..query.len().min(200)]),
        Err(d) => {
            assert!(
                d.position().unwrap().start <= d.position().unwrap().end && d.position().unwrap().end <= query.len(),
                "span {}..{}",
                d.position().unwrap().start,
                d.position().unwrap().end
            );
            d.message().to_string()
        }
    }
}

/// Runs `f` and fails if it takes longer than `limit` (debug builds are slow: limits are generous,
/// the point is to catch exponential or quadratic blow-ups, which take minutes).
/// Runs `f` and fails if it took more than `limit` of this thread's CPU time: a guard against
/// blow-ups (the limits are orders of magnitude above the normal cost), which other load on the
/// machine does not trip.
fn timed<T>(what: &str, limit: Duration, f: impl FnOnce() -> T) -> T {
    let start = cpu_time::ThreadTime::now();
    let r = f();
    let took = start.elapsed();
    assert!(took < limit, "{what} took {took:?} (limit {limit:?})");
    r
}

// ---------------------------------------------------------------------------------------------
// Fuzz regressions

#[test]
fn fuzz_regressions_replay() {
    let dir = root().join("fuzz/regressions");
    let mut n = 0;
    for (target, check) in [
        ("parse_query", checks::parse_query as fn(&[u8])),
        ("rule_toml", checks::rule_toml),
        ("eval_event", checks::eval_event),
        ("differential", checks::differential),
        ("snapshot", checks::snapshot),
        ("split", checks::split),
    ] {
        let Ok(entries) = std::fs::read_dir(dir.join(target)) else { continue };
        let mut files: Vec<PathBuf> = entries.map(|e| e.unwrap().path()).collect();
        files.sort();
        for f in files {
            let data = std::fs::read(&f).unwrap();
            let start = cpu_time::ThreadTime::now();
            if let Err(e) = std::panic::catch_unwind(|| check(&data)) {
                let msg =
                    e.downcast_ref::<String>().cloned().or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()));
                panic!("{} fails again: {}", f.display(), msg.unwrap_or_default());
            }
            // Some were timeouts: each input takes milliseconds (debug builds: under a second).
            assert!(start.elapsed() < Duration::from_secs(5), "{} took {:?}", f.display(), start.elapsed());
            n += 1;
        }
    }
    assert!(n > 0, "no regression inputs under {}", dir.display());
}

/// The seed corpora go through the same checks (a quick sample of what the fuzzers start from;
/// the snapshot and splitter targets start from the event target's seeds).
#[test]
fn fuzz_seeds_pass_the_checks() {
    for (target, seeds, check) in [
        ("parse_query", "parse_query", checks::parse_query as fn(&[u8])),
        ("rule_toml", "rule_toml", checks::rule_toml),
        ("differential", "differential", checks::differential),
        ("eval_event", "eval_event", checks::eval_event),
        ("snapshot", "eval_event", checks::snapshot),
        ("split", "eval_event", checks::split),
    ] {
        let mut files: Vec<PathBuf> =
            std::fs::read_dir(root().join("fuzz/seeds").join(seeds)).unwrap().map(|e| e.unwrap().path()).collect();
        files.sort();
        for f in files.iter().step_by(4) {
            if let Err(e) = std::panic::catch_unwind(|| check(&std::fs::read(f).unwrap())) {
                let msg =
                    e.downcast_ref::<String>().cloned().or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()));
                panic!("{target} on {}: {}", f.display(), msg.unwrap_or_default());
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Queries

#[test]
fn query_length_is_limited() {
    let limit = Limits::default().max_query_bytes;
    assert_eq!(limit, 1 << 20);
    let long = format!("any where a == \"{}\"", "x".repeat(limit));
    let m = timed("an over-long query", Duration::from_secs(2), || error(&long));
    assert!(m.contains("the limit is 1048576"), "{m}");
    // A 1 MB string literal fits, and works.
    let s = "y".repeat(1_000_000);
    let rs = one_rule(&format!("any where a == \"{s}\""));
    assert!(!matching(&rs, &format!("{{\"a\":\"{s}\"}}")).is_empty());
    assert!(matching(&rs, &format!("{{\"a\":\"{s}z\"}}")).is_empty());
}

#[test]
fn nesting_depth_is_limited() {
    assert_eq!(Limits::default().max_depth, 32);
    for (what, q) in [
        ("brackets", format!("any where {}a{}", "(".repeat(10_000), ")".repeat(10_000))),
        ("brackets, unclosed", format!("any where {}", "(".repeat(100_000))),
        ("nots", format!("any where {}a", "not ".repeat(10_000))),
        ("signs", format!("any where {}a", "-".repeat(10_000))),
        ("an arithmetic chain", format!("any where {}1 == 2", "1 + ".repeat(10_000))),
        ("function calls", format!("any where {}a{} == 1", "length(".repeat(10_000), ")".repeat(10_000))),
        ("comments", format!("any where a /*{} == 1", "/*".repeat(10_000))),
    ] {
        let m = timed(what, Duration::from_secs(10), || error(&q));
        assert!(m.contains("more than 32"), "{what}: {m}");
    }
    // 32 levels are fine. The parser recurses on brackets: about 512 KiB of stack in release builds,
    // 8 times that in debug builds (test threads have 2 MiB), hence a thread with a big stack.
    let deepest = std::thread::Builder::new()
        .stack_size(64 << 20)
        .spawn(|| {
            let q = format!("any where {}a == 1{}", "(".repeat(32), ")".repeat(32));
            let calls = format!("any where {}a{} == 1", "length(".repeat(31), ")".repeat(31));
            fires(&q, r#"{"a":1}"#) && !fires(&calls, r#"{"a":"x"}"#)
        })
        .unwrap()
        .join()
        .unwrap();
    assert!(deepest);
}

#[test]
fn list_length_is_limited() {
    assert_eq!(Limits::default().max_list, 65_536);
    let small = Limits { max_list: 100, ..Limits::default() };
    let list = |n: usize| (0..n).map(|i| i.to_string()).collect::<Vec<_>>().join(",");
    let m = parse_query_with(&format!("any where a in ({})", list(101)), &small).unwrap_err().message().to_string();
    assert_eq!(m, "the `in` list has 101 values; the limit is 100");
    let m = parse_query_with(&format!("any where a : ({})", list(101)), &small).unwrap_err().message().to_string();
    assert!(m.contains("the pattern list has 101 values"), "{m}");
    let m = parse_query_with(&format!("any where concat({})", list(101)), &small).unwrap_err().message().to_string();
    assert!(m.contains("more than 100 function arguments"), "{m}");
    let m = parse_query_with(&format!("any where a == 1{}", " or a == 1".repeat(100)), &small)
        .unwrap_err()
        .message()
        .to_string();
    assert!(m.contains("more than 100 operands"), "{m}");
    // A 65,536-value `in` list (the default limit) compiles and works; one more is refused.
    let strings = |n: usize| (0..n).map(|i| format!("\"v{i}\"")).collect::<Vec<_>>().join(",");
    let rs = timed("a 65,536-value list", Duration::from_secs(60), || {
        one_rule(&format!("any where a in ({})", strings(65_536)))
    });
    assert!(!matching(&rs, r#"{"a":"v65535"}"#).is_empty());
    assert!(matching(&rs, r#"{"a":"v65536"}"#).is_empty());
    let m = timed("a 65,537-value list", Duration::from_secs(60), || {
        error(&format!("any where a in ({})", strings(65_537)))
    });
    assert!(m.contains("65537 values; the limit is 65536"), "{m}");
}

#[test]
fn odd_query_text() {
    // NUL bytes: inside a string they are a character like any other; elsewhere a syntax error.
    assert!(fires("any where a == \"x\0y\"", r#"{"a":"x\u0000y"}"#));
    assert!(error("any where a == 1 \0").contains("expected"));
    assert!(!error("\0").is_empty());
    // Numbers beyond i64 become doubles (as in Elasticsearch); beyond f64 they are refused.
    assert!(fires("any where a == 123456789012345678901234567890", r#"{"a":1.2345678901234568e29}"#));
    assert!(error("any where a == 1e400").contains("out of range"));
    assert!(error("any where a == -1e400").contains("out of range"));
    assert!(fires("any where a == -9223372036854775808", r#"{"a":-9223372036854775808}"#));
    // Unterminated things, unbalanced things, empty things.
    for q in ["any where a == \"x", "any where a == `x", "any where (a", "any where a)", "/*", "", "   ", "any where"] {
        let mut rs = RuleSet::default();
        assert!(rs.add_query("q", q).is_err(), "{q:?}");
    }
    // Unicode escapes beyond the scalar values.
    assert!(error(r#"any where a == "\u{110000}""#).contains("not a Unicode scalar value"));
    assert!(error(r#"any where a == "\u{d800}""#).contains("not a Unicode scalar value"));
}

#[test]
fn regexes_cannot_blow_up() {
    let a50k = format!("{{\"a\":\"{}\"}}", "a".repeat(50_000));
    for p in ["(a+)+b", "(a|aa)*b", "(a*)*b", ".*a.*a.*a.*a.*a.*a.*b", "(.*a){20}b", "(a|a?)+b"] {
        for op in ["regex", "regex~"] {
            let q = format!("any where a {op} \"{p}\"");
            assert!(!timed(&q, Duration::from_secs(5), || fires(&q, &a50k)), "{q}");
        }
    }
    assert!(fires(r#"any where a regex "(a+)+""#, &a50k));
    // Patterns whose automaton would be huge are refused with a message, not built.
    for p in ["(a{1000}){1000}", "((((a{100}){100}){100}){100})", "a{1001}", "a{2,1}", "[a-z]{1000}{1000}"] {
        let m = timed(p, Duration::from_secs(20), || error(&format!("any where a regex \"{p}\"")));
        assert!(m.contains("too large") || m.contains("repetition"), "{p}: {m}");
    }
    // Deeply nested or endlessly repeated patterns are refused, not a stack overflow.
    let m = error(&format!("any where a regex \"{}a{}\"", "(".repeat(10_000), ")".repeat(10_000)));
    assert!(m.contains("nests more than 64 groups"), "{m}");
    for n in [300, 100_000] {
        let stars = format!("any where a regex \"a{}\"", "*".repeat(n));
        let m = timed("stacked repetitions", Duration::from_secs(10), || error(&stars));
        assert!(m.contains("nests more than 256 levels"), "{m}");
    }
    // The regexes of one rule need at most 64 MiB together (each may take 1 MiB of lazy-DFA cache).
    assert_eq!(eqlite::internals::lucene::MAX_RULE_REGEX_BYTES, 64 << 20);
    let many = (0..100).map(|i| format!("\"a{i}\"")).collect::<Vec<_>>().join(", ");
    let m = error(&format!("any where a regex ({many})"));
    assert!(m.contains("need more than 64 MiB together"), "{m}");
    let heavy = (0..100).map(|i| format!("\".{{1000}}{i}\"")).collect::<Vec<_>>().join(", ");
    let m = timed("heavy regex list", Duration::from_secs(20), || error(&format!("any where a regex~ ({heavy})")));
    assert!(m.contains("need more than 64 MiB together"), "{m}");
    assert!(fires(
        &format!("any where a regex ({})", (0..50).map(|i| format!("\"a{i}\"")).collect::<Vec<_>>().join(", ")),
        r#"{"a":"a49"}"#
    ));
}

#[test]
fn wildcards_cannot_blow_up() {
    let a50k = format!("{{\"a\":\"{}\"}}", "a".repeat(50_000));
    for q in [
        r#"any where a like "*a*a*a*a*a*a*a*b""#,
        r#"any where a like~ "*A*A*A*A*A*A*A*B""#,
        r#"any where a : "*a?a*a?a*a?a*a?a*b""#,
        r#"any where a : ("*a*a*a*a*b", "*?*?*?*?*?*?*?*b", "a*a*a*a*a*c")"#,
    ] {
        assert!(!timed(q, Duration::from_secs(5), || fires(q, &a50k)), "{q}");
    }
    assert!(fires(r#"any where a like "*a*a*a*a*a*a*a*a""#, &a50k));
}

#[test]
fn computations_have_a_budget() {
    // 100 values of 50 KB: `concat(a, a)` would be 10,000 strings of 100 KB (1 GB). Beyond 64 MiB
    // of computed values the clause is null, quickly.
    assert_eq!(eqlite::internals::functions::MAX_COMPUTED_BYTES, 64 << 20);
    let vals: Vec<String> = (0..100).map(|i| format!("\"{i}{}\"", "x".repeat(50_000))).collect();
    let ev = format!("{{\"a\":[{}],\"b\":1}}", vals.join(","));
    for q in [
        "any where length(concat(a, a)) > 0",
        "any where concat(a, a) != \"x\"",
        "any where startsWith~(concat(a, a), \"0\")",
    ] {
        assert!(!timed(q, Duration::from_secs(10), || fires(q, &ev)), "{q}");
    }
    // Still exact below the budget.
    assert!(fires("any where length(concat(a, \"!\")) == 50002", &ev));
    // Value combinations beyond 10,000 are null too (`!=` of null is null: no match either way).
    let many = format!("{{\"a\":[{}]}}", (0..200).map(|i| i.to_string()).collect::<Vec<_>>().join(","));
    assert!(!fires("any where a + a == 2", &many));
    assert!(!fires("any where not (a + a == 2)", &many));
    assert!(fires("any where a + 1 == 2", &many));
}

#[test]
fn functions_on_hostile_values() {
    let s = |x: &str| Value::Str(x.to_string().into());
    // Case folding changes byte lengths (İ → i̇, ẞ → ß): positions must not be mapped back blindly.
    assert_eq!(eqlite::internals::functions::between("İẞab", "İ", "b", false, true), "ẞa".to_lowercase());
    assert_eq!(eqlite::internals::functions::between("xİẞab", "x", "b", false, true), "i̇ßa");
    assert_eq!(eqlite::internals::functions::between("aẞİb", "a", "b", false, true), "ßi̇");
    let n = |x: &str| eqlite::internals::functions::call(Function::Number, false, &[s(x)], &[]);
    assert_eq!(n("-9223372036854775808"), Value::Int(i64::MIN));
    assert_eq!(n("--9223372036854775808"), Value::Null);
    assert_eq!(n("-+5"), Value::Null);
    assert_eq!(n("9223372036854775808"), Value::Float(9223372036854775808.0));
    assert_eq!(
        eqlite::internals::functions::call(Function::Number, false, &[s("-8000000000000000"), Value::Int(16)], &[]),
        Value::Int(i64::MIN)
    );
    assert_eq!(n("1e400"), Value::Null);
    let q = r#"any where between~(a, "İ", "b") : "*""#;
    assert!(fires(q, r#"{"a":"İẞab"}"#));
    for f in [
        "substring(a, -9223372036854775808, 9223372036854775807)",
        "indexOf(a, \"x\", 9223372036854775807)",
        "substring(a, 9223372036854775807)",
        "number(a, 9223372036854775807)",
        "a * 9223372036854775807",
        "-a",
        "a % 0",
        "a / 0",
        "cidrMatch(a, \"::/0\")",
    ] {
        for ev in [r#"{"a":-9223372036854775808}"#, r#"{"a":"İẞ😀x"}"#, r#"{"a":1e308}"#] {
            let q = format!("any where {f} == 1 or {f} != 1");
            let _ = fires(&q, ev);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Rules

#[test]
fn rule_count_is_limited() {
    assert_eq!(Options::default().max_rules, 10_000);
    let mut rs = RuleSet::new(Options { max_rules: 10_000, ..Options::default() });
    timed("10,000 rules", Duration::from_secs(120), || {
        for i in 0..10_000 {
            rs.add_query(&format!("r{i}"), &format!("process where process.pid == {i}")).unwrap();
        }
    });
    let d = rs.add_query("one-more", "any where true").unwrap_err();
    assert_eq!(d.message(), "a rule set holds at most 10000 rules");
    let hits = timed("an event against 10,000 rules", Duration::from_secs(5), || {
        matching(&rs, r#"{"event":{"category":"process"},"process":{"pid":9999}}"#)
    });
    assert_eq!(hits, ["r9999"]);
    let mut small = RuleSet::default();
    small.add_query("r5", "any where true").unwrap();
    let d = small.add_query("r5", "any where true").unwrap_err();
    assert_eq!(d.message(), "a rule with id `r5` is already loaded");
}

#[test]
fn hostile_rule_toml() {
    let rule = |q: &str| format!("[rule]\nrule_id = \"x\"\nlanguage = \"eql\"\nquery = '''{q}'''\n");
    let add = |text: &str| RuleSet::default().add_toml(text, "t.toml").map(|_| ()).map_err(|d| d.message().to_string());
    assert!(add(&rule("process where a == 1")).is_ok());
    for (what, text, want) in [
        ("deep arrays", format!("a = {}1{}\n", "[".repeat(100_000), "]".repeat(100_000)), "recurse"),
        ("deep tables", format!("a = {}1{}\n", "{b=".repeat(100_000), "}".repeat(100_000)), "recurse"),
        ("NUL byte", "[rule]\nrule_id = \"x\0\"\n".to_string(), "invalid rule TOML"),
        ("duplicate key", "[rule]\nrule_id = \"a\"\nrule_id = \"b\"\n".to_string(), "duplicate key"),
        ("no rule id", "[rule]\nlanguage = \"eql\"\nquery = 'any where true'\n".to_string(), "no `rule_id`"),
        (
            "huge integer",
            "[rule]\nrule_id = \"x\"\nrisk_score = 123456789012345678901234567890\n".to_string(),
            "`rule.risk_score` is out of range",
        ),
        ("deep query", rule(&format!("process where {}a{}", "(".repeat(10_000), ")".repeat(10_000))), "more than 32"),
        ("not a table", "rule = 1".to_string(), "`rule` must be a table, not an integer"),
        (
            "unknown severity",
            rule("any where true").replace("[rule]\n", "[rule]\nseverity = \"urgent\"\n"),
            "severity must be one of",
        ),
        ("empty", String::new(), "no `[rule]` table"),
    ] {
        let m = timed(what, Duration::from_secs(10), || add(&text)).unwrap_err();
        assert!(m.contains(want), "{what}: {m}");
    }
    // The severity error points at the value.
    let text = rule("any where true").replace("[rule]\n", "[rule]\nseverity = \"Urgent\"\n");
    let d = RuleSet::default().add_toml(&text, "t.toml").unwrap_err();
    assert_eq!(&text[d.span().start..d.span().end], "\"Urgent\"", "{}", d.message());
    // A 1 MB description is just text.
    let big = format!(
        "[rule]\nrule_id = \"x\"\nlanguage = \"eql\"\ndescription = \"{}\"\nquery = 'any where true'\n",
        "d".repeat(1 << 20)
    );
    assert!(add(&big).is_ok());
}

// ---------------------------------------------------------------------------------------------
// Events

#[test]
fn event_size_and_nesting_are_limited() {
    let rs = RuleSet::from_pack(&eqlite::Pack::kubelet(), eqlite::Options::default()).unwrap();
    assert_eq!(rs.options().max_event_bytes, 16 << 20);
    let big = format!("{{\"message\":\"{}\"}}", "x".repeat(16 << 20));
    let e = rs.read_json(&big).unwrap_err().to_string();
    assert!(e.contains("the limit is 16777216 bytes"), "{e}");
    let small = RuleSet::new(Options { max_event_bytes: 10, ..Options::default() });
    assert!(small.read_json(r#"{"a":"12345"}"#).is_err());
    // 10,000 levels of arrays in a field the rules read: refused beyond 128 levels.
    for field in ["process", "process\":{\"name"] {
        let deep = format!("{{\"{field}\":{}\"curl\"{}}}", "[".repeat(10_000), "]".repeat(10_000));
        let e = rs.read_json(&deep).unwrap_err().to_string();
        assert!(
            e.contains("recursion limit exceeded") || e.contains("nested more than 128 levels deep"),
            "{field}: {e}"
        );
    }
    // In a field no rule reads, it is only checked for syntax (without recursion) and skipped.
    let skipped = format!("{{\"unrelated\":{}1{}}}", "[{\"a\":".repeat(10_000), "}]".repeat(10_000));
    assert!(timed("skipping a 10,000-deep field", Duration::from_secs(5), || rs.read_json(&skipped)).is_ok());
    let broken = format!("{{\"unrelated\":{}1{}}}", "[".repeat(10_000), "]".repeat(9_999));
    assert!(rs.read_json(&broken).is_err());
    // 100 levels inside a field that is read are fine.
    let ok = format!("{{\"process\":{{\"name\":{}\"curl\"{}}}}}", "[".repeat(100), "]".repeat(100));
    assert_eq!(rs.read_json(&ok).unwrap().get(eqlite::internals::fields(&rs).lookup("process.name").unwrap()).len(), 1);
}

#[test]
fn odd_event_values() {
    // `in` compares integers exactly, like `==` (as doubles these two are equal).
    assert!(!fires("any where a in (131509374446778111)", r#"{"a":131509374446778110}"#));
    assert!(!fires("any where a : 131509374446778111", r#"{"a":131509374446778110}"#));
    assert!(fires("any where a in (131509374446778110, 1.5)", r#"{"a":131509374446778110}"#));
    assert!(fires("any where a in (2)", r#"{"a":2.0}"#) && fires("any where a in (2.0)", r#"{"a":2}"#));
    // Numbers beyond i64 become doubles; beyond f64 the event is refused with a message.
    assert!(fires("any where a > 9223372036854775807", r#"{"a":123456789012345678901234567890}"#));
    assert!(fires("any where a == 18446744073709551615", r#"{"a":18446744073709551615}"#));
    let rs = one_rule("any where a == 1");
    let e = rs.read_json(r#"{"a":1e400}"#).unwrap_err().to_string();
    assert!(e.contains("number out of range"), "{e}");
    assert!(rs.read_json(r#"{"a":1,"other":1e400}"#).is_ok(), "fields no rule reads are skipped");
    // Duplicate keys: both values are read (a multi-valued field).
    assert!(fires("any where a == 1", r#"{"a":1,"a":2}"#) && fires("any where a == 2", r#"{"a":1,"a":2}"#));
    assert!(fires("any where a.b == 2", r#"{"a":{"b":1},"a.b":2}"#));
    // NUL bytes and other control characters inside strings; invalid escapes refused.
    assert!(fires("any where a == \"\0\"", r#"{"a":"\u0000"}"#));
    assert!(fires(r#"any where a : "*x*""#, r#"{"a":"\u0000\u0001x\u001f"}"#));
    assert!(rs.read_json("{\"a\":\"\0\"}").is_err(), "a raw control character is invalid JSON");
    assert!(fires("any where a == \"\u{fffd}\"", r#"{"a":"\ud800"}"#), "a lone surrogate reads as U+FFFD");
    assert!(rs.read_json(r#"{"a":"\u12"}"#).is_err(), "a short escape is refused");
    // 1 MB strings are matched in linear time.
    let mb = format!("{{\"a\":\"{}needle\"}}", "hay ".repeat(250_000));
    assert!(timed("1 MB like", Duration::from_secs(5), || fires(r#"any where a like~ "*NEEDLE""#, &mb)));
    assert!(timed("1 MB regex", Duration::from_secs(5), || fires(r#"any where a regex "(hay )+needle""#, &mb)));
    // `__proto__` is an ordinary key.
    assert!(fires("any where __proto__.x == 1", r#"{"__proto__":{"x":1}}"#));
    // Only objects are events.
    for bad in ["[]", "null", "1", "\"x\"", "", "{", "{}}"] {
        assert!(rs.read_json(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn input_splitting_survives_garbage() {
    let bytes: Vec<u8> = (0..=255u8).cycle().take(100_000).collect();
    let text = String::from_utf8_lossy(&bytes);
    let items = timed("splitting binary garbage", Duration::from_secs(10), || eqlite::input::split(&text));
    assert!(items.iter().all(|i| i.is_err()));
    // A million unclosed brackets, and a million lines of errors.
    assert!(eqlite::input::split(&"[".repeat(1_000_000)).last().unwrap().is_err());
    let lines = "{\"a\":}\n".repeat(100_000);
    let items = timed("100,000 bad lines", Duration::from_secs(20), || eqlite::input::split(&lines));
    assert_eq!(items.len(), 100_000);
    assert_eq!(items.last().unwrap().as_ref().unwrap_err().line, 100_000);
    // Objects left open, line after line: recovering from them goes back only within a budget.
    for text in
        [format!("{}x", "{\"a\":\n".repeat(100_000)), "{\n\"a\":1,\n".repeat(100_000), "{\"a\":\n]\n".repeat(100_000)]
    {
        let items = timed("objects left open", Duration::from_secs(20), || eqlite::input::split(&text));
        assert!(!items.is_empty() && items.iter().all(|i| i.is_err()));
    }
}

// ---------------------------------------------------------------------------------------------
// Streams

#[test]
fn pending_sequence_state_is_bounded() {
    let rs = one_rule("sequence by k [any where a == 1] [any where b == 1]");
    let opts = StreamOptions { lateness_ms: 60_000, max_pending: 1_000, ..StreamOptions::default() };
    assert_eq!(StreamOptions::default().max_pending, 100_000);
    let mut st = Stream::new(&rs, opts);
    // 50,000 first stages with distinct keys at the same instant: neither the partial matches
    // nor the events held back for ordering grow beyond the cap.
    timed("50,000 partial sequences", Duration::from_secs(30), || {
        for i in 0..50_000u64 {
            let json = format!("{{\"@timestamp\":5,\"k\":{i},\"a\":1}}");
            let ev = rs.read_json(&json).unwrap();
            st.push(&rs, &ev, i);
            assert!(st.stats().pending <= 2_000, "{:?}", st.stats());
        }
    });
    assert!(st.stats().evicted > 40_000, "{:?}", st.stats());
    // The newest partial still completes.
    let ev = rs.read_json(r#"{"@timestamp":5,"k":49999,"b":1}"#).unwrap();
    let mut alerts = st.push(&rs, &ev, 50_000);
    alerts.extend(st.flush(&rs));
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].events, [49_999, 50_000]);
}

#[test]
fn pending_sample_state_is_bounded() {
    let rs = one_rule("sample by k [any where a == 1] [any where b == 1]");
    let mut st = Stream::new(&rs, StreamOptions { max_pending: 1_000, ..StreamOptions::default() });
    timed("50,000 partial samples", Duration::from_secs(30), || {
        for i in 0..50_000u64 {
            let json = format!("{{\"k\":{i},\"a\":1}}");
            let ev = rs.read_json(&json).unwrap();
            st.push(&rs, &ev, i);
        }
    });
    assert!(st.stats().pending <= 1_000 && st.stats().evicted >= 49_000, "{:?}", st.stats());
    assert!(st.save().len() < 200_000, "saved state stays small");
    let ev = rs.read_json(r#"{"k":49999,"b":1}"#).unwrap();
    assert_eq!(st.push(&rs, &ev, 50_000).len(), 1);
    // Completed keys are remembered (no second alert), up to the cap.
    let ev = rs.read_json(r#"{"k":49999,"a":1,"b":1}"#).unwrap();
    assert!(st.push(&rs, &ev, 50_001).is_empty());
}

#[test]
fn hostile_saved_state_is_refused() {
    for bad in ["", "{", "null", "[]", r#"{"options":1}"#, &"[".repeat(10_000)] {
        assert!(Stream::restore(bad).is_err(), "{bad:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// The command line

const CURL: &str = r#"{"event":{"category":"process"},"process":{"name":"curl"}}"#;

#[test]
fn cli_reports_bad_input_and_scans_the_rest() {
    let q = ["scan", "--query", r#"process where process.name == "curl""#];
    let mut input = Vec::new();
    input.extend_from_slice(CURL.as_bytes());
    input.extend_from_slice(b"\n{\"process\":{\"name\":\"\xff\xfe\"}}\n"); // invalid UTF-8
    input.extend_from_slice(b"{\"a\":\"\0\"}\n"); // a raw NUL
    input.extend_from_slice(format!("{{\"process\":{}1{}}}\n", "[".repeat(10_000), "]".repeat(10_000)).as_bytes());
    input.extend_from_slice(b"{\"process\":{\"name\":1e400}}\n");
    input.extend_from_slice(b"{\"process\":{\"name\":123456789012345678901234567890}}\n");
    input.extend_from_slice(format!("{{\"m\":\"{}\"}}\n", "x".repeat(1 << 20)).as_bytes());
    input.extend_from_slice(CURL.as_bytes());
    let out = eqlite(&q, &input);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("line 2, column 21: invalid UTF-8"), "{stderr}");
    assert!(stderr.contains("line 3, column 6: control character"), "{stderr}");
    assert!(stderr.contains("line 4, column 138: invalid event: recursion limit exceeded"), "{stderr}");
    assert!(stderr.contains("line 5, column 24: invalid event: number out of range"), "{stderr}");
    assert!(stderr.contains("4 of 8 input items were invalid"), "{stderr}");
    let events: Vec<u64> = alerts(&out).iter().map(|a| a["events"][0].as_u64().unwrap()).collect();
    assert_eq!(events, [0, 7]);
}

/// A lone surrogate escape cannot hide an event: it reads as U+FFFD, in the CLI as in the library.
#[test]
fn lone_surrogates_cannot_hide_an_event() {
    let q = ["scan", "--query", r#"process where process.name == "curl" and process.args : "*10250*""#];
    let input = br#"{"event":{"category":"process"},"process":{"name":"curl","args":["\udfff","https://10.0.0.1:10250/pods\ud800"]}}"#;
    let out = eqlite(&q, input);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(alerts(&out).len(), 1);
}

#[test]
fn cli_skips_lines_over_the_event_limit_without_holding_them() {
    let mut input = Vec::new();
    input.extend_from_slice(format!("{{\"m\":\"{}\"}}\n", "x".repeat(17 << 20)).as_bytes());
    input.extend_from_slice(CURL.as_bytes());
    input.push(b'\n');
    let out = eqlite(&["scan", "--query", r#"process where process.name == "curl""#], &input);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("line 1") && stderr.contains("the limit for an event is 16777216 bytes"), "{stderr}");
    assert_eq!(alerts(&out).len(), 1);
}

#[test]
fn cli_whole_document_input() {
    // Invalid UTF-8 in an array element makes that element invalid, not the whole array.
    let mut doc = b"[{\"a\":\"\xff\"},\n ".to_vec();
    doc.extend_from_slice(CURL.as_bytes());
    doc.push(b']');
    let out = eqlite(&["scan", "--query", r#"process where process.name == "curl""#], &doc);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("line 1, column 8: invalid UTF-8"));
    assert_eq!(alerts(&out).len(), 1);
    // An array with a 10,000-deep element and a good one.
    let doc = format!("[{}1{}, {CURL}]", "[".repeat(10_000), "]".repeat(10_000));
    let out = eqlite(&["scan", "--query", r#"process where process.name == "curl""#], doc.as_bytes());
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(alerts(&out).len(), 1);
    // Binary garbage.
    let garbage: Vec<u8> = (0..=255u8).cycle().take(1 << 16).collect();
    let out = eqlite(&["scan"], &garbage);
    assert!(matches!(out.status.code(), Some(1) | Some(2)));
    assert!(!out.stderr.is_empty());
}

#[test]
fn cli_refuses_hostile_rules_with_messages() {
    let deep = format!("any where {}a{}", "(".repeat(10_000), ")".repeat(10_000));
    let out = eqlite(&["check", "--query", &deep], b"");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("more than 32 levels deep"));

    let dir = std::env::temp_dir().join(format!("eqlite-hostile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // A query over 1 MiB (too long for a command-line argument).
    let long = format!("any where a == \"{}\"", "x".repeat(1 << 20));
    let toml =
        format!("[rule]\nrule_id = \"l\"\nlanguage = \"eql\"\nquery = \"\"\"{}\"\"\"\n", long.replace('"', "\\\""));
    std::fs::write(dir.join("long.toml"), toml).unwrap();
    std::fs::write(dir.join("bad-utf8.toml"), b"[rule]\nrule_id = \"\xff\"\n").unwrap();
    std::fs::write(dir.join("deep.toml"), format!("a = {}1{}\n", "[".repeat(100_000), "]".repeat(100_000))).unwrap();
    std::fs::write(
        dir.join("regex.toml"),
        "[rule]\nrule_id = \"r\"\nlanguage = \"eql\"\nquery = 'any where a regex \"(a{1000}){1000}\"'\n",
    )
    .unwrap();
    let out = eqlite(&["check", "--rules", dir.to_str().unwrap()], b"");
    std::fs::remove_dir_all(&dir).ok();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("valid UTF-8"), "{stderr}");
    assert!(stderr.contains("recurse"), "{stderr}");
    assert!(stderr.contains("too large") || stderr.contains("repetition"), "{stderr}");
    assert!(stderr.contains("the limit is 1048576"), "{stderr}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("4 failed"));
}

#[test]
fn cli_blow_up_patterns_finish_with_the_right_answer() {
    let a50k = format!("{{\"a\":\"{}\"}}\n", "a".repeat(50_000));
    // A child process: its CPU time is not this thread's, so the guard is wall time, generous.
    let start = std::time::Instant::now();
    let out = {
        eqlite(
            &[
                "scan",
                "--query",
                r#"any where a regex "(a+)+b""#,
                "--query",
                r#"any where a like "*a*a*a*a*a*a*a*b""#,
                "--query",
                r#"any where a regex "(a+)+""#,
                "--query",
                r#"any where a like~ "*A*A*A*A*A*A*A*A""#,
            ],
            a50k.as_bytes(),
        )
    };
    assert!(start.elapsed() < Duration::from_secs(120), "the CLI on evil patterns took {:?}", start.elapsed());
    assert!(out.status.success());
    let ids: Vec<String> = alerts(&out).iter().map(|a| a["rule_id"].as_str().unwrap().to_string()).collect();
    assert_eq!(ids, ["query-2", "query-3"]);
}

#[test]
fn cli_explain_on_hostile_events() {
    let mut input = format!("{{\"a\":[{}]}}\n", (0..10_000).map(|i| format!("\"{i}\"")).collect::<Vec<_>>().join(","));
    input.push_str("{\"a\":\"\\u0000\"}\n");
    let out = eqlite(&["explain", "--query", r#"any where a : "9999" and length(a) > 3"#], input.as_bytes());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let lines: Vec<serde_json::Value> =
        String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["matched"], true);
    assert_eq!(lines[0]["explanations"][0]["children"][0]["children"][0]["values_total"], 10_000);
}

#[test]
fn cli_usage_errors_are_messages() {
    for args in [
        &["scan", "--max-pending", "-1"][..],
        &["scan", "--lateness", "99999999999999999999d"],
        &["nope"],
        &["scan", "/nonexistent/x"],
    ] {
        let out = eqlite(args, b"");
        assert!(!out.status.success(), "{args:?}");
        assert!(!out.stderr.is_empty(), "{args:?}");
    }
    // Arguments that are not UTF-8.
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        let out = Command::new(env!("CARGO_BIN_EXE_eqlite"))
            .args(["scan", "--query"])
            .arg(std::ffi::OsStr::from_bytes(b"any where a == \"\xff\""))
            .output()
            .unwrap();
        assert!(!out.status.success());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("invalid UTF-8") && !stderr.contains("panicked"), "{stderr}");
    }
}

#[test]
fn restored_state_from_another_rule_version_or_tampered() {
    // State saved by a rule, restored after its query changed under the same id (or edited by
    // hand): mismatched shapes must not crash the stream.
    let old = one_rule("sequence by k [any where a == 1] [any where b == 1]");
    let mut st = Stream::new(&old, StreamOptions::default());
    for (i, j) in [r#"{"@timestamp":1,"k":1,"a":1}"#, r#"{"@timestamp":2,"k":2,"a":1}"#].iter().enumerate() {
        st.push(&old, &old.read_json(j).unwrap(), i as u64);
    }
    let saved = st.save();
    let new = one_rule("sequence by k [any where a == 1] [any where b == 1] [any where c == 1] [any where d == 1]");
    let mut restored = Stream::restore(&saved).unwrap();
    let mut alerts = Vec::new();
    for (i, j) in
        [r#"{"@timestamp":3,"k":1,"b":1}"#, r#"{"@timestamp":4,"k":1,"c":1}"#, r#"{"@timestamp":5,"k":1,"d":1}"#]
            .iter()
            .enumerate()
    {
        alerts.extend(restored.push(&new, &new.read_json(j).unwrap(), 2 + i as u64));
    }
    alerts.extend(restored.flush(&new));
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].events, [0, 2, 3, 4]);
    // Hand-edited: no slots, stage numbers out of range, a sample's state for a sequence.
    let tampered = saved.replace(r#""slots":[null,null]"#, r#""slots":[]"#);
    let mut t = Stream::restore(&tampered).unwrap();
    for j in [r#"{"@timestamp":6,"k":1,"a":1,"b":1}"#, r#"{"@timestamp":7,"k":2,"b":1}"#] {
        t.push(&old, &old.read_json(j).unwrap(), 9);
    }
    t.flush(&old);
    let sample = one_rule("sample by k [any where a == 1] [any where b == 1] [any where c == 1]");
    let mut s = Stream::new(&sample, StreamOptions::default());
    s.push(&sample, &sample.read_json(r#"{"k":1,"a":1}"#).unwrap(), 0);
    let saved = s.save();
    let smaller = one_rule("sample by k [any where a == 1] [any where b == 1]");
    let bigger = one_rule("sample by k [any where a == 1] [any where b == 1] [any where c == 1] [any where d == 1]");
    for rs in [&smaller, &bigger] {
        let mut r = Stream::restore(&saved).unwrap();
        for j in [r#"{"k":1,"b":1}"#, r#"{"k":1,"c":1}"#, r#"{"k":1,"d":1}"#] {
            r.push(rs, &rs.read_json(j).unwrap(), 1);
        }
    }
    // A state of another kind (the rule was a sequence, is a sample now) is replaced by a fresh one.
    let mut seq = Stream::new(&old, StreamOptions::default());
    seq.push(&old, &old.read_json(r#"{"@timestamp":1,"k":1,"a":1}"#).unwrap(), 0);
    let saved = seq.save();
    let mut r = Stream::restore(&saved).unwrap();
    let mut alerts = Vec::new();
    for (i, j) in [r#"{"k":1,"a":1}"#, r#"{"k":1,"b":1}"#, r#"{"k":1,"c":1}"#].iter().enumerate() {
        alerts.extend(r.push(&sample, &sample.read_json(j).unwrap(), i as u64));
    }
    assert_eq!(alerts.len(), 1, "the sample works on a fresh state");
}
