#!/bin/sh
# Reruns the experiment behind this result directory (20261126-021315-perf-pipe-cfs+fifo+qmap+central+atropos+userland+cgfifo+mlyield).
# It was made by scxlab commit 8bc45c31bd23d4bd6eb68c7a7f5a1c0ebfcf8d4a; run this from a checkout of that commit.
# Original command: make sweep SWEEP="overhead" (point workload=perf-pipe monitors=none)
set -e
cd "${SCXLAB_REPO:-$(dirname "$0")/../..}"
[ "$(git rev-parse HEAD 2>/dev/null)" = 8bc45c31bd23d4bd6eb68c7a7f5a1c0ebfcf8d4a ] || echo "reproduce.sh: note: this checkout is not commit 8bc45c31bd23d4bd6eb68c7a7f5a1c0ebfcf8d4a" >&2
exec make compare POLICIES='cfs fifo qmap central atropos userland cgfifo mlyield' WORKLOAD=perf-pipe DURATION=10 REPEATS=3 CLOCK=virtual TARGET=vm VM=default MONITORS='' CGROUPS= PARAMS=''
