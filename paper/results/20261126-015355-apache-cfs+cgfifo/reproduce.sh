#!/bin/sh
# Reruns the experiment behind this result directory (20261126-015355-apache-cfs+cgfifo).
# It was made by scxlab commit 84cb8d509e8539eb884d8851e1969a9926dc9e3f; run it with a checkout of that commit.
# Original command: make sweep SWEEP="cgroup-weights" (point depth=3 ratio=8)
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
[ "$(git rev-parse HEAD 2>/dev/null)" = 84cb8d509e8539eb884d8851e1969a9926dc9e3f ] || echo "reproduce.sh: note: $repo is not at commit 84cb8d509e8539eb884d8851e1969a9926dc9e3f" >&2
exec make compare POLICIES='cfs cgfifo' WORKLOAD=apache DURATION=10 REPEATS=3 CLOCK=virtual TARGET=vm VM=default MONITORS='' CGROUPS=pair:3:8 PARAMS='' "$@"
