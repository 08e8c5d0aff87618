#!/bin/sh
# Reruns the experiment behind this result directory (20261203-150841-apache-cfs+fifo+scx_simple+qmap+scx_qmap+central+scx_central+cgfifo+scx_flatcg+userland+scx_userland).
# It was made by scxlab commit fbb4fe86931a726d9ab958cf24f1584528f0229f; run it with a checkout of that commit.
# Original command: make compare POLICIES='cfs fifo scx_simple qmap scx_qmap central scx_central cgfifo scx_flatcg userland scx_userland' WORKLOAD=apache DURATION=10 REPEATS=3 CLOCK=virtual TARGET=vm VM=default CGROUPS=deep4-2to1 ACCEL=tcg
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
[ "$(git rev-parse HEAD 2>/dev/null)" = fbb4fe86931a726d9ab958cf24f1584528f0229f ] || echo "reproduce.sh: note: $repo is not at commit fbb4fe86931a726d9ab958cf24f1584528f0229f" >&2
exec make compare POLICIES='cfs;fifo;scx_simple;qmap;scx_qmap;central;scx_central;cgfifo;scx_flatcg;userland;scx_userland;' WORKLOAD=apache DURATION=10 REPEATS=3 CLOCK=virtual ACCEL=tcg ICOUNT_SHIFT=3 TARGET=vm VM=default MONITORS='' CGROUPS=deep4-2to1 PARAMS='' "$@"
