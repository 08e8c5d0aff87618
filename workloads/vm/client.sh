#!/bin/sh
# Measure the nested vCPUs' progress over SCXLAB_DURATION seconds of the outer clock;
# vmprogress writes $SCXLAB_OUT/metrics.json (see its header for how the clocks are mapped).
set -eu
die() { echo "vm client: $*" >&2; exit 2; }
. "$SCXLAB_WORKLOAD_DIR/../lib/common.sh"
prefix=/tmp/scxlab-vm
log=$prefix/nested-console.log
qemu_pid=$(cat "$prefix/qemu.pid" 2>/dev/null || true)
if [ -z "$qemu_pid" ]; then
    printf '{"valid": false, "reason": "the nested QEMU never started (no %s); see raw/server-start.log", "metrics": []}\n' \
        "$prefix/qemu.pid" > "$SCXLAB_OUT/metrics.json"
    exit 0
fi
# If start.sh gave up waiting for the boot after WL_BOOT_WAIT s, wait here, within the
# agent's limit for the client (duration + 120 s).
i=0
while ! grep -q ' VMB 0 ' "$log" 2>/dev/null && [ $i -lt 100 ] && kill -0 "$qemu_pid" 2>/dev/null; do
    sleep 1; i=$((i + 1))
done
cg=
[ "${WL_NEIGHBOURS:-0}" -gt 0 ] && cg=/sys/fs/cgroup/scxlab-vm-neighbour
# the measured window: vmprogress's measurement (waiting for the nested boot above is left out)
mark start
rc=0
"$SCXLAB_WORKLOAD_DIR/bin/vmprogress" measure --log "$log" --duration "$SCXLAB_DURATION" \
    --qemu-pid "$qemu_pid" --neighbour-cgroup "$cg" --out "$SCXLAB_OUT/metrics.json" || rc=$?
mark end
exit "$rc"
