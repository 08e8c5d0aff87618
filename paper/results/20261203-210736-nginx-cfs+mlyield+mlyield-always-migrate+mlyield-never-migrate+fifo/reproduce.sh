#!/bin/sh
# Reruns the experiment behind this result directory (20261203-210736-nginx-cfs+mlyield+mlyield-always-migrate+mlyield-never-migrate+fifo).
# It was made by scxlab commit 0cb0acd66ce4fe043f45bbb1b45f6f622a8cbf1b; run it with a checkout of that commit.
# Original command: ./scxlab compare POLICIES='cfs mlyield mlyield-always-migrate mlyield-never-migrate fifo' WORKLOAD=nginx DURATION=10 REPEATS=5 CLOCK=virtual TARGET=vm VM=default ACCEL=tcg ICOUNT_SHIFT=2
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
[ "$(git rev-parse HEAD 2>/dev/null)" = 0cb0acd66ce4fe043f45bbb1b45f6f622a8cbf1b ] || echo "reproduce.sh: note: $repo is not at commit 0cb0acd66ce4fe043f45bbb1b45f6f622a8cbf1b" >&2
exec make compare POLICIES='cfs mlyield mlyield-always-migrate mlyield-never-migrate fifo' WORKLOAD=nginx DURATION=10 REPEATS=5 CLOCK=virtual ACCEL=tcg ICOUNT_SHIFT=2 TARGET=vm VM=default MONITORS='' CGROUPS='' PARAMS='' "$@"
