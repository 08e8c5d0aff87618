#!/bin/sh
# Reruns the experiment behind this result directory (20261203-171645-cpuspin-cfs+cgfifo+scx_flatcg).
# It was made by scxlab commit dc0fb081c199fab3518656b345b9395c61fe1db1; run it with a checkout of that commit.
# Original command: make sweep SWEEP=share-accuracy (point depth=2 ratio=8)
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
[ "$(git rev-parse HEAD 2>/dev/null)" = dc0fb081c199fab3518656b345b9395c61fe1db1 ] || echo "reproduce.sh: note: $repo is not at commit dc0fb081c199fab3518656b345b9395c61fe1db1" >&2
exec make compare POLICIES='cfs;cgfifo;scx_flatcg;' WORKLOAD=cpuspin DURATION=10 REPEATS=3 CLOCK=virtual ACCEL=tcg ICOUNT_SHIFT=3 TARGET=vm VM=default MONITORS='' CGROUPS=pair:2:8 PARAMS='' "$@"
