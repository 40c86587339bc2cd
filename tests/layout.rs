//! The core's module graph: computed from the `crate::…` and `super::…` paths of every module
//! under `src/` (the CLI excepted, and test code left out), it must have no cycle, and the graph
//! printed in the README's layout section must be this one.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Top-level module (a file, or a folder taken as one stage) → the top-level modules it imports.
type Graph = BTreeMap<String, BTreeSet<String>>;

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The module path of a file: `src/matcher/eval.rs` → `["matcher", "eval"]`.
fn module_of(src: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src).unwrap().with_extension("");
    let mut parts: Vec<String> = rel.iter().map(|s| s.to_string_lossy().into_owned()).collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    parts
}

/// The code of a file without its unit tests and comments.
fn code(text: &str) -> String {
    let text = match text.find("#[cfg(test)]\nmod tests") {
        Some(i) => &text[..i],
        None => text,
    };
    text.lines().filter(|l| !l.trim_start().starts_with("//")).collect::<Vec<_>>().join("\n")
}

/// Module paths after `prefix` in `code`: `crate::matcher::eval::Scratch` gives `[matcher, eval]`,
/// `crate::{alert::Alert, event}` gives `[alert]` and `[event]`. A capitalised segment is an item,
/// where the module path ends.
fn paths_after<'a>(code: &'a str, prefix: &str) -> Vec<Vec<&'a str>> {
    let modules = |path: &'a str| -> Vec<&'a str> {
        path.split("::")
            .map(str::trim)
            .take_while(|s| s.starts_with(|c: char| c.is_lowercase()) && *s != "self")
            .collect()
    };
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(i) = rest.find(prefix) {
        let boundary = rest[..i].chars().last().is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
        rest = &rest[i + prefix.len()..];
        if !boundary {
            continue;
        }
        let end = rest.find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':')).unwrap_or(rest.len());
        let head = modules(rest[..end].trim_end_matches(':'));
        if rest[end..].starts_with('{') {
            let close = rest[end..].find('}').map_or(rest.len(), |j| end + j);
            for item in rest[end + 1..close].split(',') {
                let mut p = head.clone();
                p.extend(modules(item));
                if !p.is_empty() {
                    out.push(p);
                }
            }
        } else if !head.is_empty() {
            out.push(head);
        }
    }
    out
}

fn graph(src: &Path) -> (Graph, Graph) {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let (mut top, mut fine) = (Graph::new(), Graph::new());
    for f in files {
        let module = module_of(src, &f);
        if matches!(module.first().map(String::as_str), Some("main" | "cli" | "lib")) {
            continue;
        }
        let text = code(&std::fs::read_to_string(&f).unwrap());
        let name = module.join("::");
        let mut deps: BTreeSet<String> = BTreeSet::new();
        for p in paths_after(&text, "crate::") {
            // Inside a folder, the dependency is on its file (`matcher::node`); elsewhere, on the stage.
            let dep = if p.len() > 1 && p[0] == module[0] { format!("{}::{}", p[0], p[1]) } else { p[0].to_string() };
            deps.insert(dep);
        }
        if module.len() > 1 || f.ends_with("mod.rs") {
            let parent = if f.ends_with("mod.rs") { module.clone() } else { module[..module.len() - 1].to_vec() };
            for p in paths_after(&text, "super::") {
                let mut full = parent.clone();
                full.push(p[0].to_string());
                deps.insert(full.join("::"));
            }
        }
        deps.remove(&name);
        let top_name = module[0].clone();
        let top_deps: BTreeSet<String> =
            deps.iter().map(|d| d.split("::").next().unwrap().to_string()).filter(|d| *d != top_name).collect();
        top.entry(top_name).or_default().extend(top_deps);
        fine.insert(name, deps);
    }
    (top, fine)
}

/// A cycle in the graph, if any.
fn cycle(g: &Graph) -> Option<Vec<String>> {
    fn visit(g: &Graph, n: &str, path: &mut Vec<String>, done: &mut BTreeSet<String>) -> Option<Vec<String>> {
        if let Some(i) = path.iter().position(|p| p == n) {
            let mut c = path[i..].to_vec();
            c.push(n.to_string());
            return Some(c);
        }
        if done.contains(n) {
            return None;
        }
        path.push(n.to_string());
        for d in g.get(n).into_iter().flatten() {
            if let Some(c) = visit(g, d, path, done) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(n.to_string());
        None
    }
    let mut done = BTreeSet::new();
    g.keys().find_map(|n| visit(g, n, &mut vec![], &mut done))
}

#[test]
fn the_core_has_no_import_cycle_and_the_readme_shows_its_graph() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let (top, fine) = graph(&root.join("src"));
    assert!(top.len() > 10 && fine.len() > top.len(), "{top:?}");
    if let Some(c) = cycle(&fine) {
        panic!("import cycle among the core's modules: {}", c.join(" → "));
    }
    if let Some(c) = cycle(&top) {
        panic!("import cycle among the core's stages: {}", c.join(" → "));
    }
    let drawn: String = top
        .iter()
        .map(|(m, deps)| {
            let deps: Vec<&str> = deps.iter().map(String::as_str).collect();
            format!("{m:<9} → {}\n", if deps.is_empty() { "(nothing)".to_string() } else { deps.join(", ") })
        })
        .collect();
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let start = readme.find("<!-- module graph -->").expect("the README has a module graph") + 21;
    let block = &readme[start..];
    let block = &block[block.find("```text\n").expect("a text block") + 8..];
    let block = &block[..block.find("```").unwrap()];
    assert_eq!(block, drawn, "the README's module graph is out of date; it should read:\n{drawn}");
}
