/* SPDX-License-Identifier: GPL-2.0 */
/*
 * central - one CPU takes every scheduling decision for the whole machine.
 *
 * Idea. Scheduling work (picking the next task, expiring slices) normally happens on every
 * CPU, interleaved with the applications. Here one CPU, the central CPU (--central-cpu,
 * default 0), does it for all of them, so that the others (the workers) only run tasks:
 * no tick-driven slice expiry, no policy code on their path beyond "ask the central CPU".
 * The price is latency and a central bottleneck; the gain is quiet workers and one place
 * that sees the whole machine.
 *
 * Path of a task:
 *  1. Wakeup: ops.select_cpu() only returns the previous CPU and inserts nothing, so that
 *     every task passes through ops.enqueue() (without select_cpu the kernel would place
 *     tasks on idle CPUs itself).
 *  2. ops.enqueue() appends the task to one central FIFO DSQ. If a worker is waiting for
 *     work, or the central CPU idles, it kicks the central CPU (SCX_KICK_PREEMPT: its own
 *     task, if any, is interrupted so that it decides now).
 *  3. A worker that runs dry reaches ops.dispatch(). It takes nothing itself: it marks
 *     itself as waiting and kicks the central CPU.
 *  4. The central CPU's ops.dispatch() walks the waiting workers, moves for each the first
 *     queued task allowed on it into that worker's local DSQ (SCX_DSQ_LOCAL_ON | cpu) and
 *     kicks it awake; then it takes the next task for itself.
 *  5. Tasks on workers run with an infinite slice (SCX_SLICE_INF): the kernel's tick does
 *     not expire them (with nohz_full on the kernel command line the tick stops entirely;
 *     scxlab's guests do not set it, so the tick still fires but never preempts). Instead
 *     a BPF timer on the central CPU (every --timer-us) looks at every worker: a worker
 *     still waiting gets a task (in case the central CPU was busy), and a worker whose task
 *     has run for --slice-us while tasks it may run are queued gets the next one with
 *     SCX_ENQ_PREEMPT, which preempts the running task; that one goes back to the tail of
 *     the central queue. A worker whose local DSQ holds a task (a kthread, see below)
 *     behind a task past its slice is kicked with SCX_KICK_PREEMPT.
 *  6. The central CPU's own tasks get a finite slice (--slice-us), so that the central CPU
 *     comes back to ops.dispatch() regularly even if nobody kicks it. It must: if it ran a
 *     task with an infinite slice nobody would schedule the workers any more.
 *
 * Exceptions, decided on the CPU itself ("local" in the stats):
 *  - Per-CPU kernel threads (ksoftirqd/N, kworker/N:M, ...) can only run on their CPU and
 *    often hold up others (I/O completion, RCU, workqueues). Waiting for the central CPU
 *    and then for the slice of a CPU hog could starve them, so they go straight to the
 *    head of their CPU's local DSQ with SCX_ENQ_PREEMPT.
 *  - The task such a kthread preempted has not used its slice: it is put back on its own
 *    CPU's local DSQ behind the kthread instead of losing the CPU to the central queue. A
 *    central-CPU task interrupted by a kick goes to the head of the central queue.
 *  - When a worker runs dry while its previous task is still runnable (it yielded), the
 *    kernel lets that task go on with the default slice ("fallback_keep").
 *
 * Example, 4 CPUs, central = 0, tasks A..F CPU-bound, slice 20 ms, timer 2 ms: CPUs 1-3
 * ask for work, CPU 0 hands out A, B, C and runs D itself with a 20 ms slice; E and F
 * wait in the central queue. At the first tick of the timer after 20 ms, A, B and C are
 * past their slice: E replaces A on CPU 1 and F replaces B on CPU 2, with preemption, and
 * A and B go to the tail of the queue; at the next tick A replaces C. D's own slice ends
 * on CPU 0, which takes the head of the queue for itself. The workers decided nothing.
 *
 * Trade-offs:
 *  - Every placement waits for the central CPU: a kick, a context switch into its
 *    scheduler path and an IPI back. Wakeup latency rises, and throughput is capped by
 *    how fast one CPU can decide. Fine for a few CPUs, a bottleneck for hundreds.
 *  - The central CPU's own tasks are interrupted whenever a worker runs dry.
 *  - Slices are enforced at the timer's granularity (--timer-us), not the tick's.
 *  - Strict FIFO over the whole machine: no weights, no locality (a task goes to whichever
 *    worker asks first).
 *  - The timer is armed pinned (BPF_F_TIMER_CPU_PIN) on the CPU that runs ops.init; the
 *    loader moves itself to the central CPU first. If the kernel ran ops.init elsewhere,
 *    "timer_off_central" counts the callbacks that did not run on the central CPU. They
 *    still work, the decisions are just not all taken on one CPU then.
 */
#include <scxlab.bpf.h>
#include "central.h"

#define CENTRAL_DSQ		0
#define CLOCK_MONOTONIC		1	/* include/uapi/linux/time.h; #defines are not in BTF */
#define PF_KTHREAD		0x00200000	/* include/linux/sched.h */
#define ESRCH			3		/* include/uapi/asm-generic/errno-base.h */
#define ENOMEM			12

const volatile __s32 central_cpu;			/* --central-cpu */
const volatile __u32 nr_cpus = 1;			/* possible CPUs, set by the loader */
const volatile __u64 slice_ns = SCX_SLICE_DFL;	/* --slice-us */
const volatile __u64 timer_ns = 2000000;		/* --timer-us */

SCXLAB_STATS(CENTRAL_NR_STATS);

/* Per CPU: when its current task started (0: none), and since when it waits for work. */
struct cpu_state {
	u64 run_start;
	u64 waiting_since;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, CENTRAL_MAX_CPUS);
	__type(key, u32);
	__type(value, struct cpu_state);
} cpu_states SEC(".maps");

/* Per task: when it last started running, kept until ops.enqueue() has judged whether a
 * preemption came early (0 once judged or when it went to sleep). */
struct task_ctx {
	u64 started;
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct task_ctx);
} task_ctxs SEC(".maps");

struct central_timer {
	struct bpf_timer timer;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct central_timer);
} central_timer SEC(".maps");

/* NULL for a CPU out of range. */
static struct cpu_state *cpu_state(s32 cpu)
{
	u32 key = cpu;

	return bpf_map_lookup_elem(&cpu_states, &key);
}

static bool is_worker(s32 cpu)
{
	return cpu >= 0 && cpu < nr_cpus && cpu < CENTRAL_MAX_CPUS && cpu != central_cpu;
}

/*
 * Move the first queued task that may run on @cpu into @cpu's local DSQ. Runs on the
 * central CPU, from ops.dispatch() or the timer; both may move tasks between DSQs.
 */
static bool give_task(s32 cpu, u64 enq_flags)
{
	struct task_struct *p;

	bpf_for_each(scx_dsq, p, CENTRAL_DSQ, 0) {
		if (!bpf_cpumask_test_cpu(cpu, p->cpus_ptr))
			continue;
		scx_bpf_dsq_move_set_slice(&___it, SCX_SLICE_INF);
		if (scx_bpf_dsq_move(&___it, p, SCX_DSQ_LOCAL_ON | cpu, enq_flags))
			return true;
	}
	return false;
}

s32 BPF_STRUCT_OPS(central_select_cpu, struct task_struct *p, s32 prev_cpu, u64 wake_flags)
{
	return prev_cpu;
}

void BPF_STRUCT_OPS(central_enqueue, struct task_struct *p, u64 enq_flags)
{
	s32 cpu = scx_bpf_task_cpu(p), i;
	bool early = false, want_central = false;
	struct task_ctx *tctx;
	struct cpu_state *cs;

	if ((p->flags & PF_KTHREAD) && p->nr_cpus_allowed == 1) {
		stat_inc(CENTRAL_STAT_LOCAL_KTHREAD);
		scx_bpf_dsq_insert(p, SCX_DSQ_LOCAL, slice_ns, enq_flags | SCX_ENQ_PREEMPT);
		return;
	}

	/* Was the task just taken off its CPU before using its slice? */
	tctx = bpf_task_storage_get(&task_ctxs, p, 0, 0);
	if (tctx) {
		early = tctx->started && bpf_ktime_get_ns() - tctx->started < slice_ns;
		tctx->started = 0;
	}
	if (early && is_worker(cpu)) {
		stat_inc(CENTRAL_STAT_LOCAL_REQUEUE);
		scx_bpf_dsq_insert(p, SCX_DSQ_LOCAL, SCX_SLICE_INF, enq_flags);
		return;
	}

	stat_inc(CENTRAL_STAT_ENQUEUE);
	scx_bpf_dsq_insert(p, CENTRAL_DSQ, slice_ns, enq_flags | (early ? SCX_ENQ_HEAD : 0));

	cs = cpu_state(central_cpu);
	if (cs && !cs->run_start) {
		scx_bpf_kick_cpu(central_cpu, SCX_KICK_IDLE);
		return;
	}
	bpf_for(i, 0, nr_cpus) {
		cs = cpu_state(i);
		if (is_worker(i) && cs && cs->waiting_since) {
			want_central = true;
			break;
		}
	}
	if (want_central)
		scx_bpf_kick_cpu(central_cpu, SCX_KICK_PREEMPT);
}

static void central_cpu_dispatch(void)
{
	struct cpu_state *cs;
	s32 cpu;

	bpf_for(cpu, 0, nr_cpus) {
		cs = cpu_state(cpu);
		if (!is_worker(cpu) || !cs || !cs->waiting_since)
			continue;
		if (!give_task(cpu, 0))
			continue;
		cs->waiting_since = 0;
		stat_inc(CENTRAL_STAT_DISPATCH_WORKER);
		scx_bpf_kick_cpu(cpu, SCX_KICK_IDLE);
	}
	if (scx_bpf_dsq_move_to_local(CENTRAL_DSQ))
		stat_inc(CENTRAL_STAT_DISPATCH_SELF);
}

void BPF_STRUCT_OPS(central_dispatch, s32 cpu, struct task_struct *prev)
{
	struct cpu_state *cs;

	if (cpu == central_cpu) {
		central_cpu_dispatch();
		return;
	}
	cs = cpu_state(cpu);
	if (!is_worker(cpu) || !cs)
		return;
	if (prev && (prev->scx.flags & SCX_TASK_QUEUED)) {
		/* Nothing was put on our local DSQ and prev still wants to run: the kernel
		 * keeps it. Asking for a replacement would only preempt it again. */
		stat_inc(CENTRAL_STAT_FALLBACK_KEEP);
		return;
	}
	if (!cs->waiting_since)
		cs->waiting_since = bpf_ktime_get_ns();
	stat_inc(CENTRAL_STAT_WORKER_REQUEST);
	scx_bpf_kick_cpu(central_cpu, SCX_KICK_PREEMPT);
}

void BPF_STRUCT_OPS(central_running, struct task_struct *p)
{
	s32 cpu = scx_bpf_task_cpu(p);
	u64 now = bpf_ktime_get_ns();
	struct task_ctx *tctx;
	struct cpu_state *cs;

	tctx = bpf_task_storage_get(&task_ctxs, p, 0, 0);
	if (tctx)
		tctx->started = now;
	cs = cpu_state(cpu);
	if (cs) {
		cs->run_start = now;
		cs->waiting_since = 0;
	}
}

void BPF_STRUCT_OPS(central_stopping, struct task_struct *p, bool runnable)
{
	s32 cpu = scx_bpf_task_cpu(p);
	struct task_ctx *tctx;
	struct cpu_state *cs;

	cs = cpu_state(cpu);
	if (cs)
		cs->run_start = 0;
	if (!runnable) {
		tctx = bpf_task_storage_get(&task_ctxs, p, 0, 0);
		if (tctx)
			tctx->started = 0;
	}
}

s32 BPF_STRUCT_OPS_SLEEPABLE(central_init_task, struct task_struct *p, struct scx_init_task_args *args)
{
	if (!bpf_task_storage_get(&task_ctxs, p, 0, BPF_LOCAL_STORAGE_GET_F_CREATE))
		return -ENOMEM;
	return 0;
}

static int central_timerfn(void *map, int *key, struct bpf_timer *timer)
{
	u64 now = bpf_ktime_get_ns();
	s32 cpu;

	stat_inc(CENTRAL_STAT_TIMER_RUNS);
	if (bpf_get_smp_processor_id() != central_cpu)
		stat_inc(CENTRAL_STAT_TIMER_OFF_CENTRAL);

	bpf_for(cpu, 0, nr_cpus) {
		struct cpu_state *cs = cpu_state(cpu);

		if (!is_worker(cpu) || !cs)
			continue;
		if (cs->waiting_since) {
			if (give_task(cpu, 0)) {
				cs->waiting_since = 0;
				stat_inc(CENTRAL_STAT_TIMER_SERVE);
				scx_bpf_kick_cpu(cpu, SCX_KICK_IDLE);
			}
			continue;
		}
		if (!cs->run_start || now - cs->run_start < slice_ns)
			continue;
		if (scx_bpf_dsq_nr_queued(SCX_DSQ_LOCAL_ON | cpu) > 0) {
			/* A kthread or requeued task waits behind a task past its slice. */
			stat_inc(CENTRAL_STAT_TIMER_PREEMPT);
			scx_bpf_kick_cpu(cpu, SCX_KICK_PREEMPT);
		} else if (give_task(cpu, SCX_ENQ_PREEMPT)) {
			stat_inc(CENTRAL_STAT_TIMER_PREEMPT);
		}
	}

	bpf_timer_start(timer, timer_ns, BPF_F_TIMER_CPU_PIN);
	return 0;
}

s32 BPF_STRUCT_OPS_SLEEPABLE(central_init)
{
	struct bpf_timer *timer;
	u32 key = 0;
	s32 err;

	err = scx_bpf_create_dsq(CENTRAL_DSQ, -1);
	if (err)
		return err;
	timer = bpf_map_lookup_elem(&central_timer, &key);
	if (!timer)
		return -ESRCH;
	err = bpf_timer_init(timer, &central_timer, CLOCK_MONOTONIC);
	if (err)
		return err;
	err = bpf_timer_set_callback(timer, central_timerfn);
	if (err)
		return err;
	return bpf_timer_start(timer, timer_ns, BPF_F_TIMER_CPU_PIN);
}

void BPF_STRUCT_OPS(central_exit, struct scx_exit_info *ei)
{
	scxlab_record_exit(ei);
}

SEC(".struct_ops.link")
struct sched_ext_ops central_ops = {
	.select_cpu	= (void *)central_select_cpu,
	.enqueue	= (void *)central_enqueue,
	.dispatch	= (void *)central_dispatch,
	.running	= (void *)central_running,
	.stopping	= (void *)central_stopping,
	.init_task	= (void *)central_init_task,
	.init		= (void *)central_init,
	.exit		= (void *)central_exit,
	.name		= "central",
};
