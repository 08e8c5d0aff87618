#!/bin/sh
# Drive nginx with wrk for SCXLAB_DURATION seconds; report.lua writes $SCXLAB_OUT/metrics.json.
set -eu
cd "$SCXLAB_OUT"
exec wrk -t"$WL_THREADS" -c"$WL_CONNECTIONS" -d"${SCXLAB_DURATION}s" --latency \
    -s "$SCXLAB_WORKLOAD_DIR/report.lua" "http://127.0.0.1:$WL_PORT/index.html"
