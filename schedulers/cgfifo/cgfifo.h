/* SPDX-License-Identifier: GPL-2.0 */
/* cgfifo.h - what cgfifo.bpf.c and its loader cgfifo.c share: the stat slots. */
#ifndef SCXLAB_CGFIFO_H
#define SCXLAB_CGFIFO_H

#include "cgfifo_tree.h"

enum cgfifo_stat {
	CGFIFO_STAT_DIRECT_IDLE,	/* select_cpu found an idle CPU: straight to its local DSQ */
	CGFIFO_STAT_ENQUEUE,		/* enqueue appended the task to its cgroup's FIFO */
	CGFIFO_STAT_KICK_IDLE,		/* enqueue woke an idle CPU to come and take it */
	CGFIFO_STAT_DISPATCH,		/* dispatch served the cgroup with the lowest cvtime */
	CGFIFO_STAT_DISPATCH_OTHER,	/* ... that one had nothing for this CPU: the next one served */
	CGFIFO_STAT_DISPATCH_NONE,	/* no cgroup had a queued task this CPU could run */
	CGFIFO_STAT_CHARGE,		/* stopping charged the run to its cgroup's cvtime */
	CGFIFO_STAT_CHARGE_IDLE,	/* ... to a cgroup no longer active (moved): at 100% share */
	CGFIFO_STAT_ACTIVATE,		/* a cgroup's first task became runnable */
	CGFIFO_STAT_LAG_CLAMP,		/* ... and its saved-up credit was cut to --lag-us */
	CGFIFO_STAT_IDLE,		/* a cgroup's last runnable task stopped being runnable */
	CGFIFO_STAT_CGROUP_INIT,	/* a cgroup was created (or found at load) */
	CGFIFO_STAT_CGROUP_EXIT,	/* a cgroup was removed (or the policy unloaded) */
	CGFIFO_STAT_CGROUP_EXIT_BUSY,	/* ... still counted active: its share was taken back */
	CGFIFO_STAT_SET_WEIGHT,		/* cpu.weight of a cgroup changed */
	CGFIFO_STAT_MOVE,		/* a task moved to another cgroup */
	CGFIFO_STAT_MOVE_RUNNABLE,	/* ... while runnable: its count moved along */
	CGFIFO_STAT_CANCEL_MOVE,	/* a prepared move was cancelled */
	CGFIFO_STAT_QUEUE_ENTER,	/* a cgroup got a queued task: into the dispatch order (rbtree) */
	CGFIFO_STAT_QUEUE_LEAVE,	/* dispatch found the first cgroup with none left: out of it */
	CGFIFO_STAT_REKEY,		/* the first cgroup was charged since it was placed: re-sorted */
	CGFIFO_STAT_HWEIGHT_REFRESH,	/* stopping found the tree changed: share recomputed, cached */
	CGFIFO_STAT_CLOCK_BACK,		/* a run's stop read an earlier clock than its start: charged 0 */
	CGFIFO_NR_STATS,
};

#endif /* SCXLAB_CGFIFO_H */
