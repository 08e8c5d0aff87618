#!/bin/sh
# Reruns the experiment behind this result directory (20261126-015638-stress-pair+fifo).
# It was made by scxlab commit 8bc45c31bd23d4bd6eb68c7a7f5a1c0ebfcf8d4a; run this from a checkout of that commit.
# Original command: make compare POLICIES="pair fifo" WORKLOAD="stress" DURATION="10" REPEATS="3" CLOCK="" TARGET="vm" VM="smt" MONITORS="sched-trace" CGROUPS="pair:1:1" PRECISION="" MAX_REPEATS="" PARAMS=""
set -e
cd "${SCXLAB_REPO:-$(dirname "$0")/../..}"
[ "$(git rev-parse HEAD 2>/dev/null)" = 8bc45c31bd23d4bd6eb68c7a7f5a1c0ebfcf8d4a ] || echo "reproduce.sh: note: this checkout is not commit 8bc45c31bd23d4bd6eb68c7a7f5a1c0ebfcf8d4a" >&2
exec make compare POLICIES='pair fifo' WORKLOAD=stress DURATION=10 REPEATS=3 CLOCK=virtual TARGET=vm VM=smt MONITORS=sched-trace CGROUPS=pair:1:1 PARAMS=''
