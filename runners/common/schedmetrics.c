#include "schedmetrics.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SM_MAX_CPUS 1024

/* One CPU's counters from /proc/schedstat's "cpu<N>" line and /proc/stat's "cpu<N>" line. */
struct sm_cpu {
	int cpu;
	unsigned long long yields, schedule_calls, idle_picks, wakeups, wakeups_local, run_ns, run_delay_ns,
		timeslices;
	unsigned long long idle_ticks, ticks;
	bool have_ticks;
};

int sm_parse_task_stat(const char *text, char *comm, size_t len, unsigned long *flags,
		       unsigned long long *starttime)
{
	const char *open = text ? strchr(text, '(') : NULL, *close = text ? strrchr(text, ')') : NULL;
	if (!open || !close || close < open)
		return -1;
	size_t n = (size_t)(close - open - 1);
	if (len) {
		if (n > len - 1)
			n = len - 1;
		memcpy(comm, open + 1, n);
		comm[n] = '\0';
	}
	/* after ")": field 3 (state) onwards; flags is field 9, starttime field 22 */
	const char *p = close + 1;
	unsigned long long f[23] = { 0 };
	int field = 3;
	while (*p && field <= 22) {
		while (*p == ' ')
			p++;
		if (!*p)
			break;
		if (field == 3) {
			p++;	/* the state letter */
		} else {
			char *end;
			errno = 0;
			long long v = strtoll(p, &end, 10);
			if (end == p || errno)
				return -1;
			f[field] = (unsigned long long)v;
			p = end;
		}
		if (*p && *p != ' ' && *p != '\n')
			return -1;
		field++;
	}
	if (field <= 22)
		return -1;
	*flags = (unsigned long)f[9];
	*starttime = f[22];
	return 0;
}

int sm_parse_task_schedstat(const char *text, unsigned long long v[3])
{
	char extra;
	return text && sscanf(text, "%llu %llu %llu %c", &v[0], &v[1], &v[2], &extra) == 3 ? 0 : -1;
}

static struct sm_cpu *cpu_slot(struct sm_cpu *cpus, size_t *n, int cpu)
{
	for (size_t i = 0; i < *n; i++)
		if (cpus[i].cpu == cpu)
			return &cpus[i];
	if (*n >= SM_MAX_CPUS)
		return NULL;
	memset(&cpus[*n], 0, sizeof(cpus[*n]));
	cpus[*n].cpu = cpu;
	return &cpus[(*n)++];
}

/* The cpu<N> lines of /proc/schedstat into cpus; the number of CPUs, or -1 (e set). */
static int parse_schedstat(const char *text, const char *when, struct sm_cpu *cpus, struct err *e)
{
	size_t n = 0;
	int version = -1;
	char *s = xstrdup(text ? text : ""), *save = NULL;
	int rc = 0;
	for (char *line = strtok_r(s, "\n", &save); line && !rc; line = strtok_r(NULL, "\n", &save)) {
		int cpu;
		unsigned long long v[9];
		if (sscanf(line, "version %d", &version) == 1) {
			if (version < 15 || version > 17)
				rc = errf(e, "/proc/schedstat %s: version %d; this parser knows versions 15 to 17", when,
					  version);
			continue;
		}
		if (strncmp(line, "cpu", 3) || !isdigit((unsigned char)line[3]))
			continue;
		if (version < 0) {
			rc = errf(e, "/proc/schedstat %s: a cpu line before the version line", when);
			break;
		}
		if (sscanf(line, "cpu%d %llu %llu %llu %llu %llu %llu %llu %llu %llu", &cpu, &v[0], &v[1], &v[2], &v[3],
			   &v[4], &v[5], &v[6], &v[7], &v[8]) != 10) {
			rc = errf(e, "/proc/schedstat %s: a cpu line without its 9 counters: %.60s", when, line);
			break;
		}
		struct sm_cpu *c = cpu_slot(cpus, &n, cpu);
		if (!c) {
			rc = errf(e, "/proc/schedstat %s: more than %d CPUs", when, SM_MAX_CPUS);
			break;
		}
		/* v[1] is the O(1) scheduler's expired-array count, always 0 */
		c->yields = v[0];
		c->schedule_calls = v[2];
		c->idle_picks = v[3];
		c->wakeups = v[4];
		c->wakeups_local = v[5];
		c->run_ns = v[6];
		c->run_delay_ns = v[7];
		c->timeslices = v[8];
	}
	free(s);
	if (!rc && version < 0)
		rc = errf(e, "/proc/schedstat %s: no version line (is it /proc/schedstat?)", when);
	if (!rc && n == 0)
		rc = errf(e, "/proc/schedstat %s: no cpu line (schedstats off?)", when);
	return rc ? -1 : (int)n;
}

/* The per-CPU lines of /proc/stat: idle (idle + iowait) and total ticks, into the CPUs already listed. */
static int parse_procstat(const char *text, const char *when, struct sm_cpu *cpus, size_t n, struct err *e)
{
	char *s = xstrdup(text ? text : ""), *save = NULL;
	int rc = 0;
	for (char *line = strtok_r(s, "\n", &save); line && !rc; line = strtok_r(NULL, "\n", &save)) {
		int cpu;
		unsigned long long v[8];
		if (strncmp(line, "cpu", 3) || !isdigit((unsigned char)line[3]))
			continue;
		/* user nice system idle iowait irq softirq steal (guest time is already in user) */
		if (sscanf(line, "cpu%d %llu %llu %llu %llu %llu %llu %llu %llu", &cpu, &v[0], &v[1], &v[2], &v[3], &v[4],
			   &v[5], &v[6], &v[7]) != 9) {
			rc = errf(e, "/proc/stat %s: a cpu line without its 8 first counters: %.60s", when, line);
			break;
		}
		for (size_t i = 0; i < n; i++)
			if (cpus[i].cpu == cpu) {
				cpus[i].idle_ticks = v[3] + v[4];
				cpus[i].ticks = v[0] + v[1] + v[2] + v[3] + v[4] + v[5] + v[6] + v[7];
				cpus[i].have_ticks = true;
			}
	}
	free(s);
	return rc;
}

/* "NAME count" lines into an object of integers; NULL (e set) when a line is not that. */
static json_t *parse_events(const char *text, const char *when, struct err *e)
{
	json_t *o = json_object();
	char *s = xstrdup(text), *save = NULL;
	for (char *line = strtok_r(s, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char name[64], extra;
		long long v;
		if (!*trim(line))
			continue;
		if (sscanf(line, "%63s %lld %c", name, &v, &extra) != 2 || v < 0) {
			errf(e, "sched_ext events %s: not a 'NAME count' line: %.60s", when, line);
			json_decref(o);
			o = NULL;
			break;
		}
		json_object_set_new(o, name, json_integer(v));
	}
	free(s);
	return o;
}

struct sm_task {
	long tid;
	unsigned long long starttime, v[3];
	char comm[32];
};

/* The agent's task list ("tid starttime run_ns run_delay_ns timeslices comm" lines). */
static struct sm_task *parse_tasks(const char *text, const char *when, size_t *n, struct err *e)
{
	struct sm_task *t = NULL;
	size_t cap = 0;
	*n = 0;
	char *s = xstrdup(text ? text : ""), *save = NULL;
	for (char *line = strtok_r(s, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct sm_task x = { 0 };
		int used = 0;
		if (!*trim(line))
			continue;
		if (sscanf(line, "%ld %llu %llu %llu %llu %n", &x.tid, &x.starttime, &x.v[0], &x.v[1], &x.v[2], &used) < 5 ||
		    !used) {
			errf(e, "task list %s: not a 'tid starttime run_ns run_delay_ns timeslices comm' line: %.60s", when,
			     line);
			free(t);
			free(s);
			return NULL;
		}
		snprintf(x.comm, sizeof x.comm, "%s", line + used);
		if (*n == cap)
			t = xrealloc(t, (cap = cap ? cap * 2 : 64) * sizeof(*t));
		t[(*n)++] = x;
	}
	free(s);
	if (!t)
		t = xmalloc(sizeof(*t));
	return t;
}

#define DELTA(field)                                                                                  \
	do {                                                                                           \
		if (b->field > a->field) {                                                             \
			errf(e, "/proc/schedstat: cpu%d's " #field " went backwards (%llu, then %llu)", \
			     a->cpu, b->field, a->field);                                              \
			goto fail;                                                                     \
		}                                                                                      \
		d = a->field - b->field;                                                               \
	} while (0)

json_t *sm_summary(const char *schedstat0, const char *schedstat1, const char *procstat0, const char *procstat1,
		   const char *events0, const char *events1, const char *tasks0, const char *tasks1,
		   struct err *e)
{
	struct sm_cpu *c0 = xmalloc(SM_MAX_CPUS * sizeof(*c0)), *c1 = xmalloc(SM_MAX_CPUS * sizeof(*c1));
	struct sm_task *t0 = NULL, *t1 = NULL;
	json_t *out = NULL, *ev0 = NULL, *ev1 = NULL;
	int n0 = parse_schedstat(schedstat0, "before", c0, e), n1 = n0 < 0 ? -1 : parse_schedstat(schedstat1, "after", c1, e);
	if (n1 < 0)
		goto fail;
	if (n0 != n1) {
		errf(e, "/proc/schedstat lists %d CPUs before and %d after", n0, n1);
		goto fail;
	}
	if (parse_procstat(procstat0, "before", c0, (size_t)n0, e) || parse_procstat(procstat1, "after", c1, (size_t)n1, e))
		goto fail;
	out = json_object();
	json_t *cpus = json_array();
	json_object_set_new(out, "cpus", cpus);
	for (int i = 0; i < n1; i++) {
		const struct sm_cpu *a = &c1[i], *b = NULL;
		for (int k = 0; k < n0; k++)
			if (c0[k].cpu == a->cpu)
				b = &c0[k];
		if (!b) {
			errf(e, "/proc/schedstat: cpu%d is listed after the measurement but not before", a->cpu);
			goto fail;
		}
		unsigned long long d;
		json_t *o = json_pack("{s:i}", "cpu", a->cpu);
#define PUT(field, key)                                               \
	do {                                                          \
		DELTA(field);                                         \
		json_object_set_new(o, key, json_integer((json_int_t)d)); \
	} while (0)
		json_array_append_new(cpus, o);
		PUT(yields, "yields");
		PUT(schedule_calls, "schedule_calls");
		PUT(idle_picks, "idle_picks");
		PUT(wakeups, "wakeups");
		PUT(wakeups_local, "wakeups_local");
		PUT(run_ns, "run_ns");
		PUT(run_delay_ns, "run_delay_ns");
		PUT(timeslices, "timeslices");
		if (a->have_ticks && b->have_ticks) {
			PUT(idle_ticks, "idle_ticks");
			PUT(ticks, "ticks");
		}
#undef PUT
	}
	if (events0 && events1) {
		ev0 = parse_events(events0, "before", e);
		ev1 = ev0 ? parse_events(events1, "after", e) : NULL;
		if (!ev1)
			goto fail;
		json_t *ev = json_object();
		json_object_set_new(out, "scx_events", ev);
		const char *name;
		json_t *v1;
		json_object_foreach(ev1, name, v1) {
			json_t *v0 = json_object_get(ev0, name);
			if (!v0)
				continue;	/* a counter the kernel started listing mid-way: no delta */
			json_int_t d = json_integer_value(v1) - json_integer_value(v0);
			if (d < 0) {
				errf(e, "sched_ext event %s went backwards (%lld, then %lld)", name,
				     (long long)json_integer_value(v0), (long long)json_integer_value(v1));
				goto fail;
			}
			json_object_set_new(ev, name, json_integer(d));
		}
	}
	if (tasks1) {
		size_t m0, m1;
		t0 = parse_tasks(tasks0, "before", &m0, e);
		t1 = t0 ? parse_tasks(tasks1, "after", &m1, e) : NULL;
		if (!t1)
			goto fail;
		json_t *tasks = json_array();
		json_object_set_new(out, "tasks", tasks);
		for (size_t i = 0; i < m1; i++) {
			const struct sm_task *a = &t1[i];
			unsigned long long base[3] = { 0, 0, 0 };
			for (size_t k = 0; k < m0; k++)
				if (t0[k].tid == a->tid && t0[k].starttime == a->starttime)
					memcpy(base, t0[k].v, sizeof base);
			if (a->v[0] < base[0] || a->v[1] < base[1] || a->v[2] < base[2]) {
				errf(e, "task %ld (%s): its schedstat went backwards", a->tid, a->comm);
				goto fail;
			}
			if (a->v[2] == base[2])
				continue;	/* it did not run during the measurement */
			json_array_append_new(tasks, json_pack("{s:I, s:s, s:I, s:I, s:I}", "tid", (json_int_t)a->tid, "comm",
							       a->comm, "run_ns", (json_int_t)(a->v[0] - base[0]),
							       "run_delay_ns", (json_int_t)(a->v[1] - base[1]),
							       "timeslices", (json_int_t)(a->v[2] - base[2])));
		}
	}
	goto done;
fail:
	json_decref(out);
	out = NULL;
done:
	json_decref(ev0);
	json_decref(ev1);
	free(t0);
	free(t1);
	free(c0);
	free(c1);
	return out;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

double sm_percentile(double *x, size_t n, double p)
{
	if (!n)
		return NAN;
	qsort(x, n, sizeof(*x), cmp_double);
	double pos = p / 100.0 * (double)(n - 1);
	size_t lo = (size_t)floor(pos), hi = lo + 1 < n ? lo + 1 : lo;
	return x[lo] + (x[hi] - x[lo]) * (pos - (double)lo);
}

double sm_jain(const double *x, size_t n)
{
	double s = 0, s2 = 0;
	for (size_t i = 0; i < n; i++) {
		s += x[i];
		s2 += x[i] * x[i];
	}
	return n && s2 > 0 ? s * s / ((double)n * s2) : -1;
}

double sm_max_min(const double *x, size_t n)
{
	if (!n)
		return -1;
	double lo = x[0], hi = x[0];
	for (size_t i = 1; i < n; i++) {
		lo = x[i] < lo ? x[i] : lo;
		hi = x[i] > hi ? x[i] : hi;
	}
	return lo > 0 ? hi / lo : -1;
}

/* Appends one metric; hib: 1 higher is better, 0 lower is better, -1 no direction (null). */
static void put(json_t *list, const char *name, const char *unit, double value, int hib)
{
	if (!isfinite(value))
		return;
	json_array_append_new(list, json_pack("{s:s, s:s, s:f, s:o}", "name", name, "unit", unit, "value", value,
					      "higher_is_better", hib < 0 ? json_null() : json_boolean(hib)));
}

static unsigned long long cpu_get(json_t *cpu, const char *key)
{
	return (unsigned long long)json_integer_value(json_object_get(cpu, key));
}

json_t *sm_metrics(json_t *summary, const char *headline_unit, double headline_value, double measure_s)
{
	json_t *list = json_array();
	json_t *cpus = json_object_get(summary, "cpus"), *cpu;
	size_t i;
	/* counts per unit of work ("req/s" -> per req) or, without a rate headline, per second */
	size_t hu = headline_unit ? strlen(headline_unit) : 0;
	bool per_op = hu >= 2 && !strcmp(headline_unit + hu - 2, "/s") && headline_value > 0 && measure_s > 0;
	char op[32] = "s";
	double per = measure_s;
	if (per_op) {
		snprintf(op, sizeof op, "%.*s", (int)(hu - 2), headline_unit);
		if (!op[0] || strchr(op, '/'))
			snprintf(op, sizeof op, "op");
		per = headline_value * measure_s;
	}
	unsigned long long delay = 0, slices = 0, wake = 0, wake_local = 0, yields = 0, idle = 0, ticks = 0;
	char name[96], unit[64];
	json_array_foreach(cpus, i, cpu) {
		int n = (int)json_integer_value(json_object_get(cpu, "cpu"));
		unsigned long long d = cpu_get(cpu, "run_delay_ns"), s = cpu_get(cpu, "timeslices");
		delay += d;
		slices += s;
		wake += cpu_get(cpu, "wakeups");
		wake_local += cpu_get(cpu, "wakeups_local");
		yields += cpu_get(cpu, "yields");
		if (s) {
			snprintf(name, sizeof name, "sched.cpu%d.rq_wait_per_slice_us", n);
			put(list, name, "us", (double)d / (double)s / 1e3, 0);
		}
		if (json_object_get(cpu, "ticks") && cpu_get(cpu, "ticks")) {
			idle += cpu_get(cpu, "idle_ticks");
			ticks += cpu_get(cpu, "ticks");
			snprintf(name, sizeof name, "sched.cpu%d.idle_fraction", n);
			put(list, name, "fraction", (double)cpu_get(cpu, "idle_ticks") / (double)cpu_get(cpu, "ticks"), -1);
		}
	}
	if (json_array_size(cpus)) {
		if (slices)
			put(list, "sched.rq_wait_per_slice_us", "us", (double)delay / (double)slices / 1e3, 0);
		if (ticks)
			put(list, "sched.idle_fraction", "fraction", (double)idle / (double)ticks, -1);
		if (wake)
			put(list, "sched.wakeups_remote_fraction", "fraction", (double)(wake - wake_local) / (double)wake,
			    -1);
		if (per > 0) {
			snprintf(name, sizeof name, "sched.wakeups_local_per_%s", op);
			snprintf(unit, sizeof unit, "wakeups/%s", op);
			put(list, name, unit, (double)wake_local / per, -1);
			snprintf(name, sizeof name, "sched.wakeups_remote_per_%s", op);
			put(list, name, unit, (double)(wake - wake_local) / per, -1);
			snprintf(name, sizeof name, "sched.yields_per_%s", op);
			snprintf(unit, sizeof unit, "yields/%s", op);
			put(list, name, unit, (double)yields / per, -1);
		}
	}
	json_t *tasks = json_object_get(summary, "tasks"), *t;
	if (tasks) {
		size_t n = json_array_size(tasks);
		double *w = xmalloc((n ? n : 1) * sizeof(*w));
		json_array_foreach(tasks, i, t)
			w[i] = (double)json_integer_value(json_object_get(t, "run_delay_ns")) /
			       (double)json_integer_value(json_object_get(t, "timeslices")) / 1e3;
		put(list, "sched.tasks_sampled", "tasks", (double)n, -1);
		if (n) {
			put(list, "sched.task_rq_wait_per_slice_p50_us", "us", sm_percentile(w, n, 50), 0);
			put(list, "sched.task_rq_wait_per_slice_p90_us", "us", sm_percentile(w, n, 90), 0);
			put(list, "sched.task_rq_wait_per_slice_max_us", "us", sm_percentile(w, n, 100), 0);
		}
		free(w);
	}
	json_t *events = json_object_get(summary, "scx_events"), *v;
	const char *ev;
	json_object_foreach(events, ev, v) {
		const char *base = strncmp(ev, "SCX_EV_", 7) ? ev : ev + 7;
		size_t k = 0;
		char lower[64];
		for (; base[k] && k < sizeof lower - 1; k++)
			lower[k] = (char)tolower((unsigned char)base[k]);
		lower[k] = '\0';
		bool ns = !strcmp(lower, "bypass_duration");	/* the only event that counts time: ns */
		snprintf(name, sizeof name, "sched.scx_events.%s%s", lower, ns ? "_ns" : "");
		/* each counts the kernel stepping in for the BPF scheduler (fallback, bypass, refill, denial) */
		put(list, name, ns ? "ns" : "count", (double)json_integer_value(v), 0);
	}
	return list;
}
