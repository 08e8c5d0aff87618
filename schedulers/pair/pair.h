/* SPDX-License-Identifier: GPL-2.0 */
/* pair.h - what pair.bpf.c and its loader pair.c share: limits, CPU layout and stat slots. */
#ifndef SCXLAB_PAIR_H
#define SCXLAB_PAIR_H

#define PAIR_MAX_CPUS	256
#define PAIR_MAX_CGROUPS 4096	/* cgroups with a queue at a time */

/* Value of the cpu_pair map (key: CPU), filled by the loader from the CPU topology. */
struct pair_cpu {
	__u32 pair;	/* index of the core (sibling pair), 0..nr_pairs-1 */
	__u32 slot;	/* 0 or 1: this CPU's place in the pair */
	__s32 sibling;	/* the other hardware thread of the core */
	__u32 pad;
};

enum pair_stat {
	PAIR_STAT_ENQUEUE,		/* task appended to its cgroup's queue */
	PAIR_STAT_DISPATCH,		/* CPU took a task of its pair's cgroup */
	PAIR_STAT_SWITCH,		/* a pair took on a different cgroup */
	PAIR_STAT_IDLE_MISMATCH,	/* CPU idled: its pair's cgroup had nothing for it, others waited */
	PAIR_STAT_IDLE_DRAIN,		/* CPU idled until its sibling finished the outgoing cgroup */
	PAIR_STAT_IDLE_WAIT,		/* CPU waited for its sibling's switch to take effect */
	PAIR_STAT_IDLE_EMPTY,		/* CPU idled: no cgroup had anything queued */
	PAIR_STAT_DRAIN_KICK,		/* sibling preempted so that the pair can switch */
	PAIR_STAT_REENQUEUE,		/* a higher class took a CPU: its local DSQ went back to BPF */
	PAIR_STAT_CGROUP_UNKNOWN,	/* task of a cgroup without a queue: queued as the root's */
	PAIR_STAT_CONFLICT,		/* self-check: siblings started tasks of different cgroups */
	PAIR_STAT_TIMER_REQUEUE,	/* safety timer found a cgroup with work nobody would serve */
	PAIR_STAT_TIMER_KICK,		/* safety timer woke an idle CPU that had work to look at */
	PAIR_NR_STATS,
};

#endif /* SCXLAB_PAIR_H */
