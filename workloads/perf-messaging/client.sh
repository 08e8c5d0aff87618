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
. "$SCXLAB_WORKLOAD_DIR/../lib/common.sh"
need_uint 1 GROUPS LOOPS
need_yesno THREADS PIPE
mode=(); [ "$WL_THREADS" = yes ] && mode+=(-t); [ "$WL_PIPE" = yes ] && mode+=(-p)
cmd=(perf bench --format=simple sched messaging -g "$WL_GROUPS" -l "$WL_LOOPS" "${mode[@]}")
echo "${cmd[*]}" > perf-bench-command.txt
. "$SCXLAB_WORKLOAD_DIR/../lib/timed-runs.sh"
# --format=simple prints the run's total time in seconds alone on its last line
timed_runs perf-bench.out 'NF { last = $1 } END { print last }' "${cmd[@]}"
# perf's messaging uses 20 senders and 20 receivers per group (its -f default is not exposed)
per_run=$((WL_GROUPS * 20 * 20 * WL_LOOPS))
message_metrics "$per_run" "perf bench" "${cmd[*]}"
