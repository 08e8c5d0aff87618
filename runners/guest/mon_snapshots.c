/*
 * The snapshots monitor (always on): /proc/schedstat, the sched_ext sysfs tree and /proc/stat
 * at the measured window's start and end, kept as they are in raw/ for the analysis.
 */
#include <stdlib.h>

#include "guest.h"
#include "schedext.h"

static void snapshot(struct run *r, const char *when)
{
	char *p = xasprintf("%s/schedstat-%s.txt", r->raw, when);
	copy_file("/proc/schedstat", p, 0);
	free(p);
	p = xasprintf("%s/sched_ext-%s", r->raw, when);
	scx_snapshot(SCX_SYSFS, p);
	free(p);
	p = xasprintf("%s/proc-stat-%s.txt", r->raw, when);
	copy_file("/proc/stat", p, 0);
	free(p);
}


static bool snapshots_start(struct run *r, void **state)
{
	return true;
}

static void snapshots_window_start(struct run *r, void *state)
{
	snapshot(r, "before");
}

static void snapshots_window_end(struct run *r, void *state)
{
	snapshot(r, "after");
}

static json_t *snapshots_stop(struct run *r, void *state)
{
	return NULL;
}

const struct monitor snapshots_monitor = {
	.name = "snapshots",
	.optional = false,
	.raw = "schedstat-{before,after}.txt sched_ext-{before,after}/ proc-stat-{before,after}.txt",
	.summary = NULL,
	.start = snapshots_start,
	.stop = snapshots_stop,
	.window_start = snapshots_window_start,
	.window_end = snapshots_window_end,
};
