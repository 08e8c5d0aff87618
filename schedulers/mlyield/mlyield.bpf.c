/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mlyield - keep a waking task on its busy previous CPU when a small neural network predicts
 * that the task running there is about to give the CPU up; otherwise move it to an idle CPU.
 *
 * This re-implements one paragraph of the sched_ext proposal: "a tiny neural net with one
 * hidden layer of 16, fed a decaying count of 64 syscalls, predicted whether a running task
 * would soon yield its CPU with 87% accuracy; using the prediction to decide whether to keep
 * a runnable task on its current CPU instead of migrating it to an idle one gave 15% more
 * nginx throughput". No code or data was published, so every choice below is scxlab's.
 *
 * The decision
 * ------------
 * Task W wakes up. Its previous CPU P still holds W's cache lines. If P is idle, W goes there
 * (no decision). If no CPU is idle, W goes to the shared FIFO queue (no decision). The
 * decision point is the case in between: P is busy running some task R (the "incumbent")
 * and another CPU is idle. Migrating W runs it now, on a cold cache; keeping it queues W on
 * P's local queue behind R, which pays off only if R gives P up soon. So the question for
 * the predictor is about R, the running task, exactly as the proposal words it: "will the
 * task running on P yield its CPU soon?". The network reads R's features (mlyield_nn.h: a
 * decaying count of R's last syscalls, kept per task by the sys_enter program below) and
 * W is kept on P iff the logit says yes.
 * The prediction is made at every wakeup whose previous CPU is busy, decision point or not
 * (the question about R is the same): decision points are rare while a workload keeps every
 * CPU busy, and the extra predictions give the trace and the online check more samples at a
 * cost that every mode pays alike. Only at decision points does the prediction act.
 *
 * The label ("yields soon")
 * -------------------------
 * R yields soon iff its next stop after the decision is voluntary (ops.stopping with
 * runnable == false: it blocked, the sched_switch prev_state != TASK_RUNNING case; being
 * preempted or running out of its slice does not count) and happens within the horizon H of
 * the decision. H comes from the model file (mltrain --horizon-us). Labels are checked in two
 * places with the same definition: in user space from trace records (mode trace, for
 * training), and here, online, at R's next stop (every mode, for the stats online_*).
 *
 * Modes (the loader's --mode; all modes run the same hooks and the same inference, so they
 * differ only in what they do at a decision point and their costs compare fairly):
 *   predict          keep iff the model predicts R yields within H
 *   always-migrate   ablation without the predictor: always take the idle CPU (fifo's choice)
 *   never-migrate    ablation: always wait on P
 *   trace            always-migrate placement, plus one ring-buffer record per prediction
 *                    (features, R, W, the model's logit, whether a CPU was idle) and one per
 *                    stop of a watched R; the loader joins them into rows with their
 *                    outcome (raw/mlyield-trace.csv), from which mltrain derives labels.
 *
 * Example: nginx worker R on CPU0 writes a response, which wakes wrk thread W whose previous
 * CPU is CPU0; CPU1 is idle. R's recent syscalls are writev, sendfile, epoll_ctl, and its
 * next call will be epoll_wait, where it blocks: R's features look like "about to sleep",
 * the model predicts a yield, W is queued on CPU0 and runs there as soon as R blocks.
 *
 * Trade-offs:
 *  - A wrong "keep" costs up to one slice of waiting (20 ms by default) while another CPU
 *    idles; a wrong "migrate" costs a cold cache. The threshold is probability 1/2 (logit 0),
 *    the one that maximizes accuracy; a threshold tuned for throughput would weigh the two
 *    errors by their costs (not done). The never-migrate ablation shows the worst case.
 *  - Under QEMU TCG (every scxlab guest) there is no cache model: migrating costs no cache
 *    misses, so the benefit the proposal measured cannot appear; what can be measured is the
 *    predictor's accuracy and the cost of waiting versus the cost of waking an idle CPU.
 *  - Every syscall of every task runs a BPF program (one bucket update, lazily decayed), and
 *    every wakeup whose previous CPU is busy runs the network (sparse: 16 multiply-adds per
 *    non-zero feature).
 *  - Races are tolerated, not locked out: features of R are read from another CPU while R
 *    may be adding a syscall, and a decision that reads R just as R stops is scored against
 *    the wrong stop or, when the stop count shows it, counted as lost (online_lost).
 *  - Otherwise this is the fifo policy: one shared queue, equal slices, no preemption.
 */
#include <scxlab.bpf.h>
#include "mlyield.h"

#define MLY_SHARED_DSQ		0
#define MLY_ONLINE_SLOTS	4	/* decisions about one incumbent scored at its next stop */
#define MLY_SELFTEST_NRS	256	/* syscalls replayed by the load-time self-test */

const volatile __u32 mode = MLY_MODE_PREDICT;	/* --mode */
const volatile __u64 slice_ns = SCX_SLICE_DFL;	/* --slice-us */
const volatile __u64 horizon_ns = 5000000;	/* the model's label horizon */

/*
 * The model, written by the loader before load. Not const volatile like the knobs above, on
 * purpose: in frozen read-only data the verifier knows every weight, tracks the sums as
 * constants, and its states stop converging; with a real model it gave up at its limit of
 * one million instructions (1780 instructions with the weights in .bss, where they are
 * unknown to it; both measured on the host's kernel, loading predict_keep() below as a
 * tracing program).
 */
struct mly_nn_fixed nn;

SCXLAB_STATS(MLY_NR_STATS);

struct mly_online_slot {
	__u64 t0;		/* decision time */
	__u32 seq;		/* the incumbent's stop count at the decision */
	__u32 state;		/* 0 free, 1 predicted "stays", 2 predicted "yields" */
};

struct mly_task {
	struct mly_syscall_hist hist;
	__u64 running_at;	/* when ops.running last started it; 0 while it is not running */
	__u32 nr_stops;
	__u32 trace_watch;	/* a traced decision waits for this task's next stop */
	struct mly_online_slot online[MLY_ONLINE_SLOTS];
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct mly_task);
} task_ctx SEC(".maps");

/*
 * 8 MiB: about 35000 decision records (240 bytes with the ring's header), two minutes of the
 * 200-300 records per second that nginx traces show, should the loader's reader stall.
 */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20);
} trace_rb SEC(".maps");

/* Counts every syscall of every task into the caller's history. */
SEC("tp_btf/sys_enter")
int BPF_PROG(mlyield_sys_enter, struct pt_regs *regs, long id)
{
	struct mly_task *t;

	t = bpf_task_storage_get(&task_ctx, bpf_get_current_task_btf(), NULL,
				 BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (t)
		mly_hist_add(&t->hist, id);
	return 0;
}

static void online_remember(struct mly_task *rt, __u32 seq, __u64 now, bool pred)
{
	int i;

	for (i = 0; i < MLY_ONLINE_SLOTS; i++) {
		struct mly_online_slot *s = &rt->online[i];

		if (s->state)
			continue;
		s->t0 = now;
		s->seq = seq;
		barrier();
		s->state = pred ? 2 : 1;
		return;
	}
	stat_inc(MLY_STAT_ONLINE_UNCHECKED);
}

static void trace_decision(struct task_struct *wakee, struct task_struct *inc, struct mly_task *rt,
			   s32 prev_cpu, u64 wake_flags, bool any_idle, const __u16 *x, __s64 logit,
			   bool pred, __u32 seq, __u64 now)
{
	struct mly_rec_decision *r;

	r = bpf_ringbuf_reserve(&trace_rb, sizeof(*r), 0);
	if (!r) {
		stat_inc(MLY_STAT_TRACE_DROPPED);
		return;
	}
	r->type = MLY_REC_DECISION;
	r->cpu = bpf_get_smp_processor_id();
	r->ts_ns = now;
	r->prev_cpu = prev_cpu;
	r->wakee_pid = wakee->pid;
	r->inc_pid = inc->pid;
	r->inc_seq = seq;
	r->wake_flags = wake_flags;
	r->inc_ran_ns = rt->running_at && now > rt->running_at ? now - rt->running_at : 0;
	r->inc_nr_syscalls = rt->hist.nr_syscalls;
	r->inc_is_waker = inc == bpf_get_current_task_btf();
	r->logit = logit;
	r->pred = pred;
	r->idle_available = any_idle;
	bpf_probe_read_kernel_str(r->wakee_comm, sizeof(r->wakee_comm), wakee->comm);
	bpf_probe_read_kernel_str(r->inc_comm, sizeof(r->inc_comm), inc->comm);
	__builtin_memcpy(r->x, x, sizeof(r->x));
	bpf_ringbuf_submit(r, 0);
	rt->trace_watch = 1;
	stat_inc(MLY_STAT_TRACE_DECISIONS);
}

/*
 * At every wakeup whose previous CPU is busy: predict whether the task running there yields
 * within the horizon, remember the prediction for the online check (and the trace), and
 * return whether the mode would keep the waking task on prev_cpu. The caller acts on it only
 * if another CPU is idle (any_idle); predicting at the other busy wakeups too costs the same
 * in every mode and gives the trace and the online check many more samples of the same
 * question.
 */
static bool predict_keep(struct task_struct *wakee, s32 prev_cpu, u64 wake_flags, bool any_idle)
{
	struct task_struct *inc;
	struct mly_task *rt;
	__u16 x[MLY_NR_FEATURES];
	__u64 now;
	__s64 logit;
	__u32 seq;
	bool pred;

	inc = scx_bpf_cpu_curr(prev_cpu);
	rt = inc && inc->pid ? bpf_task_storage_get(&task_ctx, inc, NULL, 0) : NULL;
	if (!rt || !rt->running_at) {
		/* idle task, a task of another class, or one not seen running yet */
		stat_inc(MLY_STAT_NO_INCUMBENT);
		return mode == MLY_MODE_NEVER_MIGRATE;
	}
	now = bpf_ktime_get_ns();
	seq = rt->nr_stops;
	__builtin_memset(x, 0, sizeof(x));	/* constant-offset stores: the verifier sees x initialized */
	mly_hist_features(&rt->hist, x);
	logit = mly_nn_logit(&nn, x);
	pred = logit > nn.threshold;
	stat_inc(pred ? MLY_STAT_PRED_YIELD : MLY_STAT_PRED_STAY);
	online_remember(rt, seq, now, pred);
	if (mode == MLY_MODE_TRACE)
		trace_decision(wakee, inc, rt, prev_cpu, wake_flags, any_idle, x, logit, pred, seq, now);

	switch (mode) {
	case MLY_MODE_PREDICT:
		return pred;
	case MLY_MODE_NEVER_MIGRATE:
		return true;
	default:
		return false;
	}
}

s32 BPF_STRUCT_OPS(mlyield_select_cpu, struct task_struct *p, s32 prev_cpu, u64 wake_flags)
{
	const struct cpumask *idle;
	bool any_idle, keep, is_idle = false;
	s32 cpu;

	if (!bpf_cpumask_test_cpu(prev_cpu, p->cpus_ptr)) {
		stat_inc(MLY_STAT_AFFINITY);
		cpu = scx_bpf_select_cpu_dfl(p, prev_cpu, wake_flags, &is_idle);
		if (is_idle)
			scx_bpf_dsq_insert(p, SCX_DSQ_LOCAL, slice_ns, 0);
		return cpu;
	}
	if (scx_bpf_test_and_clear_cpu_idle(prev_cpu)) {
		stat_inc(MLY_STAT_PREV_IDLE);
		scx_bpf_dsq_insert(p, SCX_DSQ_LOCAL, slice_ns, 0);
		return prev_cpu;
	}

	/* Look for an idle CPU without claiming it: a "keep" must leave it idle and findable. */
	idle = scx_bpf_get_idle_cpumask();
	any_idle = bpf_cpumask_intersects(idle, p->cpus_ptr);
	scx_bpf_put_idle_cpumask(idle);
	keep = predict_keep(p, prev_cpu, wake_flags, any_idle);
	if (!any_idle) {
		stat_inc(MLY_STAT_NO_IDLE);
		return prev_cpu;	/* ops.enqueue puts it on the shared queue */
	}

	if (keep) {
		stat_inc(MLY_STAT_DECIDE_KEEP);
		scx_bpf_dsq_insert(p, SCX_DSQ_LOCAL, slice_ns, 0);
		return prev_cpu;
	}
	stat_inc(MLY_STAT_DECIDE_MIGRATE);
	cpu = scx_bpf_pick_idle_cpu(p->cpus_ptr, 0);
	if (cpu < 0) {
		stat_inc(MLY_STAT_MIGRATE_RACED);
		return prev_cpu;
	}
	scx_bpf_dsq_insert(p, SCX_DSQ_LOCAL, slice_ns, 0);
	return cpu;
}

void BPF_STRUCT_OPS(mlyield_enqueue, struct task_struct *p, u64 enq_flags)
{
	stat_inc(MLY_STAT_SHARED_INSERT);
	scx_bpf_dsq_insert(p, MLY_SHARED_DSQ, slice_ns, enq_flags);
}

void BPF_STRUCT_OPS(mlyield_dispatch, s32 cpu, struct task_struct *prev)
{
	if (scx_bpf_dsq_move_to_local(MLY_SHARED_DSQ))
		stat_inc(MLY_STAT_DISPATCH);
}

void BPF_STRUCT_OPS(mlyield_running, struct task_struct *p)
{
	struct mly_task *t;

	t = bpf_task_storage_get(&task_ctx, p, NULL, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (t)
		t->running_at = bpf_ktime_get_ns();
}

/* The label: this stop decides every pending prediction about p. */
void BPF_STRUCT_OPS(mlyield_stopping, struct task_struct *p, bool runnable)
{
	struct mly_rec_stop *r;
	struct mly_task *t;
	__u64 now;
	__u32 seq;
	int i;

	t = bpf_task_storage_get(&task_ctx, p, NULL, 0);
	if (!t)
		return;
	now = bpf_ktime_get_ns();
	seq = ++t->nr_stops;
	t->running_at = 0;

	for (i = 0; i < MLY_ONLINE_SLOTS; i++) {
		struct mly_online_slot *s = &t->online[i];
		bool yielded, pred;

		if (!s->state)
			continue;
		if (s->seq + 1 != seq) {
			stat_inc(MLY_STAT_ONLINE_LOST);
		} else {
			/* signed: a decision racing this stop may carry a later t0 */
			yielded = !runnable && (__s64)(now - s->t0) <= (__s64)horizon_ns;
			pred = s->state == 2;
			stat_inc(pred ? (yielded ? MLY_STAT_ONLINE_TP : MLY_STAT_ONLINE_FP)
				      : (yielded ? MLY_STAT_ONLINE_FN : MLY_STAT_ONLINE_TN));
		}
		s->state = 0;
	}

	if (!t->trace_watch)
		return;
	t->trace_watch = 0;
	r = bpf_ringbuf_reserve(&trace_rb, sizeof(*r), 0);
	if (!r) {
		stat_inc(MLY_STAT_TRACE_DROPPED);
		return;
	}
	r->type = MLY_REC_STOP;
	r->voluntary = !runnable;
	r->ts_ns = now;
	r->pid = p->pid;
	r->seq = seq;
	bpf_ringbuf_submit(r, 0);
	stat_inc(MLY_STAT_TRACE_STOPS);
}

s32 BPF_STRUCT_OPS_SLEEPABLE(mlyield_init)
{
	return scx_bpf_create_dsq(MLY_SHARED_DSQ, -1);
}

void BPF_STRUCT_OPS(mlyield_exit, struct scx_exit_info *ei)
{
	scxlab_record_exit(ei);
}

/*
 * Load-time self-test, run by the loader through BPF_PROG_TEST_RUN before the scheduler is
 * attached: the in-kernel feature update and inference on inputs the loader chose, compared
 * bit for bit with the same functions compiled in C.
 */
long selftest_nrs[MLY_SELFTEST_NRS];
__u32 selftest_nr_count;
struct mly_syscall_hist selftest_hist;
__u16 selftest_features[MLY_NR_FEATURES];
__u16 selftest_x[MLY_NR_FEATURES];
__s64 selftest_logit;

SEC("syscall")
int mlyield_selftest(void *ctx)
{
	__u32 i;

	for (i = 0; i < MLY_NR_FEATURES; i++) {
		selftest_hist.last[i] = 0;
		selftest_hist.val[i] = 0;
	}
	selftest_hist.nr_syscalls = 0;
	for (i = 0; i < MLY_SELFTEST_NRS && i < selftest_nr_count; i++)
		mly_hist_add(&selftest_hist, selftest_nrs[i]);
	mly_hist_features(&selftest_hist, selftest_features);
	selftest_logit = mly_nn_logit(&nn, selftest_x);
	return 0;
}

SEC(".struct_ops.link")
struct sched_ext_ops mlyield_ops = {
	.select_cpu	= (void *)mlyield_select_cpu,
	.enqueue	= (void *)mlyield_enqueue,
	.dispatch	= (void *)mlyield_dispatch,
	.running	= (void *)mlyield_running,
	.stopping	= (void *)mlyield_stopping,
	.init		= (void *)mlyield_init,
	.exit		= (void *)mlyield_exit,
	.name		= "mlyield",
};
