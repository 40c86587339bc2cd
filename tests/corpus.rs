//! Every EQL rule of elastic/detection-rules (../shared/corpus) parses.

use eqlite::rule::{parse_rule_toml, Loaded};
use eqlite::RuleSet;
use std::path::{Path, PathBuf};

fn corpus_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/detection-rules");
    if dir.is_dir() {
        Some(dir)
    } else if std::env::var_os("CI").is_some() {
        panic!("the detection-rules corpus is missing at {} (CI is set)", dir.display());
    } else {
        eprintln!("skipping: no corpus at {}", dir.display());
        None
    }
}

fn toml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            toml_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "toml") {
            out.push(p);
        }
    }
}

#[test]
fn every_corpus_query_parses() {
    let Some(dir) = corpus_dir() else { return };
    let mut files = Vec::new();
    toml_files(&dir, &mut files);
    files.sort();
    let (mut parsed, mut skipped, mut failed) = (0, 0, Vec::new());
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        match parse_rule_toml(&text, &f.display().to_string()) {
            Ok(Loaded::Rule(r)) => match eqlite::parse_query(&r.query) {
                Ok(_) => parsed += 1,
                Err(d) => failed.push(format!("{}: {}", f.display(), d.rendered)),
            },
            Ok(Loaded::Skipped { .. }) => skipped += 1,
            Err(d) => failed.push(d.rendered),
        }
    }
    eprintln!("corpus: {} files, {parsed} parsed, {skipped} skipped, {} failed", files.len(), failed.len());
    for f in failed.iter().take(30) {
        eprintln!("{f}\n");
    }
    assert_eq!(files.len(), 1081);
    assert!(failed.is_empty(), "{} corpus rules failed to parse", failed.len());
    assert_eq!(parsed, 1081);
}

#[test]
fn every_corpus_query_compiles_into_one_rule_set() {
    let Some(dir) = corpus_dir() else { return };
    let mut files = Vec::new();
    toml_files(&dir, &mut files);
    let mut rs = RuleSet::default();
    let mut failed = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        if let Err(d) = rs.add_toml(&text, &f.display().to_string()) {
            failed.push(d.rendered);
        }
    }
    assert!(failed.is_empty(), "{} rules failed to compile:\n{}", failed.len(), failed.join("\n\n"));
    assert_eq!(rs.len(), 1081);
    let sequences = rs.rules().iter().filter(|r| r.is_sequence()).count();
    eprintln!("compiled {} rules ({sequences} sequences or samples) sharing {} fields", rs.len(), rs.fields().len());
}
