#!/bin/sh
# Reruns the experiment behind this result directory (20261203-203959-apache-fifo+scx_simple+qmap+scx_qmap+central+scx_central+cgfifo+scx_flatcg+userland+scx_userland).
# It was made by scxlab commit 664718e7b1bcdae156cfc012b42e457da84e49c0; run it with a checkout of that commit.
# Original command: make sweep SWEEP=twins-cost-deep4 (point cgroups=deep4-2to1)
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
[ "$(git rev-parse HEAD 2>/dev/null)" = 664718e7b1bcdae156cfc012b42e457da84e49c0 ] || echo "reproduce.sh: note: $repo is not at commit 664718e7b1bcdae156cfc012b42e457da84e49c0" >&2
exec make compare POLICIES='fifo;scx_simple;qmap;scx_qmap;central;scx_central;cgfifo;scx_flatcg;userland;scx_userland;' WORKLOAD=apache DURATION=10 REPEATS=1 CLOCK=virtual ACCEL=tcg ICOUNT_SHIFT=3 TARGET=vm VM=default MONITORS=bpf-stats CGROUPS=deep4-2to1 PARAMS='' "$@"
