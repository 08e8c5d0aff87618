#!/bin/sh
# Reruns the experiment behind this result directory (20261126-023016-hackbench-cfs+fifo+qmap+central+atropos+userland+cgfifo+mlyield).
# It was made by scxlab commit 5e705c507ed06a35f80b745ce7d592d6658341ec; run this from a checkout of that commit.
# Original command: make sweep SWEEP="overhead" (point workload=hackbench monitors=bpf-stats)
set -e
cd "${SCXLAB_REPO:-$(dirname "$0")/../..}"
[ "$(git rev-parse HEAD 2>/dev/null)" = 5e705c507ed06a35f80b745ce7d592d6658341ec ] || echo "reproduce.sh: note: this checkout is not commit 5e705c507ed06a35f80b745ce7d592d6658341ec" >&2
exec make compare POLICIES='cfs fifo qmap central atropos userland cgfifo mlyield' WORKLOAD=hackbench DURATION=10 REPEATS=3 CLOCK=virtual TARGET=vm VM=default MONITORS=bpf-stats CGROUPS= PARAMS=''
