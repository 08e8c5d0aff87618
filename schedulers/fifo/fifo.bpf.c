/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fifo - one global first-in-first-out run queue for the whole machine.
 *
 * The simplest policy that still keeps every CPU busy, and scxlab's reference point for
 * what "no policy at all" costs and buys.
 *
 * A task that wakes up goes through ops.select_cpu() first. The kernel's default idle
 * selection (scx_bpf_select_cpu_dfl) prefers the task's previous CPU if that CPU is idle,
 * then any idle CPU sharing its cache, then any idle CPU. If it found an idle CPU the task
 * is inserted straight into that CPU's local DSQ: it runs as soon as the CPU wakes, and the
 * shared queue is never touched. Otherwise (all CPUs busy, or a task whose slice ran out
 * and stays runnable) ops.enqueue() appends it to one shared DSQ. Whenever a CPU runs out
 * of work, ops.dispatch() moves the oldest task of the shared DSQ to that CPU's local DSQ.
 * Every task gets the same slice (--slice-us, the kernel's 20 ms by default).
 *
 * Example, 2 CPUs busy with A and B, C then D wake up: both go to the shared queue in
 * that order. A's slice ends first: A is appended behind D and CPU0 picks C. When B's
 * slice ends CPU1 picks D, then A, then B: strict round robin in arrival order.
 *
 * Trade-offs:
 *  - No weights or nice levels: every runnable task gets equal turns, so a nice 19 batch
 *    job competes with an interactive one as an equal.
 *  - No preemption: a task that wakes while all CPUs are busy waits for the running
 *    slices to end (up to one slice times the queue length ahead of it). Latency-
 *    sensitive wakeups therefore suffer under load; short slices help at the price of
 *    more context switches.
 *  - One queue shared by all CPUs: locality is kept only at wakeup (select_cpu); a task
 *    taken from the shared queue runs on whichever CPU asked first, and the queue's lock
 *    is contended on machines with many CPUs. On the 2-vCPU guests scxlab uses, neither
 *    matters much, which is why FIFO makes a fair baseline there.
 *  - Work conserving: no CPU idles while the shared queue holds a task.
 */
#include <scxlab.bpf.h>
#include "fifo.h"

#define FIFO_SHARED_DSQ 0	/* user DSQ ids are anything without SCX_DSQ_FLAG_BUILTIN */

const volatile __u64 slice_ns = SCX_SLICE_DFL;	/* --slice-us */

SCXLAB_STATS(FIFO_NR_STATS);

s32 BPF_STRUCT_OPS(fifo_select_cpu, struct task_struct *p, s32 prev_cpu, u64 wake_flags)
{
	bool is_idle = false;
	s32 cpu;

	cpu = scx_bpf_select_cpu_dfl(p, prev_cpu, wake_flags, &is_idle);
	if (is_idle) {
		/* An insert from select_cpu skips ops.enqueue() for this wakeup. */
		stat_inc(FIFO_STAT_DIRECT_IDLE);
		scx_bpf_dsq_insert(p, SCX_DSQ_LOCAL, slice_ns, 0);
	}
	return cpu;
}

void BPF_STRUCT_OPS(fifo_enqueue, struct task_struct *p, u64 enq_flags)
{
	stat_inc(FIFO_STAT_SHARED_INSERT);
	scx_bpf_dsq_insert(p, FIFO_SHARED_DSQ, slice_ns, enq_flags);
}

void BPF_STRUCT_OPS(fifo_dispatch, s32 cpu, struct task_struct *prev)
{
	if (scx_bpf_dsq_move_to_local(FIFO_SHARED_DSQ))
		stat_inc(FIFO_STAT_DISPATCH);
}

/* Sleepable: creating a DSQ allocates memory. */
s32 BPF_STRUCT_OPS_SLEEPABLE(fifo_init)
{
	return scx_bpf_create_dsq(FIFO_SHARED_DSQ, -1);
}

void BPF_STRUCT_OPS(fifo_exit, struct scx_exit_info *ei)
{
	scxlab_record_exit(ei);
}

SEC(".struct_ops.link")
struct sched_ext_ops fifo_ops = {
	.select_cpu	= (void *)fifo_select_cpu,
	.enqueue	= (void *)fifo_enqueue,
	.dispatch	= (void *)fifo_dispatch,
	.init		= (void *)fifo_init,
	.exit		= (void *)fifo_exit,
	.name		= "fifo",
};
