/* SPDX-License-Identifier: GPL-2.0 */
/* faulty.h - what faulty.bpf.c and its loader faulty.c share: fault modes and stat slots. */
#ifndef SCXLAB_FAULTY_H
#define SCXLAB_FAULTY_H

enum faulty_mode {
	FAULTY_NONE,		/* behave like fifo */
	FAULTY_ERROR,		/* call scxlab_error(): kind ERROR_BPF */
	FAULTY_STALL,		/* park user tasks in a DSQ nobody consumes: kind ERROR_STALL */
	FAULTY_BAD_CPU,		/* insert into SCX_DSQ_LOCAL_ON | <invalid CPU>: kind ERROR */
	FAULTY_HANG,		/* dispatch spins as long as BPF allows and dispatches nothing */
	FAULTY_NR_MODES,
};

enum faulty_stat {
	FAULTY_STAT_DIRECT_IDLE,	/* select_cpu found an idle CPU: straight to its local DSQ */
	FAULTY_STAT_SHARED_INSERT,	/* enqueue appended the task to the shared queue */
	FAULTY_STAT_DISPATCH,		/* dispatch moved the oldest shared task to a CPU */
	FAULTY_STAT_FAULT,		/* a faulty decision was made (error call, parked task, bad CPU, hung dispatch) */
	FAULTY_NR_STATS,
};

#endif /* SCXLAB_FAULTY_H */
