#!/bin/sh
# Background load for survival tests: stress-ng CPU hogs, fork churn and affinity changes run
# for the whole run (warm-up and measurement); the client adds hackbench on top.
set -eu
stress-ng --cpu "$WL_CPU_HOGS" --fork "$WL_FORKERS" --affinity "$WL_AFFINITY_CHANGERS" \
    --timeout 0 --quiet > "$SCXLAB_OUT/stress-ng.log" 2>&1 &
echo $! > /tmp/scxlab-stress.pid
sleep 1
kill -0 "$(cat /tmp/scxlab-stress.pid)" || { echo "stress-ng did not start"; exit 1; }
echo "stress-ng running (pid $(cat /tmp/scxlab-stress.pid))"
