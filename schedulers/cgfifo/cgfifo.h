/* SPDX-License-Identifier: GPL-2.0 */
/* cgfifo.h - what cgfifo.bpf.c and its loader cgfifo.c share: limits and the stat slots. */
#ifndef SCXLAB_CGFIFO_H
#define SCXLAB_CGFIFO_H

#include "cgfifo_tree.h"

/* cgroups (with the cpu controller) the policy can track at once; one more fails to create. */
#define CGFIFO_MAX_CGROUPS	1024

enum cgfifo_slot_state { SLOT_FREE, SLOT_INIT, SLOT_LIVE };

/* One cgroup: an entry of the policy's global array cgs[] (the loader sees it in .bss). */
struct cgfifo_cg {
	__u64 cgid;		/* the cgroup's id, also the id of its DSQ */
	__u64 cvtime;		/* virtual time: CPU used, scaled by 100% / share */
	__u64 state;		/* enum cgfifo_slot_state (64 bits: BPF's cmpxchg without -mcpu=v3) */
	__u32 weight;		/* its cpu.weight */
	__u32 active_sum;	/* weights of its active children + SELF_WEIGHT if own tasks run */
	__u32 nr_runnable;	/* its own runnable tasks (running ones included) */
	__u32 level;		/* 0 for the root */
	__u16 anc[CGFIFO_MAX_DEPTH + 1];	/* slot of its ancestor at each level; anc[level]: itself */
};

enum cgfifo_stat {
	CGFIFO_STAT_DIRECT_IDLE,	/* select_cpu found an idle CPU: straight to its local DSQ */
	CGFIFO_STAT_ENQUEUE,		/* enqueue appended the task to its cgroup's FIFO */
	CGFIFO_STAT_KICK_IDLE,		/* enqueue woke an idle CPU to come and take it */
	CGFIFO_STAT_DISPATCH,		/* dispatch served the cgroup with the lowest cvtime */
	CGFIFO_STAT_DISPATCH_OTHER,	/* ... that one had nothing for this CPU: another cgroup served */
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
	CGFIFO_NR_STATS,
};

#endif /* SCXLAB_CGFIFO_H */
