/*
 * The measured window: the stretch of time the workload's client itself measures, which the
 * agent's counters (perf stat, cgroup usage, schedstat, sched_ext events, bpf-stats) must cover
 * and nothing more, so that a count per request or per second, or a CPU share, is over the
 * same time as the metric it is set against.
 *
 * A client marks its window by writing the line "start" and then the line "end" to the FIFO
 * named by $SCXLAB_MARK (workloads/lib/mark.sh for scripts, workloads/lib/wrk-report.lua for
 * wrk). A workload whose config says `window = lifetime` (an external one, or one whose client
 * cannot mark) is measured from the spawn of its clients to their exit instead, as before.
 * This file is the agent's pure arithmetic of it, under tests/unit/test_window.c.
 */
#ifndef SCXLAB_WINDOW_H
#define SCXLAB_WINDOW_H
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "util.h"

/*
 * How far the window may be from the client's own duration (and an instance's window from
 * the intersection of all of them) before the run is flagged: 5 % of it, at least 0.5 s.
 * 5 % bounds a per-unit cost's error from the window at about the run-to-run spread under
 * the real clock (CV 5-12 %), a third or less of the bias the clients' lifetime gave (apache:
 * +15 to +50 %, which is flagged). The 0.5 s is what no mark removes: wrk's end is marked by a sleeper it
 * starts with the start mark (wrk-report.lua), an ordinary task the policy under test
 * schedules, which started 0.2-0.7 s late under apache's load, and wrk's own clock includes
 * joining its threads (up to 0.7 s there); with 2 % and 0.2 s, 3 of 4 marked 10 s apache runs
 * of 2026-12-02 were flagged for those alone.
 */
#define WINDOW_TOL_REL 0.05
#define WINDOW_TOL_MIN_S 0.5

enum mark { MARK_NONE, MARK_START, MARK_END, MARK_BAD };

/* Bytes of one client's FIFO not yet ending in a newline, and the marks it has given. */
struct markbuf {
	char line[64];
	size_t len;
	bool overlong;		/* the current line is longer than any mark: it is a bad one */
};

/* One line (no newline; trailing blanks and a CR allowed): start, end, or bad ("" is MARK_NONE). */
enum mark mark_parse(const char *line);

/*
 * Feeds n bytes read from a client's FIFO; every complete line becomes a mark in out[] (at
 * most max; later ones are dropped and counted as bad). Returns how many were stored.
 */
size_t mark_feed(struct markbuf *b, const char *data, size_t n, enum mark *out, size_t max);

/* One instance's window, in seconds since the clients were spawned; -1 where not marked. */
struct window {
	double start, end;
};
#define WINDOW_UNMARKED ((struct window){ -1, -1 })

/*
 * Records mark m at time t: a start must come first and once, an end after it and once.
 * 0, or -1 with e saying what was out of order.
 */
int window_mark(struct window *w, enum mark m, double t, struct err *e);
/* Both ends marked, end not before start. */
bool window_complete(const struct window *w);
double window_length(const struct window *w);

/* The intersection of n complete windows (last start, first end); -1 when they do not overlap. */
int window_intersect(const struct window *w, size_t n, struct window *out);

/* The tolerance for a window of reference length ref_s (see WINDOW_TOL_REL). */
double window_tolerance(double ref_s);

/*
 * run.json's "window": source ("marks" or "lifetime"), start_s, end_s, length_s, each instance's
 * window (and its client_duration_s where client_s[i] >= 0, the duration its client reported),
 * tolerance_rel, tolerance_min_s, agrees, and disagreements (why not, one line each).
 * run (the window the agent's counters cover) and inst[n] are in seconds since the spawn.
 */
json_t *window_json(const char *source, const struct window *run, const struct window *inst,
		    const double *client_s, size_t n);

/*
 * Draining the warm-up ([workload] drain = N): a warm-up client that exits leaves behind the
 * requests it had queued (apache-CGI: 32 connections' CGI processes of 3-8 s each under
 * emulation), which would otherwise run in the measured window. After the warm-up the agent
 * waits, at most N seconds, for the machine to go quiet: /proc/stat's procs_running (runnable
 * tasks, the agent reading it included) at most QUIET_RUNNING in QUIET_SAMPLES samples in a
 * row, QUIET_STEP_MS apart (0.5 s: longer than a policy loader's or a kernel thread's burst,
 * shorter than any queued request).
 */
#define QUIET_RUNNING 1
#define QUIET_SAMPLES 5
#define QUIET_STEP_MS 100

/* procs_running from /proc/stat's text, or -1 when it has none. */
long procstat_running(const char *text);

/* Counts quiet samples in a row; quiet_feed() says whether the last QUIET_SAMPLES all were. */
struct quiet {
	int in_a_row;
};
bool quiet_feed(struct quiet *q, long running);

#endif
