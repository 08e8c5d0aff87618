/* The measured window's arithmetic (window.h says what the window is and why). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "window.h"

enum mark mark_parse(const char *line)
{
	size_t n = strlen(line);
	while (n && (line[n - 1] == ' ' || line[n - 1] == '\t' || line[n - 1] == '\r'))
		n--;
	if (n == 0)
		return MARK_NONE;
	if (n == 5 && !strncmp(line, "start", 5))
		return MARK_START;
	if (n == 3 && !strncmp(line, "end", 3))
		return MARK_END;
	return MARK_BAD;
}

size_t mark_feed(struct markbuf *b, const char *data, size_t n, enum mark *out, size_t max)
{
	size_t stored = 0;
	for (size_t i = 0; i < n; i++) {
		if (data[i] != '\n') {
			if (b->len + 1 < sizeof(b->line))
				b->line[b->len++] = data[i];
			else
				b->overlong = true;
			continue;
		}
		b->line[b->len] = '\0';
		enum mark m = b->overlong ? MARK_BAD : mark_parse(b->line);
		b->len = 0;
		b->overlong = false;
		if (m == MARK_NONE)
			continue;
		/* a client that floods its FIFO cannot overrun out[]: the surplus marks as bad */
		if (stored < max)
			out[stored++] = m;
		else if (max)
			out[max - 1] = MARK_BAD;
	}
	return stored;
}

int window_mark(struct window *w, enum mark m, double t, struct err *e)
{
	switch (m) {
	case MARK_START:
		if (w->start >= 0)
			return errf(e, "marked its window's start twice (at %.3f s and %.3f s)", w->start, t);
		w->start = t;
		return 0;
	case MARK_END:
		if (w->start < 0)
			return errf(e, "marked its window's end (at %.3f s) before its start", t);
		if (w->end >= 0)
			return errf(e, "marked its window's end twice (at %.3f s and %.3f s)", w->end, t);
		w->end = t;
		return 0;
	case MARK_NONE:
		return 0;
	case MARK_BAD:
	default:
		return errf(e, "wrote a line to $SCXLAB_MARK that is neither 'start' nor 'end' (at %.3f s)", t);
	}
}

bool window_complete(const struct window *w)
{
	return w->start >= 0 && w->end >= w->start;
}

double window_length(const struct window *w)
{
	return window_complete(w) ? w->end - w->start : -1;
}

int window_intersect(const struct window *w, size_t n, struct window *out)
{
	*out = WINDOW_UNMARKED;
	if (n == 0)
		return -1;
	struct window x = w[0];
	for (size_t i = 0; i < n; i++) {
		if (!window_complete(&w[i]))
			return -1;
		x.start = fmax(x.start, w[i].start);
		x.end = fmin(x.end, w[i].end);
	}
	if (x.end < x.start)
		return -1;
	*out = x;
	return 0;
}

double window_tolerance(double ref_s)
{
	return fmax(WINDOW_TOL_REL * ref_s, WINDOW_TOL_MIN_S);
}

static json_t *window_obj(const struct window *w)
{
	json_t *o = json_object();
	json_object_set_new(o, "start_s", json_real(w->start));
	json_object_set_new(o, "end_s", json_real(w->end));
	json_object_set_new(o, "length_s", json_real(window_length(w)));
	return o;
}

json_t *window_json(const char *source, const struct window *run, const struct window *inst,
		    const double *client_s, size_t n)
{
	json_t *j = window_obj(run), *list = json_array(), *why = json_array();
	double len = window_length(run);
	for (size_t i = 0; i < n; i++) {
		json_t *o = window_obj(&inst[i]);
		double il = window_length(&inst[i]);
		json_object_set_new(o, "instance", json_integer((json_int_t)i + 1));
		if (client_s[i] >= 0) {
			json_object_set_new(o, "client_duration_s", json_real(client_s[i]));
			if (fabs(il - client_s[i]) > window_tolerance(client_s[i]))
				json_array_append_new(why, json_sprintf("instance %zu: its window (%.3f s) differs from "
									"the duration its client reported (%.3f s) by "
									"more than %.3f s", i + 1, il, client_s[i],
									window_tolerance(client_s[i])));
		}
		/* the counters cover the run's window: an instance that measured much longer is not all in it */
		if (n > 1 && fabs(il - len) > window_tolerance(il))
			json_array_append_new(why, json_sprintf("instance %zu: its window (%.3f s) differs from the "
								"run's (%.3f s, which the counters and shares cover) by "
								"more than %.3f s", i + 1, il, len, window_tolerance(il)));
		json_array_append_new(list, o);
	}
	json_object_set_new(j, "source", json_string(source));
	json_object_set_new(j, "instances", list);
	json_object_set_new(j, "tolerance_rel", json_real(WINDOW_TOL_REL));
	json_object_set_new(j, "tolerance_min_s", json_real(WINDOW_TOL_MIN_S));
	json_object_set_new(j, "agrees", json_boolean(json_array_size(why) == 0));
	json_object_set_new(j, "disagreements", why);
	return j;
}

long procstat_running(const char *text)
{
	for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		if (strncmp(p, "procs_running ", 14))
			continue;
		char *end;
		long v = strtol(p + 14, &end, 10);
		return end > p + 14 && v >= 0 ? v : -1;
	}
	return -1;
}

bool quiet_feed(struct quiet *q, long running)
{
	q->in_a_row = running >= 0 && running <= QUIET_RUNNING ? q->in_a_row + 1 : 0;
	return q->in_a_row >= QUIET_SAMPLES;
}
