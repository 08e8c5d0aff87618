#!/bin/bash
# hackbench (rt-tests) repeated until SCXLAB_DURATION seconds have passed (at least once):
# WL_GROUPS groups of WL_FDS senders and WL_FDS receivers, each sender passing WL_LOOPS
# messages of WL_DATASIZE bytes to every receiver of its group, over sockets (or pipes with
# WL_PIPE=yes), as processes (or threads with WL_THREADS=yes). Every task is SCHED_OTHER,
# so the policy under test schedules all of them; the work is mostly wakeups and short
# bursts, where placement and wakeup preemption decide the time.
# metrics.json: messages per second over the summed run times (headline), mean and worst
# time of one hackbench run. Raw: every run's output (hackbench.out) and time (times.txt).
set -euo pipefail
cd "$SCXLAB_OUT"
die() { echo "hackbench client: $*" >&2; exit 2; }
. "$SCXLAB_WORKLOAD_DIR/../lib/common.sh"
need_uint 1 GROUPS FDS LOOPS DATASIZE
need_yesno THREADS PIPE
mode=(); [ "$WL_THREADS" = yes ] && mode+=(-T); [ "$WL_PIPE" = yes ] && mode+=(-p)
cmd=(hackbench -g "$WL_GROUPS" -f "$WL_FDS" -l "$WL_LOOPS" -s "$WL_DATASIZE" "${mode[@]}")
echo "${cmd[*]}" > hackbench-command.txt
. "$SCXLAB_WORKLOAD_DIR/../lib/timed-runs.sh"
# hackbench prints 'Time: <seconds>'
timed_runs hackbench.out '$1 == "Time:" { print $2 }' "${cmd[@]}"
msgs_per_run=$((WL_GROUPS * WL_FDS * WL_FDS * WL_LOOPS))
message_metrics "$msgs_per_run" "hackbench" "${cmd[*]}"
