#!/bin/sh
# Reruns the experiment behind this result directory (20261126-000236-apache-cfs+fifo+cgfifo).
# It was made by scxlab commit 6210db9271a676a4bdc6cef0143cec116590205a; run this from a checkout of that commit.
# Original command: make compare POLICIES="cfs fifo cgfifo" WORKLOAD="apache" DURATION="" REPEATS="5" CLOCK="" TARGET="vm" VM="default" MONITORS="" CGROUPS="" PRECISION="" MAX_REPEATS="" PARAMS=""
set -e
cd "${SCXLAB_REPO:-$(dirname "$0")/../..}"
[ "$(git rev-parse HEAD 2>/dev/null)" = 6210db9271a676a4bdc6cef0143cec116590205a ] || echo "reproduce.sh: note: this checkout is not commit 6210db9271a676a4bdc6cef0143cec116590205a" >&2
exec make compare POLICIES='cfs fifo cgfifo' WORKLOAD=apache DURATION=30 REPEATS=5 CLOCK=virtual TARGET=vm VM=default MONITORS='' CGROUPS= PARAMS=''
