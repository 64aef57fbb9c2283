#!/bin/sh
# scripts/fuzz.sh: run each libFuzzer target (built by `make fuzz` into
# build/fuzz/) for FUZZ_SECONDS (default 60), starting from its committed
# seed corpus fuzz/corpus/<target>/.  New inputs go to
# build/fuzz/corpus/<target>/ (not the checkout), a crash to
# build/fuzz/<target>-crash-*.  Fails if any target crashed or broke an
# invariant.
#
#   scripts/fuzz.sh fuzz_response fuzz_header_key fuzz_alias
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
secs=${FUZZ_SECONDS:-60}
status=0
summary=""

for t in "$@"; do
    bin=$top/build/fuzz/$t
    seeds=$top/fuzz/corpus/$t
    work=$top/build/fuzz/corpus/$t
    log=$top/build/fuzz/$t.log
    [ -x "$bin" ] || { echo "fuzz.sh: $bin not built" >&2; exit 2; }
    mkdir -p "$work" "$seeds"
    echo "=== $t: ${secs}s from $(ls "$seeds" | wc -l) seeds"
    "$bin" -max_total_time="$secs" -print_final_stats=1 -timeout=10 \
        -rss_limit_mb=1024 -artifact_prefix="$top/build/fuzz/$t-" \
        "$work" "$seeds" >"$log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    cov=$(grep -E '^#[0-9]+' "$log" | tail -1 | sed -n 's/.*cov: \([0-9]*\).*/\1/p')
    if [ "$rc" -ne 0 ]; then
        status=1
        echo "fuzz.sh: $t FAILED (exit $rc), see $log:"
        grep -E 'invariant failed|ERROR|SUMMARY|Test unit written' "$log" | head -20
        summary="$summary
$t: ${execs:-?} execs, CRASHED"
    else
        summary="$summary
$t: ${execs:-?} execs in ${secs}s, coverage ${cov:-?} edges, 0 crashes, corpus $(ls "$work" | wc -l) + $(ls "$seeds" | wc -l) seeds"
    fi
done
echo "=== fuzz summary:$summary"
exit $status
