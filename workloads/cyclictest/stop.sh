#!/bin/sh
# End the background load, if any.
cg=/sys/fs/cgroup/scxlab-cyclictest-load
[ -d "$cg" ] || exit 0
for p in $(cat "$cg/cgroup.procs"); do kill "$p" 2>/dev/null; done
i=0
while [ -s "$cg/cgroup.procs" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
for p in $(cat "$cg/cgroup.procs"); do kill -9 "$p" 2>/dev/null; done
sleep 0.2
rmdir "$cg" 2>/dev/null
cp /tmp/scxlab-cyclictest-load.log "$SCXLAB_OUT/load.log" 2>/dev/null
exit 0
