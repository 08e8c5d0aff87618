#!/bin/sh
# Stop nginx and keep its error log with the run's raw data.
prefix=/tmp/scxlab-nginx
[ -f "$prefix/nginx.pid" ] && nginx -c "$prefix/nginx.conf" -p "$prefix" -s stop
sleep 0.5
cp "$prefix/error.log" "$SCXLAB_OUT/nginx-error.log" 2>/dev/null || true
exit 0
