#!/bin/sh
# Drive one apache-cgi instance with wrk for SCXLAB_DURATION seconds over loopback;
# workloads/lib/wrk-report.lua writes $SCXLAB_OUT/metrics.json (requests_per_sec, latency
# percentiles, errors). WL_TIMEOUT_S: CGI requests are slow under emulation, and wrk's default
# 2 s timeout would count the slow tail as errors. wrk-report.lua marks the measured window.
set -eu
. "$SCXLAB_WORKLOAD_DIR/instance.sh"
. "$SCXLAB_WORKLOAD_DIR/../lib/common.sh"
need_uint 1 THREADS CONNECTIONS TIMEOUT_S
[ "$WL_CONNECTIONS" -ge "$WL_THREADS" ] || die "param connections ($WL_CONNECTIONS) must be at least threads ($WL_THREADS)"
report="$SCXLAB_WORKLOAD_DIR/../lib/wrk-report.lua"
[ -r "$report" ] || { echo "apache-cgi: $report is missing: the job must carry workloads/lib/" >&2; exit 1; }
cd "$SCXLAB_OUT"
# wrk-report.lua marks the window's start at wrk's last thread's setup (just before wrk starts
# its clock) and its end in done(); it needs the thread count to know which setup is the last
SCXLAB_WRK_THREADS=$WL_THREADS exec wrk -t"$WL_THREADS" -c"$WL_CONNECTIONS" -d"${SCXLAB_DURATION}s" --timeout "${WL_TIMEOUT_S}s" --latency \
    -s "$report" "http://127.0.0.1:$port/cgi-bin/hash.cgi"
