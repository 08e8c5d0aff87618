#!/bin/bash
# `perf bench sched messaging` (perf's hackbench) repeated until SCXLAB_DURATION seconds have
# passed (at least once): WL_GROUPS groups of 20 senders and 20 receivers, each sender
# passing WL_LOOPS messages to every receiver of its group, over sockets (pipes with
# WL_PIPE=yes), as processes (threads with WL_THREADS=yes). All SCHED_OTHER.
# metrics.json: messages per second over the summed run times (headline), mean and worst
# time of one run. Raw: perf's output of every run (perf-bench.out), times.txt.
set -euo pipefail
cd "$SCXLAB_OUT"
die() { echo "perf-messaging client: $*" >&2; exit 2; }
for n in GROUPS LOOPS; do
    v=WL_$n
    [[ ${!v-} =~ ^[1-9][0-9]*$ ]] || die "param ${n,,} = '${!v-}' is not a positive integer"
done
for p in THREADS PIPE; do v=WL_$p; [[ ${!v-} =~ ^(yes|no)$ ]] || die "param ${p,,} = '${!v-}' must be yes or no"; done
mode=(); [ "$WL_THREADS" = yes ] && mode+=(-t); [ "$WL_PIPE" = yes ] && mode+=(-p)
cmd=(perf bench --format=simple sched messaging -g "$WL_GROUPS" -l "$WL_LOOPS" "${mode[@]}")
echo "${cmd[*]}" > perf-bench-command.txt
. "$SCXLAB_WORKLOAD_DIR/../lib/timed-runs.sh"
# --format=simple prints the run's total time in seconds alone on its last line
timed_runs perf-bench.out 'NF { last = $1 } END { print last }' "${cmd[@]}"
# perf's messaging uses 20 senders and 20 receivers per group (its -f default is not exposed)
per_run=$((WL_GROUPS * 20 * 20 * WL_LOOPS))
jq -n --rawfile times times.txt --argjson per_run "$per_run" --arg command "${cmd[*]}" '
  ($times | split("\n") | map(select(length > 0) | tonumber)) as $t
  | ($t | add) as $sum
  | def metric($n; $u; $v; $h): {name: $n, unit: $u, value: $v, higher_is_better: $h};
  {valid: ($sum > 0), reason: (if $sum > 0 then "" else "perf bench reported no time" end),
   settings: {command: $command, messages_per_run: $per_run, runs: ($t | length)},
   metrics: (if $sum > 0 then [
     metric("messages_per_sec"; "msg/s"; ($per_run * ($t | length) / $sum); true),
     metric("run_time_mean_s"; "s"; ($sum / ($t | length)); false),
     metric("run_time_max_s"; "s"; ($t | max); false),
     metric("runs"; "count"; ($t | length); true)] else [] end)}' > metrics.json
jq -c '{valid, reason, settings}' metrics.json
