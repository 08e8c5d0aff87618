#!/bin/sh
# Reruns the experiment behind this result directory (20261126-003135-perf-pipe-cfs+fifo+qmap+central+atropos+userland+cgfifo+mlyield).
# It was made by scxlab commit d9aa87f7269ad3671f4b30f65a991ba3719771d2; run this from a checkout of that commit.
# Original command: make sweep SWEEP="overhead" (point workload=perf-pipe monitors=none)
set -e
cd "${SCXLAB_REPO:-$(dirname "$0")/../..}"
[ "$(git rev-parse HEAD 2>/dev/null)" = d9aa87f7269ad3671f4b30f65a991ba3719771d2 ] || echo "reproduce.sh: note: this checkout is not commit d9aa87f7269ad3671f4b30f65a991ba3719771d2" >&2
exec make compare POLICIES='cfs fifo qmap central atropos userland cgfifo mlyield' WORKLOAD=perf-pipe DURATION=5 REPEATS=2 CLOCK=virtual TARGET=vm VM=default MONITORS='' CGROUPS= PARAMS=''
