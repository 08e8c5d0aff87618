#!/bin/sh
# With WL_LOAD > 0, start that many CPU hogs (stress-ng --cpu, SCHED_OTHER like everything
# the policy under test schedules) in their own cgroup; they run through warm-up and
# measurement and stop.sh ends them. With WL_LOAD = 0 there is nothing to start.
set -eu
# cyclictest keeps its shared statistics in POSIX shared memory; the guest's PID 1 mounts
# no /dev/shm, so give it one (harmless if it exists).
if ! mountpoint -q /dev/shm 2>/dev/null; then
    mkdir -p /dev/shm && mount -t tmpfs -o mode=1777 tmpfs /dev/shm
fi
case "$WL_LOAD" in ''|*[!0-9]*) echo "cyclictest start: param load = '$WL_LOAD' is not a non-negative integer" >&2; exit 1;; esac
[ "$WL_LOAD" -gt 0 ] || { echo "no background load"; exit 0; }
cg=/sys/fs/cgroup/scxlab-cyclictest-load
mkdir -p "$cg"
setsid sh -c 'echo $$ > "$0/cgroup.procs" && exec stress-ng --cpu "$1" --cpu-method int64 --quiet' \
    "$cg" "$WL_LOAD" > /tmp/scxlab-cyclictest-load.log 2>&1 &
i=0
until [ "$(wc -l < "$cg/cgroup.procs")" -gt "$WL_LOAD" ]; do
    i=$((i + 1)); [ $i -lt 100 ] || { echo "cyclictest start: stress-ng did not start $WL_LOAD workers" >&2; exit 1; }
    sleep 0.1
done
echo "background load: stress-ng --cpu $WL_LOAD in $cg"
