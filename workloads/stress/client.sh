#!/bin/sh
# hackbench, back to back, for SCXLAB_DURATION seconds under the stress-ng background load.
# Metric: hackbench runs completed per second, and the mean time of one run. The measured
# window (mark) is the loop; metrics.json's duration_s is its length as timed here.
set -eu
cd "$SCXLAB_OUT"
die() { echo "stress client: $*" >&2; exit 2; }
. "$SCXLAB_WORKLOAD_DIR/../lib/common.sh"
need_uint 1 HACKBENCH_GROUPS HACKBENCH_LOOPS
now() { date +%s.%N; }
calc() { awk "BEGIN { printf \"%.6f\", $1 }"; }
mark start
start=$(now)
runs=0; total=0; failed=0
while [ "$(calc "$(now) - $start < $SCXLAB_DURATION")" != 0.000000 ]; do
    t0=$(now)
    if hackbench -g "$WL_HACKBENCH_GROUPS" -l "$WL_HACKBENCH_LOOPS" >> hackbench.log 2>&1; then
        runs=$((runs + 1))
        total=$(calc "$total + $(now) - $t0")
    else
        failed=$((failed + 1))
    fi
done
elapsed=$(calc "$(now) - $start")
mark end
valid=true; reason=""
[ "$runs" -gt 0 ] || { valid=false; reason="no hackbench run completed"; }
[ "$failed" -eq 0 ] || { valid=false; reason="$failed hackbench runs failed"; }
rate=$(calc "$runs / $elapsed")
mean=$(if [ "$runs" -gt 0 ]; then calc "$total / $runs"; else echo 0; fi)
cat > metrics.json <<JSON
{"valid": $valid, "reason": "$reason", "duration_s": $elapsed, "metrics": [
 {"name": "hackbench_runs_per_sec", "unit": "runs/s", "value": $rate, "higher_is_better": true},
 {"name": "hackbench_mean_s", "unit": "s", "value": $mean, "higher_is_better": false},
 {"name": "hackbench_runs", "unit": "count", "value": $runs, "higher_is_better": true}
]}
JSON
