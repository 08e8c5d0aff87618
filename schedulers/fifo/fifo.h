/* SPDX-License-Identifier: GPL-2.0 */
/* fifo.h - what fifo.bpf.c and its loader fifo.c share: the stat slots. */
#ifndef SCXLAB_FIFO_H
#define SCXLAB_FIFO_H

enum fifo_stat {
	FIFO_STAT_DIRECT_IDLE,		/* select_cpu found an idle CPU: straight to its local DSQ */
	FIFO_STAT_SHARED_INSERT,	/* enqueue appended the task to the shared queue */
	FIFO_STAT_DISPATCH,		/* dispatch moved the oldest shared task to a CPU */
	FIFO_NR_STATS,
};

#endif /* SCXLAB_FIFO_H */
