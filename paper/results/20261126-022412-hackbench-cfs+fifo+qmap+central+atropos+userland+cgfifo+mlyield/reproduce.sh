#!/bin/sh
# Reruns the experiment behind this result directory (20261126-022412-hackbench-cfs+fifo+qmap+central+atropos+userland+cgfifo+mlyield).
# It was made by scxlab commit 5e705c507ed06a35f80b745ce7d592d6658341ec; run it with a checkout of that commit.
# Original command: make sweep SWEEP="overhead" (point workload=hackbench monitors=none)
# VAR=value arguments override the values below, e.g. DURATION=2 REPEATS=1 RESULTS=/tmp/r.
set -e
is_checkout() { [ -f "$1/Makefile" ] && [ -f "$1/runners/host/scxlab.c" ]; }
find_checkout() {
    d=$1
    while [ -n "$d" ] && [ "$d" != / ]; do is_checkout "$d" && { echo "$d"; return 0; }; d=$(dirname "$d"); done
    return 1
}
here=$(cd "$(dirname "$0")" && pwd)
repo=${SCXLAB_REPO:-$(find_checkout "$here" || find_checkout "$(pwd)" || true)}
is_checkout "$repo" || { echo "reproduce.sh: no scxlab checkout found above $here or $(pwd); set SCXLAB_REPO=/path/to/scxlab" >&2; exit 2; }
cd "$repo"
[ "$(git rev-parse HEAD 2>/dev/null)" = 5e705c507ed06a35f80b745ce7d592d6658341ec ] || echo "reproduce.sh: note: $repo is not at commit 5e705c507ed06a35f80b745ce7d592d6658341ec" >&2
exec make compare POLICIES='cfs fifo qmap central atropos userland cgfifo mlyield' WORKLOAD=hackbench DURATION=10 REPEATS=3 CLOCK=virtual TARGET=vm VM=default MONITORS='' CGROUPS= PARAMS='' "$@"
