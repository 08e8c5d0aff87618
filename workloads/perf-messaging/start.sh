#!/bin/sh
# Nothing to start: the client's perf bench starts and ends every task it uses.
command -v perf >/dev/null || { echo "start: perf (linux-perf) is not in the guest image" >&2; exit 1; }
echo "nothing to start"
