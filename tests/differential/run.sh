#!/usr/bin/env bash
# Differential test of eqlite against Python `eql` 1.0.1: generated queries over the Python suite's
# events, evaluated by both engines, identical match sets (see differential.py).
#
# Usage: tests/differential/run.sh [QUERIES]   (default 100: 100 x 102 events = 10,200 cases;
#        CI runs a smaller count, e.g. 20). DIFF_SEED=N picks another deterministic query set.
# Creates tests/differential/.venv (pip install eql==1.0.1) when missing; builds the CLI.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="$here/.venv"
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import eql' 2>/dev/null; then
    echo "== creating $venv (pip install eql==1.0.1)" >&2
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q eql==1.0.1
fi
(cd "$root" && cargo build -q --bin eqlite)
exec "$venv/bin/python" "$here/differential.py" --eqlite "$root/target/debug/eqlite" \
    --queries "${1:-100}" --seed "${DIFF_SEED:-9}"
