/* SPDX-License-Identifier: GPL-2.0 */
/* mlyield.h - what mlyield.bpf.c and its loader mlyield.c share: modes, stats, trace records. */
#ifndef SCXLAB_MLYIELD_H
#define SCXLAB_MLYIELD_H

#include "mlyield_nn.h"

enum mly_mode {
	MLY_MODE_PREDICT,		/* keep on the busy previous CPU iff the model says its task yields soon */
	MLY_MODE_ALWAYS_MIGRATE,	/* ablation: predictor ignored, always take the idle CPU */
	MLY_MODE_NEVER_MIGRATE,		/* ablation: predictor ignored, always wait for the previous CPU */
	MLY_MODE_TRACE,			/* always-migrate placement + trace records to user space */
	MLY_NR_MODES,
};

enum mly_stat {
	MLY_STAT_PREV_IDLE,		/* previous CPU idle: the task stays there, nothing to decide */
	MLY_STAT_NO_IDLE,		/* no idle CPU: shared queue, nothing to decide */
	MLY_STAT_AFFINITY,		/* previous CPU not allowed any more: default idle selection */
	MLY_STAT_DECIDE_KEEP,		/* decision: wait on the busy previous CPU */
	MLY_STAT_DECIDE_MIGRATE,	/* decision: move to an idle CPU */
	MLY_STAT_MIGRATE_RACED,		/* decided to migrate but the idle CPU was taken meanwhile */
	MLY_STAT_NO_INCUMBENT,		/* previous CPU busy, but the task running there was unknown */
	MLY_STAT_PRED_YIELD,		/* wakeup with a busy previous CPU: predicted its task yields soon */
	MLY_STAT_PRED_STAY,		/* ... predicted it does not */
	MLY_STAT_SHARED_INSERT,		/* enqueue put the task on the shared queue */
	MLY_STAT_DISPATCH,		/* dispatch moved a shared task to a CPU */
	MLY_STAT_ONLINE_TP,		/* online check at the incumbent's next stop: predicted yield, yielded */
	MLY_STAT_ONLINE_FP,		/* predicted yield, did not */
	MLY_STAT_ONLINE_TN,		/* predicted no yield, did not */
	MLY_STAT_ONLINE_FN,		/* predicted no yield, yielded */
	MLY_STAT_ONLINE_LOST,		/* the stop that decides the outcome was missed (race) */
	MLY_STAT_ONLINE_UNCHECKED,	/* no free slot on the incumbent: prediction not scored */
	MLY_STAT_TRACE_DECISIONS,	/* wakeup records sent to user space */
	MLY_STAT_TRACE_STOPS,		/* stop records sent to user space */
	MLY_STAT_TRACE_DROPPED,		/* records lost because the ring buffer was full */
	MLY_NR_STATS,
};

enum mly_rec_type {
	MLY_REC_DECISION = 1,
	MLY_REC_STOP = 2,
};

#define MLY_COMM_LEN 16

/*
 * A wakeup of task `wakee` whose previous CPU was running `incumbent`; with idle_available it
 * was a keep-or-migrate decision, without it the task queued anyway (recorded too: the
 * question "does the incumbent block soon?" is the same, and decision points alone are rare
 * when the workload keeps every CPU busy). The label is not known yet: it comes from the
 * incumbent's next stop (struct mly_rec_stop with seq == inc_seq + 1).
 */
struct mly_rec_decision {
	__u32 type;			/* MLY_REC_DECISION */
	__u32 cpu;			/* CPU that ran ops.select_cpu */
	__u64 ts_ns;			/* bpf_ktime_get_ns() (CLOCK_MONOTONIC) at the decision */
	__s32 prev_cpu;
	__s32 wakee_pid;
	__s32 inc_pid;
	__u32 inc_seq;			/* the incumbent's stop count at the decision */
	__u64 wake_flags;
	__u64 inc_ran_ns;		/* how long the incumbent had been running */
	__u32 inc_nr_syscalls;
	__u32 inc_is_waker;		/* the incumbent is the task doing the wakeup */
	__s64 logit;			/* the loaded model's fixed-point logit for x */
	__u32 pred;			/* logit > threshold */
	__u32 idle_available;		/* another CPU was idle: a real keep-or-migrate decision */
	char wakee_comm[MLY_COMM_LEN];
	char inc_comm[MLY_COMM_LEN];
	__u16 x[MLY_NR_FEATURES];	/* the incumbent's features (Q8) */
};

/* A stop of a task that some traced decision is waiting on. */
struct mly_rec_stop {
	__u32 type;			/* MLY_REC_STOP */
	__u32 voluntary;		/* 1: it stopped because it blocked (not runnable any more) */
	__u64 ts_ns;
	__s32 pid;
	__u32 seq;			/* its stop count after this stop */
};

#endif /* SCXLAB_MLYIELD_H */
