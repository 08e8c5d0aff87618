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
. "$SCXLAB_WORKLOAD_DIR/../lib/common.sh"
pidfile=/tmp/scxlab-cpuspin-${SCXLAB_INSTANCE:-1}.pid
[ -r "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null || die "the spinners are not running (start.sh)"
# cgroup v2: /proc/self/cgroup is "0::/PATH"
cg=$(sed -n 's/^0:://p' /proc/self/cgroup)
stat=/sys/fs/cgroup${cg%/}/cpu.stat
[ -r "$stat" ] || die "cannot read $stat"
# This client shares its cgroup with the spinners, so under a small weight each command it runs
# waits behind them: in the window only builtins run (no fork), the wait is read's timeout on a
# FIFO nobody writes, and the client asks for the best nice level (the spinners keep theirs), so
# that its window ends when the wait does and not seconds later.
renice -n -20 -p $$ > /dev/null 2>&1 || true
# sets $usage from cpu.stat (a function, not $(...): that forks)
usage() { local k v; usage=; while read -r k v; do [ "$k" = usage_usec ] && usage=$v && return; done < "$stat"; }
mkfifo idle.fifo && exec 9<> idle.fifo && rm -f idle.fifo || die "cannot make the FIFO the wait reads"
# Under a small weight this client also starts late (its shell, sed and mkfifo wait behind the
# spinners), so the instances' windows would overlap little and the run's (their intersection,
# the one the shares are counted over) would be short: every instance's client first waits here
# until all of them are ready (a file each under /tmp, named by the phase: the warm-up's are not
# the measurement's; start.sh clears them).
ready=/tmp/scxlab-cpuspin-ready
phase=${SCXLAB_MARK:+measure}; phase=${phase:-warmup}
: > "$ready/$phase-${SCXLAB_INSTANCE:-1}" || die "cannot write $ready/$phase-${SCXLAB_INSTANCE:-1}"
for ((waited = 0; ; waited++)); do
    others=("$ready/$phase"-*)
    [ "${#others[@]}" -ge "${SCXLAB_INSTANCES:-1}" ] && break
    [ "$waited" -lt 3000 ] || die "the other instances' clients were not ready after 60 s"
    read -r -t 0.02 -u 9 _ || true
done
# the window the agent counts over is this one: marked right around the two readings
mark start
usage; u0=$usage; t0=$EPOCHREALTIME
read -r -t "$SCXLAB_DURATION" -u 9 _ || true
usage; u1=$usage; t1=$EPOCHREALTIME
mark end
[[ -n $u0 && -n $u1 && $u0$u1 != *[!0-9]* ]] || die "no usage_usec in $stat"
printf 'cgroup\t%s\nusage_usec_before\t%s\nusage_usec_after\t%s\ns_before\t%s\ns_after\t%s\n' \
    "$cg" "$u0" "$u1" "$t0" "$t1" > usage.txt
jq -n --argjson u0 "$u0" --argjson u1 "$u1" --argjson t0 "$t0" --argjson t1 "$t1" --arg cg "$cg" '
  def metric($n; $u; $v; $h): {name: $n, unit: $u, value: $v, higher_is_better: $h};
  (($u1 - $u0) / 1e6) as $cpu | ($t1 - $t0) as $wall
  | {valid: ($cpu > 0 and $wall > 0),
     reason: (if $cpu > 0 and $wall > 0 then "" else "the spinners used no CPU in the window" end),
     duration_s: $wall,
     settings: {cgroup: $cg},
     metrics: [metric("cpus_used"; "CPU-s/s"; (if $wall > 0 then $cpu / $wall else 0 end); true),
               metric("cpu_seconds"; "s"; $cpu; true)]}' > metrics.json
jq -c '{valid, reason, settings}' metrics.json
