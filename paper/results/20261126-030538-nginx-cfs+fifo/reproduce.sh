#!/bin/sh
# Reruns the experiment behind this result directory (20261126-030538-nginx-cfs+fifo).
# It was made by scxlab commit bfc1c5e4f3905ee40f13710f17bd1c20eef467ee; run this from a checkout of that commit.
# Original command: make compare POLICIES="cfs fifo" WORKLOAD="nginx" DURATION="" REPEATS="5" CLOCK="real" TARGET="vm" VM="default" MONITORS="" CGROUPS="" PRECISION="" MAX_REPEATS="" PARAMS=""
set -e
cd "${SCXLAB_REPO:-$(dirname "$0")/../..}"
[ "$(git rev-parse HEAD 2>/dev/null)" = bfc1c5e4f3905ee40f13710f17bd1c20eef467ee ] || echo "reproduce.sh: note: this checkout is not commit bfc1c5e4f3905ee40f13710f17bd1c20eef467ee" >&2
exec make compare POLICIES='cfs fifo' WORKLOAD=nginx DURATION=10 REPEATS=5 CLOCK=real TARGET=vm VM=default MONITORS='' CGROUPS= PARAMS=''
