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

# The npm wasm is built by a pinned nightly that rebuilds the standard library for size
# (build-std with `optimize_for_size`: small sorts and formatting) and aborts on panic without
# formatting a message (`-Cpanic=immediate-abort`; a panic is a bug and traps either way):
# 56 KB gzip less than a stable build. Without that toolchain (scripts/setup.sh installs it) the
# stable build is used and the budget below says whether it fits.
# EQLITE_WASM_FEATURES: more cargo features of eqlite-wasm to build with.
SIZE_TOOLCHAIN=nightly-2026-05-20
BUDGET=400000
if rustup run "$SIZE_TOOLCHAIN" rustc --version >/dev/null 2>&1 \
   && [ -d "$(rustup run "$SIZE_TOOLCHAIN" rustc --print sysroot)/lib/rustlib/src/rust/library" ]; then
  RUSTFLAGS="-Zunstable-options -Cpanic=immediate-abort" cargo "+$SIZE_TOOLCHAIN" build -q -p eqlite-wasm \
    --target wasm32-unknown-unknown --profile wasm --target-dir target/npm \
    -Zbuild-std=std,panic_abort -Zbuild-std-features=optimize_for_size \
    --no-default-features --features "synth${EQLITE_WASM_FEATURES:+,$EQLITE_WASM_FEATURES}"
  WASM=target/npm/wasm32-unknown-unknown/wasm/eqlite_wasm.wasm
else
  echo "build-wasm: $SIZE_TOOLCHAIN with rust-src is missing (scripts/setup.sh): a stable build, larger" >&2
  cargo build -q -p eqlite-wasm --target wasm32-unknown-unknown --profile wasm ${EQLITE_WASM_FEATURES:+--features "$EQLITE_WASM_FEATURES"}
  WASM=target/wasm32-unknown-unknown/wasm/eqlite_wasm.wasm
fi
rm -rf "$OUT" && mkdir -p "$OUT"
wasm-bindgen --target web --out-dir "$OUT" --out-name eqlite "$WASM"
raw_before=$(stat -c %s "$OUT/eqlite_bg.wasm")
# --low-memory-unused: the stack is first in memory and grows down to 0, so the lowest 1 KiB is
# only reached by a stack overflow; wasm-opt may then fold constant offsets into loads (3 KB gzip).
"$WASM_OPT" -Oz --converge --low-memory-unused "${FEATURES[@]}" --strip-debug --strip-producers "$OUT/eqlite_bg.wasm" -o "$OUT/eqlite_bg.wasm"

cp bindings/wasm/README.md "$OUT/README.md"
cp LICENSE-MIT LICENSE-APACHE NOTICE "$OUT/"
mkdir -p "$OUT/rules" && cp rules/NOTICE "$OUT/rules/NOTICE"
# Entry points per runtime, the init() guard in the glue, package.json with its exports map.
node bindings/wasm/js/assemble.mjs "$OUT" "$VERSION"
raw=$(stat -c %s "$OUT/eqlite_bg.wasm")
gz=$(gzip -9 -c "$OUT/eqlite_bg.wasm" | wc -c)
echo "pkg/eqlite_bg.wasm: $raw bytes ($raw_before before wasm-opt), $gz bytes gzip -9 (budget $BUDGET)" >&2
# The budget holds for the package as published (default features); a build with extra features
# (EQLITE_WASM_FEATURES, for the playground) may be larger.
if [ -z "${EQLITE_WASM_FEATURES:-}" ] && [ "$gz" -gt "$BUDGET" ]; then
  echo "build-wasm: the npm wasm is over its budget of $BUDGET bytes gzip" >&2
  exit 1
fi
