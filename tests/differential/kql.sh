#!/usr/bin/env bash
# Differential test of eqlite's KQL against detection-rules' KQL evaluator
# (../shared/testdata/detection-rules-kql/lib-kql): generated queries over generated documents,
# identical match sets (see kql_diff.py).
#
# Usage: tests/differential/kql.sh [QUERIES [DOCUMENTS]]   (default 100 x 30 = 3,000 cases, what
#        CI runs). KQL_SEED=N picks another deterministic set.
# Creates tests/differential/.venv-kql (pip install eql==1.0.1 lark) when missing; the KQL package
# is read in place from ../shared (PYTHONPATH), never copied.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
lib="$root/../shared/testdata/detection-rules-kql/lib-kql"
[ -d "$lib/kql" ] || { echo "missing $lib (../shared beside the repository)" >&2; exit 1; }
venv="$here/.venv-kql"
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import eql, lark' 2>/dev/null; then
    echo "== creating $venv (pip install eql==1.0.1 lark)" >&2
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q eql==1.0.1 'lark>=1.3.1'
fi
(cd "$root" && cargo build -q --bin eqlite)
PYTHONPATH="$lib" exec "$venv/bin/python" "$here/kql_diff.py" --eqlite "$root/target/debug/eqlite" \
    --queries "${1:-100}" --docs "${2:-30}" --seed "${KQL_SEED:-7}"
