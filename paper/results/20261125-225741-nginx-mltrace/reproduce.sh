#!/bin/sh
# Reruns the experiment behind this result directory (20261125-225741-nginx-mltrace).
# It was made by scxlab commit 12f80a1f3139f34d5b16de8e690684629e9c853d; run this from a checkout of that commit.
# Original command: make experiment POLICY="mltrace" WORKLOAD="nginx" DURATION="10" REPEATS="2" CLOCK="" TARGET="vm" VM="default" MONITORS="" CGROUPS="" PRECISION="" MAX_REPEATS=""
set -e
cd "${SCXLAB_REPO:-$(dirname "$0")/../..}"
[ "$(git rev-parse HEAD 2>/dev/null)" = 12f80a1f3139f34d5b16de8e690684629e9c853d ] || echo "reproduce.sh: note: this checkout is not commit 12f80a1f3139f34d5b16de8e690684629e9c853d" >&2
exec make compare POLICIES=mltrace WORKLOAD=nginx DURATION=10 REPEATS=2 CLOCK=virtual TARGET=vm VM=default MONITORS='' CGROUPS=
