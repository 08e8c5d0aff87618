#!/bin/bash
# Measures the CPU this instance's spinners (started by start.sh, running throughout) get for
# SCXLAB_DURATION seconds: its own cgroup's cpu.stat usage_usec and the clock, read right before
# and right after the wait, so the client's window is the wait itself. Under a cgroup tree with
# more spinning threads than CPUs every instance always has a runnable task, and the CPU each one
# gets is decided by the policy and the weights alone (issue 13, configs/sweeps/share-accuracy.ini;
# the agent's cpu_share_achieved sets it against the entitled share).
# metrics.json: CPUs used on average over the window (headline, CPU-seconds per second), and
# the CPU-seconds. Raw: usage.txt (the two readings).
set -euo pipefail
cd "$SCXLAB_OUT"
die() { echo "cpuspin client: $*" >&2; exit 2; }
pidfile=/tmp/scxlab-cpuspin-${SCXLAB_INSTANCE:-1}.pid
[ -r "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null || die "the spinners are not running (start.sh)"
# cgroup v2: /proc/self/cgroup is "0::/PATH"
cg=$(sed -n 's/^0:://p' /proc/self/cgroup)
stat=/sys/fs/cgroup${cg%/}/cpu.stat
[ -r "$stat" ] || die "cannot read $stat"
usage() { awk '$1 == "usage_usec" { print $2 }' "$stat"; }
u0=$(usage); t0=$(date +%s%N)
sleep "$SCXLAB_DURATION"
u1=$(usage); t1=$(date +%s%N)
printf 'cgroup\t%s\nusage_usec_before\t%s\nusage_usec_after\t%s\nns_before\t%s\nns_after\t%s\n' \
    "$cg" "$u0" "$u1" "$t0" "$t1" > usage.txt
jq -n --argjson u0 "$u0" --argjson u1 "$u1" --argjson t0 "$t0" --argjson t1 "$t1" --arg cg "$cg" '
  def metric($n; $u; $v; $h): {name: $n, unit: $u, value: $v, higher_is_better: $h};
  (($u1 - $u0) / 1e6) as $cpu | (($t1 - $t0) / 1e9) as $wall
  | {valid: ($cpu > 0 and $wall > 0),
     reason: (if $cpu > 0 and $wall > 0 then "" else "the spinners used no CPU in the window" end),
     duration_s: $wall,
     settings: {cgroup: $cg},
     metrics: [metric("cpus_used"; "CPU-s/s"; (if $wall > 0 then $cpu / $wall else 0 end); true),
               metric("cpu_seconds"; "s"; $cpu; true)]}' > metrics.json
jq -c '{valid, reason, settings}' metrics.json
