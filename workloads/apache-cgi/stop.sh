#!/bin/sh
# Stop this instance's apache (its children and CGI processes with it) and keep its error log
# with the run's raw data.
. "$SCXLAB_WORKLOAD_DIR/instance.sh"
if [ -f "$prefix/httpd.pid" ]; then
    pid=$(cat "$prefix/httpd.pid")
    apache2 -f "$prefix/httpd.conf" -k stop
    i=0
    while alive "$pid" && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
    if alive "$pid"; then
        echo "apache (pid $pid) still running 30 s after stop: killing this instance's processes"
        for p in $(pgrep -f -- "-f $prefix/httpd.conf"); do kill -9 "$p"; done
    fi
fi
cp "$prefix/error.log" "$SCXLAB_OUT/apache-error.log" 2>/dev/null || true
exit 0
