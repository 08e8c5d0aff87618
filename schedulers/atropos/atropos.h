/* SPDX-License-Identifier: GPL-2.0 */
/* atropos.h - what atropos.bpf.c and its loader atropos.c share: limits, map values, stats. */
#ifndef SCXLAB_ATROPOS_H
#define SCXLAB_ATROPOS_H

#define ATROPOS_MAX_CPUS	256
#define ATROPOS_MAX_DOMAINS	8
#define ATROPOS_MAX_TASKS	32768	/* entries of the per-task maps */

/*
 * Value of the task_load map (key: pid), written by BPF only. Runnable time is what the
 * balancer calls load: time spent running or waiting to run, so a queue that is too long
 * shows up even when its CPUs are all busy.
 */
struct atropos_task_load {
	__u64 runnable_ns;	/* total over finished runnable periods */
	__u64 runnable_since;	/* start of the current runnable period (CLOCK_MONOTONIC ns), 0: asleep */
	__u32 dom;		/* domain the task was last queued in */
	__u32 pad;
};

enum atropos_stat {
	ATROPOS_STAT_DIRECT_IDLE,	/* wakeup found an idle CPU of the task's domain */
	ATROPOS_STAT_ENQUEUE,		/* task appended to its domain's queue */
	ATROPOS_STAT_DISPATCH_OWN,	/* CPU took a task from its own domain */
	ATROPOS_STAT_DISPATCH_STEAL,	/* CPU's domain was empty: took one from another domain */
	ATROPOS_STAT_NEW_TASK,		/* first enqueue: task put in the domain it is in */
	ATROPOS_STAT_MIGRATED,		/* task queued in a new domain the balancer chose */
	ATROPOS_STAT_AFFINITY_FIX,	/* task's domain had no CPU it may use: moved by BPF */
	ATROPOS_STAT_KICK_IDLE,		/* enqueue woke an idle CPU of the domain */
	ATROPOS_NR_STATS,
};

#endif /* SCXLAB_ATROPOS_H */
