/* SPDX-License-Identifier: GPL-2.0 */
/* central.h - what central.bpf.c and its loader central.c share: limits and stat slots. */
#ifndef SCXLAB_CENTRAL_H
#define SCXLAB_CENTRAL_H

#define CENTRAL_MAX_CPUS	256	/* size of the per-CPU state arrays; the loader checks */

enum central_stat {
	/* decisions taken on the central CPU */
	CENTRAL_STAT_DISPATCH_WORKER,	/* central's ops.dispatch gave a waiting CPU a task */
	CENTRAL_STAT_DISPATCH_SELF,	/* central's ops.dispatch took a task for itself */
	CENTRAL_STAT_TIMER_SERVE,	/* the timer gave a waiting CPU a task */
	CENTRAL_STAT_TIMER_PREEMPT,	/* the timer replaced a task that had used its slice */
	/* decisions taken elsewhere */
	CENTRAL_STAT_LOCAL_KTHREAD,	/* per-CPU kthread queued on its own CPU, preempting */
	CENTRAL_STAT_LOCAL_REQUEUE,	/* task preempted early (by such a kthread) kept its CPU */
	CENTRAL_STAT_FALLBACK_KEEP,	/* CPU had nothing new; the kernel let its task go on */
	/* traffic */
	CENTRAL_STAT_ENQUEUE,		/* task appended to the central queue */
	CENTRAL_STAT_WORKER_REQUEST,	/* a CPU ran dry and asked the central CPU for work */
	CENTRAL_STAT_TIMER_RUNS,	/* timer callbacks */
	CENTRAL_STAT_TIMER_OFF_CENTRAL,	/* timer callbacks that ran on another CPU than central */
	CENTRAL_NR_STATS,
};

#endif /* SCXLAB_CENTRAL_H */
