//! The input splitter against the shared table `tests/fixtures/split-cases.json` (the npm package
//! and the playground are tested against the same table): the library's `split`, the streaming
//! `read` fed in chunks of every size, and `eqlite scan` on each case. Then the case of issue 14
//! item 12, a truncated NDJSON line among kubelet attack events, through the CLI.

mod cli;

use eqlite::input::{self, Item, Origin, SplitOptions};
use eqlite::RuleSet;
use serde_json::Value;

struct Case {
    name: String,
    input: String,
    items: Vec<Value>,
}

fn cases() -> Vec<Case> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/split-cases.json");
    let table: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let cases: Vec<Case> = table["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| Case {
            name: c["name"].as_str().unwrap().to_string(),
            input: c["input"].as_str().unwrap().to_string(),
            items: c["items"].as_array().unwrap().clone(),
        })
        .collect();
    assert!(cases.len() >= 30);
    cases
}

/// An item as the table writes it.
fn as_table(item: &Item) -> Value {
    match item {
        Ok(r) => {
            let origin = match r.origin {
                Origin::Line => "line",
                Origin::Value => "value",
                Origin::Element => "element",
                Origin::Hit(_) => "hit",
            };
            serde_json::json!({"line": r.line, "column": r.column, "origin": origin, "json": r.json})
        }
        Err(e) => serde_json::json!({"line": e.line, "column": e.column, "error": e.message}),
    }
}

#[test]
fn split_gives_the_table() {
    for c in cases() {
        let got: Vec<Value> = input::split(&c.input).iter().map(as_table).collect();
        assert_eq!(got, c.items, "{}", c.name);
        // Offsets point at the item in the input.
        for item in input::split(&c.input) {
            match item {
                Ok(r) => assert_eq!(&c.input[r.offset..r.offset + r.json.len()], r.json, "{}", c.name),
                Err(e) => assert!(e.offset <= c.input.len(), "{}", c.name),
            }
        }
    }
}

/// A reader that hands out at most `n` bytes per call, to cut the input everywhere.
struct Trickle<'a> {
    data: &'a [u8],
    n: usize,
}

impl std::io::Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.n.min(buf.len()).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

fn read_all(text: &str, chunk: usize, options: &SplitOptions) -> Vec<Value> {
    let mut out = Vec::new();
    input::read(Trickle { data: text.as_bytes(), n: chunk }, options, |item| out.push(as_table(&item))).unwrap();
    out
}

#[test]
fn reading_a_stream_in_chunks_of_any_size_gives_the_same_items() {
    for c in cases() {
        for chunk in [1, 2, 3, 5, 8, 13, 64, 1 << 16] {
            assert_eq!(read_all(&c.input, chunk, &SplitOptions::default()), c.items, "{} in chunks of {chunk}", c.name);
        }
    }
}

/// What a reader of events makes of an item: fine, or invalid at (line, column).
fn verdict(item: Item, rs: &RuleSet) -> Result<(), (usize, usize)> {
    item.and_then(|raw| rs.read_json(raw.json).map(|_| ()).map_err(|e| raw.error(&e))).map_err(|e| (e.line, e.column))
}

fn verdicts(text: &str, rs: &RuleSet) -> Vec<Result<(), (usize, usize)>> {
    input::split(text).into_iter().map(|item| verdict(item, rs)).collect()
}

#[test]
fn leaving_lines_to_the_event_reader_finds_the_same_errors_at_the_same_places() {
    let rs = RuleSet::default();
    let unchecked = SplitOptions { check_lines: false, ..SplitOptions::default() };
    for c in cases() {
        let mut got = Vec::new();
        input::read(Trickle { data: c.input.as_bytes(), n: 7 }, &unchecked, |item| got.push(verdict(item, &rs)))
            .unwrap();
        assert_eq!(got, verdicts(&c.input, &rs), "{}", c.name);
    }
}

#[test]
fn items_over_the_limit_are_errors_and_the_rest_survives() {
    let options = SplitOptions { max_item_bytes: 100, ..SplitOptions::default() };
    let big = format!("{{\"m\":\"{}\"}}", "x".repeat(1000));
    for (text, what) in [
        (format!("{{\"a\":1}}\n{big}\n{{\"a\":3}}\n"), "the line is 1008 bytes long"),
        (format!("{big}\n{{\"a\":1}}\n{{\"a\":3}}\n"), "the line is 1008 bytes long"),
        (format!("[{{\"a\":1}}, {big}, {{\"a\":3}}]"), "the array element is 1008 bytes long"),
    ] {
        for chunk in [1, 7, 64, 1 << 16] {
            let items = read_all(&text, chunk, &options);
            assert_eq!(items.len(), 3, "{items:?}");
            let bad = items.iter().position(|i| i.get("error").is_some()).unwrap();
            assert!(items[bad]["error"].as_str().unwrap().starts_with(what), "{chunk}: {items:?}");
            assert_eq!(items.iter().filter(|i| i.get("json").is_some()).count(), 2, "{items:?}");
        }
    }
}

fn scan(args: &[&str], stdin: &str) -> (Vec<Value>, String, Option<i32>) {
    let out = cli::eqlite(&[&["scan"], args].concat(), stdin.as_bytes());
    (cli::alerts(&out), String::from_utf8(out.stderr).unwrap(), out.status.code())
}

#[test]
fn the_cli_scans_every_case_like_the_library() {
    let rs = RuleSet::default();
    for c in cases() {
        let v = verdicts(&c.input, &rs);
        let events: Vec<usize> = (0..v.len()).filter(|&i| v[i].is_ok()).collect();
        let bad: Vec<(usize, usize)> = v.iter().filter_map(|r| r.err()).collect();
        let (alerts, stderr, code) = scan(&["--query", "any where true"], &c.input);
        let fired: Vec<usize> = alerts.iter().map(|a| a["events"][0].as_u64().unwrap() as usize).collect();
        assert_eq!(fired, events, "{}: {stderr}", c.name);
        let reported: Vec<&str> = stderr.lines().filter(|l| l.starts_with("eqlite: -: line ")).collect();
        assert_eq!(reported.len(), bad.len(), "{}: {stderr}", c.name);
        for ((line, column), msg) in bad.iter().zip(&reported) {
            assert!(msg.starts_with(&format!("eqlite: -: line {line}, column {column}: ")), "{}: {msg}", c.name);
        }
        for (i, item) in c.items.iter().enumerate() {
            if let Some(e) = item["error"].as_str() {
                assert!(reported.iter().any(|m| m.ends_with(e)), "{}: item {i}: {e} in {stderr}", c.name);
            }
        }
        assert_eq!(code, Some(if bad.is_empty() { 0 } else { 2 }), "{}: {stderr}", c.name);
    }
}

/// Issue 14 item 12: `[ev, '{"a":', ev, ev].join("\n")` with the kubelet attack event.
#[test]
fn a_truncated_ndjson_line_is_one_invalid_item_and_its_neighbours_still_alert() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/kubelet/direct_kubelet_access_d4c.json");
    let fixture: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let ev = serde_json::to_string(&fixture["cases"][0]["events"][0]).unwrap();
    let text = [ev.as_str(), "{\"a\":", &ev, &ev].join("\n");
    let (alerts, stderr, code) = scan(&[], &text);
    assert_eq!(code, Some(2), "{stderr}");
    let d4c: Vec<&Value> = alerts
        .iter()
        .filter(|a| a["rule_id"] == "b4bd186b-69c6-45ad-8bef-5c35bbadeaef")
        .map(|a| &a["events"])
        .collect();
    assert_eq!(d4c, [&serde_json::json!([0]), &serde_json::json!([2]), &serde_json::json!([3])], "{stderr}");
    // Every rule that fires on the event fires three times.
    assert_eq!(alerts.len() % 3, 0);
    assert!(alerts.iter().all(|a| a["events"] != serde_json::json!([1])));
    assert!(stderr.contains("eqlite: -: line 2, column 6: EOF while parsing a value\n"), "{stderr}");
    assert!(stderr.contains("1 of 4 input items were invalid"), "{stderr}");
}
