/*
 * The measured window (runners/common/window.h says what it is and why): each measured client
 * gets a FIFO of its own, named by $SCXLAB_MARK, to which it writes "start" and "end"; the agent
 * poll()s them while it waits for the clients, so it reacts at once, and samples the counters
 * (the cgroups' usage, then every monitor's window hooks) when the last instance has started
 * and again when the first has ended: the intersection of the instances' windows. A workload
 * whose config says `window = lifetime` gets no FIFO; its window is from the clients' spawn to
 * the last one's exit, and its counters are sampled right before the spawn and after that exit.
 * run.json gets the window (runners/common/window.c: window_json) and measure_s, its length.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "guest.h"

/*
 * The agent's reaction to a mark, and perf's to its commands, must not wait for the policy under
 * test to give them a CPU: in a 10 s apache run under fifo the samples at the window's start came
 * up to 1 s after the mark, behind the queued CGI processes. So during the measurement they run in
 * the kernel's RT class (SCHED_FIFO, which sched_ext never schedules), at its lowest priority, with
 * SCHED_RESET_ON_FORK so that the clients they start are ordinary tasks of the policy under test.
 * Their own CPU time is small (a poll every 100 ms; the samples). Where the kernel refuses (a host
 * without CAP_SYS_NICE), a note says so and the samples may come late (window.sampling_s).
 */
void sampling_priority(struct run *r, pid_t pid, bool high)
{
	struct sched_param p = { .sched_priority = high ? 1 : 0 };
	if (sched_setscheduler(pid, high ? SCHED_FIFO | SCHED_RESET_ON_FORK : SCHED_OTHER, &p))
		say(PROTO_RUN_NOTE " %d could not %s the RT class for %s: %s", r->index, high ? "enter" : "leave",
		    pid ? "perf stat" : "the agent", strerror(errno));
}

static char *fifo_path(struct run *r, const struct inst *in)
{
	return xasprintf("%s/i%d", r->mark_dir, in->k);
}

/* Before the measured clients start: the window unmarked, and with marks each instance's FIFO. */
void marks_open(struct run *r)
{
	r->marks = !strcmp(cfg_get(&r->a->plan, "workload", "window") ?: "lifetime", "marks");
	r->win = WINDOW_UNMARKED;
	r->win_open = r->win_closed = false;
	for (size_t i = 0; i < r->ninst; i++) {
		struct inst *in = &r->inst[i];
		in->mark_fd = -1;
		in->win = WINDOW_UNMARKED;
		in->exit_s = -1;
		memset(&in->mark_buf, 0, sizeof(in->mark_buf));
	}
	if (!r->marks)
		return;
	r->mark_dir = xstrdup("/tmp/scxlab-mark-XXXXXX");
	if (!mkdtemp(r->mark_dir)) {
		invalid(r, "could not make a folder for the clients' window marks: %s", strerror(errno));
		free(r->mark_dir);
		r->mark_dir = NULL;
		return;
	}
	for (size_t i = 0; i < r->ninst; i++) {
		struct inst *in = &r->inst[i];
		char *p = fifo_path(r, in);
		/* O_RDWR: the FIFO always has a writer, so poll() never reports a hang-up between two marks */
		if (mkfifo(p, 0666) || (in->mark_fd = open(p, O_RDWR | O_NONBLOCK | O_CLOEXEC)) < 0)
			invalid(r, "could not make the FIFO %s for the clients' window marks: %s", p, strerror(errno));
		free(p);
	}
}

void marks_env(struct run *r, struct inst *in, struct strv *env)
{
	if (in->mark_fd >= 0) {
		char *p = fifo_path(r, in);
		strv_pushf(env, "SCXLAB_MARK=%s", p);
		free(p);
	}
}

/* The cgroups' usage first (one small read each), then the monitors, at either end alike. */
static void window_sample(struct run *r, bool end)
{
	double t = mono_now();
	tree_usage(r, end);
	monitors_window(r, end);
	r->win_cost[end] = mono_now() - t;
}

void window_open(struct run *r)
{
	window_sample(r, false);
	r->win_open = true;
}

void window_close(struct run *r)
{
	window_sample(r, true);
	r->win_closed = true;
}

/* Reads what the clients wrote to their FIFOs and opens or closes the window when it is time. */
static void marks_read(struct run *r)
{
	for (size_t i = 0; i < r->ninst; i++) {
		struct inst *in = &r->inst[i];
		char buf[256];
		ssize_t n;
		while (in->mark_fd >= 0 && (n = read(in->mark_fd, buf, sizeof buf)) > 0) {
			enum mark m[8];
			double t = mono_now() - r->spawn_t;
			size_t k = mark_feed(&in->mark_buf, buf, (size_t)n, m, 8);
			for (size_t j = 0; j < k; j++) {
				struct err e = { 0 };
				char lab[32];
				if (window_mark(&in->win, m[j], t, &e))
					invalid(r, "the workload client%s %s", inst_label(r, in, lab, sizeof lab), e.msg);
			}
		}
	}
	bool all_started = true, one_ended = false;
	double last_start = 0, first_end = -1;
	for (size_t i = 0; i < r->ninst; i++) {
		const struct window *w = &r->inst[i].win;
		all_started &= w->start >= 0;
		last_start = w->start > last_start ? w->start : last_start;
		if (w->end >= 0) {
			one_ended = true;
			first_end = first_end < 0 || w->end < first_end ? w->end : first_end;
		}
	}
	/* an instance that ended before the last one started leaves no common window: it never opens */
	if (!r->win_open && all_started && !one_ended) {
		r->win.start = last_start;
		window_open(r);
	}
	if (r->win_open && !r->win_closed && one_ended) {
		r->win.end = first_end;
		window_close(r);
	}
}

void marks_poll(struct run *r, int timeout_ms)
{
	struct pollfd p[r->ninst ? r->ninst : 1];
	nfds_t n = 0;
	for (size_t i = 0; r->marks && i < r->ninst; i++)
		if (r->inst[i].mark_fd >= 0)
			p[n++] = (struct pollfd){ .fd = r->inst[i].mark_fd, .events = POLLIN };
	if (!n) {
		usleep(timeout_ms * 1000);
		return;
	}
	if (poll(p, n, timeout_ms) > 0)
		marks_read(r);
}

/* The duration the instance's client reported in its metrics.json (duration_s, wrk's), or -1. */
static double client_duration(const struct inst *in)
{
	char *p = xasprintf("%s/metrics.json", in->out);
	json_t *doc = json_load_file(p, 0, NULL);
	json_t *d = json_object_get(doc, "duration_s");
	double v = json_is_number(d) && json_number_value(d) >= 0 ? json_number_value(d) : -1;
	json_decref(doc);
	free(p);
	return v;
}

/*
 * wrk's end mark comes from a sleeper it started with the start mark (wrk-report.lua); started
 * late (a fork under the policy being measured, with cold caches in a run's first boot), it can
 * write "end" after wrk has exited. The sleeper outlives wrk, so its mark still comes: wait for
 * it as long as it could come in time, the client's duration and the window's tolerance after
 * its start. Later than that the window would disagree with the client's duration anyway.
 */
static double late_end_deadline(const struct run *r, long duration)
{
	double deadline = -1;
	for (size_t i = 0; i < r->ninst; i++) {
		const struct window *w = &r->inst[i].win;
		if (r->inst[i].mark_fd >= 0 && w->start >= 0 && w->end < 0) {
			double d = w->start + (double)duration + window_tolerance((double)duration);
			deadline = d > deadline ? d : deadline;
		}
	}
	return deadline;	/* -1: no end mark is missing */
}

static void await_late_ends(struct run *r, long duration)
{
	double deadline;
	while ((deadline = late_end_deadline(r, duration)) >= 0 && mono_now() - r->spawn_t < deadline)
		marks_poll(r, 50);
}

/* After the measured clients are gone: the window's record, measure_s, and the FIFOs removed. */
void marks_finish(struct run *r, long duration)
{
	if (r->marks) {
		marks_read(r);	/* what a client wrote just before it exited */
		await_late_ends(r, duration);
	}
	double now = mono_now() - r->spawn_t;
	for (size_t i = 0; i < r->ninst; i++) {
		struct inst *in = &r->inst[i];
		char lab[32];
		if (r->marks && !window_complete(&in->win))
			invalid(r, "the workload client%s did not mark its measured window's %s (its workload config "
				"says window = marks: it must write 'start' and 'end' to $SCXLAB_MARK); see its client.log",
				inst_label(r, in, lab, sizeof lab), in->win.start < 0 ? "start" : "end");
	}
	if (r->marks && !r->win_open && json_array_size(r->reasons) == 0)
		invalid(r, "the instances' measured windows do not overlap: one ended before another started");
	if (r->win_open && !r->win_closed) {	/* lifetime, or a client that never marked its end (invalid) */
		r->win.end = now;
		window_close(r);
	}
	double *client = xmalloc(r->ninst * sizeof(*client));
	struct window *iw = xmalloc(r->ninst * sizeof(*iw));
	for (size_t i = 0; i < r->ninst; i++) {
		client[i] = client_duration(&r->inst[i]);
		iw[i] = r->inst[i].win;
	}
	if (window_complete(&r->win)) {
		json_t *w = window_json(r->marks ? "marks" : "lifetime", &r->win, iw, client, r->ninst);
		json_object_set_new(w, "sampling_s", json_pack("[f, f]", r->win_cost[0], r->win_cost[1]));
		/* the client's whole life, for comparison: what measure_s was before the window was marked */
		for (size_t i = 0; i < r->ninst; i++)
			json_object_set_new(json_array_get(json_object_get(w, "instances"), i), "exit_s",
					    json_real(r->inst[i].exit_s));
		json_t *why = json_object_get(w, "disagreements");
		for (size_t i = 0; i < json_array_size(why); i++)
			say(PROTO_RUN_NOTE " %d measured window: %s", r->index, json_string_value(json_array_get(why, i)));
		json_object_set_new(r->j, "window", w);
		json_object_set_new(r->j, "measure_s", json_real(window_length(&r->win)));
	}
	free(client);
	free(iw);
	for (size_t i = 0; i < r->ninst; i++) {
		struct inst *in = &r->inst[i];
		if (in->mark_fd < 0)
			continue;
		close(in->mark_fd);
		in->mark_fd = -1;
		char *p = fifo_path(r, in);
		unlink(p);
		free(p);
	}
	if (r->mark_dir)
		rmdir(r->mark_dir);
	free(r->mark_dir);
	r->mark_dir = NULL;
}
