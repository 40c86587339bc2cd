#!/usr/bin/env bash
# Builds the npm package into pkg/: the wasm (release profile `wasm`), wasm-bindgen's ES module
# glue (--target web, which also works in bundlers), wasm-opt, then bindings/wasm/js/assemble.mjs
# adds an entry point per runtime (Node, Deno, Bun, Workers load the wasm on import; browsers call
# init()) and package.json. Prints the sizes. Needs scripts/setup.sh first.
set -euo pipefail
cd "$(dirname "$0")/.."

OUT=pkg
# binaryen from npm: Debian's wasm-opt (108) breaks wasm-bindgen's externref table.
WASM_OPT=tests/js/node_modules/.bin/wasm-opt
[ -x "$WASM_OPT" ] || { echo "build-wasm: $WASM_OPT is missing; run scripts/setup.sh" >&2; exit 1; }
VERSION=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
FEATURES=(--enable-bulk-memory --enable-sign-ext --enable-nontrapping-float-to-int --enable-mutable-globals --enable-reference-types --enable-multivalue)

# EQLITE_WASM_FEATURES: cargo features of eqlite-wasm to build with (e.g. `synth`).
cargo build -q -p eqlite-wasm --target wasm32-unknown-unknown --profile wasm ${EQLITE_WASM_FEATURES:+--features "$EQLITE_WASM_FEATURES"}
rm -rf "$OUT" && mkdir -p "$OUT"
wasm-bindgen --target web --out-dir "$OUT" --out-name eqlite target/wasm32-unknown-unknown/wasm/eqlite_wasm.wasm
raw_before=$(stat -c %s "$OUT/eqlite_bg.wasm")
"$WASM_OPT" -Oz "${FEATURES[@]}" --strip-debug --strip-producers "$OUT/eqlite_bg.wasm" -o "$OUT/eqlite_bg.wasm"

cp bindings/wasm/README.md "$OUT/README.md"
cp LICENSE-MIT LICENSE-APACHE NOTICE "$OUT/"
mkdir -p "$OUT/rules" && cp rules/NOTICE "$OUT/rules/NOTICE"
# Entry points per runtime, the init() guard in the glue, package.json with its exports map.
node bindings/wasm/js/assemble.mjs "$OUT" "$VERSION"
raw=$(stat -c %s "$OUT/eqlite_bg.wasm")
gz=$(gzip -9 -c "$OUT/eqlite_bg.wasm" | wc -c)
echo "pkg/eqlite_bg.wasm: $raw bytes ($raw_before before wasm-opt), $gz bytes gzip -9" >&2
