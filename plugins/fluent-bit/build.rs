//! 1. On wasm32-wasip1, export wasi-libc's `malloc` and `free` (defining them in Rust there is a
//!    duplicate symbol), so that Fluent Bit's WAMR copies records with them rather than into its
//!    8 KiB default app heap. (`.cargo/config.toml` in this directory is not read when building from
//!    the workspace root, hence a build script.)
//!    Without debug info, strip the symbol names too.
//! 2. Embed the rules of `EQLITE_FLUENT_BIT_RULES` (a directory of detection-rules TOML files), if
//!    set, instead of the kubelet pack.

use std::fmt::Write as _;
use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let arch = std::env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if arch == "wasm32" && os == "wasi" {
        println!("cargo:rustc-cdylib-link-arg=--export=malloc");
        println!("cargo:rustc-cdylib-link-arg=--export=free");
    }
    // Without debug info (the `wasm` profile), also drop the name section: about 200 KB.
    if arch == "wasm32" && std::env::var("DEBUG").as_deref() == Ok("false") {
        println!("cargo:rustc-cdylib-link-arg=--strip-all");
    }

    println!("cargo:rerun-if-env-changed=EQLITE_FLUENT_BIT_RULES");
    let mut code = String::from("[\n");
    if let Some(dir) = std::env::var_os("EQLITE_FLUENT_BIT_RULES").filter(|d| !d.is_empty()) {
        let dir = PathBuf::from(dir);
        println!("cargo:rerun-if-changed={}", dir.display());
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("EQLITE_FLUENT_BIT_RULES={}: {e}", dir.display()))
            .map(|e| e.expect("a directory entry").path())
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        files.sort();
        assert!(!files.is_empty(), "EQLITE_FLUENT_BIT_RULES={}: no *.toml rule files", dir.display());
        for f in files {
            println!("cargo:rerun-if-changed={}", f.display());
            let abs = std::fs::canonicalize(&f).expect("a rule file path");
            let name = f.file_name().unwrap().to_string_lossy().into_owned();
            writeln!(code, "    ({name:?}, include_str!({:?})),", abs.display().to_string()).unwrap();
        }
    }
    code.push(']');
    let out = PathBuf::from(std::env::var_os("OUT_DIR").unwrap()).join("built_in_rules.rs");
    std::fs::write(out, code).unwrap();
}
