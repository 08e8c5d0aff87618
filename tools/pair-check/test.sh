#!/bin/sh
# Checks pair-check against small hand-made traces whose answers are known:
#   ok.trace        siblings share cgroup /a, then one runs /b while the other idles or
#                   runs a real-time thread (not judged): no conflict.
#   conflict.trace  /a on CPU 0 while /b runs 1 ms on CPU 1 (a conflict); then a forked
#                   child of /a and a task moved into /a overlap (no conflict). perf's
#                   short format, a comm with a space.
#   moved.trace     a task whose snapshot cgroup is where it moves to during the trace.
# Usage: tools/pair-check/test.sh PATH-TO-pair-check
set -u
bin=${1:?usage: test.sh PATH-TO-pair-check}
d=$(dirname "$0")/testdata
fail=0
expect() {	# expect STATUS DESCRIPTION -- ARGS...
	want=$1 what=$2; shift 3
	out=$("$bin" "$@" 2>&1); got=$?
	if [ "$got" -eq "$want" ]; then echo "ok   $what"; else
		echo "FAIL $what: exit $got, expected $want"; echo "$out" | sed 's/^/     /'; fail=1; fi
}
expect 0 "same cgroup on both siblings passes" -- --pairs 0:1 --cgroups "$d/cgroups.txt" "$d/ok.trace"
expect 1 "different cgroups overlapping 1 ms fail" -- --pairs 0:1 --cgroups "$d/cgroups.txt" "$d/conflict.trace"
expect 0 "the same overlap passes with a 2 ms tolerance" -- --pairs 0:1 --cgroups "$d/cgroups.txt" --tolerance-us 2000 "$d/conflict.trace"
expect 0 "without a cgroup map nothing can be judged" -- --pairs 0:1 "$d/conflict.trace"
expect 2 "a malformed --pairs is refused" -- --pairs 0-1 "$d/ok.trace"
expect 2 "a trace without sched_switch is refused" -- --pairs 0:1 "$d/cgroups.txt"
out=$("$bin" --pairs 0:1 --cgroups "$d/cgroups.txt" --json /tmp/pair-check-test.$$.json "$d/conflict.trace")
if grep -q '"conflicts": 1,' /tmp/pair-check-test.$$.json && echo "$out" | grep -q "pid 10 /a vs CPU 1 pid 20 /b"; then
	echo "ok   exactly one conflict, between pid 10 (/a) and pid 20 (/b)"
else
	echo "FAIL the conflict is not the expected one:"; echo "$out"; cat /tmp/pair-check-test.$$.json; fail=1
fi
out=$("$bin" --pairs 0:1 --cgroups "$d/cgroups.txt" "$d/moved.trace")
if echo "$out" | grep -q "1 overlaps, 0.003000 s .*unknown cgroup 0.003000 s"; then
	echo "ok   a task moved during the trace: unknown before the move, judged after it"
else
	echo "FAIL moved.trace:"; echo "$out"; fail=1
fi
rm -f /tmp/pair-check-test.$$.json
exit $fail
