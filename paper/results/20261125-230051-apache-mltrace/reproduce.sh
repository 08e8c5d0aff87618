#!/bin/sh
# Reruns the experiment behind this result directory (20261125-230051-apache-mltrace).
# It was made by scxlab commit 0dfb5ac59ef91251402d613f8911cd567efe6944; run this from a checkout of that commit.
# Original command: make experiment POLICY="mltrace" WORKLOAD="apache" DURATION="20" REPEATS="" CLOCK="" TARGET="vm" VM="default" MONITORS="" CGROUPS="" PRECISION="" MAX_REPEATS=""
set -e
cd "${SCXLAB_REPO:-$(dirname "$0")/../..}"
[ "$(git rev-parse HEAD 2>/dev/null)" = 0dfb5ac59ef91251402d613f8911cd567efe6944 ] || echo "reproduce.sh: note: this checkout is not commit 0dfb5ac59ef91251402d613f8911cd567efe6944" >&2
exec make compare POLICIES=mltrace WORKLOAD=apache DURATION=20 REPEATS=1 CLOCK=virtual TARGET=vm VM=default MONITORS='' CGROUPS=
