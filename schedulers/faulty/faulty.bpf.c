/* SPDX-License-Identifier: GPL-2.0 */
/*
 * faulty - a policy that breaks on purpose. It exists only for scxlab's tests: never
 * benchmark it. It proves that the loader and the runners notice when the kernel ejects a
 * scheduler, and that the exit record names the right cause.
 *
 * Until the fault is due it schedules exactly like fifo: an idle CPU found at wakeup gets
 * the task directly, everything else goes through one shared FIFO DSQ. --after-ms after
 * attach (measured from ops.init) the fault is due; from then on select_cpu stops
 * inserting directly so that every task passes through ops.enqueue(), the one place where
 * the fault is injected:
 *
 *   error    enqueue calls scxlab_error() with a message naming the fault. The kernel
 *            disables the scheduler with kind ERROR_BPF and that message.
 *   stall    enqueue puts user tasks (not kernel threads) into a "parking" DSQ that
 *            dispatch never looks at. Kernel threads keep running, so the machine stays
 *            alive and the sched_ext watchdog (ops.timeout_ms, --timeout-ms) sees a
 *            runnable task that has not run for too long: kind ERROR_STALL.
 *   bad-cpu  enqueue inserts the task into SCX_DSQ_LOCAL_ON | nr_cpu_ids, the local DSQ
 *            of a CPU that does not exist. The kernel rejects the verdict: kind ERROR.
 *   hang     the fault sits in ops.dispatch instead: every call spins as long as the
 *            verifier lets a BPF program loop (bpf_loop() with its maximum of 2^23
 *            iterations, about a second of guest time under TCG, with the runqueue lock
 *            held) and then returns without dispatching anything. BPF cannot loop forever,
 *            so this is the closest a policy can come to a dispatch that never returns: the
 *            CPUs spend their time inside the policy while every queued task waits. What
 *            the kernel reports for it is whatever its watchdogs see first; scxlab's test
 *            records and checks that kind and reason.
 *   none     no fault: a control that must end with a clean UNREG.
 *
 * With the default --timeout-ms 3000 the 7.3 kernel notes at load "watchdog timeout
 * 3000ms <= rescue overload threshold 4096ms". That is harmless here: the stall mode was
 * checked with 3000 ms and ended in ERROR_STALL. Timeouts above that threshold were not
 * checked; the kernel's task rescue might then step in before the watchdog.
 *
 * Ejection returns every task to the fair class, so even the stall mode leaves a working
 * system behind, with the loader (a parked user task itself) resuming to report it.
 */
#include <scxlab.bpf.h>
#include "faulty.h"

#define FAULTY_SHARED_DSQ	0
#define FAULTY_PARKING_DSQ	1	/* stall mode: inserted into, never consumed */
#define PF_KTHREAD		0x00200000	/* include/linux/sched.h; #defines are not in BTF */
#define FAULTY_HANG_LOOPS	(1U << 23)	/* BPF_MAX_LOOPS, the most bpf_loop() will run */

const volatile __u32 fault_mode = FAULTY_NONE;		/* --fault */
const volatile __u64 fault_after_ns = 2000000000ULL;	/* --after-ms */
const volatile __u64 slice_ns = SCX_SLICE_DFL;

static u64 start_ns;	/* when ops.init ran */

SCXLAB_STATS(FAULTY_NR_STATS);

static bool fault_due(void)
{
	return fault_mode != FAULTY_NONE && bpf_ktime_get_ns() - start_ns >= fault_after_ns;
}

s32 BPF_STRUCT_OPS(faulty_select_cpu, struct task_struct *p, s32 prev_cpu, u64 wake_flags)
{
	bool is_idle = false;
	s32 cpu;

	cpu = scx_bpf_select_cpu_dfl(p, prev_cpu, wake_flags, &is_idle);
	if (is_idle && !fault_due()) {
		stat_inc(FAULTY_STAT_DIRECT_IDLE);
		scx_bpf_dsq_insert(p, SCX_DSQ_LOCAL, slice_ns, 0);
	}
	return cpu;
}

void BPF_STRUCT_OPS(faulty_enqueue, struct task_struct *p, u64 enq_flags)
{
	if (fault_due()) {
		switch (fault_mode) {
		case FAULTY_ERROR:
			stat_inc(FAULTY_STAT_FAULT);
			scxlab_error("faulty: injected fault 'error' (--fault error), %llu ms after attach",
				     (bpf_ktime_get_ns() - start_ns) / 1000000);
			break;	/* still queue the task: the kernel takes over from here */
		case FAULTY_STALL:
			if (p->flags & PF_KTHREAD)
				break;
			stat_inc(FAULTY_STAT_FAULT);
			scx_bpf_dsq_insert(p, FAULTY_PARKING_DSQ, slice_ns, enq_flags);
			return;
		case FAULTY_BAD_CPU:
			stat_inc(FAULTY_STAT_FAULT);
			scx_bpf_dsq_insert(p, SCX_DSQ_LOCAL_ON | scx_bpf_nr_cpu_ids(), slice_ns,
					   enq_flags);
			return;
		case FAULTY_HANG:
			break;	/* queued as usual: the fault is in dispatch */
		default:
			scxlab_error("faulty: unknown fault mode %u", fault_mode);
			break;
		}
	}
	stat_inc(FAULTY_STAT_SHARED_INSERT);
	scx_bpf_dsq_insert(p, FAULTY_SHARED_DSQ, slice_ns, enq_flags);
}

/* One turn of the hang: a little work the compiler cannot drop (the result is stored). */
static long hang_step(u64 index, void *ctx)
{
	u64 *acc = ctx;

	*acc = *acc * 6364136223846793005ULL + index;
	return 0;
}

static u64 hang_sink;

void BPF_STRUCT_OPS(faulty_dispatch, s32 cpu, struct task_struct *prev)
{
	if (fault_mode == FAULTY_HANG && fault_due()) {
		u64 acc = cpu;

		stat_inc(FAULTY_STAT_FAULT);
		bpf_loop(FAULTY_HANG_LOOPS, hang_step, &acc, 0);
		hang_sink = acc;
		return;		/* nothing dispatched: the tasks wait in the shared queue */
	}
	if (scx_bpf_dsq_move_to_local(FAULTY_SHARED_DSQ))
		stat_inc(FAULTY_STAT_DISPATCH);
}

s32 BPF_STRUCT_OPS_SLEEPABLE(faulty_init)
{
	s32 err;

	start_ns = bpf_ktime_get_ns();
	err = scx_bpf_create_dsq(FAULTY_SHARED_DSQ, -1);
	if (err)
		return err;
	return scx_bpf_create_dsq(FAULTY_PARKING_DSQ, -1);
}

void BPF_STRUCT_OPS(faulty_exit, struct scx_exit_info *ei)
{
	scxlab_record_exit(ei);
}

SEC(".struct_ops.link")
struct sched_ext_ops faulty_ops = {
	.select_cpu	= (void *)faulty_select_cpu,
	.enqueue	= (void *)faulty_enqueue,
	.dispatch	= (void *)faulty_dispatch,
	.init		= (void *)faulty_init,
	.exit		= (void *)faulty_exit,
	.timeout_ms	= 3000,		/* the loader overrides it from --timeout-ms */
	.name		= "faulty",
};
