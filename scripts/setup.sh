#!/usr/bin/env bash
# Installs what eqlite's build and tests need beyond the Rust toolchain, Node.js and Python.
# Idempotent: every step skips what is already present. Safe to run on every CI start.
set -euo pipefail
cd "$(dirname "$0")/.."

WASM_BINDGEN_VERSION=$(sed -n 's/^wasm-bindgen = "=\([0-9.]*\)"/\1/p' bindings/wasm/Cargo.toml | head -1)
: "${WASM_BINDGEN_VERSION:?wasm-bindgen must be pinned with = in Cargo.toml}"

step() { printf '\033[1msetup:\033[0m %s\n' "$*" >&2; }
sudo_() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# Rust targets for the npm package (wasm32-unknown-unknown) and the Fluent Bit plugin (wasm32-wasip1).
for t in wasm32-unknown-unknown wasm32-wasip1; do
  rustup target list --installed | grep -qx "$t" || { step "rustup target add $t"; rustup target add "$t"; }
done

# The declared minimum supported Rust version, for the MSRV check of the test command.
MSRV=$(sed -n 's/^rust-version = "\(.*\)"/\1/p' Cargo.toml)
if ! cargo "+$MSRV" --version >/dev/null 2>&1; then
  step "rustup toolchain install $MSRV (the crate's rust-version)"
  rustup toolchain install "$MSRV" --profile minimal >/dev/null
fi

# Nightly, for cargo-fuzz (the fuzz smoke test); optional: skipped when it cannot be installed.
if ! cargo +nightly --version >/dev/null 2>&1; then
  step "rustup toolchain install nightly (optional, for fuzzing)"
  rustup toolchain install nightly --profile minimal >/dev/null 2>&1 || step "nightly unavailable: the fuzz smoke test will be skipped"
fi

# The pinned nightly that builds the npm wasm for size (scripts/build-wasm.sh: build-std needs the
# standard library's source).
SIZE_TOOLCHAIN=nightly-2026-05-20
if ! [ -d "$(rustup run "$SIZE_TOOLCHAIN" rustc --print sysroot 2>/dev/null)/lib/rustlib/src/rust/library" ]; then
  step "rustup toolchain install $SIZE_TOOLCHAIN with rust-src (the npm wasm's size build)"
  rustup toolchain install "$SIZE_TOOLCHAIN" --profile minimal -c rust-src -t wasm32-unknown-unknown >/dev/null
fi

# Debian packages: headless browser and driver for the page and wasm-bindgen-test; cmake, a C
# compiler and libclang to build WAMR (the Fluent Bit plugin's test runtime, crate wamrx-sys).
need_apt=()
command -v chromium >/dev/null || need_apt+=(chromium)
command -v chromedriver >/dev/null || need_apt+=(chromium-driver)
command -v cmake >/dev/null || need_apt+=(cmake)
command -v cc >/dev/null || need_apt+=(gcc)
compgen -G '/usr/lib/llvm-*/lib/libclang.so*' >/dev/null || need_apt+=(libclang-dev)
if [ ${#need_apt[@]} -gt 0 ]; then
  step "apt-get install ${need_apt[*]}"
  sudo_ apt-get update -qq
  DEBIAN_FRONTEND=noninteractive sudo_ apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

# wasm-bindgen-cli must match the crate version exactly; --locked fails against this registry.
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$WASM_BINDGEN_VERSION" ]; then
  step "cargo install wasm-bindgen-cli $WASM_BINDGEN_VERSION"
  cargo install -q wasm-bindgen-cli --version "=$WASM_BINDGEN_VERSION" --force
fi

# Node packages, pinned by package-lock.json: binaryen (wasm-opt), playwright-core, typescript, and
# the runtimes and bundlers the npm package is tested in (deno, bun, workerd, vite, esbuild), which
# carry their binaries. Reinstalled when any pinned version is missing or differs.
npm_current() {
  node -e 'const fs = require("fs"), want = require("./tests/js/package.json").devDependencies;
    for (const [name, v] of Object.entries(want)) {
      try { if (JSON.parse(fs.readFileSync(`tests/js/node_modules/${name}/package.json`)).version !== v) process.exit(1); }
      catch { process.exit(1); }
    }'
}
if ! npm_current; then
  step "npm ci (tests/js)"
  (cd tests/js && npm ci --no-audit --no-fund --silent)
fi

# @elastic/ecs, pinned: the source of src/types/ecs.types, which test.sh checks is current.
if [ ! -d scripts/ecs-types/node_modules/@elastic/ecs ]; then
  step "npm ci (scripts/ecs-types)"
  (cd scripts/ecs-types && npm ci --no-audit --no-fund --silent)
fi

# Python: the reference implementation (oracle) and the wasm runtime for benchmarks.
if ! python3 -c 'import eql' 2>/dev/null; then
  step "pip install eql"
  python3 -m pip install -q eql
fi
# A JUnit XML reader: tests/kubelet.rs checks `eqlite test --junit` with it.
if ! python3 -c 'import junitparser' 2>/dev/null; then
  step "pip install junitparser"
  python3 -m pip install -q junitparser
fi
step "ok"
