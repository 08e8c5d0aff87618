#!/bin/sh
# Drive nginx with wrk for SCXLAB_DURATION seconds; workloads/lib/wrk-report.lua (shared with
# the other wrk workloads) writes $SCXLAB_OUT/metrics.json.
set -eu
die() { echo "nginx client: $*" >&2; exit 2; }
. "$SCXLAB_WORKLOAD_DIR/../lib/common.sh"
need_uint 1 THREADS CONNECTIONS PORT TIMEOUT_S
report="$SCXLAB_WORKLOAD_DIR/../lib/wrk-report.lua"
[ -r "$report" ] || { echo "nginx: $report is missing: the job must carry workloads/lib/" >&2; exit 1; }
cd "$SCXLAB_OUT"
# wrk-report.lua marks the measured window (see apache-cgi's client.sh)
SCXLAB_WRK_THREADS=$WL_THREADS exec wrk -t"$WL_THREADS" -c"$WL_CONNECTIONS" -d"${SCXLAB_DURATION}s" \
    --timeout "${WL_TIMEOUT_S}s" --latency \
    -s "$report" "http://127.0.0.1:$WL_PORT/index.html"
