#!/usr/bin/env bash
# Runs each cargo-fuzz target of fuzz/ for a bounded time, one at a time on one core, and prints
# how many inputs each executed. Exits non-zero on any finding (crash, panic, timeout, OOM); the
# input that triggered it is saved under fuzz/artifacts/<target>/ — copy it to
# fuzz/regressions/<target>/ (replayed by `cargo test --test hostile`) once the bug is fixed.
#
# Usage: scripts/fuzz.sh [SECONDS] [TARGET...]
#   SECONDS  per target (default 30); `scripts/fuzz.sh 10` is the quick smoke run of the test script
#   TARGET   parse_query rule_toml eval_event differential snapshot split (default: all)
# The growing corpus lives in fuzz/corpus/<target>/ (not committed); it starts from the committed
# seeds (fuzz/seeds/<target>/; snapshot and split use eval_event's) and regression inputs
# (fuzz/regressions/<target>/); the event targets also start from the conformance data of
# ../shared (read in place with -seed_inputs, never copied) when it is beside the repository.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
fuzz="$root/fuzz"
secs="${1:-30}"
shift || true
targets=("$@")
# eqlite has no unsafe code, so AddressSanitizer is off by default (several times more executions);
# FUZZ_SANITIZER=address turns it on. Debug assertions and overflow checks are always on.
sanitizer="${FUZZ_SANITIZER:-none}"
[ ${#targets[@]} -gt 0 ] || targets=(parse_query rule_toml eval_event differential snapshot split)
shared="$root/../shared/testdata"

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
    case "$t" in snapshot | split) seeds="$fuzz/seeds/eval_event" ;; *) seeds="$fuzz/seeds/$t" ;; esac
    dirs=("$corpus" "$seeds")
    [ -d "$fuzz/regressions/$t" ] && dirs+=("$fuzz/regressions/$t")
    # The event targets do work per event: inputs of up to 4 KiB (a few events, enough for
    # sequences) keep them at thousands of executions per second.
    extra=()
    case "$t" in eval_event | snapshot) extra+=(-max_len=4096) ;; *) extra+=(-max_len=16384) ;; esac
    case "$t" in eval_event | snapshot | split)
        [ -d "$shared" ] && extra+=("-seed_inputs=$shared/python-eql/test_data.json,$shared/es-eql-qa/data/missing-events.data,$shared/es-eql-qa/data/extra.data")
        ;;
    esac
    before="$(ls "$fuzz/artifacts/$t" | wc -l)"
    echo "== $t: ${secs}s" >&2
    # -jobs=1 -workers=1: one fuzzing process on one core; libFuzzer writes its log to fuzz-0.log.
    (cd "$work" && rm -f fuzz-0.log && cargo +nightly fuzz run --fuzz-dir "$fuzz" -s "$sanitizer" "$t" "${dirs[@]}" -- \
        -max_total_time="$secs" -jobs=1 -workers=1 -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 "${extra[@]}" >"$work/$t.out" 2>&1) || true
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
        echo "${summary[-1]}" >&2
    else
        corpus_size="$(ls "$corpus" | wc -l)"
        summary+=("$t: ${execs} executions in ${secs}s ($((execs / secs))/s), corpus $corpus_size inputs, no finding")
        echo "${summary[-1]}" >&2
    fi
done
printf '%s\n' "${summary[@]}"
exit $status
