#!/bin/sh
# hackbench needs no server: its client starts and ends every task it uses.
command -v hackbench >/dev/null || { echo "hackbench start: hackbench (rt-tests) is not in the guest image" >&2; exit 1; }
echo "nothing to start"
