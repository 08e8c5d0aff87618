#!/bin/bash
# Start one apache2 instance serving hash.cgi (the SHA-1 of a WL_FILE_SIZE-byte file) on
# 127.0.0.1; return once a request through the CGI returns the right hash. Creates no
# cgroup: the runner starts this script inside the instance's cgroup, and apache and every
# CGI process it forks inherit it.
set -eu
. "$SCXLAB_WORKLOAD_DIR/instance.sh"
is_uint "${WL_FILE_SIZE:-}" && [ "$WL_FILE_SIZE" -ge 1 ] || die "param file_size must be a positive number of bytes, got '${WL_FILE_SIZE:-}'"
case "${WL_MPM:-}" in
    event|worker) cgi=cgid ;;
    prefork) cgi=cgi ;;
    *) die "param mpm must be event, worker or prefork, got '${WL_MPM:-}'" ;;
esac

# A previous run's instance on this port would answer in our place: stop it first.
if [ -f "$prefix/httpd.pid" ] && alive "$(cat "$prefix/httpd.pid")"; then
    echo "stopping a leftover apache on port $port"
    apache2 -f "$prefix/httpd.conf" -k stop || true
    sleep 1
fi
rm -rf "$prefix"
mkdir -p "$prefix/www" "$prefix/cgi-bin" "$prefix/run" "$prefix/lock"
head -c "$WL_FILE_SIZE" /dev/urandom > "$prefix/www/data.bin"
install -m 0755 "$SCXLAB_WORKLOAD_DIR/hash.cgi" "$prefix/cgi-bin/hash.cgi"
expect=$(sha1sum < "$prefix/www/data.bin" | cut -d' ' -f1)
sed -e "s|@PREFIX@|$prefix|g" -e "s|@PORT@|$port|g" -e "s|@MPM@|$WL_MPM|g" -e "s|@CGI@|$cgi|g" \
    "$SCXLAB_WORKLOAD_DIR/httpd.conf.in" > "$prefix/httpd.conf"
cp "$prefix/httpd.conf" "$SCXLAB_OUT/httpd.conf"
# apache's children run as www-data and must reach the files; /run/lock exists for apache too.
chmod 0755 "$prefix" "$prefix/www" "$prefix/cgi-bin"
chmod 0644 "$prefix/www/data.bin"
mkdir -p /run/lock
apache2 -f "$prefix/httpd.conf" -k start

# Ready when one request through the CGI returns the file's hash.
i=0
while :; do
    body=$( (exec 3<>"/dev/tcp/127.0.0.1/$port" &&
             printf 'GET /cgi-bin/hash.cgi HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3 && cat <&3) 2>/dev/null || true)
    case "$body" in *"$expect"*) break ;; esac
    i=$((i + 1))
    if [ $i -ge 300 ]; then
        echo "apache-cgi: no correct answer from http://127.0.0.1:$port/cgi-bin/hash.cgi after 30 s; last reply:"
        printf '%s\n' "$body" | head -n 20
        cat "$prefix/error.log" 2>/dev/null | tail -n 20
        exit 1
    fi
    sleep 0.1
done
echo "apache ($WL_MPM MPM, mod_$cgi) up on 127.0.0.1:$port, instance $instance, hashing $WL_FILE_SIZE bytes per request"
