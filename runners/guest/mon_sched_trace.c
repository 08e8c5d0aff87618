/* The sched-trace monitor (MONITORS=sched-trace); what it records and why is below. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "guest.h"

/*
 * The sched-trace monitor: an independent record of who ran where, from the kernel's own
 * tracepoints rather than any policy's counters. sched_switch, sched_process_fork and
 * cgroup_attach_task go into the tracefs ring buffer during the measurement; with the task ->
 * cgroup map taken right after tracing starts, tools/pair-check can then tell whether two SMT
 * siblings ever ran tasks of different cgroups at once (the pair policy's promise). The text
 * trace is kept gzip'd as raw/sched.trace.gz so that anyone can check it again. Tracing every
 * context switch costs time, so a run with this monitor is not the one to quote throughput from.
 */
#define TRACEFS "/sys/kernel/tracing"
#define SCHED_TRACE_BUFFER_KB 16384	/* per CPU */
static const char *const sched_trace_events[] = {
	"sched/sched_switch", "sched/sched_process_fork", "cgroup/cgroup_attach_task",
};

#define NEVENTS (sizeof(sched_trace_events) / sizeof(*sched_trace_events))
/* What tracefs had before the monitor started (on a host, someone may trace too): restored after.
 * The ring buffer's old contents are not: starting clears it (README, TARGET=host). */
static char *saved_tracing_on, *saved_buffer_kb, *saved_enable[NEVENTS];

static void sched_trace_events_enable(bool on)
{
	for (size_t i = 0; i < NEVENTS; i++) {
		char *p = xasprintf(TRACEFS "/events/%s/enable", sched_trace_events[i]);
		if (on) {
			free(saved_enable[i]);
			saved_enable[i] = read_line_file(p);
		}
		write_text(p, "%s\n", on ? "1" : saved_enable[i] && *saved_enable[i] == '1' ? "1" : "0");
		free(p);
	}
}

static void sched_trace_stop(void)
{
	write_text(TRACEFS "/tracing_on", "%s\n", saved_tracing_on && *saved_tracing_on ? saved_tracing_on : "0");
	sched_trace_events_enable(false);
}

/* The ring buffer back to its size before (resizing drops its contents: only once it was read) */
static void sched_trace_give_back(void)
{
	write_text(TRACEFS "/buffer_size_kb", "%s\n", saved_buffer_kb && *saved_buffer_kb ? saved_buffer_kb : "1024");
}

/* Starts tracing, then writes raw/cgroups.txt: every thread's cgroup at that moment. */
static bool sched_trace_begin(struct run *r, void **state)
{
	free(saved_tracing_on);
	free(saved_buffer_kb);
	saved_tracing_on = read_line_file(TRACEFS "/tracing_on");
	saved_buffer_kb = read_line_file(TRACEFS "/buffer_size_kb");
	bool ok = write_text(TRACEFS "/tracing_on", "0\n") == 0 &&
		  write_text(TRACEFS "/buffer_size_kb", "%d\n", SCHED_TRACE_BUFFER_KB) == 0 &&
		  write_text(TRACEFS "/trace", "\n") == 0;	/* opening it for writing clears it */
	if (ok) {
		sched_trace_events_enable(true);
		ok = write_text(TRACEFS "/tracing_on", "1\n") == 0;
	}
	char *cgs = raw_path(r, "cgroups.txt");
	char *argv[] = { "sh", "-c",
		"for f in /proc/[0-9]*/task/[0-9]*/cgroup; do t=${f#/proc/*/task/}; t=${t%/cgroup}; "
		"p=$(sed -n 's/^0:://p' \"$f\" 2>/dev/null) && [ -n \"$p\" ] && echo \"$t $p\"; done; true", NULL };
	ok = ok && run_cmd(argv, cgs, NULL, NULL, 60) == 0;
	free(cgs);
	if (!ok) {
		sched_trace_stop();
		sched_trace_give_back();
		invalid(r, "the sched-trace monitor could not start tracing in %s: %s", TRACEFS, strerror(errno));
	}
	return ok;
}

/* "0-1" or "0,1" from thread_siblings_list: the pair, once, as "a:b" (NULL for no sibling). */
static char *sibling_pairs(void)
{
	struct strv pairs = { 0 };
	for (int cpu = 0;; cpu++) {
		char *p = xasprintf("/sys/devices/system/cpu/cpu%d/topology/thread_siblings_list", cpu);
		char *s = read_file(p, NULL);
		free(p);
		if (!s)
			break;	/* no such CPU: all seen */
		int a, b;
		char sep;
		if (sscanf(s, "%d%c%d", &a, &sep, &b) == 3 && (sep == '-' || sep == ',') && a == cpu && b > a)
			strv_pushf(&pairs, "%d:%d", a, b);
		free(s);
	}
	char *out = pairs.n ? strv_join(&pairs, ",") : NULL;
	strv_free(&pairs);
	return out;
}

/* Sum of "overrun:" over the per-CPU buffer stats: events the ring buffer had to drop. */
static long long sched_trace_lost(void)
{
	long long lost = 0;
	for (int cpu = 0;; cpu++) {
		char *p = xasprintf(TRACEFS "/per_cpu/cpu%d/stats", cpu);
		char *s = read_file(p, NULL);
		free(p);
		if (!s)
			break;
		char *at = strstr(s, "overrun:");
		if (at)
			lost += atoll(at + strlen("overrun:"));
		free(s);
	}
	return lost;
}

/* Stops tracing, keeps the trace (its summary: run.json's monitors.sched_trace), runs pair-check where the guest has SMT siblings. */
static json_t *sched_trace_end(struct run *r, void *state)
{
	struct agent *a = r->a;
	json_t *m = json_object();
	sched_trace_stop();
	long long lost = sched_trace_lost();
	const char *tmp = "/tmp/scxlab-sched.trace";
	char *gz = raw_path(r, "sched.trace.gz"), *cgs = raw_path(r, "cgroups.txt");
	/* paths travel as arguments: with TARGET=host the run's folder is wherever RESULTS points */
	char *save_argv[] = { "sh", "-c", "cat \"$1\" > \"$2\" && gzip -1 -c \"$2\" > \"$3\"", "sh", TRACEFS "/trace",
			      (char *)tmp, gz, NULL };
	bool saved = run_cmd(save_argv, NULL, NULL, NULL, 300) == 0;
	write_text(TRACEFS "/trace", "\n");
	sched_trace_give_back();	/* the memory, and the size it had */
	json_object_set_new(m, "events", json_string("sched_switch sched_process_fork cgroup_attach_task"));
	json_object_set_new(m, "buffer_kb_per_cpu", json_integer(SCHED_TRACE_BUFFER_KB));
	json_object_set_new(m, "lost_events", json_integer(lost));
	json_object_set_new(m, "trace", json_string(saved ? "raw/sched.trace.gz" : ""));
	char *pairs = sibling_pairs();
	if (!saved) {
		invalid(r, "the sched-trace monitor could not save the trace");
	} else if (!pairs) {
		json_object_set_new(m, "pair_check", json_null());
		json_object_set_new(m, "pair_check_note", json_string("no SMT sibling pairs in this guest"));
	} else {
		char *tool = xasprintf("%s/bin/pair-check", a->job_dir), *js = raw_path(r, "pair-check.json");
		char *log = raw_path(r, "pair-check.log");
		char *argv[] = { tool, "--pairs", pairs, "--cgroups", cgs, "--json", js, (char *)tmp, NULL };
		int code = run_cmd(argv, log, NULL, NULL, 300);
		json_error_t jerr;
		json_t *pc = (code == 0 || code == 1) ? json_load_file(js, 0, &jerr) : NULL;
		json_object_set_new(m, "pair_check_exit", json_integer(code));
		json_object_set_new(m, "pair_check", pc ? pc : json_null());
		if (!pc) {
			invalid(r, "pair-check failed on the sched trace (exit code %d); see raw/pair-check.log", code);
		} else {
			/* the summary: how long siblings ran different cgroups, of the time both ran */
			double corun = 0, conflict = 0;
			size_t i;
			json_t *pr;
			json_array_foreach(json_object_get(pc, "pairs"), i, pr) {
				corun += json_number_value(json_object_get(pr, "both_busy_s"));
				conflict += json_number_value(json_object_get(pr, "conflict_s"));
			}
			json_object_set_new(m, "siblings_both_busy_s", json_real(corun));
			json_object_set_new(m, "siblings_different_cgroups_s", json_real(conflict));
			json_object_set_new(m, "different_cgroups_fraction", corun > 0 ? json_real(conflict / corun) : json_null());
			say(PROTO_RUN_NOTE " %d sched-trace: SMT siblings ran different cgroups for %.3f s of %.3f s both busy (%lld overlaps)",
			    r->index, conflict, corun, (long long)json_integer_value(json_object_get(pc, "conflicts")));
			if (lost)
				json_object_set_new(m, "pair_check_note", json_string(
					"the ring buffer dropped events: the verdict covers only what was recorded"));
		}
		free(tool);
		free(js);
		free(log);
	}
	unlink(tmp);
	free(pairs);
	free(gz);
	free(cgs);
	return m;
}


const struct monitor sched_trace_monitor = {
	.name = "sched-trace",
	.optional = true,
	.raw = "cgroups.txt sched.trace.gz pair-check.json pair-check.log",
	.summary = "sched_trace",
	.start = sched_trace_begin,
	.stop = sched_trace_end,
};
