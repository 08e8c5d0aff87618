#!/bin/bash
# Start nginx with a static file of WL_FILE_SIZE bytes; return once it accepts connections.
set -eu
prefix=/tmp/scxlab-nginx
rm -rf "$prefix"; mkdir -p "$prefix/www"
head -c "$WL_FILE_SIZE" /dev/urandom | base64 -w 0 | head -c "$WL_FILE_SIZE" > "$prefix/www/index.html"
sed -e "s|@PREFIX@|$prefix|g" -e "s|@PORT@|$WL_PORT|g" -e "s|@WORKERS@|$WL_NGINX_WORKERS|g" \
    "$SCXLAB_WORKLOAD_DIR/nginx.conf.in" > "$prefix/nginx.conf"
cp "$prefix/nginx.conf" "$SCXLAB_OUT/nginx.conf"
nginx -c "$prefix/nginx.conf" -p "$prefix"
i=0
until (exec 3<>"/dev/tcp/127.0.0.1/$WL_PORT") 2>/dev/null; do
    i=$((i + 1)); [ $i -lt 100 ] || { echo "nginx did not accept connections on port $WL_PORT"; exit 1; }
    sleep 0.1
done
echo "nginx up on 127.0.0.1:$WL_PORT serving $WL_FILE_SIZE bytes"
