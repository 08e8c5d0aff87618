# cyclictest --json output (rt-tests 2.6) -> scxlab's metric contract. Percentiles come from
# all threads' histograms merged (1 us buckets); a sample above the histogram's range
# (--histogram=hist_max_us) is counted in the thread's cycles but not in any bucket, so a
# percentile that falls among those overflows is unknown and the measurement is invalid.
# Arguments: $settings (JSON: what the client ran, recorded beside the metrics),
# $policies_ok (JSON bool: the measurement threads had the scheduling policy asked for).
def merged: [.thread[].histogram // {} | to_entries[] | {b: (.key | tonumber), c: .value}]
  | group_by(.b) | map({b: .[0].b, c: (map(.c) | add)});
def percentile($h; $n; $q):
  ($q * $n | ceil) as $rank
  | first(foreach $h[] as $e (0; . + $e.c; select(. >= $rank) | $e.b)) // null;
def metric($name; $unit; $value; $higher): {name: $name, unit: $unit, value: $value, higher_is_better: $higher};

[.thread[]] as $th
| ($th | map(.cycles) | add // 0) as $n
| merged as $h
| {p50: percentile($h; $n; 0.50), p90: percentile($h; $n; 0.90), p99: percentile($h; $n; 0.99),
   p999: percentile($h; $n; 0.999)} as $p
| (if .return_code != 0 then "cyclictest reported return_code \(.return_code)"
   elif ($th | length) == 0 or ($th | any(.cycles == 0)) then "a cyclictest thread recorded no wakeup"
   elif ($p | to_entries | any(.value == null)) then
     "a percentile lies above the histogram's range (\($settings.hist_max_us) us): raise param hist_max_us"
   elif $policies_ok | not then "the measurement threads did not run with policy \($settings.policy); see raw/thread-policies.txt"
   else "" end) as $reason
| {valid: ($reason == ""), reason: $reason, settings: $settings, wakeups: $n,
   metrics: (if $reason != "" then [] else [
     metric("latency_avg_us"; "us"; (($th | map(.avg * .cycles) | add) / $n); false),
     metric("latency_p50_us"; "us"; $p.p50; false),
     metric("latency_p90_us"; "us"; $p.p90; false),
     metric("latency_p99_us"; "us"; $p.p99; false),
     metric("latency_p999_us"; "us"; $p.p999; false),
     metric("latency_max_us"; "us"; ($th | map(.max) | max); false),
     metric("wakeups"; "count"; $n; true)
   ] end)}
