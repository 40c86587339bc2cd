//! `eqlite scan` as people use it: several inputs (files, directories, .gz, .zst, stdin), the
//! output formats, and alerts that say where their events came from.

mod cli;
mod common;

use cli::{alerts, eqlite, eqlite_env, eqlite_in_pty};
use serde_json::Value as J;
use std::path::{Path, PathBuf};

/// The events of the kubelet pack's fixture cases that fire, in file order, one JSON text each.
fn firing_events(rule_file: &str) -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/kubelet").join(rule_file);
    let doc: J = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut out = Vec::new();
    for case in doc["cases"].as_array().unwrap() {
        if case["fires"] == true {
            out.extend(case["events"].as_array().unwrap().iter().map(|e| e.to_string()));
        }
    }
    out
}

fn ndjson(events: &[String]) -> String {
    events.iter().map(|e| format!("{e}\n")).collect()
}

/// A fresh directory under the target directory, for one test's files.
fn scratch(name: &str) -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("scan").join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn gzip(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn zstd(data: &[u8]) -> Vec<u8> {
    ruzstd::encoding::compress_to_vec(data, ruzstd::encoding::CompressionLevel::Fastest)
}

/// (file, line) of each member event of each alert.
fn sources(alerts: &[J]) -> Vec<Vec<(String, u64)>> {
    alerts
        .iter()
        .map(|a| {
            a["sources"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| {
                    let f = s["file"].as_str().unwrap();
                    (Path::new(f).file_name().unwrap().to_string_lossy().into_owned(), s["line"].as_u64().unwrap())
                })
                .collect()
        })
        .collect()
}

const KUBELET_ARGS: &str = "kubelet_api_connection_internal_ip.json";
const CURL: &str = "k8s_api_request_curl_wget.json";

#[test]
fn several_files_directories_gz_zst_and_stdin_with_file_and_line() {
    let (a, b) = (firing_events(KUBELET_ARGS), firing_events(CURL));
    assert!(a.len() >= 3 && b.len() >= 3, "fixtures with firing cases");
    let d = scratch("inputs");
    std::fs::create_dir_all(d.join("logs/nested")).unwrap();
    std::fs::write(d.join("logs/a.ndjson"), ndjson(&a)).unwrap();
    std::fs::write(d.join("logs/nested/b.log.gz"), gzip(ndjson(&b).as_bytes())).unwrap();
    // Told by content: a zstd file named .jsonl.
    std::fs::write(d.join("logs/nested/c.jsonl"), zstd(ndjson(&a[..2]).as_bytes())).unwrap();
    // Not an event file: a directory search leaves it alone.
    std::fs::write(d.join("logs/notes.txt"), "not json\n").unwrap();

    let out = eqlite(&["scan", d.join("logs").to_str().unwrap()], b"");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let all = alerts(&out);
    let src = sources(&all);
    // Files read in path order: a.ndjson, nested/b.log.gz, nested/c.jsonl; positions count across
    // them. Complete files are one input ordered by time, so alerts come in time order.
    let mut files: Vec<&str> = src.iter().map(|s| s[0].0.as_str()).collect();
    files.sort();
    files.dedup();
    assert_eq!(files, ["a.ndjson", "b.log.gz", "c.jsonl"]);
    for (alert, s) in all.iter().zip(&src) {
        let pos = alert["events"][0].as_u64().unwrap();
        let (file, line) = &s[0];
        let expected = match file.as_str() {
            "a.ndjson" => pos + 1,
            "b.log.gz" => pos + 1 - a.len() as u64,
            _ => pos + 1 - (a.len() + b.len()) as u64,
        };
        assert_eq!(*line, expected, "{alert}");
    }
    // Every event of a (fires) gives an alert from a.ndjson, and the first two again from c.jsonl.
    let lines = |f: &str| {
        let mut l: Vec<u64> = src.iter().filter(|s| s[0].0 == f).map(|s| s[0].1).collect();
        l.sort();
        l.dedup();
        l
    };
    assert_eq!(lines("a.ndjson"), (1..=a.len() as u64).collect::<Vec<_>>());
    assert_eq!(lines("c.jsonl"), [1, 2]);
    assert_eq!(lines("b.log.gz"), (1..=b.len() as u64).collect::<Vec<_>>());

    // Several files named one by one, and stdin among them, give the same alerts as the directory
    // (with stdin the run is a stream: in arrival order, not time order).
    let gz = d.join("logs/nested/b.log.gz");
    let zst = d.join("logs/nested/c.jsonl");
    let out2 = eqlite(
        &["scan", d.join("logs/a.ndjson").to_str().unwrap(), "-", zst.to_str().unwrap()],
        &gzip(ndjson(&b).as_bytes()),
    );
    let all2 = alerts(&out2);
    let src2 = sources(&all2);
    let mut files2: Vec<&str> = src2.iter().map(|s| s[0].0.as_str()).collect();
    files2.dedup();
    assert_eq!(files2, ["a.ndjson", "-", "c.jsonl"]);
    let strip = |v: &[J]| {
        let mut v = v.iter().map(|a| (a["rule_id"].to_string(), a["events"].to_string())).collect::<Vec<_>>();
        v.sort();
        v
    };
    assert_eq!(strip(&all), strip(&all2));
    let _ = gz;
}

#[test]
fn stdin_alone_and_a_bad_file_among_good_ones() {
    let a = firing_events(KUBELET_ARGS);
    let out = eqlite(&["scan"], ndjson(&a).as_bytes());
    let src = sources(&alerts(&out));
    assert_eq!(src.len(), a.len());
    assert!(src.iter().all(|s| s[0].0 == "-"));
    // A missing file and a corrupt .gz are reported; the good file is still scanned; exit 2.
    let d = scratch("bad");
    std::fs::write(d.join("good.json"), ndjson(&a)).unwrap();
    let mut broken = gzip(ndjson(&a).as_bytes());
    broken.truncate(broken.len() / 2);
    std::fs::write(d.join("broken.json.gz"), broken).unwrap();
    let out = eqlite(
        &[
            "scan",
            d.join("missing.json").to_str().unwrap(),
            d.join("broken.json.gz").to_str().unwrap(),
            d.join("good.json").to_str().unwrap(),
        ],
        b"",
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "a missing file named on the command line is an error: {stderr}");
    assert!(stderr.contains("missing.json"), "{stderr}");
    let out = eqlite(&["scan", d.join("broken.json.gz").to_str().unwrap(), d.join("good.json").to_str().unwrap()], b"");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("broken.json.gz"), "{stderr}");
    assert!(sources(&alerts(&out)).iter().filter(|s| s[0].0 == "good.json").count() == a.len());
}

/// An event rule whose alert comes out after the batch of its event (a `tail` pipe releases it at
/// the end of a stream; `--lateness` holds it): the alert still names the event's line.
#[test]
fn an_alert_released_after_its_batch_names_its_line() {
    let d = scratch("tail");
    let rule = d.join("tail.toml");
    let toml = r#"[rule]
rule_id = "tail-1"
name = "last curl"
description = "the last curl"
risk_score = 21
severity = "low"
type = "eql"
language = "eql"
query = 'process where process.name == "curl" | tail 1'
"#;
    std::fs::write(&rule, toml).unwrap();
    let events: Vec<String> = (0..5)
        .map(|i| {
            let name = if i % 2 == 0 { "curl" } else { "bash" };
            format!(r#"{{"@timestamp":"2024-05-01T10:00:0{i}Z","event":{{"category":"process"}},"process":{{"name":"{name}","pid":{i}}}}}"#)
        })
        .collect();
    let rules = rule.to_str().unwrap();
    for extra in [&[][..], &["--lateness", "1m"], &["--with-events"]] {
        let out = eqlite(&[&["scan", "--rules", rules][..], extra].concat(), ndjson(&events).as_bytes());
        let got = alerts(&out);
        assert_eq!(sources(&got), vec![vec![("-".to_string(), 5)]], "{extra:?}: {got:?}");
        if extra == ["--with-events"] {
            assert_eq!(got[0]["sources"][0]["event"]["process"]["pid"], 4, "{got:?}");
        }
    }
}

#[test]
fn with_events_embeds_the_matched_events() {
    let a = firing_events(KUBELET_ARGS);
    let out = eqlite(&["scan", "--with-events"], ndjson(&a).as_bytes());
    let all = alerts(&out);
    assert_eq!(all.len(), a.len());
    for (alert, text) in all.iter().zip(&a) {
        let ev: J = serde_json::from_str(text).unwrap();
        assert_eq!(alert["sources"][0]["event"], ev);
    }
    // Without it, only where the events came from.
    let plain = alerts(&eqlite(&["scan"], ndjson(&a).as_bytes()));
    assert!(plain[0]["sources"][0].get("event").is_none());
}

#[test]
fn csv_reads_back_with_a_csv_parser() {
    let a = firing_events(CURL);
    let out = eqlite(&["scan", "--format", "csv"], ndjson(&a).as_bytes());
    let nd = alerts(&eqlite(&["scan"], ndjson(&a).as_bytes()));
    let mut r = csv::Reader::from_reader(out.stdout.as_slice());
    let header: Vec<String> = r.headers().unwrap().iter().map(str::to_string).collect();
    assert_eq!(header, ["time", "severity", "risk_score", "rule_id", "rule_name", "events", "sources", "fields"]);
    let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), nd.len());
    for (row, alert) in rows.iter().zip(&nd) {
        assert_eq!(&row[3], alert["rule_id"].as_str().unwrap());
        assert_eq!(&row[4], alert["rule_name"].as_str().unwrap());
        let pos = alert["events"][0].as_u64().unwrap() as usize;
        let ev: J = serde_json::from_str(&a[pos]).unwrap();
        assert_eq!(&row[0], ev["@timestamp"].as_str().unwrap());
        assert_eq!(row[6], format!("-:{}", pos + 1));
        // The command line holds spaces, quotes and commas: the parser gives it back whole.
        let cmd = ev["process"]["command_line"].as_str().unwrap();
        assert!(row[7].contains(&format!("process.command_line={cmd}")), "{:?}", &row[7]);
    }
}

#[test]
fn table_shows_time_severity_rule_and_key_fields() {
    let a = firing_events(CURL);
    let out = eqlite(&["scan", "--format", "table"], ndjson(&a).as_bytes());
    let text = String::from_utf8(out.stdout).unwrap();
    let first: J = serde_json::from_str(&a[0]).unwrap();
    let line = text.lines().next().unwrap();
    assert!(line.starts_with(first["@timestamp"].as_str().unwrap()), "{line}");
    assert!(line.contains("medium"), "{line}");
    assert!(line.contains(first["process"]["command_line"].as_str().unwrap()), "{line}");
    // Not a terminal: no colour codes.
    assert!(!text.contains('\x1b'));
}

/// The events of the first firing case of a fixture.
fn first_case(rule_file: &str) -> Vec<J> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/kubelet").join(rule_file);
    let doc: J = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let case = doc["cases"].as_array().unwrap().iter().find(|c| c["fires"] == true).unwrap();
    case["events"].as_array().unwrap().clone()
}

/// Kibana's alert fields (its alerts-as-data field map) and their Elasticsearch types.
const KIBANA_FIELDS: &[(&str, &str)] = &[
    ("kibana.alert.uuid", "keyword"),
    ("kibana.alert.status", "keyword"),
    ("kibana.alert.workflow_status", "keyword"),
    ("kibana.alert.depth", "long"),
    ("kibana.alert.severity", "keyword"),
    ("kibana.alert.risk_score", "float"),
    ("kibana.alert.reason", "keyword"),
    ("kibana.alert.original_time", "date"),
    ("kibana.alert.building_block_type", "keyword"),
    ("kibana.alert.group.id", "keyword"),
    ("kibana.alert.group.index", "integer"),
    ("kibana.alert.ancestors.id", "keyword"),
    ("kibana.alert.ancestors.type", "keyword"),
    ("kibana.alert.ancestors.depth", "long"),
    ("kibana.alert.rule.uuid", "keyword"),
    ("kibana.alert.rule.rule_id", "keyword"),
    ("kibana.alert.rule.name", "keyword"),
    ("kibana.alert.rule.description", "keyword"),
    ("kibana.alert.rule.severity", "keyword"),
    ("kibana.alert.rule.risk_score", "float"),
    ("kibana.alert.rule.tags", "keyword"),
    ("kibana.alert.rule.type", "keyword"),
    ("kibana.alert.rule.rule_type_id", "keyword"),
    ("kibana.alert.rule.category", "keyword"),
    ("kibana.alert.rule.consumer", "keyword"),
    ("kibana.alert.rule.producer", "keyword"),
    ("kibana.space_ids", "keyword"),
];

/// Every scalar of a document with its dotted path (array elements under their array's path).
fn leaves<'a>(v: &'a J, path: &str, out: &mut Vec<(String, &'a J)>) {
    match v {
        J::Object(o) => {
            for (k, x) in o {
                leaves(x, &if path.is_empty() { k.clone() } else { format!("{path}.{k}") }, out);
            }
        }
        J::Array(a) => a.iter().for_each(|x| leaves(x, path, out)),
        x => out.push((path.to_string(), x)),
    }
}

/// Whether a JSON scalar is what Elasticsearch stores for a field of type `ty`, without
/// coercion (so that a mapping with `coerce: false` takes it too).
fn has_type(v: &J, ty: &str) -> bool {
    match ty {
        "keyword" | "constant_keyword" | "wildcard" | "text" | "match_only_text" | "version" => v.is_string(),
        "long" | "integer" | "short" | "byte" | "unsigned_long" => v.is_i64() || v.is_u64(),
        "float" | "double" | "half_float" | "scaled_float" => v.is_number(),
        "boolean" => v.is_boolean(),
        "ip" => v.as_str().is_some_and(|s| s.parse::<std::net::IpAddr>().is_ok()),
        "date" | "date_nanos" => v.as_str().is_some_and(|s| eqlite::internals::parse_time(s).is_some()),
        _ => true,
    }
}

/// The ECS type of a field (kibana.alert.original_event.* are event.* fields).
fn ecs_type(path: &str) -> Option<String> {
    if let Some(&(_, t)) = KIBANA_FIELDS.iter().find(|(f, _)| *f == path) {
        return Some(t.to_string());
    }
    let path = path.strip_prefix("kibana.alert.original_event.").map_or(path.to_string(), |p| format!("event.{p}"));
    eqlite::TypeTable::ecs().lookup(&path).ty.map(|t| t.name().to_string())
}

fn ecs_docs(events: &[J]) -> Vec<(J, J)> {
    let text: String = events.iter().map(|e| format!("{e}\n")).collect();
    let out = eqlite(&["scan", "--format", "ecs", "--lateness", "1h"], text.as_bytes());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let lines: Vec<J> = alerts(&out);
    assert!(lines.len().is_multiple_of(2));
    lines.chunks(2).map(|p| (p[0].clone(), p[1].clone())).collect()
}

fn check_types(doc: &J) {
    let mut all = Vec::new();
    leaves(doc, "", &mut all);
    let mut typed = 0;
    for (path, v) in all {
        if v.is_null() {
            continue;
        }
        if path.starts_with("kibana.") {
            assert!(ecs_type(&path).is_some(), "{path} is not one of Kibana's alert fields");
        }
        if let Some(ty) = ecs_type(&path) {
            typed += 1;
            assert!(has_type(v, &ty), "{path} = {v} is not a {ty}");
        }
    }
    assert!(typed > 30, "{typed} typed fields");
}

#[test]
fn ecs_documents_of_an_event_rule_carry_kibanas_fields_with_ecs_types() {
    let mut events = first_case(KUBELET_ARGS);
    assert_eq!(events.len(), 1);
    // A port written as text, as some shippers do: the alert holds the number ECS maps.
    let port = events[0]["destination"]["port"].as_i64().unwrap();
    events[0]["destination"]["port"] = J::String(port.to_string());
    let docs = ecs_docs(&events);
    let (action, doc) =
        docs.iter().find(|(_, d)| d["kibana.alert.rule.rule_id"] == "9f420cca-cb27-44db-a13d-c43c7b48e04a").unwrap();
    assert_eq!(action["create"]["_id"], doc["kibana.alert.uuid"]);
    assert_eq!(doc["destination"]["port"], J::from(port));
    assert_eq!(doc["event.kind"], "signal");
    assert_eq!(doc["kibana.alert.original_time"], events[0]["@timestamp"]);
    assert_ne!(doc["@timestamp"], events[0]["@timestamp"], "@timestamp is when the alert was made");
    assert_eq!(doc["kibana.alert.original_event"]["category"], events[0]["event"]["category"]);
    assert_eq!(doc["kibana.alert.rule.severity"], "medium");
    assert_eq!(doc["kibana.alert.risk_score"], 47.0);
    assert_eq!(doc["kibana.alert.depth"], 1);
    assert!(doc.get("kibana.alert.building_block_type").is_none());
    // threat.* from the rule's [[rule.threat]], the source's other fields as they were.
    assert_eq!(doc["threat"][0]["framework"], "MITRE ATT&CK");
    assert!(doc["threat"][0]["tactic"]["id"].as_str().unwrap().starts_with("TA"));
    assert!(doc["threat"][0]["technique"][0]["id"].as_str().unwrap().starts_with('T'));
    assert_eq!(doc["host"], events[0]["host"]);
    for (_, d) in &docs {
        check_types(d);
    }
}

#[test]
fn ecs_documents_of_a_sequence_are_building_blocks_and_one_alert() {
    let events = first_case("k8s_api_request_common_utilities.json");
    assert!(events.len() >= 2);
    let docs = ecs_docs(&events);
    let seq: Vec<&J> = docs
        .iter()
        .map(|(_, d)| d)
        .filter(|d| d["kibana.alert.rule.rule_id"] == "9d312839-339a-4e10-af2e-a49b15b15d13")
        .collect();
    let (blocks, shell) = seq.split_at(seq.len() - 1);
    let shell = shell[0];
    assert_eq!(blocks.len(), events.len());
    let group = shell["kibana.alert.group.id"].as_str().unwrap();
    assert_eq!(shell["kibana.alert.uuid"], group);
    assert_eq!(shell["kibana.alert.depth"], 2);
    assert!(shell.get("kibana.alert.building_block_type").is_none());
    for (i, b) in blocks.iter().enumerate() {
        assert_eq!(b["kibana.alert.building_block_type"], "default");
        assert_eq!(b["kibana.alert.group.id"], group);
        assert_eq!(b["kibana.alert.group.index"], i);
        assert_eq!(b["kibana.alert.original_time"], events[i]["@timestamp"]);
        assert_eq!(b["kibana.alert.ancestors"][0]["id"], format!("-:{}", i + 1));
        assert_eq!(shell["kibana.alert.ancestors"][i]["id"], b["kibana.alert.uuid"]);
    }
    // The grouping alert keeps what the members share (the OS of the hosts, the data stream's
    // namespace), not what differs (the host names) or what only one has (the process, the
    // audit record).
    assert_eq!(shell["host"]["os"]["kernel"], events[0]["host"]["os"]["kernel"]);
    assert_eq!(shell["data_stream"]["namespace"], "default");
    assert_ne!(events[0]["host"]["name"], events[1]["host"]["name"]);
    assert!(shell["host"].get("name").is_none());
    assert!(shell.get("process").is_none() && shell.get("kubernetes").is_none());
    let mut shared = Vec::new();
    leaves(shell, "", &mut shared);
    for (path, v) in
        shared.iter().filter(|(p, _)| !p.starts_with("kibana.") && !p.starts_with("threat") && p != "@timestamp")
    {
        for b in blocks {
            let mut theirs = Vec::new();
            leaves(b, "", &mut theirs);
            assert!(theirs.iter().any(|(p, x)| p == path && x == v), "{path} = {v} is not in every member");
        }
    }
    for d in seq {
        check_types(d);
    }
}

/// Whether `text` shows the progress bar's message (`N events, M alerts`).
fn shows_progress(text: &str) -> bool {
    text.split(" events, ")
        .skip(1)
        .any(|rest| rest.split(' ').next().is_some_and(|n| n.parse::<u64>().is_ok()) && rest.contains(" alerts"))
        && text.contains('█')
}

#[test]
fn on_a_terminal_a_coloured_table_a_progress_bar_and_the_summary() {
    let d = scratch("tty");
    let file = d.join("events.ndjson");
    std::fs::write(&file, ndjson(&firing_events(CURL))).unwrap();
    let n = firing_events(CURL).len();
    let Some(shown) = eqlite_in_pty(&["scan", file.to_str().unwrap()], &[("EQLITE_PROGRESS_DELAY_MS", "0")]) else {
        return;
    };
    let ts: J = serde_json::from_str(&firing_events(CURL)[0]).unwrap();
    assert!(shown.contains(ts["@timestamp"].as_str().unwrap()), "{shown}");
    assert!(!shown.contains("{\"rule_id\""), "a table, not JSON: {shown}");
    assert!(shown.contains("\x1b[33mmedium"), "severity in colour: {shown}");
    assert!(shown.contains(&format!("scanned {n} events")), "{shown}");
    assert!(shown.contains("rules fired"), "{shown}");
    assert!(shows_progress(&shown), "{shown}");
    // --no-summary, and a bar only after its delay (the default second has not passed).
    let quiet = eqlite_in_pty(&["scan", "--no-summary", file.to_str().unwrap()], &[]).unwrap();
    assert!(!quiet.contains("scanned") && !shows_progress(&quiet), "{quiet}");
    // --format wins over the terminal default.
    let json = eqlite_in_pty(&["scan", "--format", "ndjson", "--no-summary", file.to_str().unwrap()], &[]).unwrap();
    assert!(json.lines().all(|l| serde_json::from_str::<J>(l.trim_end()).is_ok()), "{json}");
}

#[test]
fn in_a_pipe_ndjson_without_bar_summary_or_colour() {
    let events = ndjson(&firing_events(CURL));
    let out = eqlite_env(&["scan"], &[("EQLITE_PROGRESS_DELAY_MS", "0")], events.as_bytes());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success());
    let explicit = eqlite(&["scan", "--format", "ndjson"], events.as_bytes());
    assert!(alerts(&out).len() >= firing_events(CURL).len());
    assert_eq!(out.stdout, explicit.stdout);
    assert!(!stderr.contains("scanned") && !shows_progress(&stderr) && !stderr.contains('\x1b'), "{stderr}");
    // --summary asks for it anyway.
    let out = eqlite_env(&["scan", "--summary"], &[], events.as_bytes());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(&format!("scanned {} events", firing_events(CURL).len())), "{stderr}");
    assert!(stderr.contains("medium") && !shows_progress(&stderr), "{stderr}");
}

#[test]
fn filters_select_rules_by_severity_tag_mitre_id_and_rule_id() {
    let events = ndjson(
        &[firing_events(CURL), firing_events(KUBELET_ARGS), firing_events("direct_kubelet_access_host.json")].concat(),
    );
    let fired = |args: &[&str]| {
        let mut ids: Vec<String> = alerts(&eqlite(&[&["scan", "--lateness", "1h"], args].concat(), events.as_bytes()))
            .iter()
            .map(|a| a["rule_id"].as_str().unwrap().to_string())
            .collect();
        ids.sort();
        ids.dedup();
        ids
    };
    let rules: Vec<J> = serde_json::from_slice(&eqlite(&["rules", "--format", "json"], b"").stdout).unwrap();
    let all = fired(&[]);
    assert!(all.len() >= 3, "{all:?}");
    let severity =
        |id: &str| rules.iter().find(|r| r["rule_id"] == id).unwrap()["severity"].as_str().unwrap().to_string();
    let high = fired(&["--min-severity", "high"]);
    assert!(!high.is_empty() && high.len() < all.len());
    assert_eq!(
        high,
        all.iter().filter(|id| ["high", "critical"].contains(&severity(id).as_str())).cloned().collect::<Vec<_>>()
    );
    // A technique id takes its sub-techniques; a tag matches whole or after its prefix.
    let with = |pred: &dyn Fn(&J) -> bool| {
        all.iter().filter(|id| pred(rules.iter().find(|r| &r["rule_id"] == *id).unwrap())).cloned().collect::<Vec<_>>()
    };
    let t1613 = fired(&["--tag", "T1613"]);
    assert_eq!(
        t1613,
        with(&|r| r["techniques"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["id"].as_str().unwrap().split('.').next() == Some("T1613")))
    );
    assert!(!t1613.is_empty());
    let lateral = fired(&["--tag", "lateral movement"]);
    assert_eq!(lateral, with(&|r| r["tags"].as_array().unwrap().iter().any(|t| t == "Tactic: Lateral Movement")));
    assert!(!lateral.is_empty() && lateral.len() < all.len());
    assert_eq!(fired(&["--rule-id", &all[0]]), [all[0].clone()]);
    assert_eq!(fired(&["--exclude-rule", &all[0]]), all[1..]);
    let unknown = eqlite(&["scan", "--rule-id", "no-such-rule"], events.as_bytes());
    assert_eq!(unknown.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no-such-rule"));
}

#[test]
fn rules_lists_the_pack_and_fields_says_why_a_rule_cannot_fire() {
    let table = String::from_utf8(eqlite(&["rules"], b"").stdout).unwrap();
    let rules: Vec<J> = serde_json::from_slice(&eqlite(&["rules", "--format", "json"], b"").stdout).unwrap();
    assert_eq!(rules.len(), 20);
    for r in &rules {
        let line = table.lines().find(|l| l.starts_with(r["rule_id"].as_str().unwrap())).unwrap();
        assert!(line.contains(r["name"].as_str().unwrap()) && line.contains(r["kind"].as_str().unwrap()), "{line}");
        assert!(table.contains(&format!(
            "fields: {}",
            r["fields"].as_array().unwrap().iter().map(|f| f.as_str().unwrap()).collect::<Vec<_>>().join(", ")
        )));
    }
    assert!(rules.iter().any(|r| r["kind"] == "sequence") && rules.iter().any(|r| r["kind"] == "event"));

    // Network events without process.name, with the port written as words in a few.
    let mut events = first_case(KUBELET_ARGS);
    let rule = rules.iter().find(|r| r["rule_id"] == "9f420cca-cb27-44db-a13d-c43c7b48e04a").unwrap();
    let reads: Vec<&str> = rule["fields"].as_array().unwrap().iter().map(|f| f.as_str().unwrap()).collect();
    assert!(reads.contains(&"process.name") && reads.contains(&"destination.port"), "{reads:?}");
    events[0]["process"].as_object_mut().unwrap().remove("name");
    let mut odd = events[0].clone();
    odd["destination"]["port"] = J::from("ten thousand");
    events.push(odd);
    let text: String = events.iter().map(|e| format!("{e}\n")).collect();
    let report: Vec<J> =
        serde_json::from_slice(&eqlite(&["fields", "--format", "json"], text.as_bytes()).stdout).unwrap();
    let gaps = report.iter().find(|g| g["rule_id"] == rule["rule_id"]).unwrap();
    assert!(gaps["missing"].as_array().unwrap().contains(&J::from("process.name")), "{gaps}");
    let port = gaps["mistyped"].as_array().unwrap().iter().find(|m| m["field"] == "destination.port").unwrap();
    assert_eq!(port["expected"], "long");
    assert_eq!(port["found"], serde_json::json!([["string", 1]]));
    assert_eq!(port["refused"], 1);
    // Fields the events have, of their types, are not reported.
    assert!(!gaps["missing"].as_array().unwrap().contains(&J::from("destination.ip")));
    let table = String::from_utf8(eqlite(&["fields"], text.as_bytes()).stdout).unwrap();
    assert!(
        table.contains("never in the data: ")
            && table.contains("destination.port is long, found 1 string (1 refused as long)"),
        "{table}"
    );
}

/// The output of `eqlite scan args…` on `-j` threads, with `batch` events a batch.
fn scan_with(args: &[&str], jobs: &str, batch: Option<&str>, stdin: &[u8]) -> Vec<u8> {
    let mut env = vec![];
    if let Some(b) = batch {
        env.push(("EQLITE_BATCH_EVENTS", b));
    }
    let out = eqlite_env(&[args, &["-j", jobs, "--format", "ndjson"]].concat(), &env, stdin);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

#[test]
fn any_number_of_threads_gives_the_same_bytes_sequences_included() {
    let Some(data) = common::shared("testdata/python-eql") else { return };
    // Python eql's conformance events and queries, times made Unix milliseconds as the
    // conformance test makes them.
    let docs: Vec<J> = serde_json::from_str(&std::fs::read_to_string(data.join("test_data.json")).unwrap()).unwrap();
    let mut events = String::new();
    for mut d in docs {
        let ft = d["timestamp"].as_i64().unwrap();
        d["@timestamp"] = J::from((ft - 116_444_736_000_000_000) / 10_000);
        events.push_str(&format!("{d}\n"));
    }
    let suite: J = toml::from_str(&std::fs::read_to_string(data.join("test_queries.toml")).unwrap()).unwrap();
    let mut probe = eqlite::RuleSet::new(eqlite::Options { category_field: "event_type".into(), ..Default::default() });
    let queries: Vec<String> = suite["queries"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|q| q["query"].as_str())
        .filter(|q| probe.add_query(&format!("probe-{}", probe.len()), q).is_ok())
        .map(str::to_string)
        .collect();
    assert!(queries.len() > 80, "{} queries compile", queries.len());
    let mut args =
        vec!["scan", "--category-field", "event_type", "--tiebreaker-field", "serial_event_id", "--lateness", "1000d"];
    for q in &queries {
        args.extend(["--query", q]);
    }
    let one = scan_with(&args, "1", None, events.as_bytes());
    let alerts: Vec<J> =
        String::from_utf8(one.clone()).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let sequences = alerts
        .iter()
        .filter(|a| {
            let i: usize = a["rule_id"].as_str().unwrap().strip_prefix("query-").unwrap().parse().unwrap();
            queries[i].trim_start().starts_with("sequence")
        })
        .count();
    assert!(sequences > 30 && alerts.len() > 200, "{} alerts, {sequences} of sequences", alerts.len());
    assert!(!String::from_utf8_lossy(&one).contains(r#""file":"?""#));
    // Batches of 7 events, and the events kept for sources pruned every 7 or so.
    for (jobs, batch) in [("1", Some("7")), ("2", Some("7")), ("3", Some("7")), ("2", None)] {
        assert!(
            scan_with(&args, jobs, batch, events.as_bytes()) == one,
            "-j {jobs}, batches of {batch:?} differ from -j 1"
        );
    }

    // The detection-rules corpus over the kubelet fixtures' events (which its rules fire on,
    // sequences included), Python eql's and Elasticsearch's QA data.
    let Some(corpus) = common::shared("corpus/detection-rules") else { return };
    let qa = common::shared("testdata/es-eql-qa/data").unwrap();
    let files = common::kubelet_fixtures();
    let mut more = String::new();
    for f in files {
        let doc: J = serde_json::from_str(&std::fs::read_to_string(f).unwrap()).unwrap();
        for case in doc["cases"].as_array().unwrap() {
            more.extend(case["events"].as_array().unwrap().iter().map(|e| format!("{e}\n")));
        }
    }
    more.push_str(&events);
    for f in ["extra.data", "missing-events.data"] {
        let text = std::fs::read_to_string(qa.join(f)).unwrap();
        let text = text.lines().filter(|l| !l.trim_start().starts_with("////")).collect::<Vec<_>>().join("\n");
        let docs: Vec<J> = serde_json::from_str(&text).unwrap();
        more.extend(docs.iter().map(|d| format!("{d}\n")));
    }
    let args = ["scan", "--rules", corpus.to_str().unwrap(), "--lateness", "1000d"];
    let one = scan_with(&args, "1", None, more.as_bytes());
    assert!(!String::from_utf8_lossy(&one).contains(r#""file":"?""#), "every member event's source is known");
    let alerts: Vec<J> =
        String::from_utf8(one.clone()).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let sequences = alerts.iter().filter(|a| a["events"].as_array().unwrap().len() > 1).count();
    assert!(alerts.len() > 100 && sequences > 20, "{} corpus alerts, {sequences} of several events", alerts.len());
    assert!(scan_with(&args, "2", Some("5"), more.as_bytes()) == one, "corpus: -j 2 in batches of 5 differs from -j 1");
}

/// The alerts of `eqlite scan args… --with-events` over `parts` of stdin, one run each with
/// `--state` (the last with `--final`), on `-j 2` in batches of 7 with the state written after
/// every batch: each alert with its member events' (position, text); each source's line checked
/// against the part its event came from.
fn scan_in_parts(args: &[&str], state: &Path, parts: &[&[String]]) -> Vec<J> {
    let _ = std::fs::remove_file(state);
    let state = state.to_str().unwrap();
    let mut out = Vec::new();
    let mut start = 0;
    let mut starts = Vec::new();
    for (k, part) in parts.iter().enumerate() {
        starts.push(start);
        let mut run =
            [args, &["--with-events", "--format", "ndjson", "-j", "2", "--state", state, "--state-every", "0s"]]
                .concat();
        if k + 1 == parts.len() {
            run.push("--final");
        }
        let o = eqlite_env(&run, &[("EQLITE_BATCH_EVENTS", "7")], ndjson(part).as_bytes());
        assert!(o.status.success(), "part {k}: {}", String::from_utf8_lossy(&o.stderr));
        assert!(o.stderr.is_empty(), "part {k}: {}", String::from_utf8_lossy(&o.stderr));
        let last = k + 1 == parts.len();
        assert_eq!(Path::new(state).exists(), !last, "the state file is there between runs, gone after --final");
        for mut a in alerts(&o) {
            for (p, s) in a["events"].clone().as_array().unwrap().iter().zip(a["sources"].as_array_mut().unwrap()) {
                let p = p.as_u64().unwrap() as usize;
                let first = starts.iter().rposition(|&s| s <= p).unwrap();
                assert_eq!(s["line"], J::from(p - starts[first] + 1), "position {p}: the line in its own run's input");
                assert_eq!(s["file"], "-");
                s.as_object_mut().unwrap().remove("line");
            }
            out.push(a);
        }
        start += part.len();
    }
    out
}

/// Each alert's rule and events, for messages.
fn brief(alerts: &[J]) -> Vec<String> {
    alerts.iter().map(|a| format!("{} {}", &a["rule_id"].as_str().unwrap()[..8], a["events"])).collect()
}

/// As one run over all of `events`, lines removed after checking them.
fn scan_at_once(args: &[&str], events: &[String]) -> Vec<J> {
    let o = eqlite(&[args, &["--with-events", "--format", "ndjson"]].concat(), ndjson(events).as_bytes());
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mut out = alerts(&o);
    for a in &mut out {
        for (p, s) in a["events"].clone().as_array().unwrap().iter().zip(a["sources"].as_array_mut().unwrap()) {
            assert_eq!(s["line"], J::from(p.as_u64().unwrap() + 1));
            s.as_object_mut().unwrap().remove("line");
        }
    }
    out
}

#[test]
fn state_file_carries_pending_sequences_across_runs() {
    let dir = scratch("state");
    let state = dir.join("stream.state");
    // The pack's sequence rule (service account token read, then an API request) over its
    // fixture's events, cut between the two events of each firing case.
    let events = firing_events("sa_token_access_then_api_request.json");
    for lateness in ["0s", "1m"] {
        let args = ["scan", "--lateness", lateness];
        let whole = scan_at_once(&args, &events);
        assert_eq!(whole.iter().filter(|a| a["events"].as_array().unwrap().len() == 2).count(), 3);
        for cut in 1..events.len() {
            let parts = [&events[..cut], &events[cut..]];
            let got = scan_in_parts(&args, &state, &parts);
            assert!(
                got == whole,
                "pack, --lateness {lateness}, cut at {cut}: {:?} against {:?}",
                brief(&got),
                brief(&whole)
            );
        }
    }

    // The conformance sequences: Python eql's (joins, maxspan, until, runs; times made Unix
    // milliseconds) and Elasticsearch's missing events (trailing ones wait for their maxspan
    // or the end of the stream, `head` and `tail`), in two and in three runs.
    let Some(data) = common::shared("testdata") else { return };
    let docs: Vec<J> =
        serde_json::from_str(&std::fs::read_to_string(data.join("python-eql/test_data.json")).unwrap()).unwrap();
    let endgame: Vec<String> = docs
        .into_iter()
        .map(|mut d| {
            let ft = d["timestamp"].as_i64().unwrap();
            d["@timestamp"] = J::from((ft - 116_444_736_000_000_000) / 10_000);
            d.to_string()
        })
        .collect();
    let text = std::fs::read_to_string(data.join("es-eql-qa/data/missing-events.data")).unwrap();
    let text = text.lines().filter(|l| !l.trim_start().starts_with("////")).collect::<Vec<_>>().join("\n");
    let missing: Vec<String> = serde_json::from_str::<Vec<J>>(&text).unwrap().iter().map(J::to_string).collect();
    let mapping = dir.join("missing-events.mapping");
    let m = std::fs::read_to_string(data.join("es-eql-qa/data/missing-events.mapping")).unwrap();
    std::fs::write(&mapping, m.replace("[runtime_random_keyword_type]", "keyword")).unwrap();
    let mapping = mapping.to_str().unwrap();
    for (suite, events, tiebreaker, extra, least) in [
        ("python-eql/test_queries.toml", &endgame, "serial_event_id", vec![], 30),
        ("es-eql-qa/test_missing_events.toml", &missing, "sequence", vec!["--mapping", mapping], 15),
    ] {
        let doc: J = toml::from_str(&std::fs::read_to_string(data.join(suite)).unwrap()).unwrap();
        let mut probe =
            eqlite::RuleSet::new(eqlite::Options { category_field: "event_type".into(), ..Default::default() });
        let queries: Vec<&str> = doc["queries"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|q| q["query"].as_str())
            .filter(|q| q.trim_start().starts_with("sequence"))
            .filter(|q| probe.add_query(&format!("probe-{}", probe.len()), q).is_ok())
            .collect();
        assert!(queries.len() > 20, "{suite}: {} sequence queries compile", queries.len());
        for lateness in ["0s", "1000d"] {
            let mut args = vec![
                "scan",
                "--category-field",
                "event_type",
                "--tiebreaker-field",
                tiebreaker,
                "--lateness",
                lateness,
            ];
            args.extend(&extra);
            for q in &queries {
                args.extend(["--query", q]);
            }
            let whole = scan_at_once(&args, events);
            assert!(whole.len() > least, "{suite}, --lateness {lateness}: {} sequence alerts", whole.len());
            let (third, half) = (events.len() / 3, events.len() / 2);
            let halves = scan_in_parts(&args, &state, &[&events[..half], &events[half..]]);
            assert!(
                halves == whole,
                "{suite}, --lateness {lateness}: two runs {:?}, one {:?}",
                brief(&halves),
                brief(&whole)
            );
            let thirds =
                scan_in_parts(&args, &state, &[&events[..third], &events[third..2 * third], &events[2 * third..]]);
            assert!(
                thirds == whole,
                "{suite}, --lateness {lateness}: three runs {:?}, one {:?}",
                brief(&thirds),
                brief(&whole)
            );
        }
    }
}

#[test]
fn a_bad_state_file_is_reported_and_the_scan_starts_empty() {
    let dir = scratch("bad-state");
    let state = dir.join("s");
    let s = state.to_str().unwrap();
    let events = firing_events("sa_token_access_then_api_request.json");
    let first = eqlite(&["scan", "--state", s], ndjson(&events[..1]).as_bytes());
    assert!(first.status.success() && first.stderr.is_empty(), "{}", String::from_utf8_lossy(&first.stderr));
    let bytes = std::fs::read(&state).unwrap();
    assert!(!dir.join("s.tmp").exists(), "the temporary file was renamed");
    let whole = scan_at_once(&["scan", "--lateness", "0s"], &events);
    for (what, bad) in [
        ("truncated", bytes[..bytes.len() / 2].to_vec()),
        ("checksum mismatch", [&bytes[..bytes.len() - 1], &[bytes[bytes.len() - 1] ^ 1]].concat()),
        ("not an eqlite state file", b"hello".to_vec()),
    ] {
        std::fs::write(&state, &bad).unwrap();
        // All events in this run: the alerts are those of a run without state.
        let args = ["scan", "--lateness", "0s", "--state", s, "--with-events", "--format", "ndjson"];
        let o = eqlite(&args, ndjson(&events).as_bytes());
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(o.status.success(), "{err}");
        assert!(
            err.contains(&format!("warning: state file {s}: {what}")) && err.contains("starting from an empty state"),
            "{what}: {err}"
        );
        let mut got = alerts(&o);
        got.iter_mut().for_each(|a| {
            a["sources"].as_array_mut().unwrap().iter_mut().for_each(|x| {
                x.as_object_mut().unwrap().remove("line");
            })
        });
        assert!(got == whole, "{what}: {:?} against {:?}", brief(&got), brief(&whole));
        // And a valid state was written over the bad one.
        let again = eqlite(&["scan", "--state", s], b"");
        assert!(again.status.success() && again.stderr.is_empty(), "{}", String::from_utf8_lossy(&again.stderr));
    }
    // Rules changed since: the dropped state is counted on stderr.
    std::fs::write(&state, &bytes).unwrap();
    let o = eqlite(&["scan", "--state", s, "--query", "process where true"], b"");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(err.contains("dropped the state of 20 rule(s)") && err.contains("0 rules kept"), "{err}");
    // --final without --state, and a state file that cannot be read, are errors.
    assert!(!eqlite(&["scan", "--final"], b"").status.success());
    let o = eqlite(&["scan", "--state", dir.to_str().unwrap()], b"");
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("reading the state file"));
}

#[test]
fn killed_after_a_periodic_write_the_next_run_carries_on() {
    use std::io::Write;
    let dir = scratch("killed");
    let state = dir.join("s");
    let events = firing_events("sa_token_access_then_api_request.json");
    // A day of lateness: every event waits in the state (with its text, for --with-events).
    let args = ["scan", "--lateness", "1d"];
    let whole = scan_at_once(&args, &events);
    let flags = ["--with-events", "--format", "ndjson", "--state", state.to_str().unwrap()];
    for cut in [1, 3] {
        let _ = std::fs::remove_file(&state);
        let mut child = cli::spawn(&[&args[..], &flags[..], &["--state-every", "0s"]].concat(), &[]);
        // The input stays open: the run is a stream, killed once the state holds the last event.
        let mut input = child.stdin.take().unwrap();
        input.write_all(ndjson(&events[..cut]).as_bytes()).unwrap();
        input.flush().unwrap();
        let last = events[cut - 1].as_bytes();
        let started = std::time::Instant::now();
        while !std::fs::read(&state).is_ok_and(|b| b.windows(last.len()).any(|w| w == last)) {
            assert!(started.elapsed().as_secs() < 60, "the state was not written within a minute");
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        child.kill().unwrap();
        let first = child.wait_with_output().unwrap();
        drop(input);
        let mut got = alerts(&first);
        let second = eqlite(&[&args[..], &flags[..], &["--final"]].concat(), ndjson(&events[cut..]).as_bytes());
        assert!(second.status.success(), "{}", String::from_utf8_lossy(&second.stderr));
        got.extend(alerts(&second));
        for a in &mut got {
            a["sources"].as_array_mut().unwrap().iter_mut().for_each(|s| {
                s.as_object_mut().unwrap().remove("line");
            });
        }
        assert!(got == whole, "cut at {cut}: {:?} against {:?}", brief(&got), brief(&whole));
    }
}

#[test]
fn with_state_regular_files_are_pieces_of_one_stream() {
    let dir = scratch("state-files");
    let state = dir.join("s");
    let events = firing_events("sa_token_access_then_api_request.json");
    let (a, b) = (dir.join("monday.ndjson"), dir.join("tuesday.ndjson"));
    std::fs::write(&a, ndjson(&events[..3])).unwrap();
    std::fs::write(&b, ndjson(&events[3..])).unwrap();
    let flags = ["--lateness", "0s", "--format", "ndjson", "--state", state.to_str().unwrap()];
    let one = eqlite(&[&["scan"], &flags[..], &[a.to_str().unwrap()]].concat(), b"");
    let two = eqlite(&[&["scan"], &flags[..], &["--final", b.to_str().unwrap()]].concat(), b"");
    for o in [&one, &two] {
        assert!(o.status.success() && o.stderr.is_empty(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let got: Vec<J> = alerts(&one).into_iter().chain(alerts(&two)).collect();
    let events_of = |v: &[J]| v.iter().map(|a| a["events"].clone()).collect::<Vec<_>>();
    let whole = scan_at_once(&["scan", "--lateness", "0s"], &events);
    assert_eq!(events_of(&got), events_of(&whole));
    // The sequence cut between the files names its first event in Monday's file, the second in
    // Tuesday's, each at its line there.
    let cut = got.iter().find(|a| a["events"] == serde_json::json!([2, 3])).expect("the sequence across the files");
    assert_eq!(
        sources(std::slice::from_ref(cut)),
        [[("monday.ndjson".to_string(), 3), ("tuesday.ndjson".to_string(), 1)]]
    );
}
