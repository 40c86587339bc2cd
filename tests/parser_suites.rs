//! Elasticsearch's own parser test lists: every query of queries-supported.eql parses, and every
//! unit of queries-unsupported.eql is rejected with a message that says what is not supported.

mod common;

fn suite(name: &str) -> Option<String> {
    let p = common::shared(&format!("testdata/es-eql-parser/{name}"))?;
    Some(std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display())))
}

/// GrammarTests' format: `//` lines and blank lines are skipped; a query ends at a line ending in
/// `;`. The optional-field and sample block at the end has one query per line.
fn split_units(text: &str) -> Vec<(usize, String)> {
    let mut units = Vec::new();
    let mut cur = String::new();
    let mut start = 0;
    let mut one_per_line = false;
    for (i, line) in text.lines().enumerate() {
        let t = line.trim();
        if t == "// optional fields" {
            one_per_line = true;
        }
        if t.is_empty() || t.starts_with("//") {
            continue;
        }
        if cur.is_empty() {
            start = i + 1;
        }
        if one_per_line {
            units.push((start, line.to_string()));
            continue;
        }
        match t.strip_suffix(';') {
            Some(body) if line.trim_end().ends_with(';') => {
                cur.push_str(&line[..line.rfind(';').unwrap()]);
                let _ = body;
                units.push((start, std::mem::take(&mut cur)));
            }
            _ => {
                cur.push_str(line);
                cur.push('\n');
            }
        }
    }
    units
}

#[test]
fn supported_queries_parse() {
    let Some(text) = suite("queries-supported.eql") else {
        return;
    };
    let units = split_units(&text);
    let mut failures = Vec::new();
    for (line, q) in &units {
        let result = eqlite::parse_query(q);
        // Deliberate deviation: Elasticsearch's grammar accepts `join` and its planner then refuses
        // it; eqlite refuses it while parsing, with the same "not supported" message.
        if q.trim_start().starts_with("join") {
            let d = result.expect_err("join must be rejected");
            assert!(d.message().contains("`join` is not supported"), "line {line}: {}", d.message());
            continue;
        }
        if let Err(d) = result {
            failures.push(format!("line {line}: {q}\n{}", d.rendered()));
        }
    }
    eprintln!("queries-supported.eql: {} of {} parse", units.len() - failures.len(), units.len());
    assert!(units.len() > 200, "only {} queries read", units.len());
    assert!(failures.is_empty(), "{} failed:\n{}", failures.len(), failures.join("\n\n"));
}

#[test]
fn unsupported_queries_are_rejected_by_name() {
    let Some(text) = suite("queries-unsupported.eql") else {
        return;
    };
    let units = split_units(&text);
    let mut accepted = Vec::new();
    for (line, q) in &units {
        match eqlite::parse_query(q) {
            Ok(_) => accepted.push(format!("line {line}: {q}")),
            Err(d) => {
                let m = &d.message();
                assert!(
                    m.contains("not supported") || m.contains("no time unit"),
                    "line {line}: rejected, but the message does not say what is unsupported: {m}\n{q}"
                );
            }
        }
    }
    eprintln!("queries-unsupported.eql: {} of {} rejected", units.len() - accepted.len(), units.len());
    assert!(units.len() > 80, "only {} units read", units.len());
    assert!(accepted.is_empty(), "accepted:\n{}", accepted.join("\n"));
}
