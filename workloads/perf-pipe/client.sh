#!/bin/bash
# `perf bench sched pipe` repeated until SCXLAB_DURATION seconds have passed (at least once):
# two tasks bounce a token over a pair of pipes WL_LOOPS times (as threads with
# WL_THREADS=yes), so each round trip is two wakeups and two context switches. Both tasks
# are SCHED_OTHER: the policy under test decides whether they share a CPU or wake each
# other across CPUs, which is most of the cost.
# metrics.json: round-trip time (usecs_per_op, headline, lower is better) and round trips
# per second over all runs. Raw: perf's output of every run (perf-bench.out), times.txt.
set -euo pipefail
cd "$SCXLAB_OUT"
die() { echo "perf-pipe client: $*" >&2; exit 2; }
. "$SCXLAB_WORKLOAD_DIR/../lib/common.sh"
need_uint 1 LOOPS
need_yesno THREADS
mode=(); [ "$WL_THREADS" = yes ] && mode=(-T)
cmd=(perf bench --format=simple sched pipe -l "$WL_LOOPS" "${mode[@]}")
echo "${cmd[*]}" > perf-bench-command.txt
. "$SCXLAB_WORKLOAD_DIR/../lib/timed-runs.sh"
# --format=simple prints the run's total time in seconds alone on its last line
timed_runs perf-bench.out 'NF { last = $1 } END { print last }' "${cmd[@]}"
jq -n --rawfile times times.txt --argjson loops "$WL_LOOPS" --arg command "${cmd[*]}" '
  ($times | split("\n") | map(select(length > 0) | tonumber)) as $t
  | ($t | add) as $sum
  | def metric($n; $u; $v; $h): {name: $n, unit: $u, value: $v, higher_is_better: $h};
  {valid: ($sum > 0), reason: (if $sum > 0 then "" else "perf bench reported no time" end),
   settings: {command: $command, round_trips_per_run: $loops, runs: ($t | length)},
   metrics: (if $sum > 0 then [
     metric("usecs_per_op"; "us"; ($sum * 1e6 / ($loops * ($t | length))); false),
     metric("ops_per_sec"; "1/s"; ($loops * ($t | length) / $sum); true),
     metric("run_time_max_s"; "s"; ($t | max); false),
     metric("runs"; "count"; ($t | length); true)] else [] end)}' > metrics.json
jq -c '{valid, reason, settings}' metrics.json
