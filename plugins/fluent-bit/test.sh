#!/usr/bin/env bash
# Builds the Fluent Bit filter module (wasm32-wasip1 and wasm32-unknown-unknown, `fluent-bit`
# profile), prints its size, then runs the plugin's tests: the unit tests and tests/harness.rs,
# which runs the module in WAMR (Fluent Bit's runtime) the way Fluent Bit does, with its default
# 8 KiB stack and heap, and prints records per second against a no-op module.
#
# Needs: rustup target add wasm32-wasip1 wasm32-unknown-unknown (tried here when missing); cmake,
# a C compiler and libclang to build WAMR (scripts/setup.sh installs them).
# Usage: plugins/fluent-bit/test.sh   (from anywhere)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"

# The harness builds into the same directory (to stay off the lock of the build running it), so
# the builds below make its own a no-op.
build_dir="$root/target/plugin-build"
targets=(wasm32-wasip1 wasm32-unknown-unknown)

if command -v rustup >/dev/null 2>&1; then
    installed="$(rustup target list --installed 2>/dev/null || true)"
    for t in "${targets[@]}"; do
        if ! grep -qx "$t" <<<"$installed"; then
            echo "== rustup target add $t"
            rustup target add "$t"
        fi
    done
fi

for t in "${targets[@]}"; do
    echo "== cargo build -p eqlite-fluent-bit --lib --target $t --profile fluent-bit"
    CARGO_TARGET_DIR="$build_dir" cargo build -p eqlite-fluent-bit --lib --target "$t" --profile fluent-bit
    wasm="$build_dir/$t/fluent-bit/eqlite_fluent_bit.wasm"
    size=$(wc -c <"$wasm")
    gz=$(gzip -9 -c "$wasm" | wc -c)
    echo "$t: $wasm: $size bytes ($gz bytes gzip -9)"
done

# One test at a time: the throughput numbers are not shared with other tests on 2 cores.
echo "== cargo test -p eqlite-fluent-bit --release"
EQLITE_REQUIRE_WASM=1 cargo test -p eqlite-fluent-bit --release -- --test-threads=1 --nocapture
