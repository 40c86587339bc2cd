#!/usr/bin/env bash
# Builds the npm package into pkg/: the wasm (release profile `wasm`), wasm-bindgen's ES module
# glue (--target web, which also works in bundlers), a Node entry point that loads the wasm
# synchronously, package.json, and wasm-opt. Prints the sizes. Needs scripts/setup.sh first.
set -euo pipefail
cd "$(dirname "$0")/.."

OUT=pkg
# binaryen from npm: Debian's wasm-opt (108) breaks wasm-bindgen's externref table.
WASM_OPT=tests/js/node_modules/.bin/wasm-opt
[ -x "$WASM_OPT" ] || { echo "build-wasm: $WASM_OPT is missing; run scripts/setup.sh" >&2; exit 1; }
VERSION=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
FEATURES=(--enable-bulk-memory --enable-sign-ext --enable-nontrapping-float-to-int --enable-mutable-globals --enable-reference-types --enable-multivalue)

cargo build -q -p eqlite-wasm --target wasm32-unknown-unknown --profile wasm
rm -rf "$OUT" && mkdir -p "$OUT"
wasm-bindgen --target web --out-dir "$OUT" --out-name eqlite target/wasm32-unknown-unknown/wasm/eqlite_wasm.wasm
raw_before=$(stat -c %s "$OUT/eqlite_bg.wasm")
"$WASM_OPT" -Oz "${FEATURES[@]}" --strip-debug --strip-producers "$OUT/eqlite_bg.wasm" -o "$OUT/eqlite_bg.wasm"

cat > "$OUT/node.js" <<'JS'
// Node entry point: loads the WebAssembly synchronously, so `import { Engine } from "eqlite"`
// is ready to use. Browsers and bundlers use eqlite.js and call `await init()` once.
import { readFileSync } from "node:fs";
import init, { initSync } from "./eqlite.js";
initSync({ module: readFileSync(new URL("./eqlite_bg.wasm", import.meta.url)) });
export * from "./eqlite.js";
export default init;
JS
cp "$OUT/eqlite.d.ts" "$OUT/node.d.ts"
cp bindings/wasm/README.md "$OUT/README.md"
cp LICENSE-MIT LICENSE-APACHE "$OUT/"
mkdir -p "$OUT/rules" && cp rules/NOTICE "$OUT/rules/NOTICE"
cat > "$OUT/package.json" <<JSON
{
  "name": "eqlite",
  "version": "$VERSION",
  "description": "Elastic EQL detection rules evaluated in the browser, at the edge and in Node: WebAssembly, with clause-by-clause explanations.",
  "license": "(MIT OR Apache-2.0) AND Elastic-2.0",
  "repository": { "type": "git", "url": "https://github.com/eqlite/eqlite" },
  "keywords": ["eql", "elastic", "detection", "siem", "security", "wasm", "kubernetes"],
  "type": "module",
  "main": "./node.js",
  "module": "./eqlite.js",
  "types": "./eqlite.d.ts",
  "exports": {
    ".": {
      "types": "./eqlite.d.ts",
      "node": "./node.js",
      "default": "./eqlite.js"
    },
    "./eqlite_bg.wasm": "./eqlite_bg.wasm",
    "./package.json": "./package.json"
  },
  "files": ["eqlite.js", "eqlite.d.ts", "eqlite_bg.wasm", "eqlite_bg.wasm.d.ts", "node.js", "node.d.ts", "README.md", "LICENSE-MIT", "LICENSE-APACHE", "rules/NOTICE"],
  "sideEffects": ["./node.js"],
  "engines": { "node": ">=18" }
}
JSON
raw=$(stat -c %s "$OUT/eqlite_bg.wasm")
gz=$(gzip -9 -c "$OUT/eqlite_bg.wasm" | wc -c)
echo "pkg/eqlite_bg.wasm: $raw bytes ($raw_before before wasm-opt), $gz bytes gzip -9" >&2
