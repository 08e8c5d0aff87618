// SPDX-License-Identifier: GPL-2.0
/*
 * pair-check - verify from a scheduler trace that SMT siblings never ran tasks of
 * different cgroups at the same time (the rule the pair policy promises), without
 * trusting anything the policy says about itself.
 *
 * Input: a text trace of sched_switch events, one per line, as written by
 *   - tracefs:      cat /sys/kernel/tracing/trace   (events sched/sched_switch enabled), or
 *   - perf script:  perf record -e sched:sched_switch -a ...; perf script
 * Both print "[CPU]", a "SECONDS.MICROS:" timestamp and either the kernel's format
 * (prev_comm=.. prev_pid=.. prev_prio=.. ==> next_comm=.. next_pid=.. next_prio=..) or
 * libtraceevent's short one (prev_comm:prev_pid [prev_prio] S ==> next_comm:next_pid
 * [next_prio]); both are understood. Lines of other events are ignored, except two that
 * keep the task -> cgroup map current if they were recorded too:
 *   sched_process_fork  (pid=P ... child_pid=C): C starts in P's cgroup
 *   cgroup_attach_task  (dst_path=/x ... pid=T): T moved to /x; an interval running at
 *                       that moment is split there
 * The map starts from --cgroups FILE, lines "TID /cgroup/path" (a snapshot of
 * /proc/<pid>/task/<tid>/cgroup taken just after the trace starts; see README.md). A task
 * that moves during the trace while its cgroup is still the snapshot's counts as unknown
 * until the move: the snapshot may already show where it moved to.
 *
 * Method. Each CPU's trace is cut into run intervals [switch-in, switch-out) of one task.
 * Intervals of the idle task (pid 0) and of tasks outside sched_ext's reach (priority
 * below 100: real-time, deadline and stop-class threads the policy does not schedule)
 * are dropped. For every sibling pair (--pairs), the two CPUs' intervals are swept
 * together and every overlap in which both tasks have a known cgroup and the cgroups
 * differ is a conflict. Conflicts no longer than --tolerance-us (default 0) are counted
 * apart: the policy decides under a lock but the context switch that carries a decision
 * out comes a few microseconds later, so a strict checker sees those windows. Overlaps
 * with a task of unknown cgroup are reported, never judged.
 *
 * Output: a summary on stdout and, with --json PATH, the same as JSON. Exit status: 0 no
 * conflict longer than the tolerance, 1 at least one, 2 bad input or usage.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#define MAX_CPUS	1024
#define MAX_PID		(1 << 22)	/* the kernel's PID_MAX_LIMIT */
#define CG_UNKNOWN	0		/* index of the "unknown" cgroup name */

struct interval {
	double start, end;
	int cg;
	int pid;
};

struct cpu_trace {
	struct interval *iv;
	size_t len, cap;
	bool running;		/* a task is on the CPU since cur_start */
	double cur_start;
	int cur_pid, cur_prio, cur_cg;
};

static const char *prog = "pair-check";
static struct cpu_trace cpus[MAX_CPUS];
static int *pid_cg;		/* cgroup index per pid, CG_UNKNOWN if never seen */
static unsigned char *pid_from_map;	/* pid_cg came from --cgroups, not from an event */
static char **cg_names;
static int nr_cgs, cap_cgs;
static double first_ts = -1, last_ts;
static unsigned long long nr_switches, nr_lines;

static void die_input(const char *what, unsigned long long line)
{
	fprintf(stderr, "%s: %s (line %llu)\n", prog, what, line);
	exit(2);
}

static int intern_cg(const char *name, size_t len)
{
	int i;

	for (i = 1; i < nr_cgs; i++)
		if (strlen(cg_names[i]) == len && !strncmp(cg_names[i], name, len))
			return i;
	if (nr_cgs == cap_cgs) {
		cap_cgs = cap_cgs ? cap_cgs * 2 : 64;
		cg_names = realloc(cg_names, cap_cgs * sizeof(*cg_names));
		if (!cg_names) {
			perror(prog);
			exit(2);
		}
	}
	cg_names[nr_cgs] = strndup(name, len);
	return nr_cgs++;
}

static void set_cg(long pid, int cg)
{
	if (pid > 0 && pid < MAX_PID)
		pid_cg[pid] = cg;
}

static int get_cg(long pid)
{
	return pid > 0 && pid < MAX_PID ? pid_cg[pid] : CG_UNKNOWN;
}

static void load_cgroup_map(const char *path)
{
	char line[4096];
	unsigned long long n = 0;
	FILE *f = fopen(path, "r");

	if (!f) {
		fprintf(stderr, "%s: --cgroups %s: %s\n", prog, path, strerror(errno));
		exit(2);
	}
	while (fgets(line, sizeof(line), f)) {
		char *end, *p;
		long tid;

		n++;
		if (line[0] == '#' || line[0] == '\n')
			continue;
		tid = strtol(line, &end, 10);
		p = end;
		while (*p == ' ' || *p == '\t')
			p++;
		if (end == line || tid <= 0 || tid >= MAX_PID || *p != '/') {
			fprintf(stderr, "%s: --cgroups %s line %llu: expected 'TID /cgroup/path'\n",
				prog, path, n);
			exit(2);
		}
		set_cg(tid, intern_cg(p, strcspn(p, "\n")));
		pid_from_map[tid] = 1;
	}
	fclose(f);
}

/* Value of " key=" in s as a long; -1 if absent. The leading space keeps pid= apart from prev_pid=. */
static long field_long(const char *s, const char *key)
{
	const char *p = strstr(s, key);

	return p ? strtol(p + strlen(key), NULL, 10) : -1;
}

/* "comm:pid [prio]" ending just before @end: fills pid and prio, false if malformed. */
static bool parse_short_task(const char *begin, const char *end, long *pid, long *prio)
{
	const char *br = NULL, *p, *colon = NULL;

	for (p = begin; p + 1 < end; p++)
		if (p[0] == ' ' && p[1] == '[')
			br = p;
	if (!br)
		return false;
	*prio = strtol(br + 2, NULL, 10);
	for (p = begin; p < br; p++)
		if (*p == ':')
			colon = p;
	if (!colon || !isdigit((unsigned char)colon[1]))
		return false;
	*pid = strtol(colon + 1, NULL, 10);
	return true;
}

static void add_interval(struct cpu_trace *c, double end)
{
	if (c->len == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 1024;
		c->iv = realloc(c->iv, c->cap * sizeof(*c->iv));
		if (!c->iv) {
			perror(prog);
			exit(2);
		}
	}
	c->iv[c->len++] = (struct interval){ c->cur_start, end, c->cur_cg, c->cur_pid };
}

static bool judged(const struct cpu_trace *c)
{
	return c->running && c->cur_pid != 0 && c->cur_prio >= 100;
}

/*
 * @pid moved to cgroup @cg at @ts. A running interval is split there. If the old cgroup
 * came from the --cgroups snapshot, it may be the cgroup after this very move (the
 * snapshot is taken after tracing starts), so what @pid ran before is relabelled unknown.
 */
static void on_attach(double ts, long pid, int cg)
{
	bool relabel = pid > 0 && pid < MAX_PID && pid_from_map[pid];
	int cpu;
	size_t i;

	for (cpu = 0; cpu < MAX_CPUS; cpu++) {
		struct cpu_trace *c = &cpus[cpu];

		if (relabel)
			for (i = 0; i < c->len; i++)
				if (c->iv[i].pid == pid)
					c->iv[i].cg = CG_UNKNOWN;
		if (c->running && c->cur_pid == pid) {
			if (relabel)
				c->cur_cg = CG_UNKNOWN;
			if (judged(c) && ts > c->cur_start)
				add_interval(c, ts);
			c->cur_start = ts;
			c->cur_cg = cg;
		}
	}
	set_cg(pid, cg);
	if (pid > 0 && pid < MAX_PID)
		pid_from_map[pid] = 0;
}

static void on_switch(int cpu, double ts, long prev_pid, long next_pid, long next_prio)
{
	struct cpu_trace *c = &cpus[cpu];

	nr_switches++;
	/* Close the previous task's interval; prev_pid confirms it when we saw it start. */
	if (judged(c) && c->cur_pid == prev_pid && ts > c->cur_start)
		add_interval(c, ts);
	c->running = true;
	c->cur_start = ts;
	c->cur_pid = next_pid;
	c->cur_prio = next_prio;
	c->cur_cg = get_cg(next_pid);
}

static void parse_line(char *line)
{
	char *ev, *p, *tok, *ts_tok = NULL;
	int cpu = -1;
	double ts;

	nr_lines++;
	if (line[0] == '#')
		return;
	ev = strstr(line, "sched_switch:");
	if (!ev)
		ev = strstr(line, "sched_process_fork:");
	if (!ev)
		ev = strstr(line, "cgroup_attach_task:");
	if (!ev)
		return;

	/* Before the event name: "[CPU]" and the timestamp "SEC.FRAC:" (last such token). */
	for (p = line; p < ev; p++) {
		if (*p == '[' && isdigit((unsigned char)p[1]) && cpu < 0) {
			char *end;
			long v = strtol(p + 1, &end, 10);

			if (*end == ']')
				cpu = v;
		}
	}
	for (tok = line; tok < ev; ) {
		while (tok < ev && *tok == ' ')
			tok++;
		p = tok;
		while (p < ev && *p != ' ')
			p++;
		if (p > tok + 1 && p[-1] == ':' && isdigit((unsigned char)*tok) && memchr(tok, '.', p - tok))
			ts_tok = tok;
		tok = p;
	}
	if (cpu < 0 || !ts_tok)
		die_input("cannot find the [CPU] and timestamp of an event", nr_lines);
	if (cpu >= MAX_CPUS)
		die_input("CPU number too large", nr_lines);
	ts = strtod(ts_tok, NULL);
	if (first_ts < 0)
		first_ts = ts;
	if (ts > last_ts)
		last_ts = ts;

	if (!strncmp(ev, "sched_process_fork:", 19)) {
		long parent = field_long(ev, " pid="), child = field_long(ev, "child_pid=");

		if (parent > 0 && child > 0 && child < MAX_PID) {
			set_cg(child, get_cg(parent));
			pid_from_map[child] = 0;
		}
		return;
	}
	if (!strncmp(ev, "cgroup_attach_task:", 19)) {
		char *path = strstr(ev, "dst_path=");
		long pid = field_long(ev, " pid=");

		if (path && pid > 0 && pid < MAX_PID) {
			path += strlen("dst_path=");
			on_attach(ts, pid, intern_cg(path, strcspn(path, " \n")));
		}
		return;
	}

	/* sched_switch */
	{
		long prev_pid, next_pid, next_prio, prio;
		char *arrow = strstr(ev, " ==> ");

		if (!arrow)
			die_input("sched_switch without '==>'", nr_lines);
		if (strstr(ev, "prev_pid=")) {
			prev_pid = field_long(ev, "prev_pid=");
			next_pid = field_long(ev, "next_pid=");
			next_prio = field_long(ev, "next_prio=");
		} else {
			char *after = arrow + 5, *eol = after + strcspn(after, "\n");

			if (!parse_short_task(ev + strlen("sched_switch:"), arrow + 1, &prev_pid, &prio) ||
			    !parse_short_task(after, eol + 1, &next_pid, &next_prio))
				die_input("unreadable sched_switch", nr_lines);
		}
		if (prev_pid < 0 || next_pid < 0 || next_prio < -1000)
			die_input("sched_switch without prev_pid/next_pid/next_prio", nr_lines);
		on_switch(cpu, ts, prev_pid, next_pid, next_prio);
	}
}

struct pair_result {
	int a, b;
	double corun, conflict, short_conflict, unknown, longest;
	unsigned long long nr_conflicts, nr_short;
	struct interval worst_a, worst_b;
};

static void check_pair(struct pair_result *r, double tolerance)
{
	struct cpu_trace *ca = &cpus[r->a], *cb = &cpus[r->b];
	size_t i = 0, j = 0;

	while (i < ca->len && j < cb->len) {
		struct interval *x = &ca->iv[i], *y = &cb->iv[j];
		double s = x->start > y->start ? x->start : y->start;
		double e = x->end < y->end ? x->end : y->end;

		if (e > s) {
			double len = e - s;

			r->corun += len;
			if (x->cg == CG_UNKNOWN || y->cg == CG_UNKNOWN) {
				r->unknown += len;
			} else if (x->cg != y->cg) {
				if (len <= tolerance) {
					r->short_conflict += len;
					r->nr_short++;
				} else {
					r->conflict += len;
					r->nr_conflicts++;
					if (len > r->longest) {
						r->longest = len;
						r->worst_a = *x;
						r->worst_b = *y;
					}
				}
			}
		}
		if (x->end < y->end)
			i++;
		else
			j++;
	}
}

static json_t *interval_json(const struct interval *iv, int cpu)
{
	return json_pack("{s:i, s:i, s:s, s:f, s:f}", "cpu", cpu, "pid", iv->pid, "cgroup",
			 cg_names[iv->cg], "start_s", iv->start, "end_s", iv->end);
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: %s --pairs A:B[,C:D...] [--cgroups FILE] [--tolerance-us US] [--json PATH] [TRACE]\n"
		"Check a sched_switch trace (tracefs text or perf script; stdin if no TRACE) for\n"
		"moments when SMT siblings ran tasks of different cgroups.\n\n"
		"  --pairs A:B,...     the sibling CPU pairs to check (required)\n"
		"  --cgroups FILE      initial task -> cgroup map, lines 'TID /path'\n"
		"  --tolerance-us US   conflicts this short are counted apart, not failed (default 0)\n"
		"  --json PATH         also write the summary as JSON\n"
		"Exit status: 0 no conflict above the tolerance, 1 conflicts, 2 bad input.\n", prog);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pairs", required_argument, NULL, 'p' },
		{ "cgroups", required_argument, NULL, 'c' },
		{ "tolerance-us", required_argument, NULL, 't' },
		{ "json", required_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct pair_result pairs[MAX_CPUS / 2];
	const char *pairs_arg = NULL, *cg_path = NULL, *json_path = NULL;
	double tolerance = 0, total_conflict = 0;
	unsigned long long total_conflicts = 0;
	int nr_pairs = 0, c, i;
	char line[8192], *end;
	json_t *root, *jpairs;
	FILE *in = stdin;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'p': pairs_arg = optarg; break;
		case 'c': cg_path = optarg; break;
		case 'j': json_path = optarg; break;
		case 't':
			errno = 0;
			tolerance = strtod(optarg, &end) / 1e6;
			if (errno || end == optarg || *end || tolerance < 0) {
				fprintf(stderr, "%s: --tolerance-us: expected microseconds >= 0, got '%s'\n",
					prog, optarg);
				return 2;
			}
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!pairs_arg || optind < argc - 1) {
		usage(stderr);
		return 2;
	}
	for (const char *p = pairs_arg; *p; ) {
		long a = strtol(p, &end, 10), b;

		if (end == p || *end != ':')
			goto bad_pairs;
		p = end + 1;
		b = strtol(p, &end, 10);
		if (end == p || a < 0 || b < 0 || a >= MAX_CPUS || b >= MAX_CPUS || a == b)
			goto bad_pairs;
		memset(&pairs[nr_pairs], 0, sizeof(pairs[0]));
		pairs[nr_pairs].a = a;
		pairs[nr_pairs].b = b;
		nr_pairs++;
		p = end;
		if (*p == ',')
			p++;
		else if (*p)
			goto bad_pairs;
		if (nr_pairs == MAX_CPUS / 2)
			break;
	}

	pid_cg = calloc(MAX_PID, sizeof(*pid_cg));
	pid_from_map = calloc(MAX_PID, 1);
	if (!pid_cg || !pid_from_map) {
		perror(prog);
		return 2;
	}
	intern_cg("?", 1);		/* CG_UNKNOWN */
	if (cg_path)
		load_cgroup_map(cg_path);
	set_cg(0, CG_UNKNOWN);
	if (optind < argc && !(in = fopen(argv[optind], "r"))) {
		fprintf(stderr, "%s: %s: %s\n", prog, argv[optind], strerror(errno));
		return 2;
	}
	while (fgets(line, sizeof(line), in))
		parse_line(line);
	if (in != stdin)
		fclose(in);
	if (!nr_switches) {
		fprintf(stderr, "%s: the trace holds no sched_switch event\n", prog);
		return 2;
	}
	/* Tasks still on a CPU at the end ran until the last event. */
	for (i = 0; i < MAX_CPUS; i++) {
		struct cpu_trace *ct = &cpus[i];

		if (judged(ct) && last_ts > ct->cur_start)
			add_interval(ct, last_ts);
	}

	root = json_object();
	jpairs = json_array();
	printf("pair-check: %llu sched_switch events, %.6f s of trace, tolerance %.1f us\n",
	       nr_switches, last_ts - first_ts, tolerance * 1e6);
	for (i = 0; i < nr_pairs; i++) {
		struct pair_result *r = &pairs[i];
		json_t *jp;

		check_pair(r, tolerance);
		total_conflict += r->conflict;
		total_conflicts += r->nr_conflicts;
		printf("  CPUs %d,%d: both busy %.6f s; different cgroups: %llu overlaps, %.6f s "
		       "(%llu within tolerance, %.6f s); unknown cgroup %.6f s\n", r->a, r->b,
		       r->corun, r->nr_conflicts, r->conflict, r->nr_short, r->short_conflict,
		       r->unknown);
		jp = json_pack("{s:i, s:i, s:f, s:I, s:f, s:I, s:f, s:f}", "cpu_a", r->a, "cpu_b", r->b,
			       "both_busy_s", r->corun, "conflicts", (json_int_t)r->nr_conflicts,
			       "conflict_s", r->conflict, "within_tolerance", (json_int_t)r->nr_short,
			       "within_tolerance_s", r->short_conflict, "unknown_cgroup_s", r->unknown);
		if (r->nr_conflicts) {
			printf("    longest %.6f s at %.6f: CPU %d pid %d %s vs CPU %d pid %d %s\n",
			       r->longest, r->worst_a.start > r->worst_b.start ? r->worst_a.start :
			       r->worst_b.start, r->a, r->worst_a.pid, cg_names[r->worst_a.cg], r->b,
			       r->worst_b.pid, cg_names[r->worst_b.cg]);
			json_object_set_new(jp, "longest", json_pack("{s:f, s:o, s:o}", "seconds",
					    r->longest, "a", interval_json(&r->worst_a, r->a), "b",
					    interval_json(&r->worst_b, r->b)));
		}
		json_array_append_new(jpairs, jp);
	}
	printf("verdict: %s\n", total_conflicts ? "CONFLICTS (siblings ran different cgroups)" :
	       "OK (no conflict above the tolerance)");
	json_object_set_new(root, "switches", json_integer(nr_switches));
	json_object_set_new(root, "trace_s", json_real(last_ts - first_ts));
	json_object_set_new(root, "tolerance_us", json_real(tolerance * 1e6));
	json_object_set_new(root, "cgroups_known", json_integer(nr_cgs - 1));
	json_object_set_new(root, "pairs", jpairs);
	json_object_set_new(root, "conflicts", json_integer(total_conflicts));
	json_object_set_new(root, "conflict_s", json_real(total_conflict));
	json_object_set_new(root, "ok", json_boolean(!total_conflicts));
	if (json_path && json_dump_file(root, json_path, JSON_INDENT(2) | JSON_PRESERVE_ORDER)) {
		fprintf(stderr, "%s: cannot write --json %s\n", prog, json_path);
		return 2;
	}
	json_decref(root);
	return total_conflicts ? 1 : 0;

bad_pairs:
	fprintf(stderr, "%s: --pairs: expected A:B[,C:D...] with distinct CPU numbers, got '%s'\n",
		prog, pairs_arg);
	return 2;
}
