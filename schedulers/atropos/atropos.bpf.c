/* SPDX-License-Identifier: GPL-2.0 */
/*
 * atropos - FIFO queues per scheduling domain in BPF, load balancing in user space.
 *
 * Idea. Split the work by time scale. Decisions taken thousands of times a second (where
 * does this wakeup go, what runs next on this CPU) stay in BPF and stay simple: each
 * scheduling domain (a group of CPUs) has one FIFO queue, and a CPU serves its own
 * domain's queue. Decisions that need a view of the whole machine and some arithmetic
 * (which domain is overloaded, which tasks should move) run a few times a second in user
 * space, in the loader, where they cost nothing on the scheduling path and can be as
 * clever as one likes. The two halves meet in two BPF hash maps keyed by pid:
 *
 *	task_dom   pid -> domain. BPF fills it at a task's first enqueue; the balancer
 *	           rewrites entries to move tasks. BPF honours the map at every enqueue.
 *	task_load  pid -> runnable time. Written by BPF in ops.runnable()/ops.quiescent()
 *	           (time running plus time waiting), read by the balancer.
 *
 * Domains. --nr-domains N (default 2) splits CPU ids into N contiguous ranges: with 4
 * CPUs and 2 domains, CPUs 0-1 and 2-3. On real hardware the natural domain is the CPUs
 * sharing a last-level cache; QEMU's vCPUs share one, so ranges it is (the loader sets
 * the cpu -> domain map, BPF does not care how it was chosen).
 *
 * BPF path of a task. At wakeup, ops.select_cpu() looks for an idle CPU of the task's
 * domain, previous CPU first, and inserts the task straight into its local DSQ.
 * Otherwise ops.enqueue() appends it to its domain's DSQ and kicks an idle CPU of that
 * domain if there is one. ops.dispatch() on a CPU takes the head of its own domain's DSQ;
 * if that is empty it steals the head of another domain's DSQ (work conservation between
 * balancing rounds; --no-steal turns it off), without changing the task's domain.
 *
 * Balancer (atropos.c), every --balance-ms: for every task, load = runnable time in the
 * last interval / interval (1.0 = wanted one CPU the whole time). Domain load per CPU =
 * sum of its tasks' loads / its CPUs. Imbalance = highest minus lowest domain load per
 * CPU. While the imbalance is above --min-imbalance and fewer than --max-migrations tasks
 * moved this round, move the task of the busiest domain whose move shrinks the gap
 * between busiest and idlest the most (and is allowed there by its CPU affinity) to the
 * idlest domain. Each round prints the imbalance before and the one predicted after.
 *
 * Example, 2 domains of 1 CPU, 3 CPU hogs all started in domain 0: loads 1.0 each,
 * domain 0 has 3.0 per CPU, domain 1 has 0.0 (stealing lets CPU 1 help, but the tasks
 * still count in domain 0). Imbalance 3.0: moving one hog gives 2.0 vs 1.0 (gap 1.0);
 * moving a second would give 1.0 vs 2.0, no better, so the round stops at one migration.
 *
 * Trade-offs:
 *  - Reaction time is the balancing period: a burst shorter than --balance-ms is never
 *    balanced (stealing covers idle CPUs meanwhile, at the price of cross-domain
 *    execution that the domains were meant to avoid).
 *  - A move takes effect at the task's next enqueue: a task queued or running in its old
 *    domain finishes that turn there.
 *  - Load is runnable time, not weight-scaled: nice levels are ignored, as in the FIFO
 *    queues themselves.
 *  - New tasks start in the domain of the CPU they were created on, so a forking
 *    parent piles children into one domain until the next round; the balancer fixes it.
 *  - One hash map lookup per enqueue and per runnable/quiescent transition; the user-space
 *    side walks every task once per round, which is cheap for hundreds of tasks, less so
 *    for tens of thousands.
 */
#include <scxlab.bpf.h>
#include "atropos.h"

const volatile __u32 nr_cpus = 1;		/* possible CPUs, set by the loader */
const volatile __u32 nr_domains = 1;		/* --nr-domains */
const volatile __u64 slice_ns = SCX_SLICE_DFL;	/* --slice-us */
const volatile bool steal = true;		/* --no-steal clears it */

SCXLAB_STATS(ATROPOS_NR_STATS);

/* CPU -> domain, filled by the loader before attach. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, ATROPOS_MAX_CPUS);
	__type(key, u32);
	__type(value, u32);
} cpu_dom SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, ATROPOS_MAX_TASKS);
	__type(key, u32);
	__type(value, u32);
} task_dom SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, ATROPOS_MAX_TASKS);
	__type(key, u32);
	__type(value, struct atropos_task_load);
} task_load SEC(".maps");

/* Domain of @cpu, or nr_domains for a CPU out of range. */
static u32 dom_of_cpu(s32 cpu)
{
	u32 key = cpu, *dom;

	dom = bpf_map_lookup_elem(&cpu_dom, &key);
	return dom && *dom < nr_domains ? *dom : nr_domains;
}

/* Can @p run on some CPU of @dom? */
static bool dom_allowed(struct task_struct *p, u32 dom)
{
	s32 cpu;

	if (p->nr_cpus_allowed >= nr_cpus)
		return true;
	bpf_for(cpu, 0, nr_cpus) {
		if (dom_of_cpu(cpu) == dom && bpf_cpumask_test_cpu(cpu, p->cpus_ptr))
			return true;
	}
	return false;
}

/*
 * The domain @p is to be queued in: the balancer's choice, or for a new task the domain
 * of the CPU it is on. If @p may not run there (its affinity changed), the first domain
 * it may use; the map is updated so that the balancer sees the truth.
 */
static u32 task_domain(struct task_struct *p, bool *is_new)
{
	u32 pid = p->pid, dom, d, *slot;

	*is_new = false;
	slot = bpf_map_lookup_elem(&task_dom, &pid);
	if (slot && *slot < nr_domains) {
		dom = *slot;
	} else {
		dom = dom_of_cpu(scx_bpf_task_cpu(p));
		if (dom >= nr_domains)
			dom = 0;
		stat_inc(ATROPOS_STAT_NEW_TASK);
		*is_new = true;
	}
	if (!dom_allowed(p, dom)) {
		bpf_for(d, 0, nr_domains) {
			if (dom_allowed(p, d)) {
				stat_inc(ATROPOS_STAT_AFFINITY_FIX);
				dom = d;
				*is_new = true;
				break;
			}
		}
	}
	if (*is_new)
		bpf_map_update_elem(&task_dom, &pid, &dom, BPF_ANY);
	return dom;
}

/* Claim an idle CPU of @dom that @p may use, previous CPU first; -1 if none. */
static s32 claim_idle_cpu(struct task_struct *p, u32 dom, s32 prev_cpu)
{
	s32 cpu;

	if (dom_of_cpu(prev_cpu) == dom && bpf_cpumask_test_cpu(prev_cpu, p->cpus_ptr) &&
	    scx_bpf_test_and_clear_cpu_idle(prev_cpu))
		return prev_cpu;
	bpf_for(cpu, 0, nr_cpus) {
		if (dom_of_cpu(cpu) == dom && bpf_cpumask_test_cpu(cpu, p->cpus_ptr) &&
		    scx_bpf_test_and_clear_cpu_idle(cpu))
			return cpu;
	}
	return -1;
}

s32 BPF_STRUCT_OPS(atropos_select_cpu, struct task_struct *p, s32 prev_cpu, u64 wake_flags)
{
	u32 pid = p->pid, *slot;
	s32 cpu;

	/* Unknown tasks are placed by enqueue, which registers them. */
	slot = bpf_map_lookup_elem(&task_dom, &pid);
	if (!slot || *slot >= nr_domains)
		return prev_cpu;
	cpu = claim_idle_cpu(p, *slot, prev_cpu);
	if (cpu < 0)
		return prev_cpu;
	stat_inc(ATROPOS_STAT_DIRECT_IDLE);
	scx_bpf_dsq_insert(p, SCX_DSQ_LOCAL, slice_ns, 0);
	return cpu;
}

void BPF_STRUCT_OPS(atropos_enqueue, struct task_struct *p, u64 enq_flags)
{
	struct atropos_task_load *tl;
	u32 pid = p->pid, dom;
	bool is_new;
	s32 cpu;

	dom = task_domain(p, &is_new);
	tl = bpf_map_lookup_elem(&task_load, &pid);
	if (tl) {
		if (tl->dom != dom && !is_new)
			stat_inc(ATROPOS_STAT_MIGRATED);
		tl->dom = dom;
	}
	stat_inc(ATROPOS_STAT_ENQUEUE);
	scx_bpf_dsq_insert(p, dom, slice_ns, enq_flags);

	cpu = claim_idle_cpu(p, dom, scx_bpf_task_cpu(p));
	if (cpu >= 0) {
		stat_inc(ATROPOS_STAT_KICK_IDLE);
		scx_bpf_kick_cpu(cpu, SCX_KICK_IDLE);
	}
}

void BPF_STRUCT_OPS(atropos_dispatch, s32 cpu, struct task_struct *prev)
{
	u32 dom = dom_of_cpu(cpu), i;

	if (dom < nr_domains && scx_bpf_dsq_move_to_local(dom)) {
		stat_inc(ATROPOS_STAT_DISPATCH_OWN);
		return;
	}
	if (!steal)
		return;
	bpf_for(i, 1, nr_domains + 1) {
		u32 victim = (dom + i) % nr_domains;

		if (victim != dom && scx_bpf_dsq_move_to_local(victim)) {
			stat_inc(ATROPOS_STAT_DISPATCH_STEAL);
			return;
		}
	}
}

void BPF_STRUCT_OPS(atropos_runnable, struct task_struct *p, u64 enq_flags)
{
	struct atropos_task_load fresh = {}, *tl;
	u32 pid = p->pid;
	u64 now = bpf_ktime_get_ns();

	tl = bpf_map_lookup_elem(&task_load, &pid);
	if (!tl) {
		fresh.runnable_since = now;
		fresh.dom = nr_domains;		/* set by the first enqueue */
		bpf_map_update_elem(&task_load, &pid, &fresh, BPF_NOEXIST);
		return;
	}
	tl->runnable_since = now;
}

void BPF_STRUCT_OPS(atropos_quiescent, struct task_struct *p, u64 deq_flags)
{
	struct atropos_task_load *tl;
	u32 pid = p->pid;
	u64 now = bpf_ktime_get_ns();

	tl = bpf_map_lookup_elem(&task_load, &pid);
	if (!tl || !tl->runnable_since)
		return;
	if (now > tl->runnable_since)
		tl->runnable_ns += now - tl->runnable_since;
	tl->runnable_since = 0;
}

void BPF_STRUCT_OPS(atropos_exit_task, struct task_struct *p, struct scx_exit_task_args *args)
{
	u32 pid = p->pid;

	bpf_map_delete_elem(&task_dom, &pid);
	bpf_map_delete_elem(&task_load, &pid);
}

s32 BPF_STRUCT_OPS_SLEEPABLE(atropos_init)
{
	u32 dom;
	s32 err;

	bpf_for(dom, 0, nr_domains) {
		err = scx_bpf_create_dsq(dom, -1);
		if (err) {
			scxlab_error("atropos: cannot create the DSQ of domain %u: %d", dom, err);
			return err;
		}
	}
	return 0;
}

void BPF_STRUCT_OPS(atropos_exit, struct scx_exit_info *ei)
{
	scxlab_record_exit(ei);
}

SEC(".struct_ops.link")
struct sched_ext_ops atropos_ops = {
	.select_cpu	= (void *)atropos_select_cpu,
	.enqueue	= (void *)atropos_enqueue,
	.dispatch	= (void *)atropos_dispatch,
	.runnable	= (void *)atropos_runnable,
	.quiescent	= (void *)atropos_quiescent,
	.exit_task	= (void *)atropos_exit_task,
	.init		= (void *)atropos_init,
	.exit		= (void *)atropos_exit,
	.name		= "atropos",
};
