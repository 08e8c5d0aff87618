#!/bin/sh
# Reruns the experiment behind this result directory (20261126-012245-apache-cfs+cgfifo).
# It was made by scxlab commit 84cb8d509e8539eb884d8851e1969a9926dc9e3f; run this from a checkout of that commit.
# Original command: make sweep SWEEP="cgroup-weights" (point depth=1 ratio=8)
set -e
cd "${SCXLAB_REPO:-$(dirname "$0")/../..}"
[ "$(git rev-parse HEAD 2>/dev/null)" = 84cb8d509e8539eb884d8851e1969a9926dc9e3f ] || echo "reproduce.sh: note: this checkout is not commit 84cb8d509e8539eb884d8851e1969a9926dc9e3f" >&2
exec make compare POLICIES='cfs cgfifo' WORKLOAD=apache DURATION=10 REPEATS=3 CLOCK=virtual TARGET=vm VM=default MONITORS='' CGROUPS=pair:1:8 PARAMS=''
