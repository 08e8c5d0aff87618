#!/bin/bash
# rt-app (Debian's rt-app) for SCXLAB_DURATION seconds: WL_TASKS periodic threads, each
# running a fixed amount of work (rt-app's "run": WL_DUTY_PCT % of the period, as loops of
# WL_CALIBRATION_NS ns each) and then waiting for its own timer of period WL_PERIOD_US. The
# work is a fixed number of loops, the same under every policy; WL_CALIBRATION_NS = 0 lets
# rt-app calibrate the loop instead (a thread spinning on CPU0 at the start of every run,
# under the policy being measured, so the work per period then depends on the policy). The task set
# is generated here as rt-app's JSON (kept as taskset.json). All threads are released
# together, as SCHED_OTHER (param policy = other: the policy under test schedules them) or
# SCHED_FIFO (the kernel's RT class, which sched_ext never sees: a reference).
#
# From rt-app's per-thread logs (one line per period, columns found by their header names):
#   a deadline miss is a period whose slack is negative (the work ended after the next
#   release); wakeup latency is wu_lat (how late the thread ran after its timer fired);
#   run time is how long the work took from start to end (preemptions included).
# metrics.json: deadline_miss_pct (headline), misses, activations, the worst thread's miss
# share, wakeup latency and run time percentiles, the smallest slack, and the calibration.
# Raw: taskset.json, rt-app's logs (rtapp-*.log) and output (rt-app.out), periods.tsv.
set -euo pipefail
cd "$SCXLAB_OUT"
die() { echo "rtapp client: $*" >&2; exit 2; }
. "$SCXLAB_WORKLOAD_DIR/../lib/common.sh"
need_uint 1 TASKS PERIOD_US DUTY_PCT
need_uint 0 CALIBRATION_NS
case "$WL_POLICY" in
    other) kpolicy=SCHED_OTHER;;
    fifo) kpolicy=SCHED_FIFO;;
    *) die "param policy = '$WL_POLICY' must be other or fifo";;
esac
run_us=$((WL_PERIOD_US * WL_DUTY_PCT / 100))
[ "$run_us" -gt 0 ] || die "duty_pct $WL_DUTY_PCT % of period_us $WL_PERIOD_US is under 1 us of work"

jq -n --argjson n "$WL_TASKS" --argjson period "$WL_PERIOD_US" --argjson run "$run_us" \
    --argjson duration "$SCXLAB_DURATION" --arg logdir "$SCXLAB_OUT" --arg policy "$kpolicy" \
    --argjson cal "$WL_CALIBRATION_NS" '
  {global: {duration: $duration, calibration: (if $cal == 0 then "CPU0" else $cal end),
            default_policy: $policy, pi_enabled: false,
            lock_pages: false, logdir: $logdir, log_basename: "rtapp"},
   tasks: ([range($n)] | map({key: "periodic\(.)",
                             value: {loop: -1, run: $run, timer: {ref: "tick\(.)", period: $period}}})
           | from_entries)}' > taskset.json
rm -f rtapp-*.log
cmd=(rt-app taskset.json)
echo "${cmd[*]}" > rt-app-command.txt
rc=0
# the window: rt-app's whole run (its threads are born after the start and gone before the end,
# so the per-task schedstat sample has none of them: sched.tasks_sampled is 0, see README)
mark start
"${cmd[@]}" > rt-app.out 2>&1 || rc=$?
mark end
tail -n 20 rt-app.out
[ "$rc" -eq 0 ] || die "rt-app exited with code $rc; see rt-app.out"

# One row per period: thread, slack, wu_lat, run (us), perf (loops); each log's columns by the names in its
# '#idx ...' header line, and its '# Policy : X' line for the policy it ran with.
logs=(rtapp-*.log)
[ -e "${logs[0]}" ] || die "rt-app wrote no log (rtapp-*.log); see rt-app.out"
awk -v OFS='\t' '
  FNR == 1 { hdr = 0; task = FILENAME; sub(/^rtapp-/, "", task); sub(/\.log$/, "", task); pol = "" }
  /^# Policy/ { for (i = 1; i <= NF; i++) if ($i ~ /^SCHED_/) pol = $i; policies[task] = pol; next }
  /^#idx/ || /^# *idx/ {
    delete col
    for (i = 1; i <= NF; i++) { h = $i; sub(/^#/, "", h); if (h != "") col[h] = i - ($1 == "#") }
    if (!("slack" in col) || !("wu_lat" in col) || !("run" in col) || !("perf" in col)) {
      print "rt-app log " FILENAME " lacks a slack, wu_lat, run or perf column: " $0 > "/dev/stderr"; bad = 1; exit 1 }
    hdr = 1; next }
  /^#/ || NF == 0 { next }
  hdr { print task, $col["slack"], $col["wu_lat"], $col["run"], $col["perf"] }
  END { for (t in policies) print t, policies[t] > "thread-policies.txt"; exit bad }
' "${logs[@]}" > periods.tsv || die "rt-app's logs could not be read; see rt-app.out and rtapp-*.log"
# the loop's size: the param, or what rt-app measured ("pLoad = <ns>ns")
ns_per_loop=$WL_CALIBRATION_NS
if [ "$ns_per_loop" -eq 0 ]; then
    ns_per_loop=$(grep -oE 'pLoad = [0-9]+' rt-app.out | tail -n1 | grep -oE '[0-9]+$' || true)
fi

# percentile rank: ceil(q * n), at least 1, over the sorted values of one column
pct() { sort -n | awk -v q="$1" '{ v[NR] = $1 } END { if (!NR) exit; r = int(q * NR); if (r < q * NR) r++; if (r < 1) r = 1; print v[r] }'; }
col() { cut -f"$1" periods.tsv; }
stats=$(jq -n \
  --arg w50 "$(col 3 | pct 0.50)" --arg w90 "$(col 3 | pct 0.90)" --arg w99 "$(col 3 | pct 0.99)" \
  --arg w999 "$(col 3 | pct 0.999)" --arg r50 "$(col 4 | pct 0.50)" --arg r99 "$(col 4 | pct 0.99)" \
  '{wu: [$w50, $w90, $w99, $w999], run: [$r50, $r99]} | map_values(map(if . == "" then null else tonumber end))')
settings=$(jq -n --arg policy "$kpolicy" --argjson tasks "$WL_TASKS" --argjson period_us "$WL_PERIOD_US" \
    --argjson run_us "$run_us" --argjson duty_pct "$WL_DUTY_PCT" --arg command "${cmd[*]}" \
    --arg ns_per_loop "$ns_per_loop" --arg calibrated "$([ "$WL_CALIBRATION_NS" -eq 0 ] && echo true || echo false)" \
    '{policy: $policy, tasks: $tasks, period_us: $period_us, run_us: $run_us, duty_pct: $duty_pct,
      utilisation_cpus: ($tasks * $run_us / $period_us), command: $command,
      calibrated_by_rt_app: ($calibrated == "true"),
      calibration_ns_per_loop: (if $ns_per_loop == "" then null else ($ns_per_loop | tonumber) end)}')
jq -n --rawfile rows periods.tsv --rawfile pols thread-policies.txt --argjson settings "$settings" \
      --argjson s "$stats" '
  def metric($n; $u; $v; $h): {name: $n, unit: $u, value: $v, higher_is_better: $h};
  ($rows | split("\n") | map(select(length > 0) | split("\t")
     | {task: .[0], slack: (.[1] | tonumber), wu: (.[2] | tonumber), run: (.[3] | tonumber),
        loops: (.[4] | tonumber)})) as $p
  | ($pols | split("\n") | map(select(length > 0) | split("\t") | {task: .[0], policy: .[1]})) as $tp
  | ($p | length) as $n
  | ($p | map(select(.slack < 0)) | length) as $miss
  | ($p | group_by(.task) | map({task: .[0].task, n: length, miss: (map(select(.slack < 0)) | length)})) as $per
  | (if $n == 0 then "rt-app logged no period"
     elif ($per | length) != $settings.tasks then "rt-app logged periods of \($per | length) threads, not \($settings.tasks)"
     elif ($tp | length) != $settings.tasks or ($tp | any(.policy != $settings.policy)) then
       "the threads did not all run with policy \($settings.policy); see raw/thread-policies.txt"
     elif ($p | map(.loops) | unique | length) != 1 then
       "the periods did not all do the same number of loops; see raw/periods.tsv"
     else "" end) as $reason
  | {valid: ($reason == ""), reason: $reason, settings: $settings,
     metrics: (if $reason != "" then [] else [
       metric("deadline_miss_pct"; "%"; (100 * $miss / $n); false),
       metric("deadline_misses"; "count"; $miss; false),
       metric("activations"; "count"; $n; true),
       metric("deadline_miss_pct_worst_thread"; "%"; ($per | map(100 * .miss / .n) | max); false),
       metric("wakeup_p50_us"; "us"; $s.wu[0]; false),
       metric("wakeup_p90_us"; "us"; $s.wu[1]; false),
       metric("wakeup_p99_us"; "us"; $s.wu[2]; false),
       metric("wakeup_p999_us"; "us"; $s.wu[3]; false),
       metric("wakeup_max_us"; "us"; ($p | map(.wu) | max); false),
       metric("run_p50_us"; "us"; $s.run[0]; false),
       metric("run_p99_us"; "us"; $s.run[1]; false),
       metric("slack_min_us"; "us"; ($p | map(.slack) | min); true)
     ] + (if $settings.calibrated_by_rt_app and $settings.calibration_ns_per_loop != null then
          [metric("calibration_ns_per_loop"; "ns"; $settings.calibration_ns_per_loop; null)] else [] end)
       + [metric("loops_per_period"; "count"; $p[0].loops; null)] end)}
' > metrics.json
jq -c '{valid, reason, settings}' metrics.json
