/*
 * The perf-stat monitor (always on where perf works): `perf stat -a` with software events
 * only (the emulated guest has no PMU), counting exactly the measured window: perf starts
 * with its counters off (-D -1) and the agent turns them on and off at the window's ends
 * through perf's control FIFO (--control fifo:CTL,ACK), waiting for perf's "ack" each time,
 * so the counts start and end with the window rather than with perf's own start-up and
 * SIGINT. Before the clients start, a "ping" waits until perf is ready. Summarised by runners/common/perfstat.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "guest.h"
#include "perfstat.h"

/* perf reads its control FIFO between its own waits; under a loaded emulator it can take a while */
#define PERF_ACK_TIMEOUT_MS 10000

struct perf_state {
	pid_t pid;
	int ctl, ack;		/* the agent's ends of perf's control and ack FIFOs */
	char *dir;		/* their folder, outside raw/ */
	int acked;		/* how many of the window's commands perf acknowledged (2: both) */
};

/* Sends perf a control command (enable, disable) and waits for its ack. */
static bool perf_command(struct perf_state *s, const char *cmd)
{
	char buf[64];
	size_t n = strlen(cmd);
	if (write(s->ctl, cmd, n) != (ssize_t)n)
		return false;
	struct pollfd p = { .fd = s->ack, .events = POLLIN };
	double t0 = mono_now();
	size_t got = 0;
	while (mono_now() - t0 < PERF_ACK_TIMEOUT_MS / 1000.0) {
		if (poll(&p, 1, 100) <= 0)
			continue;
		ssize_t k = read(s->ack, buf + got, sizeof(buf) - 1 - got);
		if (k <= 0 && errno != EAGAIN && errno != EINTR)
			return false;
		got += k > 0 ? (size_t)k : 0;
		buf[got] = '\0';
		if (strstr(buf, "ack\n"))
			return true;
		if (got == sizeof(buf) - 1)
			return false;
	}
	return false;
}

static void perf_state_free(struct perf_state *s)
{
	for (int i = 0; i < 2; i++) {
		char *p = xasprintf("%s/%s", s->dir, i ? "ack" : "ctl");
		unlink(p);
		free(p);
	}
	if (s->ctl >= 0)
		close(s->ctl);
	if (s->ack >= 0)
		close(s->ack);
	rmdir(s->dir);
	free(s->dir);
	free(s);
}

static bool perf_stat_start(struct run *r, void **state)
{
	if (!r->a->have_perf)
		return false;
	struct perf_state *s = xmalloc(sizeof(*s));
	*s = (struct perf_state){ .pid = -1, .ctl = -1, .ack = -1, .dir = xstrdup("/tmp/scxlab-perf-XXXXXX") };
	if (!mkdtemp(s->dir)) {
		say(PROTO_RUN_NOTE " %d no perf stat: cannot make its control folder: %s", r->index, strerror(errno));
		free(s->dir);
		free(s);
		return false;
	}
	char *ctl = xasprintf("%s/ctl", s->dir), *ack = xasprintf("%s/ack", s->dir);
	/* O_RDWR: neither open waits for perf, and neither end sees EOF while perf starts or stops */
	bool ok = mkfifo(ctl, 0600) == 0 && mkfifo(ack, 0600) == 0 &&
		  (s->ctl = open(ctl, O_RDWR | O_CLOEXEC)) >= 0 &&
		  (s->ack = open(ack, O_RDWR | O_NONBLOCK | O_CLOEXEC)) >= 0;
	if (ok) {
		struct strv argv = { 0 };
		char *out = raw_path(r, "perf-stat.csv"), *log = raw_path(r, "perf-stat.log");
		strv_push(&argv, "perf");
		strv_split_push(&argv, "stat -a -D -1 -x , -e task-clock,context-switches,cpu-migrations --control");
		strv_pushf(&argv, "fifo:%s,%s", ctl, ack);
		strv_push(&argv, "-o");
		strv_push(&argv, out);
		s->pid = spawn(argv.v, log, NULL, NULL);
		strv_free(&argv);
		if (s->pid > 0)
			sampling_priority(r, s->pid, true);	/* it must answer at once (marks.c) */
		free(log);
		free(out);
		/* perf answers a ping once its counters are open: before that an "enable" at the window's
		 * start would wait (1.2 s in a 3 s nginx run under the virtual clock) and count late */
		ok = s->pid > 0 && perf_command(s, "ping\n");
	}
	free(ctl);
	free(ack);
	if (!ok) {
		say(PROTO_RUN_NOTE " %d no perf stat: it did not start or answer on its control FIFO; see raw/perf-stat.log",
		    r->index);
		if (s->pid > 0) {
			kill(s->pid, SIGINT);
			wait_timeout(s->pid, 10, NULL);
		}
		perf_state_free(s);
		return false;
	}
	r->perf_pid = s->pid;
	*state = s;
	return true;
}

static void perf_stat_window_start(struct run *r, void *state)
{
	struct perf_state *s = state;
	s->acked += perf_command(s, "enable\n");
}

static void perf_stat_window_end(struct run *r, void *state)
{
	struct perf_state *s = state;
	if (s->acked == 1)
		s->acked += perf_command(s, "disable\n");
}

static json_t *perf_stat_stop(struct run *r, void *state)
{
	struct perf_state *s = state;
	kill(s->pid, SIGINT);
	wait_timeout(s->pid, 10, NULL);
	r->perf_pid = 0;
	char *out = raw_path(r, "perf-stat.csv"), *text = read_file(out, NULL);
	json_t *summary = NULL;
	/* counts over some other stretch than the window would be set against the window: none instead */
	if (s->acked == 2)
		summary = perf_stat_parse(text);
	else
		say(PROTO_RUN_NOTE " %d no perf stat summary: perf did not acknowledge turning its counters %s at "
		    "the measured window's %s; see raw/perf-stat.log", r->index, s->acked ? "off" : "on",
		    s->acked ? "end" : "start");
	free(text);
	free(out);
	perf_state_free(s);
	return summary;
}

const struct monitor perf_stat_monitor = {
	.name = "perf-stat",
	.optional = false,
	.raw = "perf-stat.csv perf-stat.log",
	.summary = "perf_stat",
	.start = perf_stat_start,
	.stop = perf_stat_stop,
	.window_start = perf_stat_window_start,
	.window_end = perf_stat_window_end,
};
