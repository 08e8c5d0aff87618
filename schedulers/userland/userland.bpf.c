/* SPDX-License-Identifier: GPL-2.0 */
/*
 * userland - the scheduling decisions are taken by an ordinary process in user space.
 *
 * Idea. BPF is a restricted place to write a scheduler in: bounded loops, no floating
 * point, no libraries, a verifier to please. Here BPF only ferries tasks: every runnable
 * task goes up to a user-space process (the loader, userland.c), which keeps them in a
 * min-heap ordered by virtual runtime and sends back the order in which they should run.
 * Any data structure or algorithm could replace the heap without touching BPF.
 *
 * The round trip:
 *  1. ops.select_cpu() places nothing (except the scheduler process, see below), so every
 *     wakeup reaches ops.enqueue().
 *  2. ops.enqueue() writes {pid, weight, CPU time used so far} to the to_user ring buffer
 *     (BPF_MAP_TYPE_RINGBUF). The task stays in BPF's custody, in no DSQ.
 *  3. The scheduler process sleeps in epoll on the ring buffer; the record wakes it. It
 *     charges each task the CPU time it used since it last came up, scaled by 100/weight,
 *     to its virtual runtime (a sleeper's vruntime is raised to at least the current
 *     minimum minus one slice, so sleeping earns a bounded head start), and pushes the
 *     pids with the lowest vruntime into the from_user queue (BPF_MAP_TYPE_QUEUE), keeping
 *     at most --batch decisions outstanding so that later arrivals can still overtake.
 *  4. ops.dispatch() on a CPU that ran dry pops decided pids, inserts the tasks into a
 *     FIFO DSQ in that order, takes the first it may run and kicks idle CPUs for the
 *     others. If the queue is empty while user space still holds tasks, it sends a wake
 *     record so that user space tops the queue up.
 *
 * The scheduler process must never wait for itself. Its threads (tgid = the loader's pid,
 * set by the loader) are never sent up: at wakeup they take an idle CPU if there is one,
 * otherwise they go to the head of their CPU's local DSQ and preempt what runs there.
 * Kernel threads are not sent up either: user space may need them to make progress
 * (writeback, workqueues), and they go to a FIFO DSQ served before the decided tasks.
 * If the ring buffer is full a task goes to the decided tasks' DSQ directly. All three
 * exceptions are counted.
 *
 * Example, one CPU, tasks A (nice 0, weight 100) and B (nice -5, weight about 305), both
 * CPU-bound with 20 ms slices: each time A runs 20 ms its vruntime grows by 20 ms, B's by
 * 20 * 100 / 305 = 6.6 ms. User space always sends the lower vruntime first, so B runs
 * about three slices for each of A's: the fair class's proportions, rebuilt in ordinary
 * C.
 *
 * Trade-offs:
 *  - Every scheduling decision costs two crossings and a wakeup of the scheduler process;
 *    under load that process competes for CPUs it preempts. Latency is that of a context
 *    switch at best.
 *  - Decisions are taken in batches: a task pushed to the queue keeps its place even if a
 *    task with a lower vruntime arrives just after (--batch bounds how many are committed).
 *  - If the process dies or hangs, its tasks are stuck until the kernel's watchdog ejects
 *    the scheduler; scxlab then marks the run invalid. Kernel threads keep running.
 *  - Like qmap, the decision queue holds pids, not references: a decision for a task that
 *    meanwhile left BPF's custody is ignored by the kernel.
 */
#include <scxlab.bpf.h>
#include "userland.h"

#define KTHREAD_DSQ	0	/* kernel threads, FIFO, served first */
#define DECIDED_DSQ	1	/* tasks in the order user space decided */
#define PF_KTHREAD	0x00200000	/* include/linux/sched.h */
#define MAX_POPS	16	/* decisions taken per dispatch call (the kernel's batch is 32) */

const volatile __s32 usersched_tgid;		/* the loader's pid, set by the loader */
const volatile __u64 slice_ns = SCX_SLICE_DFL;	/* --slice-us */

/* Written by user space, read here. */
volatile __u64 nr_user_pending;	/* tasks user space holds without a decision sent */
volatile __u64 wake_requested;	/* set here when a wake record was sent, cleared by user space */
/* Written here, read by user space: decisions popped, to know how many are outstanding. */
volatile __u64 nr_decisions_taken;

SCXLAB_STATS(USERLAND_NR_STATS);

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} to_user SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_QUEUE);
	__uint(max_entries, USERLAND_MAX_TASKS);
	__type(value, u32);	/* pid */
} from_user SEC(".maps");

static bool is_usersched(struct task_struct *p)
{
	return p->tgid == usersched_tgid;
}

s32 BPF_STRUCT_OPS(userland_select_cpu, struct task_struct *p, s32 prev_cpu, u64 wake_flags)
{
	bool is_idle = false;
	s32 cpu;

	if (!is_usersched(p))
		return prev_cpu;
	cpu = scx_bpf_select_cpu_dfl(p, prev_cpu, wake_flags, &is_idle);
	if (is_idle) {
		stat_inc(USERLAND_STAT_USERSCHED);
		scx_bpf_dsq_insert(p, SCX_DSQ_LOCAL, slice_ns, 0);
	}
	return cpu;
}

static void kick_idle_cpu(struct task_struct *p)
{
	s32 cpu = scx_bpf_pick_idle_cpu(p->cpus_ptr, 0);

	if (cpu >= 0) {
		stat_inc(USERLAND_STAT_KICK_IDLE);
		scx_bpf_kick_cpu(cpu, SCX_KICK_IDLE);
	}
}

void BPF_STRUCT_OPS(userland_enqueue, struct task_struct *p, u64 enq_flags)
{
	struct userland_msg *msg;

	if (is_usersched(p)) {
		stat_inc(USERLAND_STAT_USERSCHED);
		scx_bpf_dsq_insert(p, SCX_DSQ_LOCAL, slice_ns,
				   enq_flags | SCX_ENQ_HEAD | SCX_ENQ_PREEMPT);
		return;
	}
	if (p->flags & PF_KTHREAD) {
		stat_inc(USERLAND_STAT_KTHREAD);
		scx_bpf_dsq_insert(p, KTHREAD_DSQ, slice_ns, enq_flags);
		kick_idle_cpu(p);
		return;
	}

	msg = bpf_ringbuf_reserve(&to_user, sizeof(*msg), 0);
	if (!msg) {
		stat_inc(USERLAND_STAT_RING_FULL);
		scx_bpf_dsq_insert(p, DECIDED_DSQ, slice_ns, enq_flags);
		kick_idle_cpu(p);
		return;
	}
	msg->kind = USERLAND_MSG_TASK;
	msg->pid = p->pid;
	msg->weight = p->scx.weight;
	msg->pad = 0;
	msg->sum_exec_ns = p->se.sum_exec_runtime;
	bpf_ringbuf_submit(msg, 0);
	stat_inc(USERLAND_STAT_TO_USER);
}

static void request_more_decisions(void)
{
	struct userland_msg *msg;

	if (wake_requested)
		return;
	msg = bpf_ringbuf_reserve(&to_user, sizeof(*msg), 0);
	if (!msg)
		return;		/* the full ring buffer will wake user space anyway */
	msg->kind = USERLAND_MSG_WAKE;
	msg->pid = 0;
	msg->weight = 0;
	msg->pad = 0;
	msg->sum_exec_ns = 0;
	wake_requested = 1;
	stat_inc(USERLAND_STAT_WAKE_REQUEST);
	bpf_ringbuf_submit(msg, BPF_RB_FORCE_WAKEUP);
}

void BPF_STRUCT_OPS(userland_dispatch, s32 cpu, struct task_struct *prev)
{
	struct task_struct *p;
	bool queue_empty = false, first = true;
	u32 pid;

	if (scx_bpf_dsq_move_to_local(KTHREAD_DSQ))
		return;

	bpf_repeat(MAX_POPS) {
		if (bpf_map_pop_elem(&from_user, &pid)) {
			queue_empty = true;
			break;
		}
		__sync_fetch_and_add(&nr_decisions_taken, 1);
		p = bpf_task_from_pid(pid);
		if (!p) {
			stat_inc(USERLAND_STAT_TASK_GONE);
			continue;
		}
		stat_inc(USERLAND_STAT_FROM_USER);
		scx_bpf_dsq_insert(p, DECIDED_DSQ, slice_ns, 0);
		/*
		 * The first one is for this CPU; wake an idle CPU for each further one. (A
		 * flag, not a counter: the verifier must see the loop's states converge.)
		 */
		if (!first)
			kick_idle_cpu(p);
		first = false;
		bpf_task_release(p);
	}

	scx_bpf_dsq_move_to_local(DECIDED_DSQ);
	if (queue_empty && nr_user_pending)
		request_more_decisions();
}

s32 BPF_STRUCT_OPS_SLEEPABLE(userland_init)
{
	s32 err;

	err = scx_bpf_create_dsq(KTHREAD_DSQ, -1);
	if (err)
		return err;
	return scx_bpf_create_dsq(DECIDED_DSQ, -1);
}

void BPF_STRUCT_OPS(userland_exit, struct scx_exit_info *ei)
{
	scxlab_record_exit(ei);
}

SEC(".struct_ops.link")
struct sched_ext_ops userland_ops = {
	.select_cpu	= (void *)userland_select_cpu,
	.enqueue	= (void *)userland_enqueue,
	.dispatch	= (void *)userland_dispatch,
	.init		= (void *)userland_init,
	.exit		= (void *)userland_exit,
	.name		= "userland",
};
