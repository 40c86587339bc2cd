//! What the integration tests share: finding the reference data in `../shared` beside the
//! repository (conformance suites, the detection-rules corpus, parser suites).

use std::path::PathBuf;

/// `../shared/<rel>` if it exists. When it does not, the test fails under CI (`CI` set, as
/// `scripts/test.sh` sets it) and is skipped elsewhere, saying what is missing either way.
#[allow(dead_code)]
pub fn shared(rel: &str) -> Option<PathBuf> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared").join(rel);
    if p.exists() {
        return Some(p);
    }
    if std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "false" && v != "0") {
        panic!("{} is missing: CI needs ../shared beside the repository", p.display());
    }
    eprintln!("skipping: {} is missing (../shared is not beside the repository)", p.display());
    None
}

/// The kubelet pack's fixture files (`tests/fixtures/kubelet/*.json`), in name order.
#[allow(dead_code)]
pub fn kubelet_fixtures() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/kubelet");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    files
}
