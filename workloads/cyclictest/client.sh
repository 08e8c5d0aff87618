#!/bin/bash
# cyclictest for SCXLAB_DURATION seconds: timer wakeup latency of WL_THREADS threads (0: one
# per CPU) that sleep WL_INTERVAL_US between wakeups, under scheduling policy WL_POLICY.
# With the default, SCHED_OTHER, the threads are scheduled by the policy under test
# (sched_ext takes SCHED_OTHER tasks; SCHED_FIFO/RR ones stay in the kernel's RT class and
# would measure that instead). WL_SYSTEM_TUNING=yes lets cyclictest tune the system as it
# does by default (it holds /dev/cpu_dma_latency at 0 while it runs); no passes
# --default-system. The choice is recorded in metrics.json ("settings") next to the metrics.
# Raw data kept: cyclictest.json (per-thread histograms), histogram.tsv (merged), the
# threads' policies as the kernel reported them.
set -euo pipefail
cd "$SCXLAB_OUT"
die() { echo "cyclictest client: $*" >&2; exit 2; }
. "$SCXLAB_WORKLOAD_DIR/../lib/common.sh"
need_uint 0 THREADS INTERVAL_US HIST_MAX_US PRIORITY
case "$WL_SYSTEM_TUNING" in
    yes) tuning=(); tuning_desc="cyclictest's own (cpu_dma_latency held at 0)";;
    no) tuning=(--default-system); tuning_desc="none (--default-system)";;
    *) die "param system_tuning = '$WL_SYSTEM_TUNING' must be yes or no";;
esac
case "$WL_POLICY" in
    other|batch|idle) prio=(); kpolicy=SCHED_${WL_POLICY^^};;
    fifo|rr) prio=(-p "$WL_PRIORITY"); kpolicy=SCHED_${WL_POLICY^^};;
    *) die "param policy = '$WL_POLICY' must be other, batch, idle, fifo or rr";;
esac
threads=$WL_THREADS
[ "$threads" -gt 0 ] || threads=$(nproc)
cmd=(cyclictest -q -m --policy="$WL_POLICY" "${prio[@]}" -i "$WL_INTERVAL_US" -t "$threads" -a
     -D "$SCXLAB_DURATION" -h "$WL_HIST_MAX_US" --histfile=/dev/null --json=cyclictest.json "${tuning[@]}")
echo "${cmd[*]}" > cyclictest-command.txt
# the window: cyclictest's -D run (its own start-up and the checks below are left out)
mark start
"${cmd[@]}" > cyclictest.out 2>&1 &
pid=$!
# the kernel's word on the measurement threads' policy, read once they all exist
for _ in $(seq 50); do
    [ "$(ls /proc/$pid/task 2>/dev/null | wc -l)" -gt "$threads" ] && break
    sleep 0.1
done
: > thread-policies.txt
for t in /proc/$pid/task/*; do
    tid=${t##*/}
    [ "$tid" = "$pid" ] && continue	# the main thread only waits
    chrt -p "$tid" 2>/dev/null | head -n1 >> thread-policies.txt || true
done
rc=0
wait "$pid" || rc=$?
mark end
cat cyclictest.out
[ "$rc" -eq 0 ] || die "cyclictest exited with code $rc; see cyclictest.out"
[ -s cyclictest.json ] || die "cyclictest wrote no cyclictest.json"
policies_ok=false
if [ "$(grep -c "policy: $kpolicy\$" thread-policies.txt)" -eq "$threads" ] &&
   [ "$(wc -l < thread-policies.txt)" -eq "$threads" ]; then
    policies_ok=true
fi
settings=$(jq -n --arg tuning "$tuning_desc" --arg policy "$kpolicy" --argjson threads "$threads" \
    --argjson interval_us "$WL_INTERVAL_US" --argjson hist_max_us "$WL_HIST_MAX_US" \
    --argjson load "${WL_LOAD:-0}" --arg command "${cmd[*]}" \
    '{system_tuning: $tuning, policy: $policy, threads: $threads, interval_us: $interval_us,
      hist_max_us: $hist_max_us, background_load_processes: $load, command: $command}')
jq --argjson settings "$settings" --argjson policies_ok "$policies_ok" \
    -f "$SCXLAB_WORKLOAD_DIR/metrics.jq" cyclictest.json > metrics.json
jq -r '["latency_us", "count"], ([.thread[].histogram // {} | to_entries[] | {b: (.key | tonumber), c: .value}]
       | group_by(.b) | .[] | [.[0].b, (map(.c) | add)]) | @tsv' cyclictest.json > histogram.tsv
jq -c '{valid, reason, settings}' metrics.json
