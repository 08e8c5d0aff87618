#!/bin/bash
# Starts the demand: WL_THREADS stress-ng workers spinning on integer arithmetic, in this
# instance's cgroup (the agent starts servers there), running from now until stop.sh, so that
# they are all runnable through the warm-up and the whole measurement (demand never runs out,
# and an instance starved at its start cannot shift its spinning past the other's).
set -euo pipefail
die() { echo "cpuspin start: $*" >&2; exit 2; }
. "$SCXLAB_WORKLOAD_DIR/../lib/common.sh"
need_uint 1 THREADS
[[ ${WL_METHOD-} =~ ^[a-z0-9_]+$ ]] || die "param method = '${WL_METHOD-}' is not a stress-ng cpu method name"
command -v stress-ng >/dev/null || die "stress-ng is not in the guest image"
pidfile=/tmp/scxlab-cpuspin-${SCXLAB_INSTANCE:-1}.pid
# the clients' ready files (client.sh): an earlier run's must not let this run's clients through
rm -rf /tmp/scxlab-cpuspin-ready && mkdir -p /tmp/scxlab-cpuspin-ready
cmd=(stress-ng --cpu "$WL_THREADS" --cpu-method "$WL_METHOD" --timeout 0)
echo "${cmd[*]}" > "$SCXLAB_OUT/stress-ng-command.txt"
# its own process group (setsid), so that stop.sh ends the parent and every worker at once
setsid "${cmd[@]}" > "$SCXLAB_OUT/stress-ng.log" 2>&1 < /dev/null &
echo $! > "$pidfile"
sleep 1
kill -0 "$(cat "$pidfile")" 2>/dev/null || die "stress-ng did not start; see stress-ng.log"
echo "cpuspin: $WL_THREADS spinners running (stress-ng pid $(cat "$pidfile"))"
