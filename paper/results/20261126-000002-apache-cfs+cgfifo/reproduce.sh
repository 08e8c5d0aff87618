#!/bin/sh
# Reruns the experiment behind this result directory (20261126-000002-apache-cfs+cgfifo).
# It was made by scxlab commit b9917d11a99086daace37487a90bba10951a695f; run this from a checkout of that commit.
# Original command: make compare POLICIES="cfs cgfifo" WORKLOAD="apache" DURATION="" REPEATS="5" CLOCK="" TARGET="vm" VM="default" MONITORS="" CGROUPS="deep4-2to1" PRECISION="" MAX_REPEATS="" PARAMS=""
set -e
cd "${SCXLAB_REPO:-$(dirname "$0")/../..}"
[ "$(git rev-parse HEAD 2>/dev/null)" = b9917d11a99086daace37487a90bba10951a695f ] || echo "reproduce.sh: note: this checkout is not commit b9917d11a99086daace37487a90bba10951a695f" >&2
exec make compare POLICIES='cfs cgfifo' WORKLOAD=apache DURATION=30 REPEATS=5 CLOCK=virtual TARGET=vm VM=default MONITORS='' CGROUPS=deep4-2to1 PARAMS=''
