#!/usr/bin/env bash
# Every test of the project, as CI runs them (.ci/run calls this). Installs what is missing first.
set -euo pipefail
cd "$(dirname "$0")/.."

section() { printf '\n\033[1m== %s\033[0m\n' "$*" >&2; }

# This is the CI command: tests that need ../shared fail loudly without it (tests/common/mod.rs).
export CI="${CI:-true}"

section "setup"
bash scripts/setup.sh

section "format and lints"
cargo fmt --all --check
cargo clippy -q --workspace --all-targets -- -D warnings
cargo clippy -q -p eqlite-wasm --target wasm32-unknown-unknown -- -D warnings
node scripts/ecs-types/generate.mjs --check

section "API docs (missing docs and broken links are errors)"
RUSTDOCFLAGS="-D warnings" cargo doc -q --no-deps -p eqlite

section "core, CLI, conformance, corpus, kubelet pack, quickstart doctest (native)"
cargo test -q --workspace --exclude eqlite-wasm --exclude eqlite-fluent-bit

section "the kubelet pack's own cases, with full decisive clause coverage (eqlite test)"
out="$(cargo run -q -- test rules/ --min-coverage 100 --require-cases)" || { echo "$out"; exit 1; }
tail -n 1 <<<"$out"

section "the crate as published: cargo package, then build, test and install the packaged crate"
bash scripts/package-check.sh

section "minimum supported Rust version ($(sed -n 's/^rust-version = "\(.*\)"/\1/p' Cargo.toml))"
cargo "+$(sed -n 's/^rust-version = "\(.*\)"/\1/p' Cargo.toml)" check -q -p eqlite --lib --bins

section "wasm API in Node (wasm-bindgen-test)"
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner
cargo test -p eqlite-wasm --target wasm32-unknown-unknown --test api
cargo test -p eqlite-wasm --target wasm32-unknown-unknown --test hostile

section "wasm API in headless Chromium (wasm-bindgen-test)"
WASM_BINDGEN_USE_BROWSER=1 CHROMEDRIVER=/usr/bin/chromedriver \
  cargo test -p eqlite-wasm --target wasm32-unknown-unknown --test api

section "npm package: build, import as a dependency, type-check"
bash scripts/build-wasm.sh
(cd tests/js/consumer && npm install --no-audit --no-fund --silent && node --test consumer.test.mjs && ../node_modules/.bin/tsc -p tsconfig.json)

section "npm package in Node, Deno, Bun (+ bun build --compile), workerd, Vite + Chromium; README code blocks"
node --test tests/js/runtimes.test.mjs

section "npm package: hostile objects and a 100 MB paste (Node)"
node --test tests/js/hostile.test.mjs

if [ -f tests/js/page.test.mjs ]; then
  section "playground in headless Chromium"
  node --test tests/js/page.test.mjs
fi

if [ -x plugins/fluent-bit/test.sh ]; then
  section "Fluent Bit plugin in a wasm runtime"
  bash plugins/fluent-bit/test.sh
fi

section "differential test against Python eql (20 queries x 102 events)"
bash tests/differential/run.sh 20

section "differential test of KQL against detection-rules' KQL evaluator (100 queries x 30 documents)"
bash tests/differential/kql.sh 100 30

if cargo +nightly --version >/dev/null 2>&1; then
  section "fuzz smoke (10 s per target)"
  bash scripts/fuzz.sh 10
else
  section "fuzz smoke skipped: no nightly toolchain on this machine"
fi

section "all tests passed"
