#!/bin/sh
# Drive one apache-cgi instance with wrk for SCXLAB_DURATION seconds over loopback;
# workloads/lib/wrk-report.lua writes $SCXLAB_OUT/metrics.json (requests_per_sec, latency
# percentiles, errors). WL_TIMEOUT_S: CGI requests are slow under emulation, and wrk's default
# 2 s timeout would count the slow tail as errors.
set -eu
. "$SCXLAB_WORKLOAD_DIR/instance.sh"
for p in THREADS CONNECTIONS TIMEOUT_S; do
    eval "v=\${WL_$p:-}"
    is_uint "$v" && [ "$v" -ge 1 ] || die "param $(echo $p | tr A-Z a-z) must be a positive integer, got '$v'"
done
[ "$WL_CONNECTIONS" -ge "$WL_THREADS" ] || die "param connections ($WL_CONNECTIONS) must be at least threads ($WL_THREADS)"
report="$SCXLAB_WORKLOAD_DIR/../lib/wrk-report.lua"
[ -r "$report" ] || { echo "apache-cgi: $report is missing: the job must carry workloads/lib/" >&2; exit 1; }
cd "$SCXLAB_OUT"
exec wrk -t"$WL_THREADS" -c"$WL_CONNECTIONS" -d"${SCXLAB_DURATION}s" --timeout "${WL_TIMEOUT_S}s" --latency \
    -s "$report" "http://127.0.0.1:$port/cgi-bin/hash.cgi"
