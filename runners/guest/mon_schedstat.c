/*
 * The schedstat monitor (always on): what the scheduler did during the measurement, from the
 * kernel's own counters, whichever class is in charge. At the measured window's start and end
 * (runners/guest/marks.c) it reads /proc/schedstat (per CPU: yields, wakeups local and remote, time run
 * and waited on the runqueue, timeslices; `schedstats=enable` is on the guest's command line),
 * /proc/stat (idle ticks), sched_ext's event counters (/sys/kernel/sched_ext/root/events, only
 * while a sched_ext scheduler is loaded) and the schedstat of every task of the workload
 * (/proc/PID/task/TID/schedstat). runners/common/schedmetrics.c turns them into run.json's
 * monitors.schedstat and, once the headline is known, into the run's sched.* metrics
 * (runners/guest/metrics.c).
 *
 * The workload's tasks: every user-space thread except the agent's (its own binary: itself and its
 * heartbeat child), the policy's loader and the perf-stat monitor's perf (in the guest nothing
 * else runs; the other monitors leave no thread alive when the samples are taken). A task counts when it is alive at the window's end: tasks that exited during
 * it (a client's, a CGI script's) are in the per-CPU totals only. The lists are kept
 * as raw/task-schedstat-{before,after}.txt ("tid starttime run_ns run_delay_ns timeslices comm").
 * Under TARGET=host (the agent is not PID 1) the machine's other processes could not be told
 * apart, so there is no task list there, and the per-CPU counters include whatever else ran.
 */
#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "guest.h"
#include "schedext.h"
#include "schedmetrics.h"

#define SCX_EVENTS SCX_SYSFS "/root/events"

struct sample {
	char *schedstat, *procstat, *events, *tasks;
};

static void add_tasks_of(struct strv *lines, const char *pid)
{
	char *dir = xasprintf("/proc/%s/task", pid);
	DIR *d = opendir(dir);
	struct dirent *de;
	while (d && (de = readdir(d))) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		char *sp = xasprintf("%s/%s/stat", dir, de->d_name), *ssp = xasprintf("%s/%s/schedstat", dir, de->d_name);
		char *st = read_file(sp, NULL), *ss = read_file(ssp, NULL);
		char comm[32];
		unsigned long flags;
		unsigned long long start, v[3];
		/* a thread that exits between the listing and the reads is skipped */
		if (st && ss && !sm_parse_task_stat(st, comm, sizeof comm, &flags, &start) &&
		    !sm_parse_task_schedstat(ss, v) && !(flags & SM_PF_KTHREAD)) {
			for (char *c = comm; *c; c++)
				if (!isgraph((unsigned char)*c))
					*c = '_';
			strv_pushf(lines, "%s %llu %llu %llu %llu %s", de->d_name, start, v[0], v[1], v[2], comm);
		}
		free(st);
		free(ss);
		free(sp);
		free(ssp);
	}
	if (d)
		closedir(d);
	free(dir);
}

/* Whether process pid runs the agent's own binary (the agent, and its heartbeat child). */
static bool is_agent(const char *pid, const struct stat *self)
{
	char *p = xasprintf("/proc/%s/exe", pid);
	struct stat st;
	bool same = stat(p, &st) == 0 && st.st_dev == self->st_dev && st.st_ino == self->st_ino;
	free(p);
	return same;
}

/* The workload's tasks as text lines (see the header). */
static char *task_list(struct run *r)
{
	struct strv lines = { 0 };
	struct stat self;
	bool have_self = stat("/proc/self/exe", &self) == 0;
	DIR *d = opendir("/proc");
	struct dirent *de;
	while (d && (de = readdir(d))) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		pid_t pid = (pid_t)atol(de->d_name);
		if (pid == getpid() || (r->loader_pid > 0 && pid == r->loader_pid) || (r->perf_pid > 0 && pid == r->perf_pid) ||
		    (have_self && is_agent(de->d_name, &self)))
			continue;
		add_tasks_of(&lines, de->d_name);
	}
	if (d)
		closedir(d);
	char *text = strv_join(&lines, "\n");
	strv_free(&lines);
	return text;
}

static void take(struct run *r, struct sample *s, const char *when)
{
	s->schedstat = read_file("/proc/schedstat", NULL);
	s->procstat = read_file("/proc/stat", NULL);
	s->events = read_file(SCX_EVENTS, NULL);
	if (!r->a->pid1)
		return;	/* TARGET=host: the machine's other processes are not told apart from the workload's */
	s->tasks = task_list(r);
	char *p = xasprintf("%s/task-schedstat-%s.txt", r->raw, when);
	write_text(p, "%s\n", s->tasks);
	free(p);
}

static void sample_free(struct sample *s)
{
	free(s->schedstat);
	free(s->procstat);
	free(s->events);
	free(s->tasks);
}

/* The samples at the window's start and end; taken[k] once sample k was. */
struct samples {
	struct sample s[2];
	bool taken[2];
};

static bool schedstat_start(struct run *r, void **state)
{
	*state = xmalloc(sizeof(struct samples));
	memset(*state, 0, sizeof(struct samples));
	return true;
}

static void schedstat_window_start(struct run *r, void *state)
{
	struct samples *ss = state;
	take(r, &ss->s[0], "before");
	ss->taken[0] = true;
}

static void schedstat_window_end(struct run *r, void *state)
{
	struct samples *ss = state;
	take(r, &ss->s[1], "after");
	ss->taken[1] = true;
}

static json_t *schedstat_stop(struct run *r, void *state)
{
	struct samples *ss = state;
	struct sample *b = &ss->s[0], *a = &ss->s[1];
	struct err e = { 0 };
	json_t *summary = NULL;
	if (!ss->taken[0] || !ss->taken[1])
		errf(&e, "the measured window was never %s", ss->taken[0] ? "closed" : "opened");
	else
		summary = sm_summary(b->schedstat, a->schedstat, b->procstat, a->procstat, b->events, a->events,
				     b->tasks, a->tasks, &e);
	/* The counters describe the run, they are not its measurement: without them it stays valid and says why. */
	if (!summary) {
		say(PROTO_RUN_NOTE " %d no scheduler statistics: %s", r->index, e.msg);
		summary = json_pack("{s:s}", "error", e.msg);
	}	else if (!r->a->pid1)
		json_object_set_new(summary, "tasks_skipped",
				    json_string("TARGET=host: other processes share the machine, so no per-task sample"));
	sample_free(b);
	sample_free(a);
	free(ss);
	return summary;
}

const struct monitor schedstat_monitor = {
	.name = "schedstat",
	.optional = false,
	.raw = "task-schedstat-{before,after}.txt",
	.summary = "schedstat",
	.start = schedstat_start,
	.stop = schedstat_stop,
	.window_start = schedstat_window_start,
	.window_end = schedstat_window_end,
};
