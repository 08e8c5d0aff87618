// SPDX-License-Identifier: GPL-2.0
/* fifo.c - loader for the global FIFO policy (fifo.bpf.c explains the algorithm). */
#include <stdio.h>
#include "scxlab_loader.h"
#include "fifo.h"
#include "fifo.skel.h"

enum { OPT_SLICE_US };

static const struct scxlab_option fifo_options[] = {
	[OPT_SLICE_US] = { "slice-us", "US", "time slice of every task in microseconds "
			   "(default: the kernel's SCX_SLICE_DFL, 20000)" },
	{ NULL },
};

static const char *const fifo_stat_names[FIFO_NR_STATS] = {
	[FIFO_STAT_DIRECT_IDLE]		= "direct_idle",
	[FIFO_STAT_SHARED_INSERT]	= "shared_insert",
	[FIFO_STAT_DISPATCH]		= "dispatch",
};

static unsigned long long slice_us;	/* 0: keep the BPF default */

static int fifo_parse_option(int index, const char *arg)
{
	switch (index) {
	case OPT_SLICE_US:
		return scxlab_parse_ull("slice-us", arg, 1, 10 * 1000 * 1000, &slice_us);
	}
	return -1;
}

SCXLAB_LIFECYCLE(fifo)

static int fifo_knobs(struct fifo *skel, struct scxlab_policy *pol)
{
	if (slice_us)
		skel->rodata->slice_ns = slice_us * 1000;
	return 0;
}

int main(int argc, char **argv)
{
	struct scxlab_policy pol = {
		.ops_name = "fifo",
		.summary = "Global FIFO sched_ext policy: idle CPU at wakeup, else one shared queue.",
		.options = fifo_options,
		.parse_option = fifo_parse_option,
		.stat_names = fifo_stat_names,
		.nr_stats = FIFO_NR_STATS,
	};

	scxlab_parse_args(&pol, argc, argv);
	return scxlab_lifecycle_fifo(&pol, &(struct fifo_hooks){ .knobs = fifo_knobs });
}
