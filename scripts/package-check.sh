#!/usr/bin/env bash
# The crate as crates.io would get it: `cargo package` (which verifies that the packaged sources
# build), then the extracted package's own tests (unit tests, the quickstart and other doctests,
# the example) and `cargo install` of it, whose `eqlite` must load the embedded pack and fire on an
# attack event. Built outside the workspace, so nothing of the repository leaks in.
set -euo pipefail
cd "$(dirname "$0")/.."

version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
cargo package -q -p eqlite --allow-dirty 2>&1 | grep -v '^warning: ignoring ' >&2 || true
crate="target/package/eqlite-$version.crate"
[ -f "$crate" ] || { echo "package-check: $crate was not made" >&2; exit 1; }

# Extracted outside the repository (Cargo would otherwise take it for a stray workspace member);
# built into target/package-check so that later runs reuse the dependencies.
work="$(pwd)/target/package-check"
src="$(mktemp -d "${TMPDIR:-/tmp}/eqlite-package.XXXXXX")"
trap 'rm -rf "$src"' EXIT
tar -xzf "$crate" -C "$src"
pkg="$src/eqlite-$version"
export CARGO_TARGET_DIR="$work/target"

(cd "$pkg" && cargo test -q 2>&1 | grep -E '^(test result|error|failures)' >&2)
cargo install -q --debug --locked --path "$pkg" --root "$work/install" --force
bin="$work/install/bin/eqlite"

"$bin" --version
"$bin" check | tee /dev/stderr | grep -q '^20 rules compiled'
attack='{"@timestamp":"2026-08-20T02:00:00.000Z","event":{"category":["process"],"type":["start"],"action":"exec","ingested":"2026-08-20T02:00:00.640Z"},"host":{"os":{"type":"linux"}},"container":{"id":"3d6e"},"process":{"name":"curl","args":["curl","-sk","https://10.0.1.22:10250/pods"],"executable":"/usr/bin/curl"}}'
out=$(printf '%s\n' "$attack" | "$bin" scan)
grep -q '"rule_id":"b4bd186b-69c6-45ad-8bef-5c35bbadeaef"' <<<"$out" || { echo "package-check: the installed eqlite did not fire: $out" >&2; exit 1; }
echo "package-check: eqlite $version packages, its tests pass, and the installed binary fires on the attack event" >&2
