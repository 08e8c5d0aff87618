// SPDX-License-Identifier: GPL-2.0
/* cgfifo.c - loader for the cgroup FIFO policy (cgfifo.bpf.c explains the algorithm). */
#include <errno.h>
#include <stdio.h>
#include "scxlab_loader.h"
#include "cgfifo.h"
#include "cgfifo.skel.h"

enum { OPT_SLICE_US, OPT_LAG_US };

static const struct scxlab_option cgfifo_options[] = {
	[OPT_SLICE_US] = { "slice-us", "US", "time slice of every task in microseconds "
			   "(default: the kernel's SCX_SLICE_DFL, 20000)" },
	[OPT_LAG_US] = { "lag-us", "US", "CPU time (at 100% share) a cgroup waking from idle may "
			 "still claim from before (default 20000)" },
	{ NULL },
};

static const char *const cgfifo_stat_names[CGFIFO_NR_STATS] = {
	[CGFIFO_STAT_DIRECT_IDLE]	= "direct_idle",
	[CGFIFO_STAT_ENQUEUE]		= "enqueue",
	[CGFIFO_STAT_KICK_IDLE]		= "kick_idle",
	[CGFIFO_STAT_DISPATCH]		= "dispatch",
	[CGFIFO_STAT_DISPATCH_OTHER]	= "dispatch_other",
	[CGFIFO_STAT_DISPATCH_NONE]	= "dispatch_none",
	[CGFIFO_STAT_CHARGE]		= "charge",
	[CGFIFO_STAT_CHARGE_IDLE]	= "charge_idle",
	[CGFIFO_STAT_ACTIVATE]		= "cg_activate",
	[CGFIFO_STAT_LAG_CLAMP]		= "cg_lag_clamp",
	[CGFIFO_STAT_IDLE]		= "cg_idle",
	[CGFIFO_STAT_CGROUP_INIT]	= "cg_init",
	[CGFIFO_STAT_CGROUP_EXIT]	= "cg_exit",
	[CGFIFO_STAT_CGROUP_EXIT_BUSY]	= "cg_exit_busy",
	[CGFIFO_STAT_SET_WEIGHT]	= "cg_set_weight",
	[CGFIFO_STAT_MOVE]		= "move",
	[CGFIFO_STAT_MOVE_RUNNABLE]	= "move_runnable",
	[CGFIFO_STAT_CANCEL_MOVE]	= "cancel_move",
	[CGFIFO_STAT_QUEUE_ENTER]	= "cg_queue",
	[CGFIFO_STAT_QUEUE_LEAVE]	= "cg_unqueue",
	[CGFIFO_STAT_REKEY]		= "dispatch_rekey",
	[CGFIFO_STAT_HWEIGHT_REFRESH]	= "hweight_refresh",
	[CGFIFO_STAT_CLOCK_BACK]	= "clock_back",
};

static unsigned long long slice_us, lag_us;	/* 0: keep the BPF default */
static int lag_set;

static int cgfifo_parse_option(int index, const char *arg)
{
	switch (index) {
	case OPT_SLICE_US:
		return scxlab_parse_ull("slice-us", arg, 1, 10 * 1000 * 1000, &slice_us);
	case OPT_LAG_US:
		lag_set = 1;
		return scxlab_parse_ull("lag-us", arg, 0, 10 * 1000 * 1000, &lag_us);
	}
	return -1;
}

SCXLAB_LIFECYCLE(cgfifo)

static int cgfifo_knobs(struct cgfifo *skel, struct scxlab_policy *pol)
{
	if (slice_us)
		skel->rodata->slice_ns = slice_us * 1000;
	if (lag_set)
		skel->rodata->lag_ns = lag_us * 1000;
	return 0;
}

int main(int argc, char **argv)
{
	struct scxlab_policy pol = {
		.ops_name = "cgfifo",
		.summary = "cgroup FIFO: tasks FIFO per cgroup; cgroups share CPU by their flattened "
			   "cpu.weight (lowest virtual time first).",
		.options = cgfifo_options,
		.parse_option = cgfifo_parse_option,
		.stat_names = cgfifo_stat_names,
		.nr_stats = CGFIFO_NR_STATS,
	};

	scxlab_parse_args(&pol, argc, argv);
	return scxlab_lifecycle_cgfifo(&pol, &(struct cgfifo_hooks){ .knobs = cgfifo_knobs });
}
