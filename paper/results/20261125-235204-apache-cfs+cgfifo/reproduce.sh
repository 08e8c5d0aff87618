#!/bin/sh
# Reruns the experiment behind this result directory (20261125-235204-apache-cfs+cgfifo).
# It was made by scxlab commit 272ff5d0f1c77abaf3250af067046af8f7678e82; run this from a checkout of that commit.
# Original command: make compare POLICIES="cfs cgfifo" WORKLOAD="apache" DURATION="" REPEATS="5" CLOCK="" TARGET="vm" VM="default" MONITORS="" CGROUPS="" PRECISION="" MAX_REPEATS="" PARAMS=""
set -e
cd "${SCXLAB_REPO:-$(dirname "$0")/../..}"
[ "$(git rev-parse HEAD 2>/dev/null)" = 272ff5d0f1c77abaf3250af067046af8f7678e82 ] || echo "reproduce.sh: note: this checkout is not commit 272ff5d0f1c77abaf3250af067046af8f7678e82" >&2
exec make compare POLICIES='cfs cgfifo' WORKLOAD=apache DURATION=30 REPEATS=5 CLOCK=virtual TARGET=vm VM=default MONITORS='' CGROUPS= PARAMS=''
