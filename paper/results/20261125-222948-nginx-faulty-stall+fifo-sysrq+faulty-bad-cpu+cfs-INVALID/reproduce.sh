#!/bin/sh
# Reruns the experiment behind this result directory (20261125-222948-nginx-faulty-stall+fifo-sysrq+faulty-bad-cpu+cfs).
# It was made by scxlab commit 9aede3141175cf04567f4d4bcd59a823ade44578; run this from a checkout of that commit.
# Original command: make compare POLICIES="faulty-stall fifo-sysrq faulty-bad-cpu cfs" WORKLOAD="nginx" DURATION="10" REPEATS="" CLOCK="" TARGET="vm" VM="default" MONITORS=""
set -e
cd "${SCXLAB_REPO:-$(dirname "$0")/../..}"
[ "$(git rev-parse HEAD 2>/dev/null)" = 9aede3141175cf04567f4d4bcd59a823ade44578 ] || echo "reproduce.sh: note: this checkout is not commit 9aede3141175cf04567f4d4bcd59a823ade44578" >&2
exec make compare POLICIES='faulty-stall fifo-sysrq faulty-bad-cpu cfs' WORKLOAD=nginx DURATION=10 REPEATS=1 CLOCK=virtual TARGET=vm VM=default MONITORS=''
