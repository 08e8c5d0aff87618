/* SPDX-License-Identifier: GPL-2.0 */
/* qmap.h - what qmap.bpf.c and its loader qmap.c share: levels and stat slots. */
#ifndef SCXLAB_QMAP_H
#define SCXLAB_QMAP_H

#define QMAP_NR_LEVELS	5	/* priority levels, 0 (lowest) to 4 (highest) */

/*
 * Per-level slots come in blocks of QMAP_NR_LEVELS, level 0 first, so that
 * QMAP_STAT_ENQUEUE + level names the slot of that level.
 */
enum qmap_stat {
	QMAP_STAT_ENQUEUE,				/* enqueue pushed the task on its level's queue */
	QMAP_STAT_DISPATCH = QMAP_STAT_ENQUEUE + QMAP_NR_LEVELS, /* dispatch popped one from that level */
	QMAP_STAT_DIRECT_IDLE = QMAP_STAT_DISPATCH + QMAP_NR_LEVELS, /* idle CPU at wakeup: no queue */
	QMAP_STAT_QUEUE_FULL,		/* level queue full: the task went to the shared DSQ directly */
	QMAP_STAT_TASK_GONE,		/* a popped pid no longer named a task (it exited) */
	QMAP_STAT_KICK_IDLE,		/* enqueue woke an idle CPU to come and dispatch */
	QMAP_NR_STATS,
};

#endif /* SCXLAB_QMAP_H */
