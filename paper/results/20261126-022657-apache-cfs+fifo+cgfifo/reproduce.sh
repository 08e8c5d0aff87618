#!/bin/sh
# Reruns the experiment behind this result directory (20261126-022657-apache-cfs+fifo+cgfifo).
# It was made by scxlab commit 5e705c507ed06a35f80b745ce7d592d6658341ec; run this from a checkout of that commit.
# Original command: make compare POLICIES="cfs fifo cgfifo" WORKLOAD="apache" DURATION="" REPEATS="5" CLOCK="" TARGET="vm" VM="default" MONITORS="" CGROUPS="deep4-2to1" PRECISION="" MAX_REPEATS="" PARAMS=""
set -e
cd "${SCXLAB_REPO:-$(dirname "$0")/../..}"
[ "$(git rev-parse HEAD 2>/dev/null)" = 5e705c507ed06a35f80b745ce7d592d6658341ec ] || echo "reproduce.sh: note: this checkout is not commit 5e705c507ed06a35f80b745ce7d592d6658341ec" >&2
exec make compare POLICIES='cfs fifo cgfifo' WORKLOAD=apache DURATION=30 REPEATS=5 CLOCK=virtual TARGET=vm VM=default MONITORS='' CGROUPS=deep4-2to1 PARAMS=''
