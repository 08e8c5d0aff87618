#include "progress_estimate.h"
#include "config.h"
#include "util.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct time_left runs_left_wall(const struct runs_progress *p)
{
	double rate = p->measured && p->rate > 0 ? p->rate : 1;
	size_t left_runs = p->done < p->nruns ? p->nruns - p->done : 0;
	double work = left_runs * p->run_guest_s - p->in_run_guest_s;	/* guest seconds */
	double overhead = p->overhead_guess_s / rate;			/* wall seconds per run */
	if (p->done) {
		overhead = p->done_wall_s / p->done - p->run_guest_s / rate;
		if (overhead < 0)
			overhead = 0;
	}
	double s = (work > 0 ? work / rate : 0) + left_runs * overhead;
	return (struct time_left){ .s = s > 0 ? (long)s : 0, .rate = rate, .measured = p->measured && p->rate > 0 };
}

void time_left_text(const struct time_left *t, char *buf, size_t len)
{
	int n = snprintf(buf, len, "about %ld s left in all", t->s);
	if (n < 0 || (size_t)n >= len)
		return;
	if (!t->measured)
		snprintf(buf + n, len - n, ", estimate");
	else if (t->rate < 1 / RATE_NOTE_FACTOR || t->rate > RATE_NOTE_FACTOR)
		snprintf(buf + n, len - n, ", guest at %.2fx wall speed", t->rate);
}

/* How many policies a --policies value names: ';'-separated when it has a ';', else words. */
static size_t policy_count(const char *policies)
{
	size_t n = 0;
	struct strv words = { 0 };
	if (strchr(policies, ';')) {
		char *copy = xstrdup(policies), *save = NULL;
		for (char *t = strtok_r(copy, ";", &save); t; t = strtok_r(NULL, ";", &save))
			n += *trim(t) != '\0';
		free(copy);
		return n;
	}
	strv_split_push(&words, policies);
	n = words.n;
	strv_free(&words);
	return n;
}

double point_planned_guest_s(const char *policies, const char *repeats, const char *duration)
{
	struct err e = { 0 };
	long r, d;
	if (!policies || !repeats || !duration || parse_long(repeats, 1, INT_MAX, "repeats", &r, &e) ||
	    parse_long(duration, 1, INT_MAX, "duration", &d, &e))
		return 0;
	return (double)policy_count(policies) * r * d;
}

long sweep_left_wall(double elapsed_s, double tried_planned_s, double left_planned_s)
{
	if (tried_planned_s <= 0)
		return -1;
	double s = elapsed_s / tried_planned_s * left_planned_s;
	return s > 0 ? (long)s : 0;
}
