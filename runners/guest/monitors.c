/*
 * The monitors: THE table of what is recorded around every measurement. A new monitor is one
 * file (mon_<name>.c defining its struct monitor) and one row here; an optional one is also
 * a word of EXTRA_MONITORS (runners/common/experiment.h, what requests are checked against),
 * which tests/unit/test_guest_monitors.c checks against this table.
 *
 * Order matters: start() runs top to bottom, stop() bottom to top; the schedstat monitor's
 * task lists leave out perf stat (which runs across the window) by its pid. At the window's ends the
 * samples are taken top to bottom at both ends, perf stat's (a write to its control FIFO)
 * first and the schedstat monitor's (which the sched.* metrics come from) next, so that
 * each monitor's counts span the window's length and the ones the costs come from lag least.
 */
#include <stdlib.h>
#include <string.h>

#include "guest.h"

extern const struct monitor snapshots_monitor, schedstat_monitor, sched_trace_monitor, bpf_stats_monitor,
	perf_stat_monitor;
const struct monitor *const monitor_table[] = {
	&perf_stat_monitor,
	&schedstat_monitor,
	&snapshots_monitor,
	&sched_trace_monitor,
	&bpf_stats_monitor,
};
const size_t monitor_count = sizeof(monitor_table) / sizeof(monitor_table[0]);
_Static_assert(sizeof(monitor_table) / sizeof(monitor_table[0]) <= MAX_MONITORS, "raise MAX_MONITORS");

bool monitor_on(struct agent *a, const char *name)
{
	return has_word(cfg_get(&a->plan, "plan", "monitors"), name);
}

int monitors_check(const char *words, struct err *e)
{
	struct strv w = { 0 }, known = { 0 };
	strv_split_push(&w, words ? words : "");
	for (size_t i = 0; i < monitor_count; i++)
		if (monitor_table[i]->optional)
			strv_push(&known, monitor_table[i]->name);
	int rc = 0;
	for (size_t i = 0; i < w.n && !rc; i++) {
		bool ok = false;
		for (size_t k = 0; k < known.n; k++)
			ok |= !strcmp(w.v[i], known.v[k]);
		if (!ok) {
			char *list = strv_join(&known, " ");
			rc = errf(e, "[plan] monitors: unknown monitor '%s'; this agent has: %s", w.v[i], list);
			free(list);
		}
	}
	strv_free(&w);
	strv_free(&known);
	return rc;
}

void monitors_start(struct run *r)
{
	for (size_t i = 0; i < monitor_count; i++) {
		const struct monitor *m = monitor_table[i];
		r->mon_state[i] = NULL;
		r->mon_started[i] = (!m->optional || monitor_on(r->a, m->name)) && m->start(r, &r->mon_state[i]);
	}
}

void monitors_stop(struct run *r)
{
	for (size_t i = monitor_count; i-- > 0;) {
		const struct monitor *m = monitor_table[i];
		if (!r->mon_started[i])
			continue;
		r->mon_started[i] = false;
		json_t *summary = m->stop(r, r->mon_state[i]);
		if (summary && m->summary)
			json_object_set_new(json_object_get(r->j, "monitors"), m->summary, summary);
		else
			json_decref(summary);
	}
}

/* The counting monitors' samples at one end of the measured window (see struct monitor). */
void monitors_window(struct run *r, bool end)
{
	for (size_t i = 0; i < monitor_count; i++) {
		const struct monitor *m = monitor_table[i];
		void (*hook)(struct run *, void *) = end ? m->window_end : m->window_start;
		if (r->mon_started[i] && hook)
			hook(r, r->mon_state[i]);
	}
}
