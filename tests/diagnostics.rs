//! Parse errors a rule author can act on: message, 1-based line and column, byte and UTF-16 spans.

use eqlite::{parse_query, Error, RuleSet};

fn err(q: &str) -> Error {
    let mut rs = RuleSet::default();
    rs.add_query("q", q).expect_err("the query must be rejected")
}

/// (message start, line, column, start_utf16, end_utf16)
fn pin(q: &str, msg: &str, line: usize, column: usize, utf16: (usize, usize)) {
    let d = err(q);
    assert!(d.message().starts_with(msg), "{q:?}: message {:?} does not start with {msg:?}", d.message());
    assert_eq!(
        (d.position().unwrap().line, d.position().unwrap().column),
        (line, column),
        "{q:?}: position of {:?}",
        d.message()
    );
    assert_eq!(
        (d.position().unwrap().start_utf16, d.position().unwrap().end_utf16),
        utf16,
        "{q:?}: UTF-16 span of {:?}",
        d.message()
    );
    assert!(d.rendered().contains('^') && d.rendered().contains(&format!("--> {line}:{column}")), "{}", d.rendered());
}

#[test]
fn typical_mistakes() {
    pin("process where process.name == \"curl", "unterminated string", 1, 31, (30, 35));
    pin(
        "process process.name == \"curl\"",
        "expected `where` after the event category, found `process.name`",
        1,
        9,
        (8, 20),
    );
    pin("process where process.name === \"curl\"", "unknown operator `===`", 1, 28, (27, 30));
    pin("process where process.name <> \"curl\"", "unknown operator `<>` (use `!=`)", 1, 28, (27, 29));
    pin("process where process.name && true", "unknown operator `&&` (use `and`)", 1, 28, (27, 29));
    pin("process where (process.name == \"curl\"", "unbalanced `(`: it is never closed by a `)`", 1, 15, (14, 15));
    pin("process where process.name == \"curl\")", "unbalanced `)`: there is no `(` to close", 1, 37, (36, 37));
    pin("process where (a == 1]", "`]` does not match the `(` at 1:15; expected `)`", 1, 22, (21, 22));
    pin(
        "process where a == 1 and",
        "expected a value (a field, literal or function call), found the end of the query",
        1,
        25,
        (24, 24),
    );
    pin("process where a like 1", "`like` needs string patterns", 1, 22, (21, 22));
    pin(
        "process where a : b",
        "expected a string literal or a parenthesised list of strings after `:`",
        1,
        19,
        (18, 19),
    );
}

#[test]
fn positions_count_characters_and_utf16_units_after_non_ascii_text() {
    // "é" is 2 bytes and 1 UTF-16 unit; "😀" is 4 bytes and 2 UTF-16 units.
    let q = "process where user.name == \"é😀\" and process.name = \"x\"";
    let d = err(q);
    assert_eq!(d.message(), "`=` is not supported in the Elasticsearch dialect of EQL; use `==`");
    assert_eq!(
        (d.position().unwrap().line, d.position().unwrap().column, d.position().unwrap().column_utf16),
        (1, 50, 51)
    );
    assert_eq!((d.position().unwrap().start, d.position().unwrap().end), (53, 54));
    assert_eq!((d.position().unwrap().start_utf16, d.position().unwrap().end_utf16), (50, 51));
    assert_eq!(q.encode_utf16().collect::<Vec<_>>()[50], '=' as u16);

    let q = "sequence\n  [process where a == \"日本\"]\n  [file where b === 1]";
    let d = err(q);
    assert_eq!((d.position().unwrap().line, d.position().unwrap().column), (3, 17));
    assert_eq!(d.position().unwrap().start_utf16, q[..d.position().unwrap().start].encode_utf16().count());
}

#[test]
fn unsupported_syntax_says_so() {
    for (q, what) in [
        ("process where true | unique process.name", "the pipe `unique` is not supported"),
        ("join [process where true] [file where true]", "`join` is not supported"),
        ("process where child of [process where true]", "lineage (`child of`) is not supported"),
        ("process where args[0] == \"x\"", "array indexing (`field[0]`) is not supported"),
        ("process where a = 1", "`=` is not supported"),
        ("process where a == 'x'", "single-quoted strings are not supported"),
        (
            "sequence with maxspan=1.5m [a where true] [b where true]",
            "fractional time spans such as `1.5m` are not supported",
        ),
        ("sequence [a where true] [b where true] fork", "`fork` is not supported"),
        ("process where wildcard(a, \"x*\")", "`wildcard` is an Endgame EQL function, not supported"),
    ] {
        let d = err(q);
        assert!(d.message().contains(what), "{q}: {}", d.message());
    }
}

#[test]
fn semantic_checks() {
    for (q, what) in [
        ("process where nope(a)", "unknown function `nope`"),
        ("process where length(a, b) > 1", "`length` takes 1 argument, found 2"),
        ("process where length~(a) > 1", "`length` has no case-insensitive (`~`) variant"),
        ("sequence [a where true] with runs=101 [b where true]", "`runs` must be between 1 and 100"),
        (
            "sequence [a where true] ![b where true] [c where true]",
            "missing events (`![…]`) need a sequence `with maxspan=…`",
        ),
        ("sequence [a where true] by x [b where true]", "query 2 has 0 join keys but the first has 1"),
        ("sequence [a where true]", "a sequence needs at least 2 queries"),
        ("sample by x [a where true]", "a sample needs at least 2 queries"),
        ("process where a in (b, 1)", "only literals are supported in `in` lists"),
        ("process where cidrMatch(ip, \"10.0.0.0/33\")", "invalid prefix length"),
        ("process where a regex \"(x\"", "invalid regular expression"),
        ("process where true | head 0", "the number of results must be greater than 0"),
        ("sequence with maxspan=5x [a where true] [b where true]", "unknown time unit `x`"),
    ] {
        let d = err(q);
        assert!(d.message().contains(what), "{q}: {}", d.message());
    }
}

#[test]
fn deep_nesting_and_huge_queries_end_in_an_error_or_a_result() {
    let deep = format!("process where {}true{}", "(".repeat(10_000), ")".repeat(10_000));
    let d = parse_query(&deep).unwrap_err();
    assert!(d.message().contains("nests brackets more than"), "{}", d.message());

    let nots = format!("process where {}true", "not ".repeat(10_000));
    assert!(parse_query(&nots).unwrap_err().message().contains("nests more than"));
    let sum = format!("process where a == {}1", "1 + ".repeat(10_000));
    assert!(parse_query(&sum).unwrap_err().message().contains("nests more than"));
    let comments = format!("process where true {}", "/*".repeat(10_000));
    assert!(parse_query(&comments).is_err());

    // A 1 MB query: a long flat `or` chain parses.
    let mut q = String::from("process where process.name == \"x\"");
    while q.len() < 1_000_000 {
        q.push_str(" or process.name == \"abcdefghijklmnopqrstuvwxyz0123456789\"");
    }
    let parsed = parse_query(&q).expect("a 1 MB flat query parses");
    assert_eq!(parsed.span.end, q.len());
    // And one beyond the default limit is refused with a clear message.
    let too_long = format!("{q}{}", " or a == 1".repeat(10_000));
    assert!(parse_query(&too_long).unwrap_err().message().contains("the limit is"));
}
