/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pair - the two hardware threads of a core only ever run tasks of the same cgroup at
 * the same time (the idea of the kernel's core scheduling, done as a sched_ext policy).
 *
 * Why. SMT siblings share a core's caches, buffers and execution units. Side channels
 * between them (L1TF, MDS and friends) let a task spy on whatever its sibling runs; the
 * defence is to let siblings run only tasks that trust each other, here: tasks of the same
 * cgroup. The same rule also isolates cgroups from each other's SMT interference. The
 * price is idle hardware threads: a sibling with nothing of the right cgroup to run must
 * stay idle even when other cgroups have work.
 *
 * State. Each cgroup (each one the cpu controller knows, created or found at load: see
 * ops.cgroup_init) has a FIFO DSQ whose id is the cgroup id. A BPF queue map, cg_queue,
 * lists cgroups that have queued tasks, oldest first. Each pair (core) has, under a BPF
 * spin lock:
 *	cgid	   the cgroup that owns the pair now (0: none)
 *	started	   when it took the pair
 *	draining   a switch is due: no new task of cgid may start on the pair
 *	picking	   one sibling is choosing the next cgroup; the other waits
 *	busy[2]	   per sibling, the cgroup of the task it last decided to run (0: idle)
 *	running[2] per sibling, the cgroup of the task on the CPU right now, kept by
 *		   ops.running() and ops.stopping() (0: idle or a non-sched_ext task)
 *
 * Rule. A CPU may take a task of cgroup C only under the pair's lock, only if C owns the
 * pair, the pair is not draining and the sibling's running task is of C or there is none;
 * it records busy = C before it takes the task. A pair changes owner only when the
 * sibling neither runs nor has committed to the outgoing cgroup. Decisions (busy) alone
 * are not enough: a decision is carried out by a context switch a little later, and the
 * first version of this policy, which checked busy only, let a sibling start the new
 * cgroup while the other CPU was still running the old one (pair-check caught windows of
 * over a millisecond in the emulated guest, where a vCPU can sit descheduled in between).
 * ops.stopping() happens right before the context switch, so waiting for running to
 * clear closes most of that window; a sibling that waits is kicked from ops.stopping().
 * What is left, between ops.stopping() on one sibling and the sched_switch of its context
 * switch, cannot be closed from BPF (every sched_ext callback runs before that switch);
 * pair-check still sees such windows, and under QEMU TCG, where a vCPU can be descheduled
 * right there, they stretch to the order of a millisecond. Any run with
 * MONITORS=sched-trace on VM=smt measures them from the kernel's sched_switch tracepoint
 * (tests/integration/test_pair_trace.py runs pair next to fifo, which ignores cgroups).
 *
 * Two more ways a task could reach a CPU behind the policy's back are closed: a task
 * preempted by a higher class (real-time, stop) would be put back at the head of its
 * CPU's local DSQ by the kernel and resume unasked, so ops.cpu_release() sends the local
 * DSQ back through ops.enqueue(); and a safety timer (below) repairs lost wakeups.
 *
 * ops.dispatch() on CPU i, sibling j, of a pair owned by C:
 *  - slice over: if C has owned the pair for --pair-slice-us and other cgroups wait, the
 *    pair starts draining and j is kicked with SCX_KICK_PREEMPT to hurry it up.
 *  - draining: if busy[j] is still C, i idles ("idle_drain"); otherwise i picks the next
 *    cgroup from cg_queue (skipping entries whose queue emptied meanwhile), makes it the
 *    owner, takes one of its tasks and kicks j so that j can take another.
 *  - owned by C: if j still runs a task of another cgroup (a switch not yet carried out),
 *    i waits ("idle_wait"). Otherwise i takes the first task of C's DSQ it may run. If
 *    there is none and j is not busy with C either, the pair is released and i picks a new
 *    cgroup at once; if j is busy with C, i idles ("idle_mismatch" when other cgroups are
 *    waiting: the price of the rule).
 *  - no owner: i picks as above.
 * ops.enqueue() appends the task to its cgroup's DSQ, puts the cgroup on cg_queue if it is
 * not there yet, and kicks an idle CPU whose pair could serve it (owned by that cgroup,
 * unowned, or with both siblings idle). Every task passes through ops.enqueue(): the
 * policy sets SCX_OPS_ENQ_LAST, SCX_OPS_ENQ_EXITING and SCX_OPS_ENQ_MIGRATION_DISABLED so
 * that the kernel never places a task on a CPU behind its back, and ops.select_cpu()
 * places nothing.
 *
 * Example, one core (CPUs 0, 1), cgroups A (2 CPU hogs) and B (1 CPU hog), pair slice
 * 20 ms: CPU 0 picks A, takes A1 and kicks CPU 1, which takes A2. 20 ms later CPU 0's
 * dispatch sees B waiting: draining, kick CPU 1. CPU 1 stops A2 and, since CPU 0 is no
 * longer busy with A, picks B, takes B1 and kicks CPU 0; CPU 0 finds nothing more in B and
 * idles (idle_mismatch) while A waits. 20 ms later the pair goes back to A. A gets both
 * threads half the time, B one thread the other half: the core is a quarter idle.
 *
 * Trade-offs:
 *  - Idle threads whenever the owner cannot fill both (that quarter above), and wakeup
 *    latency up to one pair slice for a task of a cgroup that does not own its core.
 *  - Kernel threads belong to the root cgroup like everything outside the tree: a per-CPU
 *    kworker waits for its core to serve the root cgroup.
 *  - One spin lock per core, taken at every dispatch and at every task start and stop.
 *  - Cgroups are served in cg_queue order (round robin), not by weight.
 *  - Tasks in cgroups without a cpu-controller task group count as their ancestor's
 *    (scx_bpf_task_cgroup()); pair-check must group by the same cgroups to agree.
 *  - A task moved to another cgroup while it runs keeps its CPU until its next stop, so
 *    for that moment the siblings may run different cgroups (self_check_conflict counts
 *    what the policy sees of it).
 *
 * On an ejection the kernel's state dump includes, from ops.dump(), every core's state
 * and every cgroup's queue length.
 */
#include <scxlab.bpf.h>
#include "pair.h"

#define ROOT_CGID	1	/* the root cgroup's id; its DSQ is created in ops.init */
#define ENOENT		2
#define EEXIST		17
#define MAX_PICKS	8	/* cg_queue entries examined per pick */
#define CLOCK_MONOTONIC	1

const volatile __u32 nr_cpus = 1;			/* possible CPUs, set by the loader */
const volatile __u64 slice_ns = 10000000;		/* --slice-us */
const volatile __u64 pair_slice_ns = 20000000;		/* --pair-slice-us */

SCXLAB_STATS(PAIR_NR_STATS);

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, PAIR_MAX_CPUS);
	__type(key, u32);
	__type(value, struct pair_cpu);
} cpu_pair SEC(".maps");

struct pair_ctx {
	struct bpf_spin_lock lock;
	u32 picking;
	u32 draining;
	u64 cgid;
	u64 started;
	u64 busy[2];
	u64 running[2];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, PAIR_MAX_CPUS / 2);
	__type(key, u32);
	__type(value, struct pair_ctx);
} pairs SEC(".maps");

struct cg_ctx {
	u64 in_queue;		/* on cg_queue (or about to be) */
	u64 looked_lost;	/* safety timer: seen with work but unserved at the last tick */
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PAIR_MAX_CGROUPS);
	__type(key, u64);
	__type(value, struct cg_ctx);
} cgroups SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_QUEUE);
	__uint(max_entries, PAIR_MAX_CGROUPS);
	__type(value, u64);
} cg_queue SEC(".maps");

static u64 task_cgid(struct task_struct *p)
{
	struct cgroup *cgrp = scx_bpf_task_cgroup(p);
	u64 id = cgrp->kn->id;

	bpf_cgroup_release(cgrp);
	return id;
}

static struct pair_cpu *cpu_info(s32 cpu)
{
	u32 key = cpu;

	return bpf_map_lookup_elem(&cpu_pair, &key);
}

static struct pair_ctx *pair_of(struct pair_cpu *pc)
{
	u32 key = pc->pair;

	return bpf_map_lookup_elem(&pairs, &key);
}

/* Put @cgid on cg_queue unless it is there already. */
static void queue_cgroup(u64 cgid)
{
	struct cg_ctx *cg = bpf_map_lookup_elem(&cgroups, &cgid);

	if (!cg || __sync_val_compare_and_swap(&cg->in_queue, 0, 1) != 0)
		return;
	if (bpf_map_push_elem(&cg_queue, &cgid, 0))
		cg->in_queue = 0;	/* cannot happen: one entry per cgroup at most */
}

/* The oldest queued cgroup that still has tasks, taken off cg_queue; 0 if none. */
static u64 pick_cgroup(void)
{
	struct cg_ctx *cg;
	u64 cgid;

	bpf_repeat(MAX_PICKS) {
		if (bpf_map_pop_elem(&cg_queue, &cgid))
			return 0;
		cg = bpf_map_lookup_elem(&cgroups, &cgid);
		if (!cg)
			continue;	/* the cgroup went away */
		cg->in_queue = 0;
		if (scx_bpf_dsq_nr_queued(cgid) > 0)
			return cgid;
	}
	return 0;
}

/* Wake an idle CPU whose pair could serve @cgid. Racy reads: a wrong guess costs a wakeup. */
static void kick_for(struct task_struct *p, u64 cgid)
{
	struct pair_cpu *pc;
	struct pair_ctx *pr;
	s32 cpu;

	bpf_for(cpu, 0, nr_cpus) {
		pc = cpu_info(cpu);
		if (!pc || !bpf_cpumask_test_cpu(cpu, p->cpus_ptr))
			continue;
		pr = pair_of(pc);
		if (!pr)
			continue;
		if (pr->cgid != cgid && pr->cgid && (pr->busy[0] || pr->busy[1]))
			continue;
		if (scx_bpf_test_and_clear_cpu_idle(cpu)) {
			scx_bpf_kick_cpu(cpu, SCX_KICK_IDLE);
			return;
		}
	}
}

s32 BPF_STRUCT_OPS(pair_select_cpu, struct task_struct *p, s32 prev_cpu, u64 wake_flags)
{
	return prev_cpu;
}

void BPF_STRUCT_OPS(pair_enqueue, struct task_struct *p, u64 enq_flags)
{
	u64 cgid = task_cgid(p);

	if (!bpf_map_lookup_elem(&cgroups, &cgid)) {
		stat_inc(PAIR_STAT_CGROUP_UNKNOWN);
		cgid = ROOT_CGID;
	}
	stat_inc(PAIR_STAT_ENQUEUE);
	scx_bpf_dsq_insert(p, cgid, slice_ns, enq_flags);
	queue_cgroup(cgid);

	if (enq_flags & SCX_ENQ_LAST)
		/* The CPU is about to idle with nothing else to run: let it decide again. */
		scx_bpf_kick_cpu(scx_bpf_task_cpu(p), SCX_KICK_IDLE);
	else
		kick_for(p, cgid);
}

enum decision { IDLE_DRAIN, IDLE_PICKING, IDLE_WAIT, TAKE, PICK };

void BPF_STRUCT_OPS(pair_dispatch, s32 cpu, struct task_struct *prev)
{
	struct pair_cpu *pc = cpu_info(cpu);
	struct pair_ctx *pr;
	u64 now = bpf_ktime_get_ns(), owner, next = 0, peek;
	bool others_waiting, kick_drain = false, released = false, take = false;
	enum decision d;
	u32 me, sib;

	if (!pc || !(pr = pair_of(pc)))
		return;
	me = pc->slot & 1;
	sib = me ^ 1;
	others_waiting = !bpf_map_peek_elem(&cg_queue, &peek);

	bpf_spin_lock(&pr->lock);
	pr->busy[me] = 0;		/* whatever this CPU ran is over or being put back */
	owner = pr->cgid;
	if (pr->picking) {
		d = IDLE_PICKING;
	} else {
		if (owner && !pr->draining && others_waiting && now - pr->started >= pair_slice_ns) {
			pr->draining = 1;
			kick_drain = pr->busy[sib] == owner;
		}
		if (owner && !pr->draining) {
			if (!pr->running[sib] || pr->running[sib] == owner) {
				pr->busy[me] = owner;
				d = TAKE;
			} else {
				d = IDLE_WAIT;
			}
		} else if (owner && (pr->busy[sib] == owner || pr->running[sib] == owner)) {
			d = IDLE_DRAIN;
		} else {
			pr->picking = 1;
			d = PICK;
		}
	}
	bpf_spin_unlock(&pr->lock);

	if (kick_drain) {
		stat_inc(PAIR_STAT_DRAIN_KICK);
		scx_bpf_kick_cpu(pc->sibling, SCX_KICK_PREEMPT);
	}
	if (d == IDLE_DRAIN) {
		stat_inc(PAIR_STAT_IDLE_DRAIN);
		return;
	}
	if (d == IDLE_PICKING)
		return;		/* the sibling kicks us once it has picked */
	if (d == IDLE_WAIT) {
		stat_inc(PAIR_STAT_IDLE_WAIT);
		return;		/* the sibling's ops.stopping() kicks us */
	}

	if (d == TAKE) {
		if (scx_bpf_dsq_nr_queued(owner) >= 0 && scx_bpf_dsq_move_to_local(owner)) {
			stat_inc(PAIR_STAT_DISPATCH);
			return;
		}
		/* Nothing of the owner for this CPU. Release the pair unless the sibling runs it. */
		bpf_spin_lock(&pr->lock);
		pr->busy[me] = 0;
		if (pr->cgid == owner && pr->busy[sib] != owner && pr->running[sib] != owner &&
		    !pr->picking) {
			pr->cgid = 0;
			pr->draining = 0;
			pr->picking = 1;
			released = true;
		}
		bpf_spin_unlock(&pr->lock);
		if (!released) {
			if (others_waiting)
				stat_inc(PAIR_STAT_IDLE_MISMATCH);
			return;
		}
		d = PICK;
	}

	/* PICK: we hold the pair's picking flag; choose, then publish under the lock. */
	next = pick_cgroup();
	bpf_spin_lock(&pr->lock);
	pr->picking = 0;
	if (next) {
		pr->cgid = next;
		pr->started = now;
		pr->draining = 0;
		take = !pr->running[sib] || pr->running[sib] == next;
		if (take)
			pr->busy[me] = next;
	} else {
		pr->cgid = 0;
		pr->draining = 0;
	}
	bpf_spin_unlock(&pr->lock);

	/* The outgoing owner keeps its place in line if it still has tasks. */
	if (owner && owner != next && scx_bpf_dsq_nr_queued(owner) > 0)
		queue_cgroup(owner);
	if (!next) {
		stat_inc(PAIR_STAT_IDLE_EMPTY);
		return;
	}
	if (next != owner)
		stat_inc(PAIR_STAT_SWITCH);
	if (scx_bpf_dsq_nr_queued(next) > 1)
		queue_cgroup(next);	/* more than this CPU takes: other cores may help */
	if (!take) {
		/* The sibling still runs a task of another cgroup: end it, then both take next. */
		stat_inc(PAIR_STAT_IDLE_WAIT);
		scx_bpf_kick_cpu(pc->sibling, SCX_KICK_PREEMPT);
		return;
	}
	scx_bpf_kick_cpu(pc->sibling, SCX_KICK_IDLE);
	if (scx_bpf_dsq_move_to_local(next)) {
		stat_inc(PAIR_STAT_DISPATCH);
		return;
	}
	/* Its tasks may not run here (affinity); let another core have it. */
	bpf_spin_lock(&pr->lock);
	pr->busy[me] = 0;
	bpf_spin_unlock(&pr->lock);
	queue_cgroup(next);
}

/*
 * A task of a higher class (real-time, stop) took this CPU. The task it preempted still has
 * slice left, and the kernel put it back at the head of this CPU's local DSQ, from where it
 * would resume later without asking us, possibly after the pair has moved to another
 * cgroup. Send everything in the local DSQ back through ops.enqueue() instead.
 */
void BPF_STRUCT_OPS(pair_cpu_release, s32 cpu, struct scx_cpu_release_args *args)
{
	stat_inc(PAIR_STAT_REENQUEUE);
	scx_bpf_reenqueue_local();
}

/*
 * running[] is part of the rule (see the top). The conflict count is the policy's own
 * view of it; pair-check verifies independently from a trace.
 */
void BPF_STRUCT_OPS(pair_running, struct task_struct *p)
{
	struct pair_cpu *pc = cpu_info(scx_bpf_task_cpu(p));
	struct pair_ctx *pr;
	u64 cgid = task_cgid(p);
	bool conflict;
	u32 me;

	if (!pc || !(pr = pair_of(pc)))
		return;
	me = pc->slot & 1;
	bpf_spin_lock(&pr->lock);
	pr->running[me] = cgid;
	conflict = pr->running[me ^ 1] && pr->running[me ^ 1] != cgid;
	bpf_spin_unlock(&pr->lock);
	if (conflict)
		stat_inc(PAIR_STAT_CONFLICT);
}

void BPF_STRUCT_OPS(pair_stopping, struct task_struct *p, bool runnable)
{
	struct pair_cpu *pc = cpu_info(scx_bpf_task_cpu(p));
	struct pair_ctx *pr;
	bool switch_pending;
	u32 me;

	if (!pc || !(pr = pair_of(pc)))
		return;
	me = pc->slot & 1;
	bpf_spin_lock(&pr->lock);
	switch_pending = pr->running[me] != pr->cgid;
	pr->running[me] = 0;
	bpf_spin_unlock(&pr->lock);
	/* The sibling may be waiting for this CPU to leave the outgoing cgroup. */
	if (switch_pending)
		scx_bpf_kick_cpu(pc->sibling, SCX_KICK_IDLE);
}

#define dumpf(fmt, args...)							\
({										\
	static char ___fmt[] = fmt;						\
	unsigned long long ___data[___bpf_narg(args)];				\
										\
	___bpf_fill(___data, args);						\
	scx_bpf_dump_bstr(___fmt, ___data, sizeof(___data));			\
})

static long dump_cgroup(void *map, u64 *cgid, struct cg_ctx *cg, void *ctx)
{
	dumpf("cgroup %llu: in_queue=%llu queued=%d\n", *cgid, cg->in_queue,
		  scx_bpf_dsq_nr_queued(*cgid));
	return 0;
}

/* What the kernel prints about the policy when it ejects it (exit dump). */
void BPF_STRUCT_OPS(pair_dump, struct scx_dump_ctx *dctx)
{
	struct pair_ctx *pr;
	u32 i;

	bpf_for(i, 0, nr_cpus / 2) {
		pr = bpf_map_lookup_elem(&pairs, &i);
		if (!pr)
			break;
		dumpf("core %u: cgid=%llu picking=%u draining=%u busy=%llu,%llu running=%llu,%llu\n",
			  i, pr->cgid, pr->picking, pr->draining, pr->busy[0], pr->busy[1],
			  pr->running[0], pr->running[1]);
	}
	bpf_for_each_map_elem(&cgroups, dump_cgroup, NULL, 0);
}

/*
 * Safety net, every --pair-slice-us: a cgroup with queued tasks that is neither on
 * cg_queue nor owned by a core at two ticks in a row is put back on cg_queue
 * ("timer_requeue"), and an idle CPU
 * whose core owns a cgroup with queued tasks (and is neither draining nor picking), or is
 * free while cgroups wait, is kicked ("timer_kick"). The protocol above should make the
 * requeue unnecessary: a non-zero timer_requeue is a bug in it, made harmless. Kicks also
 * happen when the owner's queued tasks may not run on that CPU (affinity) or the CPU
 * waits for its sibling; without the timer, rare lost wakeups left a task runnable until
 * the kernel's watchdog ejected the policy (4 of 33 runs before the timer existed).
 */
struct safety_timer {
	struct bpf_timer timer;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct safety_timer);
} safety_timer SEC(".maps");

static bool owned(u64 cgid)
{
	struct pair_ctx *pr;
	u32 i;

	bpf_for(i, 0, nr_cpus / 2) {
		pr = bpf_map_lookup_elem(&pairs, &i);
		if (pr && pr->cgid == cgid)
			return true;
	}
	return false;
}

/*
 * A pick in progress has taken the cgroup off cg_queue but not yet made it a core's owner,
 * so one look can mistake it for lost: only a cgroup that looks lost at two ticks in a
 * row is put back.
 */
static long check_cgroup(void *map, u64 *cgid, struct cg_ctx *cg, void *ctx)
{
	if (cg->in_queue || scx_bpf_dsq_nr_queued(*cgid) <= 0 || owned(*cgid)) {
		cg->looked_lost = 0;
		return 0;
	}
	if (!cg->looked_lost) {
		cg->looked_lost = 1;
		return 0;
	}
	cg->looked_lost = 0;
	stat_inc(PAIR_STAT_TIMER_REQUEUE);
	queue_cgroup(*cgid);
	return 0;
}

static int safety_timerfn(void *map, int *key, struct bpf_timer *timer)
{
	bool waiting;
	u64 peek;
	s32 cpu;

	bpf_for_each_map_elem(&cgroups, check_cgroup, NULL, 0);
	waiting = !bpf_map_peek_elem(&cg_queue, &peek);

	bpf_for(cpu, 0, nr_cpus) {
		struct pair_cpu *pc = cpu_info(cpu);
		struct task_struct *curr;
		struct pair_ctx *pr;
		u64 owner;

		if (!pc || !(pr = pair_of(pc)))
			continue;
		owner = pr->cgid;
		if (pr->draining || pr->picking ||
		    !(owner ? scx_bpf_dsq_nr_queued(owner) > 0 : waiting))
			continue;	/* idle for a reason, or nothing to look at */
		curr = scx_bpf_cpu_curr(cpu);
		if (curr && curr->pid == 0) {
			stat_inc(PAIR_STAT_TIMER_KICK);
			scx_bpf_kick_cpu(cpu, SCX_KICK_IDLE);
		}
	}
	bpf_timer_start(timer, pair_slice_ns, 0);
	return 0;
}

static s32 add_cgroup(u64 cgid)
{
	struct cg_ctx fresh = {};
	s32 err;

	err = scx_bpf_create_dsq(cgid, -1);
	if (err && err != -EEXIST)
		return err;
	err = bpf_map_update_elem(&cgroups, &cgid, &fresh, BPF_NOEXIST);
	return err == -EEXIST ? 0 : err;
}

s32 BPF_STRUCT_OPS_SLEEPABLE(pair_cgroup_init, struct cgroup *cgrp, struct scx_cgroup_init_args *args)
{
	return add_cgroup(cgrp->kn->id);
}

void BPF_STRUCT_OPS(pair_cgroup_exit, struct cgroup *cgrp)
{
	u64 cgid = cgrp->kn->id;

	if (cgid == ROOT_CGID)
		return;
	bpf_map_delete_elem(&cgroups, &cgid);
	scx_bpf_destroy_dsq(cgid);
}

s32 BPF_STRUCT_OPS_SLEEPABLE(pair_init)
{
	struct bpf_timer *timer;
	u32 key = 0;
	s32 err;

	/* The fallback queue of tasks whose cgroup has none; cgroup_init may follow for it. */
	err = add_cgroup(ROOT_CGID);
	if (err)
		return err;
	timer = bpf_map_lookup_elem(&safety_timer, &key);
	if (!timer)
		return -ENOENT;
	err = bpf_timer_init(timer, &safety_timer, CLOCK_MONOTONIC);
	if (!err)
		err = bpf_timer_set_callback(timer, safety_timerfn);
	if (!err)
		err = bpf_timer_start(timer, pair_slice_ns, 0);
	return err;
}

void BPF_STRUCT_OPS(pair_exit, struct scx_exit_info *ei)
{
	scxlab_record_exit(ei);
}

SEC(".struct_ops.link")
struct sched_ext_ops pair_ops = {
	.select_cpu	= (void *)pair_select_cpu,
	.enqueue	= (void *)pair_enqueue,
	.dispatch	= (void *)pair_dispatch,
	.running	= (void *)pair_running,
	.stopping	= (void *)pair_stopping,
	.cpu_release	= (void *)pair_cpu_release,
	.dump		= (void *)pair_dump,
	.cgroup_init	= (void *)pair_cgroup_init,
	.cgroup_exit	= (void *)pair_cgroup_exit,
	.init		= (void *)pair_init,
	.exit		= (void *)pair_exit,
	.flags		= SCX_OPS_ENQ_LAST | SCX_OPS_ENQ_EXITING | SCX_OPS_ENQ_MIGRATION_DISABLED,
	.name		= "pair",
};
