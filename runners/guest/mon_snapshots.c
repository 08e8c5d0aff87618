/*
 * The snapshots monitor (always on): /proc/schedstat, the sched_ext sysfs tree and /proc/stat
 * right before and right after the measurement, kept as they are in raw/ for the analysis.
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
	snapshot(r, "before");
	return true;
}

static json_t *snapshots_stop(struct run *r, void *state)
{
	snapshot(r, "after");
	return NULL;
}

const struct monitor snapshots_monitor = {
	.name = "snapshots",
	.optional = false,
	.raw = "schedstat-{before,after}.txt sched_ext-{before,after}/ proc-stat-{before,after}.txt",
	.summary = NULL,
	.start = snapshots_start,
	.stop = snapshots_stop,
};
