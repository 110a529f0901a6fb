#!/usr/bin/env bash
# Runs every libFuzzer target for a bounded time and prints a summary (executions, corpus, crashes).
# Not part of `make test`: a sanitizer build of everything takes about 5 minutes on 2 cores.
#
#   fuzz/run.sh                      # every target, FUZZ_SECONDS (60) each
#   FUZZ_SECONDS=600 fuzz/run.sh FuzzHTTP1 FuzzConfig
#   fuzz/run.sh --replay             # only re-run fuzz/regressions/*/* (inputs that once crashed)
#
# Crashing inputs land in .build-fuzz/crashes/TARGET-crash-*; the script exits 1 if there is any.
# The grown corpus is kept in .build-fuzz/corpus/TARGET between runs; fuzz/corpus holds the seeds.
set -euo pipefail
cd "$(dirname "$0")/.."

FUZZ_SECONDS=${FUZZ_SECONDS:-60}
JOBS=${JOBS:-1}
ALL_TARGETS=(FuzzHTTP1 FuzzConfig FuzzCacheHeaders FuzzRouter FuzzRESP FuzzJWT)
SCRATCH=.build-fuzz
REPLAY=0
TARGETS=()
for argument in "$@"; do
    case "$argument" in
        --replay) REPLAY=1 ;;
        Fuzz*) TARGETS+=("$argument") ;;
        *) echo "unknown argument: $argument" >&2; exit 2 ;;
    esac
done
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=("${ALL_TARGETS[@]}")

declare -A DICTIONARY=([FuzzHTTP1]=fuzz/dict/http1.dict [FuzzConfig]=fuzz/dict/config.dict)

for target in "${TARGETS[@]}"; do
    echo "building $target (sanitizers: fuzzer, address)"
    # Built product by product: the gateway executable has a main of its own, libFuzzer brings another.
    # --sanitize=fuzzer makes SwiftPM link libFuzzer's main in place of the target's. The sanitizers
    # themselves are one -sanitize=fuzzer,address: swiftc keeps only the last of several -sanitize
    # flags, so SwiftPM's --sanitize=fuzzer --sanitize=address compiled without coverage.
    # The build's own status, not grep's: a failed build must not fuzz the previous binary.
    GATEWAY_FUZZ=1 swift build --scratch-path "$SCRATCH" --sanitize=fuzzer -Xswiftc -sanitize=fuzzer,address \
        --product "$target" 2>&1 | grep -Ev "ld.gold: warning|unhandled; explicitly declare" \
        || [ "${PIPESTATUS[0]}" -eq 0 ] || { echo "build of $target failed" >&2; exit 1; }
done

status=0
if [ "$REPLAY" = 1 ]; then
    for target in "${TARGETS[@]}"; do
        inputs=(fuzz/regressions/"$target"/*)
        [ -e "${inputs[0]}" ] || continue
        echo "replaying ${#inputs[@]} input(s) through $target"
        "$SCRATCH/debug/$target" "${inputs[@]}" 2>&1 | tail -n 3 || status=1
    done
    exit $status
fi

# Swift's own crash backtracer would run inside the sanitizer's report and muddle it.
export SWIFT_BACKTRACE=enable=no
mkdir -p "$SCRATCH/crashes" "$SCRATCH/logs"
summary=()
for target in "${TARGETS[@]}"; do
    corpus="$SCRATCH/corpus/$target"
    mkdir -p "$corpus"
    cp -n fuzz/corpus/"$target"/* "$corpus"/ 2>/dev/null || true
    if [ "$target" = FuzzConfig ]; then
        # Real configs are the best seeds for the config parser.
        for file in conf/*.yaml conf/examples/*.yaml; do
            [ -f "$file" ] && { cp -n "$file" "$corpus/conf-$(basename "$file")" || true; }
        done
    fi
    options=(-max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=4096 -max_len=8192 -print_final_stats=1
        -artifact_prefix="$SCRATCH/crashes/$target-")
    [ -n "${DICTIONARY[$target]:-}" ] && options+=(-dict="${DICTIONARY[$target]}")
    [ "$JOBS" -gt 1 ] && options+=(-fork="$JOBS" -ignore_crashes=1)
    log="$SCRATCH/logs/$target.log"
    echo "fuzzing $target for ${FUZZ_SECONDS}s"
    before=$(find "$SCRATCH/crashes" -name "$target-*" | wc -l)
    exit_status=0
    "$SCRATCH/debug/$target" "${options[@]}" "$corpus" > "$log" 2>&1 || exit_status=$?
    crashes=$(( $(find "$SCRATCH/crashes" -name "$target-*" | wc -l) - before ))
    # A crash found again has the same file name as before: the exit status says it too.
    if [ "$exit_status" -ne 0 ] && [ "$crashes" -eq 0 ] && [ "$JOBS" -eq 1 ]; then crashes=1; fi
    # awk, not grep, so a log without the line (a crash before the stats) is not a script error.
    executions=$(awk '/stat::number_of_executed_units:/ {s += $2} END {print s + 0}' "$log")
    rate=$(awk '/stat::average_exec_per_sec:/ {r = $2} END {print r}' "$log")
    entries=$(find "$corpus" -type f | wc -l)
    coverage=$(awk 'match($0, /cov: [0-9]+/) {c = substr($0, RSTART + 5, RLENGTH - 5)} END {print c}' "$log")
    summary+=("$(printf '%-17s %12s %8s %8s %8s %8s' "$target" "$executions" "${rate:-?}" "${coverage:-?}" "$entries" "$crashes")")
    if [ -z "$coverage" ] && [ "$crashes" -eq 0 ]; then
        echo "$target reported no coverage: the build is not instrumented" >&2
        status=1
    fi
    if [ "$crashes" -gt 0 ]; then
        status=1
        grep -m 5 -E "Fatal error|ERROR: (AddressSanitizer|libFuzzer)|SUMMARY" "$log" || true
        echo "see $log"
    fi
done

echo
printf '%-17s %12s %8s %8s %8s %8s\n' target executions exec/s coverage corpus crashes
printf '%s\n' "${summary[@]}"
exit $status
