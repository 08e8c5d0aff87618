# Sourced by every workload client (POSIX sh and bash alike); the caller defines die(), which
# prints its message naming the workload and exits non-zero.

# mark start|end: tells the agent that the client's own measurement starts (or ends) now, right
# before (after) the measured command, by a line to the FIFO $SCXLAB_MARK. The agent counts
# (perf stat, cgroup usage, schedstat, sched_ext events) over exactly that window, so that a
# cost per request or a CPU share is over the same time as the metric it is set against
# (runners/common/window.h). Outside a measurement (the warm-up, or a client run by hand)
# SCXLAB_MARK is unset and marking does nothing.
mark() {
    case ${1-} in
        start|end) ;;
        *) die "mark: '${1-}' is neither start nor end";;
    esac
    [ -n "${SCXLAB_MARK-}" ] || return 0
    printf '%s\n' "$1" > "$SCXLAB_MARK" || die "could not mark the window's $1 in $SCXLAB_MARK"
}

# need_uint MIN NAME...: each param WL_<NAME> must be a whole number of at least MIN (0 or 1).
need_uint() {
    _min=$1
    shift
    for _n in "$@"; do
        eval "_v=\${WL_$_n-}"
        _what="a non-negative integer"
        [ "$_min" -eq 0 ] || _what="a positive integer"
        case $_v in
            ''|*[!0-9]*) _ok=false;;
            *) _ok=true; [ "$_min" -eq 0 ] || [ "$_v" -ge 1 ] || _ok=false;;
        esac
        $_ok || die "param $(printf '%s' "$_n" | tr 'A-Z' 'a-z') = '$_v' is not $_what"
    done
}

# need_yesno NAME...: each param WL_<NAME> must be yes or no.
need_yesno() {
    for _n in "$@"; do
        eval "_v=\${WL_$_n-}"
        case $_v in
            yes|no) ;;
            *) die "param $(printf '%s' "$_n" | tr 'A-Z' 'a-z') = '$_v' must be yes or no";;
        esac
    done
}
