// SPDX-License-Identifier: GPL-2.0
/* qmap.c - loader for the five-level queue-map policy (qmap.bpf.c explains the algorithm). */
#include <stdio.h>
#include "scxlab_loader.h"
#include "qmap.h"
#include "qmap.skel.h"

enum { OPT_SLICE_US };

static const struct scxlab_option qmap_options[] = {
	[OPT_SLICE_US] = { "slice-us", "US", "time slice of every task in microseconds "
			   "(default: the kernel's SCX_SLICE_DFL, 20000)" },
	{ NULL },
};

static const char *const qmap_stat_names[QMAP_NR_STATS] = {
	[QMAP_STAT_ENQUEUE + 0]		= "enqueue_l0",
	[QMAP_STAT_ENQUEUE + 1]		= "enqueue_l1",
	[QMAP_STAT_ENQUEUE + 2]		= "enqueue_l2",
	[QMAP_STAT_ENQUEUE + 3]		= "enqueue_l3",
	[QMAP_STAT_ENQUEUE + 4]		= "enqueue_l4",
	[QMAP_STAT_DISPATCH + 0]	= "dispatch_l0",
	[QMAP_STAT_DISPATCH + 1]	= "dispatch_l1",
	[QMAP_STAT_DISPATCH + 2]	= "dispatch_l2",
	[QMAP_STAT_DISPATCH + 3]	= "dispatch_l3",
	[QMAP_STAT_DISPATCH + 4]	= "dispatch_l4",
	[QMAP_STAT_DIRECT_IDLE]		= "direct_idle",
	[QMAP_STAT_QUEUE_FULL]		= "queue_full",
	[QMAP_STAT_TASK_GONE]		= "task_gone",
	[QMAP_STAT_KICK_IDLE]		= "kick_idle",
};
_Static_assert(QMAP_NR_LEVELS == 5, "qmap.c names five levels' stats");

static unsigned long long slice_us;	/* 0: keep the BPF default */

static int qmap_parse_option(int index, const char *arg)
{
	switch (index) {
	case OPT_SLICE_US:
		return scxlab_parse_ull("slice-us", arg, 1, 10 * 1000 * 1000, &slice_us);
	}
	return -1;
}

SCXLAB_LIFECYCLE(qmap)

static int qmap_knobs(struct qmap *skel, struct scxlab_policy *pol)
{
	if (slice_us)
		skel->rodata->slice_ns = slice_us * 1000;
	return 0;
}

int main(int argc, char **argv)
{
	struct scxlab_policy pol = {
		.ops_name = "qmap",
		.summary = "Five priority levels (from nice) in BPF queue maps; level L gets up to "
			   "2^L dispatches per round.",
		.options = qmap_options,
		.parse_option = qmap_parse_option,
		.stat_names = qmap_stat_names,
		.nr_stats = QMAP_NR_STATS,
	};

	scxlab_parse_args(&pol, argc, argv);
	return scxlab_lifecycle_qmap(&pol, &(struct qmap_hooks){ .knobs = qmap_knobs });
}
