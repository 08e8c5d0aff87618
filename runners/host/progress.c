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

/* Seconds left: the runs not finished, at the measured per-run time once one finished. */
static long time_left(struct ctx *c)
{
	return runs_time_left(c->nruns, c->runs_done, c->run_total_s, c->run_current ? mono_now() - c->run_started : 0,
			      (double)(c->x.warmup + c->x.duration + 8));
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
		progress(c, "guest up after %.0f s (kernel %s); %zu run(s), about %ld s to go", c->boot_s,
			 line + 19, c->nruns, time_left(c));
	} else if (!strcmp(word, "run-begin") && sscanf(line + 7, "%*s %d %ld %255s", &i, &n, arg) == 3) {
		c->run_current = i;
		c->run_started = mono_now();
		progress(c, "run %d/%ld: %s on %s", i, n, arg, c->x.wl.name);
	} else if (!strcmp(word, "phase") && sscanf(line + 7, "%*s %d %255s %ld", &i, arg, &secs) == 3) {
		if (secs > 0)
			progress(c, "run %d/%zu: %s %ld s (about %ld s left in all)", i, c->nruns, arg, secs,
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
