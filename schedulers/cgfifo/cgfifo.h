/* SPDX-License-Identifier: GPL-2.0 */
/* cgfifo.h - what cgfifo.bpf.c and its loader cgfifo.c share: the stat slots. */
#ifndef SCXLAB_CGFIFO_H
#define SCXLAB_CGFIFO_H

#include "cgfifo_tree.h"

enum cgfifo_stat {
	CGFIFO_STAT_DIRECT_IDLE,	/* select_cpu found an idle CPU: straight to its local DSQ */
	CGFIFO_STAT_ENQUEUE,		/* enqueue appended the task to its cgroup's FIFO */
	CGFIFO_STAT_ENQUEUE_FALLBACK,	/* ... to the fallback DSQ (restricted affinity, no cgroup) */
	CGFIFO_STAT_KICK_IDLE,		/* enqueue woke an idle CPU to come and take it */
	CGFIFO_STAT_DISPATCH,		/* dispatch served the cgroup with the lowest cvtime */
	CGFIFO_STAT_DISPATCH_FALLBACK,	/* dispatch served the fallback DSQ first */
	CGFIFO_STAT_DISPATCH_SKIP,	/* the head cgroup had nothing for this CPU yet: keyed a slice on */
	CGFIFO_STAT_DISPATCH_NONE,	/* no cgroup had a queued task this CPU could run */
	CGFIFO_STAT_TREE_REKEY,		/* a popped cgroup had been charged since: re-inserted */
	CGFIFO_STAT_TREE_GONE,		/* a popped cgroup no longer exists: its node dropped */
	CGFIFO_STAT_CHARGE,		/* stopping charged the run to its cgroup's cvtime */
	CGFIFO_STAT_CHARGE_IDLE,	/* ... to a cgroup no longer active (moved): at 100% share */
	CGFIFO_STAT_HWEIGHT_CACHED,	/* the cgroup's share came from its cache */
	CGFIFO_STAT_HWEIGHT_WALK,	/* ... was recomputed down its chain (the tree had changed) */
	CGFIFO_STAT_ACTIVATE,		/* a cgroup's first task became runnable */
	CGFIFO_STAT_LAG_CLAMP,		/* ... and its saved-up credit was cut to --lag-us */
	CGFIFO_STAT_IDLE,		/* a cgroup's last runnable task stopped being runnable */
	CGFIFO_STAT_NO_CGROUP,		/* a runnable count found the task's cgroup gone */
	CGFIFO_STAT_CGROUP_INIT,	/* a cgroup was created (or found at load) */
	CGFIFO_STAT_CGROUP_EXIT,	/* a cgroup was removed (or the policy unloaded) */
	CGFIFO_STAT_CGROUP_EXIT_BUSY,	/* ... still counted active: its share was taken back */
	CGFIFO_STAT_SET_WEIGHT,		/* cpu.weight of a cgroup changed */
	CGFIFO_STAT_MOVE,		/* a task moved to another cgroup */
	CGFIFO_STAT_MOVE_RUNNABLE,	/* ... while runnable: its count moved along */
	CGFIFO_STAT_CANCEL_MOVE,	/* a prepared move was cancelled */
	CGFIFO_NR_STATS,
};

#endif /* SCXLAB_CGFIFO_H */
