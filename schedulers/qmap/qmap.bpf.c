/* SPDX-License-Identifier: GPL-2.0 */
/*
 * qmap - five priority levels held in BPF queue maps, served by weighted round robin.
 *
 * The point of this policy is to show that the scheduler's queues do not have to be the
 * kernel's dispatch queues (DSQs): any BPF data structure will do, as long as every
 * runnable task that the kernel hands to ops.enqueue() eventually comes back through
 * ops.dispatch(). Here the structure is five BPF_MAP_TYPE_QUEUE maps of pids, one per
 * priority level, and the dispatch order is decided entirely in BPF.
 *
 * Level. A task's level comes from its sched_ext weight (p->scx.weight, 100 at nice 0,
 * from 1 at nice 19 to 10000 at nice -20, proportional to the fair class's load weight):
 *
 *	level 0: weight < 10          nice 11..19   background
 *	level 1: 10 <= weight < 50    nice 4..10
 *	level 2: 50 <= weight < 200   nice -3..3    (every default task)
 *	level 3: 200 <= weight < 1000 nice -10..-4
 *	level 4: weight >= 1000       nice -20..-11
 *
 * Path of a task. At wakeup ops.select_cpu() asks the kernel's default idle selection for
 * a CPU; if that CPU is idle the task goes straight to its local DSQ and never touches a
 * queue (no contention, so priority does not matter). Otherwise ops.enqueue() pushes the
 * pid on the queue of the task's level and, if some CPU the task may use is idle, kicks
 * that CPU so that it comes to dispatch. ops.dispatch() on a CPU that ran out of work pops
 * pids, turns each back into a task (bpf_task_from_pid), inserts it into one shared FIFO
 * DSQ and asks the kernel to move the first task of that DSQ this CPU may run into its
 * local DSQ. The shared DSQ is the hand-off that respects CPU affinity: a popped task
 * that may not run here stays there for another CPU.
 *
 * Weighted round robin. Each CPU keeps its own position in a round. A round serves
 * level 4 first with up to 2^4 = 16 dispatches, then level 3 with up to 8, level 2 with
 * 4, level 1 with 2 and level 0 with 1, then starts again. A level whose queue is empty
 * loses the rest of its turn. Example, one CPU, queues A (level 4, 40 tasks),
 * B (level 2, 10 tasks), C (level 0, 3 tasks), all CPU-bound: a round dispatches
 * 16 A, 4 B, 1 C, so while everyone stays runnable A gets 16/21 of the dispatches,
 * B 4/21, C 1/21 - about 76%, 19% and 5% of the CPU with equal slices. Nobody starves:
 * level 0 gets at least one dispatch per round of at most 31.
 *
 * Trade-offs:
 *  - Shares follow the level, not the exact weight: nice 0 and nice 3 are the same, and
 *    a level's share depends on what else is queued (with only one level queued it gets
 *    everything), unlike the fair class's proportional shares.
 *  - The counts are per CPU and per dispatch, not per CPU time: a level 4 task that
 *    sleeps after 1 ms costs the same credit as one that uses its whole slice.
 *  - A queue of pids cannot drop an entry: when the kernel takes a queued task back
 *    (affinity or nice change, cgroup move) and enqueues it again, the old pid stays in
 *    the queue beside the new one. What popping the stale entry does depends on where the
 *    task is then. The kernel checks a dispatched task's queue sequence number between
 *    the insert in ops.dispatch and the moment it acts on it, not against the enqueue
 *    the entry came from: a task that is no longer waiting for us (running, asleep,
 *    already dispatched) is ignored, and the pop only spends one credit of that level;
 *    but a task that is queued with us again is dispatched by the stale entry, ahead of
 *    its new one and at the old entry's level (e.g. before its nice change took effect),
 *    and its new entry is then the stale one. Either way no task is lost or run twice.
 *  - No preemption: a level 4 task that wakes while all CPUs are busy waits for a slice
 *    to end. --slice-us bounds that wait.
 *  - The queues hold QMAP_QUEUE_DEPTH pids each; a task that finds its queue full goes to
 *    the shared DSQ directly (counted as queue_full), which is FIFO and ahead of the
 *    levels.
 */
#include <scxlab.bpf.h>
#include "qmap.h"

#define QMAP_SHARED_DSQ		0
#define QMAP_QUEUE_DEPTH	8192	/* pids per level; pid_max in the guest is far above */
#define QMAP_MAX_POPS		16	/* pops per dispatch call, below the kernel's batch of 32 */

const volatile __u64 slice_ns = SCX_SLICE_DFL;	/* --slice-us */

SCXLAB_STATS(QMAP_NR_STATS);

struct level_queue {
	__uint(type, BPF_MAP_TYPE_QUEUE);
	__uint(max_entries, QMAP_QUEUE_DEPTH);
	__type(value, u32);	/* pid */
};

struct level_queue queue0 SEC(".maps"), queue1 SEC(".maps"), queue2 SEC(".maps"),
		   queue3 SEC(".maps"), queue4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, QMAP_NR_LEVELS);
	__type(key, u32);
	__array(values, struct level_queue);
} level_queues SEC(".maps") = {
	.values = { &queue0, &queue1, &queue2, &queue3, &queue4 },
};

/* Where this CPU is in its weighted round: the level being served and its credit left. */
struct round {
	u32 level;
	u32 credit;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct round);
} rounds SEC(".maps");

static u32 weight_to_level(u32 weight)
{
	if (weight < 10)
		return 0;
	if (weight < 50)
		return 1;
	if (weight < 200)
		return 2;
	if (weight < 1000)
		return 3;
	return 4;
}

static void *level_queue(u32 level)
{
	void *q = bpf_map_lookup_elem(&level_queues, &level);

	if (!q)
		scxlab_error("qmap: no queue for level %u", level);
	return q;
}

s32 BPF_STRUCT_OPS(qmap_select_cpu, struct task_struct *p, s32 prev_cpu, u64 wake_flags)
{
	bool is_idle = false;
	s32 cpu;

	cpu = scx_bpf_select_cpu_dfl(p, prev_cpu, wake_flags, &is_idle);
	if (is_idle) {
		stat_inc(QMAP_STAT_DIRECT_IDLE);
		scx_bpf_dsq_insert(p, SCX_DSQ_LOCAL, slice_ns, 0);
	}
	return cpu;
}

void BPF_STRUCT_OPS(qmap_enqueue, struct task_struct *p, u64 enq_flags)
{
	u32 level = weight_to_level(p->scx.weight), pid = p->pid;
	void *q = level_queue(level);
	s32 cpu;

	if (!q)
		return;
	if (bpf_map_push_elem(q, &pid, 0)) {
		stat_inc(QMAP_STAT_QUEUE_FULL);
		scx_bpf_dsq_insert(p, QMAP_SHARED_DSQ, slice_ns, enq_flags);
	} else {
		stat_inc(QMAP_STAT_ENQUEUE + level);
	}

	/*
	 * A task pushed while some CPU idles would otherwise wait for a busy CPU's slice to
	 * end: an idle CPU only comes to ops.dispatch() when something wakes it.
	 */
	cpu = scx_bpf_pick_idle_cpu(p->cpus_ptr, 0);
	if (cpu >= 0) {
		stat_inc(QMAP_STAT_KICK_IDLE);
		scx_bpf_kick_cpu(cpu, SCX_KICK_IDLE);
	}
}

void BPF_STRUCT_OPS(qmap_dispatch, s32 cpu, struct task_struct *prev)
{
	struct task_struct *p;
	struct round *r;
	u32 key = 0, empty_in_a_row = 0, pid;
	void *q;

	/* Tasks already handed over but not taken yet (other CPU's affinity, full queues). */
	if (scx_bpf_dsq_move_to_local(QMAP_SHARED_DSQ))
		return;

	r = bpf_map_lookup_elem(&rounds, &key);
	if (!r)
		return;

	bpf_repeat(QMAP_MAX_POPS) {
		u32 level;

		if (!r->credit) {
			/* Next level down; after level 0 a new round starts at the top. */
			r->level = r->level ? r->level - 1 : QMAP_NR_LEVELS - 1;
			r->credit = 1U << r->level;
		}
		level = r->level;
		if (level >= QMAP_NR_LEVELS)
			break;
		q = level_queue(level);
		if (!q)
			break;
		if (bpf_map_pop_elem(q, &pid)) {
			r->credit = 0;		/* an empty level forfeits its turn */
			if (++empty_in_a_row >= QMAP_NR_LEVELS)
				break;		/* every queue is empty */
			continue;
		}
		empty_in_a_row = 0;
		r->credit--;

		p = bpf_task_from_pid(pid);
		if (!p) {
			stat_inc(QMAP_STAT_TASK_GONE);
			continue;
		}
		stat_inc(QMAP_STAT_DISPATCH + level);
		scx_bpf_dsq_insert(p, QMAP_SHARED_DSQ, slice_ns, 0);
		bpf_task_release(p);

		/* Flushes the insert above, then takes the first task this CPU may run. */
		if (scx_bpf_dsq_move_to_local(QMAP_SHARED_DSQ))
			return;
	}
}

s32 BPF_STRUCT_OPS_SLEEPABLE(qmap_init)
{
	return scx_bpf_create_dsq(QMAP_SHARED_DSQ, -1);
}

void BPF_STRUCT_OPS(qmap_exit, struct scx_exit_info *ei)
{
	scxlab_record_exit(ei);
}

SEC(".struct_ops.link")
struct sched_ext_ops qmap_ops = {
	.select_cpu	= (void *)qmap_select_cpu,
	.enqueue	= (void *)qmap_enqueue,
	.dispatch	= (void *)qmap_dispatch,
	.init		= (void *)qmap_init,
	.exit		= (void *)qmap_exit,
	.name		= "qmap",
};
