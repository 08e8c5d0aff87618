#!/bin/sh
[ -f /tmp/scxlab-stress.pid ] && kill "$(cat /tmp/scxlab-stress.pid)" 2>/dev/null
pkill -f stress-ng 2>/dev/null
rm -f /tmp/scxlab-stress.pid
exit 0
