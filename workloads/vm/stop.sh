#!/bin/sh
# Stop the nested guest and the neighbour; keep the nested console (the raw record every
# metric comes from) with the run's raw data.
prefix=/tmp/scxlab-vm
cg=/sys/fs/cgroup/scxlab-vm-neighbour
[ -s "$prefix/qemu.pid" ] && kill "$(cat "$prefix/qemu.pid")" 2>/dev/null
if [ -d "$cg" ]; then
    for p in $(cat "$cg/cgroup.procs"); do kill "$p" 2>/dev/null; done
    i=0
    while [ -s "$cg/cgroup.procs" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
    for p in $(cat "$cg/cgroup.procs"); do kill -9 "$p" 2>/dev/null; done
    sleep 0.2
    rmdir "$cg" 2>/dev/null
fi
sleep 0.5
cp "$prefix/nested-console.log" "$SCXLAB_OUT/nested-console.log" 2>/dev/null
cp "$prefix/neighbour.log" "$SCXLAB_OUT/neighbour.log" 2>/dev/null
exit 0
