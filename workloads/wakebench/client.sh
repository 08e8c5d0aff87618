#!/bin/bash
# wakebench (workloads/wakebench/wakebench.c, its header says how it works): WL_MESSAGE_THREADS
# message threads each wake WL_WORKERS worker threads per round; each request is
# WL_WORK_ITERS iterations of a fixed loop. Its first WL_WARMUP_S seconds are left out of the
# statistics, then SCXLAB_DURATION seconds are measured. All threads are SCHED_OTHER, so the
# policy under test schedules every one of them.
# metrics.json (written by wakebench): wakeup and request latency percentiles, requests/s.
# Raw: histogram.tsv (the measured buckets), wakebench.out (its summary), the command.
# wakebench marks the measured window itself (after its warm-up, while its threads are alive).
set -euo pipefail
cd "$SCXLAB_OUT"
die() { echo "wakebench client: $*" >&2; exit 2; }
. "$SCXLAB_WORKLOAD_DIR/../lib/common.sh"
need_uint 0 MESSAGE_THREADS WORKERS WORK_ITERS WARMUP_S
cmd=("$SCXLAB_WORKLOAD_DIR/bin/wakebench" --message-threads "$WL_MESSAGE_THREADS" --workers "$WL_WORKERS"
     --work-iters "$WL_WORK_ITERS" --warmup "$WL_WARMUP_S" --runtime "$SCXLAB_DURATION" --out "$SCXLAB_OUT")
echo "${cmd[*]}" > wakebench-command.txt
rc=0
"${cmd[@]}" > wakebench.out 2>&1 || rc=$?
cat wakebench.out
[ "$rc" -eq 0 ] || die "wakebench exited with code $rc; see wakebench.out"
[ -s metrics.json ] || die "wakebench wrote no metrics.json"
