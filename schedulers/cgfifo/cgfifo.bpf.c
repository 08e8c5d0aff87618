/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cgfifo - FIFO inside each cgroup, cgroups weighted against each other through one flat tree.
 *
 * The question behind it: how much of a scheduler's cost on a cgroup-heavy server is the
 * hierarchy itself? The kernel's fair class walks a cgroup's chain of group entities on every
 * enqueue, dequeue and tick. cgfifo keeps the hierarchy's outcome (each cgroup gets the share
 * cpu.weight entitles it to) but schedules over a single flat level: every cgroup with runnable
 * tasks competes directly with every other one, with the share it would end up with in the
 * hierarchy. Inside a cgroup, tasks simply run in arrival order.
 *
 * Shares ("hierarchical weights", cgfifo_tree.h has the arithmetic and its fixed point, 1 << 16
 * = 100%). A cgroup's share is the product, down its chain of ancestors, of its weight divided
 * by the summed weight of its ACTIVE siblings (itself included). Example, A(100){B(100),
 * C(200)} and D(300) under the root, all of B, C and D busy:
 *
 *	top level: A and D active, 100 + 300 = 400       A = 1/4, D = 3/4
 *	inside A:  B and C active, 100 + 200 = 300       B = 1/4 * 1/3 = 1/12, C = 1/4 * 2/3 = 1/6
 *
 * so B, C and D compete on one level with shares 1/12, 1/6 and 3/4. If B idles, C inherits all
 * of A's quarter; if B and C idle, A is idle too and D's share becomes 100%. The tree is kept
 * current on every event that changes it: a cgroup appears (ops.cgroup_init, also once per
 * existing cgroup at load) or disappears (cgroup_exit), its first task becomes runnable or its
 * last one stops (ops.runnable / ops.quiescent count runnable tasks per cgroup), its cpu.weight
 * changes (cgroup_set_weight), a task moves (cgroup_prep_move / cgroup_move carry its count).
 * Each cgroup keeps active_sum, the weights of its active children; a cgroup is active while
 * active_sum > 0, and going from 0 to non-zero (or back) adds (or removes) its weight in its
 * parent, up the chain as far as activity changes. Shares are not stored: whoever needs one
 * multiplies down the chain (at most CGFIFO_MAX_DEPTH steps), under the same lock.
 *
 * A cgroup's own tasks. cgroup v2 keeps tasks out of inner cgroups that delegate the cpu
 * controller, except at the root. So a cgroup's own runnable tasks count as one more child of
 * weight 100 (the default cpu.weight, CGFIFO_SELF_WEIGHT): all tasks of the root (kernel
 * threads, the benchmark's agent, anything not placed in a cgroup) compete as one weight-100
 * child of the root, not one entity each as in the fair class.
 *
 * No ops flag enables the cgroup callbacks on this kernel (7.3): SCX_OPS_HAS_CGROUP_WEIGHT is
 * gone from enum scx_ops_flags in its BTF, and with CONFIG_EXT_GROUP_SCHED=y the kernel calls
 * them for every policy that implements them (the cg_init stat counts the calls).
 *
 * Only cgroups with the cpu controller exist here. The kernel passes sched_ext the cgroups of
 * its task groups: a cgroup whose parent has not enabled "cpu" in cgroup.subtree_control has no
 * task group of its own, its tasks count in the nearest ancestor that has one, and its
 * cpu.weight does not exist. With the cpu controller disabled everywhere, everything is in the
 * root: cgfifo is then one FIFO, like the fifo policy, plus the bookkeeping.
 *
 * Picking the next cgroup: virtual time. Each cgroup has a cvtime that its runs advance by
 * (CPU time used * 100% / its share) when they stop (ops.running / ops.stopping), so a cgroup
 * with a quarter of the machine ages four times faster than one with all of it. ops.dispatch
 * serves the cgroup with queued tasks and the lowest cvtime, taking the head of its FIFO. Over
 * time each busy cgroup gets CPU in proportion to its share. A cgroup waking from idle
 * resumes at no less than (the cvtime last served - --lag-us): idle time earns at most that much
 * credit, so a cgroup cannot sleep to save up a burst.
 *
 * Data structures, and why. Each cgroup's FIFO is a DSQ whose id is the cgroup's id (unique
 * for the boot, so a removed cgroup's DSQ id is never reused). The cgroups themselves live in a
 * fixed array of CGFIFO_MAX_CGROUPS slots; each slot holds the slot numbers of its ancestors,
 * so a chain walk is a bounded loop over array entries. ops.dispatch scans the slots in use
 * for the lowest cvtime: O(number of cgroups) per dispatch, a handful on scxlab's guests, and
 * no ordering to keep correct under concurrent updates. A BPF rbtree keyed by cvtime would make
 * dispatch O(log n) for hundreds of cgroups, at the cost of re-inserting a cgroup every time
 * its cvtime moves. One global spin lock serialises the tree's counts (runnable counts,
 * active_sum, weights) and cvtime charges; dispatch reads cvtime without it (a stale read only
 * delays a cgroup by one pick).
 *
 * Trade-offs:
 *  - Weights between cgroups only. Inside a cgroup tasks are served in order of arrival with
 *    one --slice-us slice each; nice levels are ignored.
 *  - An idle CPU takes a waking task directly (ops.select_cpu), bypassing the cgroup order,
 *    and a task queued while some CPU idles wakes that CPU (ops.enqueue): work conserving, and
 *    harmless to shares because it happens only while a CPU is free.
 *  - No preemption: a cgroup that is owed CPU waits for a running slice to end.
 *  - A run is charged when it stops, so the choice ignores runs in progress: on 2 CPUs a
 *    cgroup can get one slice more than its share before its charge lands.
 *  - The share is taken at the moment a run is charged; a run that spanned a change of shares
 *    is charged entirely at the new one.
 *  - Limits: CGFIFO_MAX_CGROUPS cgroups with the cpu controller, CGFIFO_MAX_DEPTH levels; a
 *    cgroup beyond either fails to be created (or the policy fails to load).
 */
#include <scxlab.bpf.h>
#include "cgfifo.h"
#include "cgfifo_tree.h"

#define CGFIFO_SELF_WEIGHT	CGFIFO_WEIGHT_DFL	/* the share of a cgroup's own tasks */

/* errno values (vmlinux.h has no errno.h) */
#define ENOENT	2
#define E2BIG	7
#define ENOMEM	12
#define ENOSPC	28

/* A global in its own data section: the kernel allows a bpf_spin_lock there. */
#define private(name) SEC(".data." #name) __hidden __attribute__((aligned(8)))

const volatile __u64 slice_ns = SCX_SLICE_DFL;	/* --slice-us */
const volatile __u64 lag_ns = SCX_SLICE_DFL;	/* --lag-us: credit an idle cgroup may keep */

SCXLAB_STATS(CGFIFO_NR_STATS);

struct cgfifo_cg cgs[CGFIFO_MAX_CGROUPS];
__u64 nr_slots;			/* slots below this may be in use: what dispatch scans */
__u64 cvtime_now;			/* cvtime of the cgroup served last (the frontier) */
private(CGFIFO_TREE) struct bpf_spin_lock tree_lock;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CGFIFO_MAX_CGROUPS);
	__type(key, u64);	/* cgroup id */
	__type(value, s32);	/* its slot */
} cgid_slot SEC(".maps");

struct task_ctx {
	s32 cg_slot;		/* the task's cgroup */
	s32 move_slot;		/* destination between cgroup_prep_move and cgroup_move, else -1 */
	s32 counted_slot;	/* the cgroup whose nr_runnable counts the task, -1 when not runnable */
	s32 run_slot;		/* the cgroup its current run is charged to */
	u64 counted_cgid;	/* cgroup ids of those two, to notice a slot freed meanwhile */
	u64 run_cgid;
	u64 running_at;		/* scx_bpf_now() when the current run began */
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct task_ctx);
} task_ctxs SEC(".maps");

static __always_inline struct task_ctx *lookup_task_ctx(struct task_struct *p)
{
	struct task_ctx *t = bpf_task_storage_get(&task_ctxs, p, 0, 0);

	if (!t)
		scxlab_error("cgfifo: task %d has no context", p->pid);
	return t;
}

static __always_inline s32 slot_of(struct cgroup *cgrp)
{
	u64 cgid = cgrp->kn->id;
	s32 *slot = bpf_map_lookup_elem(&cgid_slot, &cgid);

	return slot ? *slot : -1;
}

static __always_inline bool valid_slot(s32 slot)
{
	return slot >= 0 && slot < CGFIFO_MAX_CGROUPS;
}

/*
 * The cgroup in @slot, NULL for a slot out of range. Every variable index into cgs[] goes
 * through here: barrier_var makes clang index with the very register it bounds-checked (it
 * otherwise re-extends a fresh copy of the index, which the verifier has not seen checked).
 */
static __always_inline struct cgfifo_cg *cg_at(s64 slot)
{
	u64 i = slot;

	barrier_var(i);
	if (i >= CGFIFO_MAX_CGROUPS)
		return NULL;
	barrier_var(i);
	return &cgs[i];
}

/*
 * Slot of @c's ancestor at @level, CGFIFO_MAX_CGROUPS (never valid) for a level out of range.
 * barrier_var keeps clang from indexing with a copy of @level the verifier has not seen checked.
 */
static __always_inline u32 anc_slot(struct cgfifo_cg *c, u64 level)
{
	barrier_var(level);
	if (level > CGFIFO_MAX_DEPTH)
		return CGFIFO_MAX_CGROUPS;
	barrier_var(level);
	return c->anc[level];
}

/*
 * Tree updates: the tree lock is held and the verifier forbids calls there, so these are
 * inlined loops over array entries. tree_add: @add more active weight under @node; a node that
 * was idle becomes active and adds its own weight to its parent, and so on up.
 */
static __always_inline void tree_add(u32 node, u32 add)
{
	int i;

	for (i = 0; i <= CGFIFO_MAX_DEPTH; i++) {
		struct cgfifo_cg *c;
		u32 was, lvl;

		c = cg_at(node);
		if (!c)
			return;
		was = c->active_sum;
		c->active_sum += add;
		lvl = c->level;
		if (was || !lvl)
			return;
		add = c->weight;
		node = anc_slot(c, lvl - 1);
	}
}

/* The reverse of tree_add. False if a count would go negative (a bookkeeping bug). */
static __always_inline bool tree_sub(u32 node, u32 sub)
{
	int i;

	for (i = 0; i <= CGFIFO_MAX_DEPTH; i++) {
		struct cgfifo_cg *c;
		u32 lvl;

		c = cg_at(node);
		if (!c)
			return false;
		if (c->active_sum < sub)
			return false;
		c->active_sum -= sub;
		lvl = c->level;
		if (c->active_sum || !lvl)
			return true;
		sub = c->weight;
		node = anc_slot(c, lvl - 1);
	}
	return true;
}

/* Share of @slot's own tasks: down the chain of ancestors, then its self child. 0 if idle. */
static __always_inline u32 tree_self_hweight(u32 slot)
{
	struct cgfifo_cg *c = cg_at(slot), *parent, *node;
	u32 h = CGFIFO_HWEIGHT_ONE, lvl, l;

	if (!c)
		return 0;
	lvl = c->level;
	for (l = 1; l <= CGFIFO_MAX_DEPTH; l++) {
		if (l > lvl)
			break;
		parent = cg_at(anc_slot(c, l - 1));
		node = cg_at(anc_slot(c, l));
		if (!parent || !node)
			return 0;
		h = cgfifo_hweight_step(h, node->weight, parent->active_sum);
	}
	return cgfifo_hweight_step(h, CGFIFO_SELF_WEIGHT, c->active_sum);
}

enum count_result { COUNT_STALE, COUNT_DONE, COUNT_EDGE, COUNT_EDGE_CLAMPED, COUNT_BROKEN };

/* One more runnable task in @slot; COUNT_EDGE[_CLAMPED] when that activated the cgroup. */
static __always_inline int count_runnable(s32 slot)
{
	struct cgfifo_cg *c = cg_at(slot);
	int ret = COUNT_STALE;
	u64 floor;

	if (!c)
		return COUNT_BROKEN;
	bpf_spin_lock(&tree_lock);
	if (c->state == SLOT_LIVE) {
		ret = COUNT_DONE;
		if (!c->nr_runnable++) {
			tree_add(slot, CGFIFO_SELF_WEIGHT);
			ret = COUNT_EDGE;
			floor = cvtime_now - lag_ns;
			if ((s64)(c->cvtime - floor) < 0) {
				c->cvtime = floor;
				ret = COUNT_EDGE_CLAMPED;
			}
		}
	}
	bpf_spin_unlock(&tree_lock);
	return ret;
}

/* One runnable task less in @slot, if the slot still holds cgroup @cgid. */
static __always_inline int uncount_runnable(s32 slot, u64 cgid)
{
	struct cgfifo_cg *c = cg_at(slot);
	int ret = COUNT_STALE;

	if (!c)
		return COUNT_BROKEN;
	bpf_spin_lock(&tree_lock);
	if (c->state == SLOT_LIVE && c->cgid == cgid) {
		ret = COUNT_DONE;
		if (!c->nr_runnable)
			ret = COUNT_BROKEN;
		else if (!--c->nr_runnable)
			ret = tree_sub(slot, CGFIFO_SELF_WEIGHT) ? COUNT_EDGE : COUNT_BROKEN;
	}
	bpf_spin_unlock(&tree_lock);
	return ret;
}

static __always_inline void count_stats(int ret, bool up)
{
	if (ret == COUNT_EDGE || ret == COUNT_EDGE_CLAMPED)
		stat_inc(up ? CGFIFO_STAT_ACTIVATE : CGFIFO_STAT_IDLE);
	if (ret == COUNT_EDGE_CLAMPED)
		stat_inc(CGFIFO_STAT_LAG_CLAMP);
}

s32 BPF_STRUCT_OPS(cgfifo_select_cpu, struct task_struct *p, s32 prev_cpu, u64 wake_flags)
{
	bool is_idle = false;
	s32 cpu;

	cpu = scx_bpf_select_cpu_dfl(p, prev_cpu, wake_flags, &is_idle);
	if (is_idle) {
		/* An insert from select_cpu skips ops.enqueue() for this wakeup. */
		stat_inc(CGFIFO_STAT_DIRECT_IDLE);
		scx_bpf_dsq_insert(p, SCX_DSQ_LOCAL, slice_ns, 0);
	}
	return cpu;
}

void BPF_STRUCT_OPS(cgfifo_enqueue, struct task_struct *p, u64 enq_flags)
{
	struct task_ctx *t = lookup_task_ctx(p);
	struct cgfifo_cg *c;
	s32 cpu;

	if (!t)
		return;
	c = cg_at(t->cg_slot);
	if (!c) {
		scxlab_error("cgfifo: task %d has no cgroup slot (%d)", p->pid, t->cg_slot);
		return;
	}
	stat_inc(CGFIFO_STAT_ENQUEUE);
	scx_bpf_dsq_insert(p, c->cgid, slice_ns, enq_flags);

	/*
	 * Tasks wait in per-cgroup queues that only ops.dispatch looks at; if a CPU is idle, wake
	 * it to come and take this one rather than leave it waiting for a busy CPU's slice to end.
	 */
	cpu = scx_bpf_pick_idle_cpu(p->cpus_ptr, 0);
	if (cpu >= 0) {
		stat_inc(CGFIFO_STAT_KICK_IDLE);
		scx_bpf_kick_cpu(cpu, SCX_KICK_IDLE);
	}
}

void BPF_STRUCT_OPS(cgfifo_dispatch, s32 cpu, struct task_struct *prev)
{
	u64 n = nr_slots;
	s32 best = -1;
	u64 best_vt = 0, best_cgid = 0;
	int i;

	if (n > CGFIFO_MAX_CGROUPS)
		n = CGFIFO_MAX_CGROUPS;
	bpf_for(i, 0, n) {
		struct cgfifo_cg *c;

		c = cg_at(i);
		if (!c)
			break;
		if (c->state != SLOT_LIVE)
			continue;
		if (best >= 0 && (s64)(c->cvtime - best_vt) >= 0)
			continue;
		if (scx_bpf_dsq_nr_queued(c->cgid) <= 0)
			continue;
		best = i;
		best_vt = c->cvtime;
		best_cgid = c->cgid;
	}
	if (best < 0) {
		stat_inc(CGFIFO_STAT_DISPATCH_NONE);
		return;
	}
	if (scx_bpf_dsq_move_to_local(best_cgid)) {
		if ((s64)(best_vt - cvtime_now) > 0)
			cvtime_now = best_vt;
		stat_inc(CGFIFO_STAT_DISPATCH);
		return;
	}
	/*
	 * The winner's queue held only tasks that may not run on this CPU (or was emptied by
	 * another CPU meanwhile): serve any cgroup that has something for us, to stay work
	 * conserving.
	 */
	bpf_for(i, 0, n) {
		struct cgfifo_cg *c;

		c = cg_at(i);
		if (!c)
			break;
		if (c->state != SLOT_LIVE || c->cgid == best_cgid)
			continue;
		if (scx_bpf_dsq_nr_queued(c->cgid) > 0 && scx_bpf_dsq_move_to_local(c->cgid)) {
			stat_inc(CGFIFO_STAT_DISPATCH_OTHER);
			return;
		}
	}
	stat_inc(CGFIFO_STAT_DISPATCH_NONE);
}

void BPF_STRUCT_OPS(cgfifo_runnable, struct task_struct *p, u64 enq_flags)
{
	struct task_ctx *t = lookup_task_ctx(p);
	s32 slot;
	int ret;

	if (!t || t->counted_slot >= 0)
		return;
	slot = t->cg_slot;
	ret = count_runnable(slot);
	if (ret == COUNT_BROKEN || ret == COUNT_STALE) {
		scxlab_error("cgfifo: runnable task %d in cgroup slot %d that is not live", p->pid, slot);
		return;
	}
	t->counted_slot = slot;
	t->counted_cgid = cg_at(slot) ? cg_at(slot)->cgid : 0;
	count_stats(ret, true);
}

void BPF_STRUCT_OPS(cgfifo_quiescent, struct task_struct *p, u64 deq_flags)
{
	struct task_ctx *t = lookup_task_ctx(p);
	int ret;

	if (!t || t->counted_slot < 0)
		return;
	ret = uncount_runnable(t->counted_slot, t->counted_cgid);
	t->counted_slot = -1;
	if (ret == COUNT_BROKEN) {
		scxlab_error("cgfifo: the runnable count or active weight of cgroup %llu went negative",
			     t->counted_cgid);
		return;
	}
	count_stats(ret, false);
}

void BPF_STRUCT_OPS(cgfifo_running, struct task_struct *p)
{
	struct task_ctx *t = lookup_task_ctx(p);
	struct cgfifo_cg *c;
	s32 slot;

	if (!t)
		return;
	slot = t->counted_slot >= 0 ? t->counted_slot : t->cg_slot;
	c = cg_at(slot);
	if (!c)
		return;
	t->run_slot = slot;
	t->run_cgid = c->cgid;
	t->running_at = scx_bpf_now();
}

void BPF_STRUCT_OPS(cgfifo_stopping, struct task_struct *p, bool runnable)
{
	struct task_ctx *t = lookup_task_ctx(p);
	struct cgfifo_cg *c;
	bool charged = false, idle = false;
	u64 used;
	u32 h;
	s32 slot;

	if (!t || !t->running_at)
		return;
	slot = t->run_slot;
	c = cg_at(slot);
	if (!c)
		return;
	used = scx_bpf_now() - t->running_at;
	t->running_at = 0;
	bpf_spin_lock(&tree_lock);
	if (c->state == SLOT_LIVE && c->cgid == t->run_cgid) {
		h = tree_self_hweight(slot);
		idle = !h;
		c->cvtime += cgfifo_cvtime_delta(used, h ? h : CGFIFO_HWEIGHT_ONE);
		charged = true;
	}
	bpf_spin_unlock(&tree_lock);
	if (charged)
		stat_inc(idle ? CGFIFO_STAT_CHARGE_IDLE : CGFIFO_STAT_CHARGE);
}

s32 BPF_STRUCT_OPS(cgfifo_init_task, struct task_struct *p, struct scx_init_task_args *args)
{
	struct task_ctx *t;
	s32 slot;

	t = bpf_task_storage_get(&task_ctxs, p, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!t)
		return -ENOMEM;
	slot = args->cgroup ? slot_of(args->cgroup) : -1;
	if (slot < 0) {
		scxlab_error("cgfifo: task %d starts in a cgroup without a slot", p->pid);
		return -ENOENT;
	}
	t->cg_slot = slot;
	t->move_slot = -1;
	t->counted_slot = -1;
	t->run_slot = -1;
	return 0;
}

/* Sleepable: creating the cgroup's DSQ allocates memory. */
s32 BPF_STRUCT_OPS_SLEEPABLE(cgfifo_cgroup_init, struct cgroup *cgrp, struct scx_cgroup_init_args *args)
{
	u64 cgid = cgrp->kn->id;
	int level = cgrp->level, i, ret;
	s32 slot = -1, parent = -1;
	struct cgfifo_cg *c, *pc;
	u32 weight = args->weight;

	if (level < 0 || level > CGFIFO_MAX_DEPTH)
		return -E2BIG;
	if (level > 0) {
		struct cgroup *p = bpf_cgroup_ancestor(cgrp, level - 1);

		if (!p)
			return -ENOENT;
		parent = slot_of(p);
		bpf_cgroup_release(p);
		/* The kernel initialises parents before children. */
		if (!valid_slot(parent))
			return -ENOENT;
	}
	bpf_for(i, 0, CGFIFO_MAX_CGROUPS) {
		c = cg_at(i);
		if (c && __sync_val_compare_and_swap(&c->state, SLOT_FREE, SLOT_INIT) == SLOT_FREE) {
			slot = i;
			break;
		}
	}
	c = cg_at(slot);
	if (!c)
		return -ENOSPC;
	pc = cg_at(parent);

	c->cgid = cgid;
	c->weight = weight < CGFIFO_WEIGHT_MIN ? CGFIFO_WEIGHT_MIN :
		    weight > CGFIFO_WEIGHT_MAX ? CGFIFO_WEIGHT_MAX : weight;
	c->active_sum = 0;
	c->nr_runnable = 0;
	c->level = level;
	c->cvtime = cvtime_now;
	for (i = 0; i < CGFIFO_MAX_DEPTH; i++) {
		if (i >= level || !pc)
			break;
		c->anc[i] = anc_slot(pc, i);
	}
	barrier_var(level);
	if (level >= 0 && level <= CGFIFO_MAX_DEPTH)
		c->anc[level] = slot;

	ret = scx_bpf_create_dsq(cgid, -1);
	if (ret) {
		c->state = SLOT_FREE;
		return ret;
	}
	ret = bpf_map_update_elem(&cgid_slot, &cgid, &slot, BPF_ANY);
	if (ret) {
		scx_bpf_destroy_dsq(cgid);
		c->state = SLOT_FREE;
		return ret;
	}
	for (i = 0; i < 8; i++) {
		u64 old = nr_slots;

		if (old > (u64)slot || __sync_val_compare_and_swap(&nr_slots, old, slot + 1) == old)
			break;
	}
	/* Published last: dispatch only looks at live slots. */
	__sync_val_compare_and_swap(&c->state, SLOT_INIT, SLOT_LIVE);
	stat_inc(CGFIFO_STAT_CGROUP_INIT);
	return 0;
}

void BPF_STRUCT_OPS(cgfifo_cgroup_exit, struct cgroup *cgrp)
{
	u64 cgid = cgrp->kn->id;
	s32 slot = slot_of(cgrp);
	struct cgfifo_cg *c;
	bool busy = false;
	u32 lvl;

	c = cg_at(slot);
	if (!c)
		return;		/* its cgroup_init failed */
	bpf_spin_lock(&tree_lock);
	/*
	 * A removed cgroup has no tasks, but on unload cgroups exit while tasks may still be
	 * counted: take back its share so that its ancestors' sums stay true.
	 */
	if (c->active_sum) {
		busy = true;
		lvl = c->level;
		if (lvl)
			tree_sub(anc_slot(c, lvl - 1), c->weight);
		c->active_sum = 0;
	}
	c->nr_runnable = 0;
	c->state = SLOT_INIT;	/* neither live nor free until its DSQ is gone */
	bpf_spin_unlock(&tree_lock);

	scx_bpf_destroy_dsq(cgid);
	bpf_map_delete_elem(&cgid_slot, &cgid);
	c->state = SLOT_FREE;
	stat_inc(CGFIFO_STAT_CGROUP_EXIT);
	if (busy)
		stat_inc(CGFIFO_STAT_CGROUP_EXIT_BUSY);
}

void BPF_STRUCT_OPS(cgfifo_cgroup_set_weight, struct cgroup *cgrp, u32 weight)
{
	struct cgfifo_cg *c = cg_at(slot_of(cgrp)), *pc;
	u32 lvl;

	if (!c)
		return;
	if (weight < CGFIFO_WEIGHT_MIN)
		weight = CGFIFO_WEIGHT_MIN;
	if (weight > CGFIFO_WEIGHT_MAX)
		weight = CGFIFO_WEIGHT_MAX;
	bpf_spin_lock(&tree_lock);
	lvl = c->level;
	/* An active cgroup's weight is part of its parent's sum: swap old for new there. */
	if (c->active_sum && lvl) {
		pc = cg_at(anc_slot(c, lvl - 1));
		if (pc)
			pc->active_sum = pc->active_sum - c->weight + weight;
	}
	c->weight = weight;
	bpf_spin_unlock(&tree_lock);
	stat_inc(CGFIFO_STAT_SET_WEIGHT);
}

/* Resolve the destination here: cgroup_move itself cannot fail. */
s32 BPF_STRUCT_OPS(cgfifo_cgroup_prep_move, struct task_struct *p, struct cgroup *from, struct cgroup *to)
{
	struct task_ctx *t = lookup_task_ctx(p);
	s32 slot = slot_of(to);

	if (!t)
		return -ENOENT;
	if (!valid_slot(slot)) {
		scxlab_error("cgfifo: task %d moves to a cgroup without a slot", p->pid);
		return -ENOENT;
	}
	t->move_slot = slot;
	return 0;
}

void BPF_STRUCT_OPS(cgfifo_cgroup_move, struct task_struct *p, struct cgroup *from, struct cgroup *to)
{
	struct task_ctx *t = lookup_task_ctx(p);
	s32 slot, old;
	int ret;

	if (!t)
		return;
	slot = t->move_slot >= 0 ? t->move_slot : slot_of(to);
	t->move_slot = -1;
	if (!valid_slot(slot)) {
		scxlab_error("cgfifo: task %d moved to a cgroup without a slot", p->pid);
		return;
	}
	t->cg_slot = slot;
	stat_inc(CGFIFO_STAT_MOVE);

	/*
	 * The kernel normally takes a runnable task through quiescent/runnable around a move; if
	 * it is still counted in the old cgroup, carry the count over so both sums stay exact.
	 */
	old = t->counted_slot;
	if (old < 0 || old == slot)
		return;
	ret = uncount_runnable(old, t->counted_cgid);
	count_stats(ret, false);
	t->counted_slot = -1;
	ret = count_runnable(slot);
	if (ret == COUNT_BROKEN || ret == COUNT_STALE) {
		scxlab_error("cgfifo: task %d moved to cgroup slot %d that is not live", p->pid, slot);
		return;
	}
	t->counted_slot = slot;
	t->counted_cgid = cg_at(slot) ? cg_at(slot)->cgid : 0;
	count_stats(ret, true);
	stat_inc(CGFIFO_STAT_MOVE_RUNNABLE);
}

void BPF_STRUCT_OPS(cgfifo_cgroup_cancel_move, struct task_struct *p, struct cgroup *from, struct cgroup *to)
{
	struct task_ctx *t = lookup_task_ctx(p);

	if (t)
		t->move_slot = -1;
	stat_inc(CGFIFO_STAT_CANCEL_MOVE);
}

void BPF_STRUCT_OPS(cgfifo_exit, struct scx_exit_info *ei)
{
	scxlab_record_exit(ei);
}

SEC(".struct_ops.link")
struct sched_ext_ops cgfifo_ops = {
	.select_cpu		= (void *)cgfifo_select_cpu,
	.enqueue		= (void *)cgfifo_enqueue,
	.dispatch		= (void *)cgfifo_dispatch,
	.runnable		= (void *)cgfifo_runnable,
	.running		= (void *)cgfifo_running,
	.stopping		= (void *)cgfifo_stopping,
	.quiescent		= (void *)cgfifo_quiescent,
	.init_task		= (void *)cgfifo_init_task,
	.cgroup_init		= (void *)cgfifo_cgroup_init,
	.cgroup_exit		= (void *)cgfifo_cgroup_exit,
	.cgroup_prep_move	= (void *)cgfifo_cgroup_prep_move,
	.cgroup_move		= (void *)cgfifo_cgroup_move,
	.cgroup_cancel_move	= (void *)cgfifo_cgroup_cancel_move,
	.cgroup_set_weight	= (void *)cgfifo_cgroup_set_weight,
	.exit			= (void *)cgfifo_exit,
	.name			= "cgfifo",
};
