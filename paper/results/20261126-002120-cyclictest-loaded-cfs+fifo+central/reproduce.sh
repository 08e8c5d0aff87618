#!/bin/sh
# Reruns the experiment behind this result directory (20261126-002120-cyclictest-loaded-cfs+fifo+central).
# It was made by scxlab commit 47d4be0909ae39dced0fe63c8f818ba33ccf75d6; run this from a checkout of that commit.
# Original command: make compare POLICIES="cfs fifo central" WORKLOAD="cyclictest-loaded" DURATION="10" REPEATS="3" CLOCK="" TARGET="vm" VM="default" MONITORS="" CGROUPS="" PRECISION="" MAX_REPEATS="" PARAMS=""
set -e
cd "${SCXLAB_REPO:-$(dirname "$0")/../..}"
[ "$(git rev-parse HEAD 2>/dev/null)" = 47d4be0909ae39dced0fe63c8f818ba33ccf75d6 ] || echo "reproduce.sh: note: this checkout is not commit 47d4be0909ae39dced0fe63c8f818ba33ccf75d6" >&2
exec make compare POLICIES='cfs fifo central' WORKLOAD=cyclictest-loaded DURATION=10 REPEATS=3 CLOCK=virtual TARGET=vm VM=default MONITORS='' CGROUPS= PARAMS=''
