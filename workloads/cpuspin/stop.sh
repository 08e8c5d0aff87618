#!/bin/sh
# Ends this instance's spinners: the whole process group start.sh made with setsid.
pidfile=/tmp/scxlab-cpuspin-${SCXLAB_INSTANCE:-1}.pid
[ -r "$pidfile" ] || exit 0
pid=$(cat "$pidfile")
kill -TERM -- "-$pid" 2>/dev/null
i=0
while kill -0 -- "-$pid" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
kill -KILL -- "-$pid" 2>/dev/null
rm -f "$pidfile"
exit 0
