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
 * parent, up the chain as far as activity changes. A share is the product down the chain; it
 * is cached per cgroup until the tree changes (see "Data structures" below).
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
 * Data structures, and why. Each cgroup's state lives in BPF_MAP_TYPE_CGRP_STORAGE, attached
 * to the kernel's struct cgroup (created in ops.cgroup_init, deleted in cgroup_exit): no table
 * of slots to allocate, recycle or bound, and a lookup by the cgroup itself. Each cgroup's FIFO
 * is a DSQ whose id is the cgroup's id (unique for the boot, so a removed cgroup's id is never
 * reused); tasks remember their cgroup by that id, and bpf_cgroup_from_id() finds it again, or
 * nothing once it is gone.
 *
 * Which cgroup next: a BPF rbtree of the cgroups that have queued tasks, keyed by cvtime, under
 * one spin lock. A cgroup is in the tree at most once (its `queued` flag, flipped with cmpxchg):
 * ops.enqueue adds it when its first task queues, ops.dispatch pops the leftmost, moves the
 * head of its FIFO to the CPU and puts it back if tasks remain. Dispatch is O(log n) in the
 * cgroups with work, not a scan of every cgroup. A cgroup's cvtime grows when its runs are
 * charged (ops.stopping), which would mean re-inserting it on every charge; instead a key is
 * allowed to be stale but only ever LOW (cvtime never decreases): dispatch compares the popped
 * key with the cgroup's current cvtime and, if it moved, re-inserts it with the true value and
 * pops again. Every key is a lower bound of its cgroup's cvtime, so the first node whose key is
 * current is the true minimum. The re-keys per dispatch are bounded; past the bound the head
 * is served as it is.
 *
 * When may a cgroup leave the tree? The kernel puts a task into the DSQ named in ops.enqueue
 * only after the callback returns, so for a moment a cgroup's DSQ looks empty while a task is
 * on its way. Each cgroup therefore counts nr_queued, its tasks enqueued and not yet running
 * (or gone quiescent); dispatch drops a cgroup's node only when its DSQ is empty AND that count
 * is zero, after clearing `queued` (enqueue raises the count before testing `queued`, so one of
 * the two always sees the other). A cgroup whose task is still on its way is put back one slice
 * later in the order, so the cgroups behind it are served meanwhile.
 *
 * The share of a cgroup needs a walk up its chain of ancestors (at most CGFIFO_MAX_DEPTH
 * lookups), so it is cached in the cgroup with the value of a global generation counter,
 * hweight_gen, which every change to the tree bumps: an activation or idling that changes a
 * cgroup's contribution to its parent, a weight change, a cgroup's init or exit. A charge
 * whose cgroup's cached generation is current uses the cache (most charges, in a steady
 * state); otherwise it walks the chain top down and caches each level's share.
 *
 * Tree sums without a global lock. The kernel helpers that find a cgroup's ancestors cannot be
 * called under a BPF spin lock, so the tree is not updated under one lock over the whole
 * chain. Each cgroup has its own lock over (active_sum, weight, contrib); contrib is what it
 * currently adds to its parent's active_sum (its weight while its active_sum > 0, else 0). A
 * change takes one cgroup's lock, applies a delta to its active_sum, recomputes its contrib and
 * passes the difference up as the next level's delta. Because each step recomputes contrib
 * from the current state rather than replaying edges, concurrent walks up the same chain may
 * interleave (a parent may briefly see -w before +w) but the sums are exact again once both
 * walks are done; in between, a charge may use a share that is off for that one charge.
 *
 * Tasks with restricted affinity (fewer CPUs than the machine, or migration disabled) go to
 * one shared fallback DSQ that dispatch serves first, as flatcg does: a cgroup's FIFO then only
 * holds tasks any CPU may run, so the cgroup at the head of the tree always has something for
 * the dispatching CPU. Those tasks (mostly per-CPU kernel threads) bypass the cgroup order.
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
 *  - Limits: CGFIFO_MAX_DEPTH levels; a deeper cgroup fails to be created (or the policy fails
 *    to load). The number of cgroups is not limited by the policy.
 */
#include <scxlab.bpf.h>
#include "cgfifo.h"
#include "cgfifo_tree.h"

#define CGFIFO_SELF_WEIGHT	CGFIFO_WEIGHT_DFL	/* the share of a cgroup's own tasks */
#define FALLBACK_DSQ		(1ULL << 62)	/* above any cgroup id, below the built-in DSQs */
#define DISPATCH_POPS		32		/* tree pops per dispatch, re-keys included */
#define DISPATCH_REKEYS		16		/* past this many, serve the head as it is */

/* errno values (vmlinux.h has no errno.h) */
#define ENOENT	2
#define E2BIG	7
#define ENOMEM	12

const volatile __u64 slice_ns = SCX_SLICE_DFL;	/* --slice-us */
const volatile __u64 lag_ns = SCX_SLICE_DFL;	/* --lag-us: credit an idle cgroup may keep */

SCXLAB_STATS(CGFIFO_NR_STATS);

__u64 cvtime_now;	/* cvtime of the cgroup served last (the frontier) */
__u64 hweight_gen = 1;	/* bumped on every change of weights or activity: cached shares expire */

/* One cgroup, in its cgroup storage. */
struct cgfifo_cgx {
	struct bpf_spin_lock lock;	/* over active_sum, weight, contrib, nr_runnable, dead, cvtime */
	__s64 active_sum;	/* weights of its active children + SELF_WEIGHT if own tasks run */
	__u64 cvtime;		/* virtual time: CPU used, scaled by 100% / share */
	__u64 queued;		/* 1 while it has a node in the tree (cmpxchg) */
	__s64 nr_queued;	/* tasks enqueued to its DSQ that have not run (or left) since */
	__u64 hweight_gen;	/* hweight_gen when hweight was computed */
	__u32 hweight;		/* cached share of the cgroup (its chain), CGFIFO_HWEIGHT_ONE = 100% */
	__u32 weight;		/* its cpu.weight */
	__u32 contrib;		/* what it adds to its parent's active_sum: weight if active, else 0 */
	__u32 nr_runnable;	/* its own runnable tasks (running ones included) */
	__u32 level;		/* 0 for the root */
	__u32 dead;		/* cgroup_exit ran: counts no longer change */
};

struct {
	__uint(type, BPF_MAP_TYPE_CGRP_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct cgfifo_cgx);
} cg_ctxs SEC(".maps");

/* A cgroup with queued tasks, in the tree ordered by cvtime (a lower bound of it, see above). */
struct cgv_node {
	struct bpf_rb_node rb_node;
	__u64 cvtime;
	__u64 cgid;
};

private(CGV_TREE) struct bpf_spin_lock cgv_tree_lock;
private(CGV_TREE) struct bpf_rb_root cgv_tree __contains(cgv_node, rb_node);

struct task_ctx {
	u64 cgid;		/* the task's cgroup */
	u64 move_cgid;		/* destination between cgroup_prep_move and cgroup_move, else 0 */
	u64 counted_cgid;	/* the cgroup whose nr_runnable counts the task, 0 when not runnable */
	u64 queued_cgid;	/* the cgroup whose nr_queued counts the task, 0 when not queued */
	u64 run_cgid;		/* the cgroup its current run is charged to */
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

static __always_inline u64 cgid_of(struct cgroup *cgrp)
{
	return cgrp->kn->id;
}

/* The state of the cgroup with id @cgid, NULL once it is gone (or was never initialised). */
static __always_inline struct cgfifo_cgx *cgx_of_id(u64 cgid)
{
	struct cgroup *cgrp = bpf_cgroup_from_id(cgid);
	struct cgfifo_cgx *c;

	if (!cgrp)
		return NULL;
	c = bpf_cgrp_storage_get(&cg_ctxs, cgrp, 0, 0);
	bpf_cgroup_release(cgrp);
	return c;
}

static __always_inline void bump_hweight_gen(void)
{
	__sync_fetch_and_add(&hweight_gen, 1);
}

static __always_inline u32 clamp_weight(u32 weight)
{
	return weight < CGFIFO_WEIGHT_MIN ? CGFIFO_WEIGHT_MIN :
	       weight > CGFIFO_WEIGHT_MAX ? CGFIFO_WEIGHT_MAX : weight;
}

/*
 * With @c's lock held: make contrib match the current active_sum and weight; returns the
 * change to pass to the parent's active_sum.
 */
static __always_inline s64 settle_contrib(struct cgfifo_cgx *c)
{
	u32 target = c->active_sum > 0 && !c->dead ? c->weight : 0;
	s64 change = (s64)target - (s64)c->contrib;

	c->contrib = target;
	return change;
}

/*
 * Carry @change, the change of what @cgrp's ancestor at @level (or @cgrp itself) adds to its
 * parent, up the chain for as long as some level's contribution changes.
 */
static __always_inline void propagate(struct cgroup *cgrp, u32 level, s64 change)
{
	int i;

	bpf_for(i, 0, CGFIFO_MAX_DEPTH) {
		struct cgroup *anc;
		struct cgfifo_cgx *pc;

		if (!change || !level || level > CGFIFO_MAX_DEPTH)
			break;
		level--;
		anc = bpf_cgroup_ancestor(cgrp, level);
		if (!anc)
			break;
		pc = bpf_cgrp_storage_get(&cg_ctxs, anc, 0, 0);
		bpf_cgroup_release(anc);
		if (!pc)
			break;
		bpf_spin_lock(&pc->lock);
		pc->active_sum += change;
		change = settle_contrib(pc);
		bpf_spin_unlock(&pc->lock);
	}
	bump_hweight_gen();
}

/*
 * Share of @cgrp (state @c): the product down its chain (cgfifo_tree.h), from the cache when
 * the tree has not changed since it was computed. Each level's share is cached on the way.
 */
static __always_inline u32 cg_hweight(struct cgroup *cgrp, struct cgfifo_cgx *c)
{
	u64 gen = hweight_gen;
	u32 h = CGFIFO_HWEIGHT_ONE, level = c->level, l;

	if (c->hweight_gen == gen) {
		stat_inc(CGFIFO_STAT_HWEIGHT_CACHED);
		return c->hweight;
	}
	stat_inc(CGFIFO_STAT_HWEIGHT_WALK);
	bpf_for(l, 1, CGFIFO_MAX_DEPTH + 1) {
		struct cgroup *anc, *par;
		struct cgfifo_cgx *node, *parent;

		if (l > level)
			break;
		anc = bpf_cgroup_ancestor(cgrp, l);
		if (!anc)
			return 0;
		node = bpf_cgrp_storage_get(&cg_ctxs, anc, 0, 0);
		bpf_cgroup_release(anc);
		par = bpf_cgroup_ancestor(cgrp, l - 1);
		if (!par)
			return 0;
		parent = bpf_cgrp_storage_get(&cg_ctxs, par, 0, 0);
		bpf_cgroup_release(par);
		if (!node || !parent)
			return 0;
		if (node->hweight_gen == gen) {
			h = node->hweight;
			continue;
		}
		h = cgfifo_hweight_step(h, node->weight, parent->active_sum > 0 ?
					(u32)parent->active_sum : 0);
		node->hweight = h;
		node->hweight_gen = gen;
	}
	c->hweight = h;		/* done in the loop already, except for the root */
	c->hweight_gen = gen;
	return h;
}

enum count_result { COUNT_STALE, COUNT_DONE, COUNT_EDGE, COUNT_EDGE_CLAMPED, COUNT_BROKEN };

/*
 * One runnable task more (@up) or less in the cgroup @cgid. COUNT_EDGE[_CLAMPED] when that
 * (de)activated the cgroup's own tasks, COUNT_STALE when the cgroup is gone.
 */
static __always_inline int count_runnable(u64 cgid, bool up)
{
	struct cgroup *cgrp = bpf_cgroup_from_id(cgid);
	struct cgfifo_cgx *c;
	int ret = COUNT_STALE;
	s64 change = 0;
	u32 level = 0;
	u64 floor;

	if (!cgrp)
		return COUNT_STALE;
	c = bpf_cgrp_storage_get(&cg_ctxs, cgrp, 0, 0);
	if (!c) {
		bpf_cgroup_release(cgrp);
		return COUNT_STALE;
	}
	bpf_spin_lock(&c->lock);
	if (!c->dead) {
		ret = COUNT_DONE;
		if (up && !c->nr_runnable++) {
			c->active_sum += CGFIFO_SELF_WEIGHT;
			ret = COUNT_EDGE;
			floor = cvtime_now - lag_ns;
			if ((s64)(c->cvtime - floor) < 0) {
				c->cvtime = floor;
				ret = COUNT_EDGE_CLAMPED;
			}
		} else if (!up && !c->nr_runnable) {
			ret = COUNT_BROKEN;
		} else if (!up && !--c->nr_runnable) {
			c->active_sum -= CGFIFO_SELF_WEIGHT;
			ret = c->active_sum < 0 ? COUNT_BROKEN : COUNT_EDGE;
		}
		change = settle_contrib(c);
		level = c->level;
	}
	bpf_spin_unlock(&c->lock);
	if (ret == COUNT_EDGE || ret == COUNT_EDGE_CLAMPED)
		propagate(cgrp, level, change);
	bpf_cgroup_release(cgrp);
	return ret;
}

static __always_inline void count_stats(int ret, bool up)
{
	if (ret == COUNT_EDGE || ret == COUNT_EDGE_CLAMPED)
		stat_inc(up ? CGFIFO_STAT_ACTIVATE : CGFIFO_STAT_IDLE);
	if (ret == COUNT_EDGE_CLAMPED)
		stat_inc(CGFIFO_STAT_LAG_CLAMP);
	if (ret == COUNT_STALE)
		stat_inc(CGFIFO_STAT_NO_CGROUP);
}

/* The task left its cgroup's queue (it runs, or stopped being runnable): uncount it there. */
static __always_inline void unqueue(struct task_ctx *t)
{
	struct cgfifo_cgx *c;

	if (!t->queued_cgid)
		return;
	c = cgx_of_id(t->queued_cgid);
	if (c)
		__sync_fetch_and_sub(&c->nr_queued, 1);
	t->queued_cgid = 0;
}

static bool cgv_node_less(struct bpf_rb_node *a, const struct bpf_rb_node *b)
{
	struct cgv_node *x = container_of(a, struct cgv_node, rb_node);
	struct cgv_node *y = container_of(b, struct cgv_node, rb_node);

	return (s64)(x->cvtime - y->cvtime) < 0;
}

/* Put cgroup @cgid in the tree with key @cvtime; false when out of memory. */
static __always_inline bool tree_insert(u64 cgid, u64 cvtime)
{
	struct cgv_node *node = bpf_obj_new(struct cgv_node);

	if (!node)
		return false;
	node->cgid = cgid;
	node->cvtime = cvtime;
	bpf_spin_lock(&cgv_tree_lock);
	bpf_rbtree_add(&cgv_tree, &node->rb_node, cgv_node_less);
	bpf_spin_unlock(&cgv_tree_lock);
	return true;
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
	struct cgfifo_cgx *c = NULL;
	s32 cpu;

	if (!t)
		return;
	if (p->nr_cpus_allowed == scx_bpf_nr_cpu_ids() && !p->migration_disabled)
		c = cgx_of_id(t->cgid);
	if (!c) {
		stat_inc(CGFIFO_STAT_ENQUEUE_FALLBACK);
		scx_bpf_dsq_insert(p, FALLBACK_DSQ, slice_ns, enq_flags);
	} else {
		stat_inc(CGFIFO_STAT_ENQUEUE);
		scx_bpf_dsq_insert(p, t->cgid, slice_ns, enq_flags);
		/*
		 * The kernel puts the task in the DSQ only after this callback returns, so the
		 * DSQ can look empty to a dispatching CPU for a moment: nr_queued counts it from
		 * here until it runs. It goes up first, the flag is tested second; dispatch
		 * clears the flag first and reads nr_queued second: one sees the other's work.
		 */
		unqueue(t);
		__sync_fetch_and_add(&c->nr_queued, 1);
		t->queued_cgid = t->cgid;
		if (__sync_val_compare_and_swap(&c->queued, 0, 1) == 0 &&
		    !tree_insert(t->cgid, c->cvtime)) {
			scxlab_error("cgfifo: out of memory for the tree node of cgroup %llu", t->cgid);
			return;
		}
	}

	/*
	 * Tasks wait in queues that only ops.dispatch looks at; if a CPU is idle, wake it to
	 * come and take this one rather than leave it waiting for a busy CPU's slice to end.
	 */
	cpu = scx_bpf_pick_idle_cpu(p->cpus_ptr, 0);
	if (cpu >= 0) {
		stat_inc(CGFIFO_STAT_KICK_IDLE);
		scx_bpf_kick_cpu(cpu, SCX_KICK_IDLE);
	}
}

void BPF_STRUCT_OPS(cgfifo_dispatch, s32 cpu, struct task_struct *prev)
{
	int i, rekeys = 0;

	if (scx_bpf_dsq_move_to_local(FALLBACK_DSQ)) {
		stat_inc(CGFIFO_STAT_DISPATCH_FALLBACK);
		return;
	}
	bpf_for(i, 0, DISPATCH_POPS) {
		struct bpf_rb_node *rb;
		struct cgv_node *node;
		struct cgfifo_cgx *c;
		u64 cgid, key;
		bool moved;

		bpf_spin_lock(&cgv_tree_lock);
		rb = bpf_rbtree_first(&cgv_tree);
		if (!rb) {
			bpf_spin_unlock(&cgv_tree_lock);
			break;
		}
		rb = bpf_rbtree_remove(&cgv_tree, rb);
		bpf_spin_unlock(&cgv_tree_lock);
		if (!rb)
			break;
		node = container_of(rb, struct cgv_node, rb_node);
		cgid = node->cgid;
		key = node->cvtime;

		c = cgx_of_id(cgid);
		if (!c) {
			/* removed with tasks queued (only on unload): its DSQ is gone too */
			bpf_obj_drop(node);
			stat_inc(CGFIFO_STAT_TREE_GONE);
			continue;
		}
		if ((s64)(c->cvtime - key) > 0 && rekeys < DISPATCH_REKEYS) {
			/* charged since it was keyed: back in at its true place, look again */
			rekeys++;
			node->cvtime = c->cvtime;
			bpf_spin_lock(&cgv_tree_lock);
			bpf_rbtree_add(&cgv_tree, &node->rb_node, cgv_node_less);
			bpf_spin_unlock(&cgv_tree_lock);
			stat_inc(CGFIFO_STAT_TREE_REKEY);
			continue;
		}

		moved = scx_bpf_dsq_move_to_local(cgid);
		if (moved && (s64)(key - cvtime_now) > 0)
			cvtime_now = key;
		if (!moved && (scx_bpf_dsq_nr_queued(cgid) > 0 || c->nr_queued > 0)) {
			/*
			 * Nothing this CPU may run after all, or a task on its way into the DSQ:
			 * let the next cgroup go first.
			 */
			node->cvtime = key + slice_ns;
			stat_inc(CGFIFO_STAT_DISPATCH_SKIP);
		}

		/* Still has work: stays in the tree. Else out, unless a task arrived meanwhile. */
		if (scx_bpf_dsq_nr_queued(cgid) <= 0) {
			__sync_val_compare_and_swap(&c->queued, 1, 0);
			if (c->nr_queued <= 0 ||
			    __sync_val_compare_and_swap(&c->queued, 0, 1) != 0) {
				bpf_obj_drop(node);
				node = NULL;
			}
		}
		if (node) {
			bpf_spin_lock(&cgv_tree_lock);
			bpf_rbtree_add(&cgv_tree, &node->rb_node, cgv_node_less);
			bpf_spin_unlock(&cgv_tree_lock);
		}
		if (moved) {
			stat_inc(CGFIFO_STAT_DISPATCH);
			return;
		}
	}
	stat_inc(CGFIFO_STAT_DISPATCH_NONE);
}

void BPF_STRUCT_OPS(cgfifo_runnable, struct task_struct *p, u64 enq_flags)
{
	struct task_ctx *t = lookup_task_ctx(p);
	int ret;

	if (!t || t->counted_cgid)
		return;
	ret = count_runnable(t->cgid, true);
	if (ret == COUNT_BROKEN) {
		scxlab_error("cgfifo: the runnable count of cgroup %llu is broken", t->cgid);
		return;
	}
	if (ret != COUNT_STALE)
		t->counted_cgid = t->cgid;
	count_stats(ret, true);
}

void BPF_STRUCT_OPS(cgfifo_quiescent, struct task_struct *p, u64 deq_flags)
{
	struct task_ctx *t = lookup_task_ctx(p);
	int ret;

	if (!t)
		return;
	unqueue(t);
	if (!t->counted_cgid)
		return;
	ret = count_runnable(t->counted_cgid, false);
	if (ret == COUNT_BROKEN) {
		scxlab_error("cgfifo: the runnable count or active weight of cgroup %llu went negative",
			     t->counted_cgid);
		return;
	}
	t->counted_cgid = 0;
	count_stats(ret, false);
}

void BPF_STRUCT_OPS(cgfifo_running, struct task_struct *p)
{
	struct task_ctx *t = lookup_task_ctx(p);

	if (!t)
		return;
	unqueue(t);
	t->run_cgid = t->counted_cgid ? t->counted_cgid : t->cgid;
	t->running_at = scx_bpf_now();
}

void BPF_STRUCT_OPS(cgfifo_stopping, struct task_struct *p, bool runnable)
{
	struct task_ctx *t = lookup_task_ctx(p);
	struct cgroup *cgrp;
	struct cgfifo_cgx *c;
	s64 active_sum;
	u64 used;
	u32 h;

	if (!t || !t->running_at)
		return;
	used = scx_bpf_now() - t->running_at;
	t->running_at = 0;
	cgrp = bpf_cgroup_from_id(t->run_cgid);
	if (!cgrp)
		return;
	c = bpf_cgrp_storage_get(&cg_ctxs, cgrp, 0, 0);
	if (c) {
		/* the share of the cgroup's own tasks: one more child of its, of SELF_WEIGHT */
		h = cg_hweight(cgrp, c);
		active_sum = c->active_sum;
		h = cgfifo_hweight_step(h, CGFIFO_SELF_WEIGHT, active_sum > 0 ? (u32)active_sum : 0);
		bpf_spin_lock(&c->lock);
		c->cvtime += cgfifo_cvtime_delta(used, h ? h : CGFIFO_HWEIGHT_ONE);
		bpf_spin_unlock(&c->lock);
		stat_inc(h ? CGFIFO_STAT_CHARGE : CGFIFO_STAT_CHARGE_IDLE);
	}
	bpf_cgroup_release(cgrp);
}

s32 BPF_STRUCT_OPS(cgfifo_init_task, struct task_struct *p, struct scx_init_task_args *args)
{
	struct task_ctx *t;

	t = bpf_task_storage_get(&task_ctxs, p, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!t)
		return -ENOMEM;
	if (!args->cgroup) {
		scxlab_error("cgfifo: task %d starts without a cgroup", p->pid);
		return -ENOENT;
	}
	t->cgid = cgid_of(args->cgroup);
	t->move_cgid = 0;
	t->counted_cgid = 0;
	t->queued_cgid = 0;
	t->run_cgid = 0;
	return 0;
}

/* Sleepable: creating the cgroup's DSQ allocates memory. */
s32 BPF_STRUCT_OPS_SLEEPABLE(cgfifo_cgroup_init, struct cgroup *cgrp, struct scx_cgroup_init_args *args)
{
	u64 cgid = cgid_of(cgrp);
	int level = cgrp->level, ret;
	struct cgfifo_cgx *c;

	if (level < 0 || level > CGFIFO_MAX_DEPTH)
		return -E2BIG;
	c = bpf_cgrp_storage_get(&cg_ctxs, cgrp, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!c)
		return -ENOMEM;
	c->weight = clamp_weight(args->weight);
	c->level = level;
	c->cvtime = cvtime_now;
	ret = scx_bpf_create_dsq(cgid, -1);
	if (ret) {
		bpf_cgrp_storage_delete(&cg_ctxs, cgrp);
		return ret;
	}
	bump_hweight_gen();
	stat_inc(CGFIFO_STAT_CGROUP_INIT);
	return 0;
}

void BPF_STRUCT_OPS(cgfifo_cgroup_exit, struct cgroup *cgrp)
{
	struct cgfifo_cgx *c = bpf_cgrp_storage_get(&cg_ctxs, cgrp, 0, 0);
	bool busy;
	s64 change;

	if (!c)
		return;		/* its cgroup_init failed */
	/*
	 * A removed cgroup has no tasks, but on unload cgroups exit while tasks may still be
	 * counted: take back its share so that its ancestors' sums stay true.
	 */
	bpf_spin_lock(&c->lock);
	busy = c->active_sum > 0;
	c->dead = 1;
	change = settle_contrib(c);
	bpf_spin_unlock(&c->lock);
	propagate(cgrp, c->level, change);
	scx_bpf_destroy_dsq(cgid_of(cgrp));
	bpf_cgrp_storage_delete(&cg_ctxs, cgrp);
	stat_inc(CGFIFO_STAT_CGROUP_EXIT);
	if (busy)
		stat_inc(CGFIFO_STAT_CGROUP_EXIT_BUSY);
}

void BPF_STRUCT_OPS(cgfifo_cgroup_set_weight, struct cgroup *cgrp, u32 weight)
{
	struct cgfifo_cgx *c = bpf_cgrp_storage_get(&cg_ctxs, cgrp, 0, 0);
	s64 change;

	if (!c)
		return;
	/* An active cgroup's weight is part of its parent's sum: settle swaps old for new. */
	bpf_spin_lock(&c->lock);
	c->weight = clamp_weight(weight);
	change = settle_contrib(c);
	bpf_spin_unlock(&c->lock);
	propagate(cgrp, c->level, change);
	stat_inc(CGFIFO_STAT_SET_WEIGHT);
}

/* Check the destination here: cgroup_move itself cannot fail. */
s32 BPF_STRUCT_OPS(cgfifo_cgroup_prep_move, struct task_struct *p, struct cgroup *from, struct cgroup *to)
{
	struct task_ctx *t = lookup_task_ctx(p);

	if (!t)
		return -ENOENT;
	if (!bpf_cgrp_storage_get(&cg_ctxs, to, 0, 0)) {
		scxlab_error("cgfifo: task %d moves to a cgroup cgfifo does not know", p->pid);
		return -ENOENT;
	}
	t->move_cgid = cgid_of(to);
	return 0;
}

void BPF_STRUCT_OPS(cgfifo_cgroup_move, struct task_struct *p, struct cgroup *from, struct cgroup *to)
{
	struct task_ctx *t = lookup_task_ctx(p);
	u64 cgid, old;
	int ret;

	if (!t)
		return;
	cgid = t->move_cgid ? t->move_cgid : cgid_of(to);
	t->move_cgid = 0;
	t->cgid = cgid;
	stat_inc(CGFIFO_STAT_MOVE);

	/*
	 * The kernel normally takes a runnable task through quiescent/runnable around a move; if
	 * it is still counted in the old cgroup, carry the count over so both sums stay exact.
	 */
	old = t->counted_cgid;
	if (!old || old == cgid)
		return;
	ret = count_runnable(old, false);
	count_stats(ret, false);
	t->counted_cgid = 0;
	ret = count_runnable(cgid, true);
	if (ret == COUNT_BROKEN || ret == COUNT_STALE) {
		scxlab_error("cgfifo: task %d moved to cgroup %llu that is gone", p->pid, cgid);
		return;
	}
	t->counted_cgid = cgid;
	count_stats(ret, true);
	stat_inc(CGFIFO_STAT_MOVE_RUNNABLE);
}

void BPF_STRUCT_OPS(cgfifo_cgroup_cancel_move, struct task_struct *p, struct cgroup *from, struct cgroup *to)
{
	struct task_ctx *t = lookup_task_ctx(p);

	if (t)
		t->move_cgid = 0;
	stat_inc(CGFIFO_STAT_CANCEL_MOVE);
}

s32 BPF_STRUCT_OPS_SLEEPABLE(cgfifo_init)
{
	return scx_bpf_create_dsq(FALLBACK_DSQ, -1);
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
	.init			= (void *)cgfifo_init,
	.exit			= (void *)cgfifo_exit,
	.name			= "cgfifo",
};
