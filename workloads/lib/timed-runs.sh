# Sourced by workload clients that repeat one benchmark command until SCXLAB_DURATION seconds
# have passed (at least once). The caller defines die() and runs in $SCXLAB_OUT.
#
# timed_runs LOG EXTRACT CMD...: runs CMD again and again, appends every output to LOG and
# each run's time in seconds, as the awk program EXTRACT finds it in the output, to times.txt.
timed_runs() {
    local log=$1 extract=$2 start=$SECONDS out t
    shift 2
    : > "$log"; : > times.txt
    while :; do
        out=$("$@" 2>&1) || { printf '%s\n' "$out" >> "$log"; die "$1 failed; see $log"; }
        printf '%s\n' "$out" >> "$log"
        t=$(printf '%s\n' "$out" | awk "$extract")
        [[ $t =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "no run time in $1's output; see $log"
        echo "$t" >> times.txt
        [ $((SECONDS - start)) -lt "$SCXLAB_DURATION" ] || break
    done
}
