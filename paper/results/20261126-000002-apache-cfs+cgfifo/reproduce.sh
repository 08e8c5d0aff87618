#!/bin/sh
# Reruns the experiment behind this result directory (20261126-000002-apache-cfs+cgfifo).
# It was made by scxlab commit b9917d11a99086daace37487a90bba10951a695f; run it with a checkout of that commit.
# Original command: make compare POLICIES="cfs cgfifo" WORKLOAD="apache" DURATION="" REPEATS="5" CLOCK="" TARGET="vm" VM="default" MONITORS="" CGROUPS="deep4-2to1" PRECISION="" MAX_REPEATS="" PARAMS=""
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
[ "$(git rev-parse HEAD 2>/dev/null)" = b9917d11a99086daace37487a90bba10951a695f ] || echo "reproduce.sh: note: $repo is not at commit b9917d11a99086daace37487a90bba10951a695f" >&2
exec make compare POLICIES='cfs cgfifo' WORKLOAD=apache DURATION=30 REPEATS=5 CLOCK=virtual TARGET=vm VM=default MONITORS='' CGROUPS=deep4-2to1 PARAMS='' "$@"
