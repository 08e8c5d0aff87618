#!/bin/sh
# Reruns the experiment behind this result directory (20261125-234150-nginx-fifo).
# It was made by scxlab commit 24103feb945966a199c092a4c5d907d44437f7f2; run this from a checkout of that commit.
# Original command: make experiment POLICY="fifo" WORKLOAD="nginx" DURATION="" REPEATS="" CLOCK="" TARGET="vm" VM="default" MONITORS="" CGROUPS="" PRECISION="" MAX_REPEATS="" PARAMS=""
set -e
cd "${SCXLAB_REPO:-$(dirname "$0")/../..}"
[ "$(git rev-parse HEAD 2>/dev/null)" = 24103feb945966a199c092a4c5d907d44437f7f2 ] || echo "reproduce.sh: note: this checkout is not commit 24103feb945966a199c092a4c5d907d44437f7f2" >&2
exec make compare POLICIES=fifo WORKLOAD=nginx DURATION=10 REPEATS=1 CLOCK=virtual TARGET=vm VM=default MONITORS='' CGROUPS= PARAMS=''
