/*
 * The progress display: timestamped lines on stderr, the time left, the guest's SCXLAB
 * console lines (run k of n, phases, problems) and the problems that make a result invalid.
 */
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "host.h"
#include "outcome.h"
#include "progress_estimate.h"
#include "util.h"

void progress(struct ctx *c, const char *fmt, ...)
{
	va_list ap;
	long el = (long)(mono_now() - c->t0);
	fprintf(stderr, "[scxlab %2ld:%02ld] ", el / 60, el % 60);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/*
 * The time left in wall seconds (runners/common/progress_estimate.h), as the progress line's
 * words: the guest seconds left at the guest's observed pace (its heartbeats; 1.0 and "estimate"
 * before the first), plus the per-run overhead learnt from finished runs. The current run's
 * guest progress is its wall time at that pace. The text lives until the next call.
 */
static const char *time_left(struct ctx *c)
{
	static char buf[128];
	double now = mono_now();
	const struct pace *p = &c->run_pace;
	bool measured = p->started && p->wall_last > p->wall0;
	double rate = measured ? pace_rate(p, now - c->t0) : 1;
	struct runs_progress rp = {
		.nruns = c->nruns, .done = c->runs_done, .run_guest_s = (double)(c->x.warmup + c->x.duration),
		.done_wall_s = c->run_total_s, .in_run_guest_s = c->run_current ? (now - c->run_started) * rate : 0,
		.rate = rate, .measured = measured, .overhead_guess_s = 8,
	};
	struct time_left t = runs_left_wall(&rp);
	time_left_text(&t, buf, sizeof(buf));
	return buf;
}

void on_guest_line(struct ctx *c, char *line)
{
	char word[32] = "", arg[256] = "";
	int i = 0;
	long n = 0, secs = 0;
	double guest_s = 0;
	if (strncmp(line, "SCXLAB ", 7))
		return;
	sscanf(line + 7, "%31s", word);
	if (!strcmp(word, "heartbeat") && sscanf(line + 7, "%*s %lf", &guest_s) == 1) {
		pace_note(&c->run_pace, mono_now() - c->t0, guest_s);
	} else if (!strcmp(word, "guest-ready")) {
		c->boot_s = mono_now() - c->t0;
		pace_start(&c->run_pace, c->boot_s, 0);
		progress(c, "guest up after %.0f s (kernel %s); %zu run(s), %s", c->boot_s, line + 19, c->nruns,
			 time_left(c));
	} else if (!strcmp(word, "run-begin") && sscanf(line + 7, "%*s %d %ld %255s", &i, &n, arg) == 3) {
		c->run_current = i;
		c->run_started = mono_now();
		progress(c, "run %d/%ld: %s on %s", i, n, arg, c->x.wl.name);
	} else if (!strcmp(word, "phase") && sscanf(line + 7, "%*s %d %255s %ld", &i, arg, &secs) == 3) {
		if (secs > 0)
			progress(c, "run %d/%zu: %s %ld s (%s)", i, c->nruns, arg, secs,
				 time_left(c));
	} else if (!strcmp(word, "run-end") && sscanf(line + 7, "%*s %d %255s", &i, arg) == 2) {
		c->runs_done++;
		c->run_total_s += mono_now() - c->run_started;
		c->run_current = 0;
		progress(c, "run %d/%zu %s", i, c->nruns, arg);
	} else if (!strcmp(word, "run-problem")) {
		progress(c, "problem: %s", line + 19);
	} else if (!strcmp(word, "run-note")) {
		progress(c, "note: %s", line + 16);
	} else if (!strcmp(word, "guest-done")) {
		c->guest_done = true;
	} else if (!strcmp(word, "fatal") || !strcmp(word, "boot-error") || !strcmp(word, "warning")) {
		progress(c, "guest %s", line + 7);
	}
}

void problem(struct ctx *c, const char *fmt, ...)
{
	char msg[ERRLEN];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_array_append_new(c->problems, json_string(msg));
	progress(c, "problem: %s", msg);
}
