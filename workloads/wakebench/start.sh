#!/bin/sh
# wakebench needs no server: its client starts and ends every thread it uses.
[ -x "$SCXLAB_WORKLOAD_DIR/bin/wakebench" ] || { echo "wakebench start: $SCXLAB_WORKLOAD_DIR/bin/wakebench is missing (run 'make build')" >&2; exit 1; }
echo "nothing to start"
