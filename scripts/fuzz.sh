#!/usr/bin/env bash
# Runs each cargo-fuzz target of fuzz/ for a bounded time, one at a time on one core, and prints
# how many inputs each executed. Exits non-zero on any finding (crash, panic, timeout, OOM); the
# input that triggered it is saved under fuzz/artifacts/<target>/ — copy it to
# fuzz/regressions/<target>/ (replayed by `cargo test --test hostile`) once the bug is fixed.
#
# Usage: scripts/fuzz.sh [SECONDS] [TARGET...]
#   SECONDS  per target (default 30); `scripts/fuzz.sh 10` is the quick smoke run of the test script
#   TARGET   parse_query rule_toml eval_event differential (default: all)
# The growing corpus lives in fuzz/corpus/<target>/ (not committed); it starts from the committed
# seeds (fuzz/seeds/<target>/) and regression inputs (fuzz/regressions/<target>/).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
fuzz="$root/fuzz"
secs="${1:-30}"
shift || true
targets=("$@")
# eqlite has no unsafe code, so AddressSanitizer is off by default (several times more executions);
# FUZZ_SANITIZER=address turns it on. Debug assertions and overflow checks are always on.
sanitizer="${FUZZ_SANITIZER:-none}"
[ ${#targets[@]} -gt 0 ] || targets=(parse_query rule_toml eval_event differential)

if ! cargo +nightly --version >/dev/null 2>&1; then
    echo "fuzz.sh: the nightly toolchain is needed (rustup toolchain install nightly)" >&2
    exit 1
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
    echo "== cargo install cargo-fuzz" >&2
    cargo install cargo-fuzz
fi

echo "== cargo +nightly fuzz build (release, debug assertions on, sanitizer: $sanitizer)" >&2
cargo +nightly fuzz build --fuzz-dir "$fuzz" -s "$sanitizer" >&2

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
status=0
summary=()
for t in "${targets[@]}"; do
    corpus="$fuzz/corpus/$t"
    mkdir -p "$corpus" "$fuzz/artifacts/$t"
    dirs=("$corpus" "$fuzz/seeds/$t")
    [ -d "$fuzz/regressions/$t" ] && dirs+=("$fuzz/regressions/$t")
    before="$(ls "$fuzz/artifacts/$t" | wc -l)"
    echo "== $t: ${secs}s" >&2
    # -jobs=1 -workers=1: one fuzzing process on one core; libFuzzer writes its log to fuzz-0.log.
    (cd "$work" && rm -f fuzz-0.log && cargo +nightly fuzz run --fuzz-dir "$fuzz" -s "$sanitizer" "$t" "${dirs[@]}" -- \
        -max_total_time="$secs" -jobs=1 -workers=1 -timeout=10 -rss_limit_mb=2048 -max_len=16384 \
        -print_final_stats=1 >"$work/$t.out" 2>&1) || true
    log="$work/fuzz-0.log"
    [ -f "$log" ] || log="$work/$t.out"
    execs="$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | tail -1 | grep -o '[0-9]*$' || true)"
    after="$(ls "$fuzz/artifacts/$t" | wc -l)"
    if grep -qE 'ERROR: libFuzzer|panicked at|ERROR: AddressSanitizer|Test unit written to|SUMMARY: ' "$log" \
        || [ "$after" -gt "$before" ] || [ -z "$execs" ]; then
        status=1
        echo "!! $t: finding (log follows; inputs in $fuzz/artifacts/$t/)" >&2
        grep -vE '^(#[0-9]+|INFO:|\s*$)' "$log" | tail -40 >&2
        summary+=("$t: FINDING after ${execs:-?} executions")
    else
        summary+=("$t: ${execs} executions in ${secs}s, no finding")
    fi
done
printf '%s\n' "${summary[@]}"
exit $status
