# Sourced by workload clients that repeat one benchmark command until SCXLAB_DURATION seconds
# have passed (at least once). The caller defines die(), sources common.sh (for mark) and runs
# in $SCXLAB_OUT.
#
# timed_runs LOG EXTRACT CMD...: runs CMD again and again, appends every output to LOG and
# each run's time in seconds, as the awk program EXTRACT finds it in the output, to times.txt.
# The measured window is the whole loop: the time between runs (this loop's own work, each
# run's start-up before the benchmark starts its clock) is in it, so it is a little longer
# than the sum of the run times the metrics are computed from.
timed_runs() {
    local log=$1 extract=$2 start=$SECONDS out t
    shift 2
    : > "$log"; : > times.txt
    mark start
    while :; do
        out=$("$@" 2>&1) || { printf '%s\n' "$out" >> "$log"; die "$1 failed; see $log"; }
        printf '%s\n' "$out" >> "$log"
        t=$(printf '%s\n' "$out" | awk "$extract")
        [[ $t =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "no run time in $1's output; see $log"
        echo "$t" >> times.txt
        [ $((SECONDS - start)) -lt "$SCXLAB_DURATION" ] || break
    done
    mark end
}

# message_metrics PER_RUN TOOL COMMAND: metrics.json of a messaging benchmark (hackbench and its
# perf twin) from times.txt: messages per second over all runs (headline), run times, runs;
# invalid, naming TOOL, if no time was recorded. Prints the settings line the agent logs.
message_metrics() {
    jq -n --rawfile times times.txt --argjson per_run "$1" --arg tool "$2" --arg command "$3" '
      ($times | split("\n") | map(select(length > 0) | tonumber)) as $t
      | ($t | add) as $sum
      | def metric($n; $u; $v; $h): {name: $n, unit: $u, value: $v, higher_is_better: $h};
      {valid: ($sum > 0), reason: (if $sum > 0 then "" else "\($tool) reported no time" end),
       settings: {command: $command, messages_per_run: $per_run, runs: ($t | length)},
       metrics: (if $sum > 0 then [
         metric("messages_per_sec"; "msg/s"; ($per_run * ($t | length) / $sum); true),
         metric("run_time_mean_s"; "s"; ($sum / ($t | length)); false),
         metric("run_time_max_s"; "s"; ($t | max); false),
         metric("runs"; "count"; ($t | length); true)] else [] end)}' > metrics.json
    jq -c '{valid, reason, settings}' metrics.json
}
