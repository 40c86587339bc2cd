#!/usr/bin/env bash
# Benchmarks of issue 8, side by side in one run (see BENCHMARKS.md):
#   (1) eqlite scan (kubelet pack) vs parsing the same NDJSON into serde_json::Value
#   (2) vs the Python `eql` reference implementation on the 11 single-event kubelet rules
#   (3) the npm package in Node: evaluate(jsonString) / evaluate(object) vs JSON.parse
#   (4) compile time of the 1081 corpus rules; per-event cost with 16 -> 100 -> 1000 rules
#   (5) wasm size, raw and gzip
#   (6) eqlite scan -j 1 vs -j 2 with the corpus rules: byte-identical alerts, and the speed-up
#   and with --soak, 1M and 10M sequence-soak events through eqlite scan --stats.
#
#   bash bench/run.sh                      # 200k generated events (bench/out/, gitignored)
#   bash bench/run.sh --events 1000000 --reps 7
#   bash bench/run.sh --only native,scaling
#   bash bench/run.sh --soak               # adds the soak (several minutes)
#   bash bench/run.sh --help
#
# Needs what scripts/setup.sh installs (for the wasm build); creates bench/.venv with PyPI `eql`,
# builds the release binary, the example binaries and, when missing or older than the sources,
# the npm package.
set -euo pipefail
cd "$(dirname "$0")/.."

for a in "$@"; do
  if [ "$a" = "--help" ] || [ "$a" = "-h" ]; then exec python3 bench/run.py --help; fi
done

step() { printf '\033[1mbench:\033[0m %s\n' "$*" >&2; }

step "cargo build --release (eqlite and the bench examples)"
cargo build -q --release --bin eqlite --example gen_events --example json_baseline --example rule_scaling --example peak_rss

if [ ! -x bench/.venv/bin/python ]; then
  step "python3 -m venv bench/.venv"
  python3 -m venv bench/.venv
fi
if ! bench/.venv/bin/python -c 'import eql' 2>/dev/null; then
  step "pip install eql (into bench/.venv)"
  bench/.venv/bin/python -m pip install -q eql
fi

if [ ! -f pkg/node.js ] || [ -n "$(find src bindings/wasm/src rules -newer pkg/eqlite_bg.wasm -print -quit 2>/dev/null)" ]; then
  step "bash scripts/build-wasm.sh (pkg/ missing or older than the sources)"
  bash scripts/build-wasm.sh
fi

mkdir -p bench/out
exec bench/.venv/bin/python bench/run.py "$@"
