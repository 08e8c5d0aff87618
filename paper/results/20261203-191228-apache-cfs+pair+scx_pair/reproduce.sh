#!/bin/sh
# Reruns the experiment behind this result directory (20261203-191228-apache-cfs+pair+scx_pair).
# It was made by scxlab commit 8f7797206ff95aa57a7a76e864a3df9476f47ebf; run it with a checkout of that commit.
# Original command: make compare POLICIES='cfs pair scx_pair' WORKLOAD=apache DURATION=10 REPEATS=3 TARGET=vm VM=smt CGROUPS=deep4-2to1
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
[ "$(git rev-parse HEAD 2>/dev/null)" = 8f7797206ff95aa57a7a76e864a3df9476f47ebf ] || echo "reproduce.sh: note: $repo is not at commit 8f7797206ff95aa57a7a76e864a3df9476f47ebf" >&2
exec make compare POLICIES='cfs;pair;scx_pair;' WORKLOAD=apache DURATION=10 REPEATS=3 CLOCK=virtual ACCEL=tcg ICOUNT_SHIFT=3 TARGET=vm VM=smt MONITORS='' CGROUPS=deep4-2to1 PARAMS='' "$@"
