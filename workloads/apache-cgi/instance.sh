# Sourced by start.sh, client.sh and stop.sh: this instance's port and folder, and checks of
# the workload's params (WL_*). Several instances run side by side in one experiment (one per
# leaf of a cgroup tree), each with its own WL_PORT (the runner gives instance K the
# workload's port + K - 1 unless the tree sets one); everything else of an instance (config,
# ServerRoot, PidFile, locks, cgid socket, logs) lives under a prefix named after its port, so
# no two instances share a file.
die() { echo "apache-cgi: $*" >&2; exit 2; }
is_uint() { case "$1" in ''|*[!0-9]*) return 1;; esac; }
is_uint "${WL_PORT:-}" && [ "$WL_PORT" -ge 1 ] && [ "$WL_PORT" -le 65535 ] ||
    die "param port must be a TCP port number (1..65535), got '${WL_PORT:-}'"
port=$WL_PORT
instance=${SCXLAB_INSTANCE:-1}
prefix=/tmp/scxlab-apache-$port
# Alive and not a zombie: apache's daemon is re-parented to the guest agent (PID 1), which may
# reap it only later, and kill -0 succeeds on a zombie.
alive() { [ -r "/proc/$1/stat" ] && [ "$(cut -d' ' -f3 "/proc/$1/stat")" != Z ]; }
