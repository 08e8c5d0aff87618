/* SPDX-License-Identifier: GPL-2.0 */
/* userland.h - what userland.bpf.c and its loader userland.c share: messages and stats. */
#ifndef SCXLAB_USERLAND_H
#define SCXLAB_USERLAND_H

#define USERLAND_MAX_TASKS	8192	/* depth of the decision queue (user space -> BPF) */

enum userland_msg_kind {
	USERLAND_MSG_TASK = 1,	/* a task became runnable and waits for a decision */
	USERLAND_MSG_WAKE,	/* a CPU ran out of decisions while user space holds tasks */
};

/* One record of the to_user ring buffer (BPF -> user space). */
struct userland_msg {
	__u32 kind;		/* enum userland_msg_kind */
	__u32 pid;
	__u32 weight;		/* p->scx.weight: 100 at nice 0 */
	__u32 pad;
	__u64 sum_exec_ns;	/* p->se.sum_exec_runtime: CPU time used so far */
};

enum userland_stat {
	USERLAND_STAT_TO_USER,		/* task handed to user space */
	USERLAND_STAT_FROM_USER,	/* task dispatched in the order user space decided */
	USERLAND_STAT_USERSCHED,	/* the user-space scheduler itself, placed by BPF directly */
	USERLAND_STAT_KTHREAD,		/* kernel thread, placed by BPF directly (FIFO) */
	USERLAND_STAT_RING_FULL,	/* ring buffer full: task placed by BPF directly (FIFO) */
	USERLAND_STAT_TASK_GONE,	/* a decided pid no longer named a task (it exited) */
	USERLAND_STAT_WAKE_REQUEST,	/* BPF asked user space for more decisions */
	USERLAND_STAT_KICK_IDLE,	/* dispatch woke an idle CPU for a decided task */
	USERLAND_NR_STATS,
};

#endif /* SCXLAB_USERLAND_H */
