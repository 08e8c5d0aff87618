#!/bin/sh
# Reruns the experiment behind this result directory (20261125-230444-nginx-mltrace).
# It was made by scxlab commit 0dfb5ac59ef91251402d613f8911cd567efe6944; run it with a checkout of that commit.
# Original command: make experiment POLICY="mltrace" WORKLOAD="nginx" DURATION="10" REPEATS="3" CLOCK="" TARGET="vm" VM="default" MONITORS="" CGROUPS="" PRECISION="" MAX_REPEATS=""
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
[ "$(git rev-parse HEAD 2>/dev/null)" = 0dfb5ac59ef91251402d613f8911cd567efe6944 ] || echo "reproduce.sh: note: $repo is not at commit 0dfb5ac59ef91251402d613f8911cd567efe6944" >&2
exec make compare POLICIES=mltrace WORKLOAD=nginx DURATION=10 REPEATS=3 CLOCK=virtual TARGET=vm VM=default MONITORS='' CGROUPS= "$@"
