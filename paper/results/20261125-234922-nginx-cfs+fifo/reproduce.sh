#!/bin/sh
# Reruns the experiment behind this result directory (20261125-234922-nginx-cfs+fifo).
# It was made by scxlab commit 5a701d5d44694c1ef283553d40e86a510a330865; run this from a checkout of that commit.
# Original command: make compare POLICIES="cfs fifo" WORKLOAD="nginx" DURATION="" REPEATS="5" CLOCK="real" TARGET="vm" VM="default" MONITORS="" CGROUPS="" PRECISION="" MAX_REPEATS="" PARAMS=""
set -e
cd "${SCXLAB_REPO:-$(dirname "$0")/../..}"
[ "$(git rev-parse HEAD 2>/dev/null)" = 5a701d5d44694c1ef283553d40e86a510a330865 ] || echo "reproduce.sh: note: this checkout is not commit 5a701d5d44694c1ef283553d40e86a510a330865" >&2
exec make compare POLICIES='cfs fifo' WORKLOAD=nginx DURATION=10 REPEATS=5 CLOCK=real TARGET=vm VM=default MONITORS='' CGROUPS= PARAMS=''
