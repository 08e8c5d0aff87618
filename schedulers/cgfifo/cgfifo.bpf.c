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
 * changes (cgroup_set_weight), a task moves (cgroup_move carries its count).
 * Each cgroup keeps nr_active, how many of its children are active (its own runnable tasks
 * count as one child), and active_sum, their weights; going from 0 active children to 1 (or
 * back) adds (or removes) its weight in its parent's sum and moves the parent's count, up the
 * chain as far as activity changes (cgfifo_tree.h explains why the count is signed).
 *
 * Shares are cached. The only user is the charge in ops.stopping, once per run, and the tree
 * changes far less often than that: each cgroup caches the share of its own tasks tagged with a
 * global generation, which every change above (a weight, an activity edge, a cgroup created or
 * removed) bumps after it is made. A charge whose cgroup's tag is current takes the cached
 * share; otherwise it multiplies down the chain (at most CGFIFO_MAX_DEPTH steps) and caches
 * the result (the hweight_refresh stat counts these).
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
 * Data structures, and why. Each cgroup's state is its BPF cgroup storage (cg_ctxs, created
 * in cgroup_init, freed by the kernel with the cgroup): no table to size, no slot to allocate
 * or recycle, and a cgroup's ancestors are found with bpf_cgroup_ancestor(). Each cgroup's FIFO
 * is a DSQ whose id is the cgroup's id (unique for the boot, never reused).
 *
 * The dispatch order is a BPF rbtree of the cgroups that have queued tasks, keyed by cvtime,
 * one node (bpf_obj_new) per queued cgroup, under its own spin lock. ops.dispatch takes the
 * first node: O(log n) in the number of queued cgroups instead of a look at every cgroup. A
 * node that cannot be allocated ejects the policy (scx_bpf_error) rather than leave a cgroup
 * with queued tasks out of the order, where nothing would ever serve it.
 * Three things keep the tree true without re-sorting it on every charge:
 *  - Membership follows nr_queued, the cgroup's tasks between ops.enqueue and the moment they
 *    start running or leave the runqueue. It is counted before the insert (which reaches the
 *    DSQ only after ops.enqueue returns) and taken back in ops.running or ops.quiescent, where
 *    the task has really left the queue, once per task (task_ctx.queued_cgid). Counting
 *    anywhere else drifts: a task taken out and put back by the kernel would be counted twice,
 *    or a cgroup would leave the tree with a task still on its way and be starved.
 *  - A cgroup enters the tree when it gets a queued task and is not in it (in_queue, which
 *    exactly one CPU flips from 0 to 1), and leaves only from ops.dispatch when it is first
 *    and nr_queued is 0; dispatch then clears in_queue and looks at nr_queued again, since an
 *    enqueue that saw it still queued has not added it.
 *  - Charges go to the cgroup's storage, not to its key, so a key can only lag behind the
 *    cvtime it stands for. Dispatch compares the first node's key with its cgroup's cvtime:
 *    equal means that cgroup truly has the lowest cvtime (every other key is at most its own
 *    cvtime); older means it was charged since it was placed, and it is re-sorted at its
 *    cvtime (the dispatch_rekey stat) before dispatch looks again. A re-sort never moves a
 *    key backwards.
 * If the first cgroup has nothing this CPU may run, dispatch serves the second one (held
 * aside and put back unchanged). The weight tree has its own lock, taken one level at a time
 * (the verifier allows no calls under a spin lock, and each level's storage is a call away);
 * runs are charged with an atomic add, so dispatch and stopping do not share a lock.
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
 *  - Work conservation reaches one cgroup past the first: if neither of the two lowest
 *    cgroups has a task this CPU may run (their tasks bound to other CPUs), this dispatch
 *    serves none, and the CPU waits for the next kick although a third cgroup might have had
 *    one. The other CPUs are serving those two meanwhile.
 *  - Limits: CGFIFO_MAX_DEPTH levels (a deeper cgroup fails to be created, or the policy to
 *    load); the number of cgroups is bounded only by memory.
 */
#include <scxlab.bpf.h>
#include <bpf/bpf_core_read.h>
#include "cgfifo.h"
#include "cgfifo_tree.h"

#define CGFIFO_SELF_WEIGHT	CGFIFO_WEIGHT_DFL	/* the share of a cgroup's own tasks */
#define CGFIFO_DISPATCH_TRIES	8	/* rbtree heads dispatch looks at before it serves one */

/* errno values (vmlinux.h has no errno.h) */
#define ENOENT	2
#define E2BIG	7
#define ENOMEM	12

/*
 * BPF-owned objects (the rbtree's nodes). A lock and the root it guards share one private data
 * section (the kernel allows a bpf_spin_lock there); __contains names the node type and its
 * bpf_rb_node member; the kfuncs take hidden arguments these wrappers fill.
 */
#define private(name) SEC(".data." #name) __hidden __attribute__((aligned(8)))
#define __contains(name, node) __attribute__((btf_decl_tag("contains:" #name ":" #node)))
#define bpf_obj_new(type) ((type *)bpf_obj_new_impl(bpf_core_type_id_local(type), NULL))
#define bpf_obj_drop(kptr) bpf_obj_drop_impl(kptr, NULL)
#define bpf_rbtree_add(root, node, less) bpf_rbtree_add_impl(root, node, less, NULL, 0)
#ifndef container_of
#define container_of(ptr, type, member) ((type *)((void *)(ptr) - __builtin_offsetof(type, member)))
#endif

const volatile __u64 slice_ns = SCX_SLICE_DFL;	/* --slice-us */
const volatile __u64 lag_ns = SCX_SLICE_DFL;	/* --lag-us: credit an idle cgroup may keep */

SCXLAB_STATS(CGFIFO_NR_STATS);

/* One cgroup (with the cpu controller): its storage, created in cgroup_init. */
struct cgfifo_cg {	/* atomics on 64-bit fields only: clang builds BPF here without -mcpu=v3 */
	u64 cvtime;		/* virtual time: CPU used, scaled by 100% / share */
	u64 hweight_cache;	/* share of its own tasks at a tree generation (cgfifo_hwcache_*) */
	u32 weight;		/* its cpu.weight */
	u32 active_sum;		/* weights of its active children + SELF_WEIGHT if own tasks run */
	s32 nr_active;		/* active children + 1 while own tasks run; >= 1: counted active */
	u32 nr_runnable;	/* its own runnable tasks (running ones included) */
	s64 nr_queued;		/* its tasks between enqueue and running (or leaving the runqueue) */
	u64 in_queue;		/* 1 while it has a node in the rbtree of queued cgroups */
	u32 level;		/* 0 for the root */
	u32 exited;		/* cgroup_exit ran: counts are void, its node is dropped */
};

struct {
	__uint(type, BPF_MAP_TYPE_CGRP_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct cgfifo_cg);
} cg_ctxs SEC(".maps");

/* A queued cgroup in the dispatch order, keyed by its cvtime when it was (re)placed. */
struct cg_qnode {
	struct bpf_rb_node rb;
	u64 key;
	u64 cgid;
};

private(CGFIFO_QUEUE) struct bpf_spin_lock queue_lock;
private(CGFIFO_QUEUE) struct bpf_rb_root queue __contains(cg_qnode, rb);
private(CGFIFO_TREE) struct bpf_spin_lock tree_lock;

__u64 cvtime_now;			/* cvtime of the cgroup served last (the frontier) */
__u64 hweight_gen = 1;		/* bumped after every change of a weight or an active sum */

struct task_ctx {
	u64 counted_cgid;	/* the cgroup whose nr_runnable counts the task, 0 when not runnable */
	u64 queued_cgid;	/* the cgroup whose nr_queued counts it, 0 when not waiting in a queue */
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

static __always_inline struct cgfifo_cg *cg_ctx(struct cgroup *cgrp)
{
	return bpf_cgrp_storage_get(&cg_ctxs, cgrp, 0, 0);
}

/* The storage of @cgrp's ancestor at @level (@level itself: @cgrp), NULL if it has none. */
static __always_inline struct cgfifo_cg *cg_ctx_ancestor(struct cgroup *cgrp, int level)
{
	struct cgroup *a = bpf_cgroup_ancestor(cgrp, level);
	struct cgfifo_cg *c;

	if (!a)
		return NULL;
	c = bpf_cgrp_storage_get(&cg_ctxs, a, 0, 0);
	bpf_cgroup_release(a);
	return c;
}

static __always_inline struct cgfifo_cg *cg_ctx_by_id(u64 cgid)
{
	struct cgroup *cgrp = bpf_cgroup_from_id(cgid);
	struct cgfifo_cg *c;

	if (!cgrp)
		return NULL;
	c = bpf_cgrp_storage_get(&cg_ctxs, cgrp, 0, 0);
	bpf_cgroup_release(cgrp);
	return c;
}

/*
 * The cgroup with id @cgid, referenced (release it). @p's own cgroup when the ids match, the
 * cheap and usual case; else looked up by id. NULL if it is gone. Only where the kernel holds
 * @p's runqueue (scx_bpf_task_cgroup() refuses elsewhere).
 */
static __always_inline struct cgroup *task_cgroup_by_id(struct task_struct *p, u64 cgid)
{
	struct cgroup *cgrp = scx_bpf_task_cgroup(p);

	if (cgrp->kn->id == cgid)
		return cgrp;
	bpf_cgroup_release(cgrp);
	return bpf_cgroup_from_id(cgid);
}

static __always_inline void bump_hweight_gen(void)
{
	__sync_fetch_and_add(&hweight_gen, 1);
}

/*
 * The weight tree. Under the tree lock, one level at a time (the verifier allows no calls
 * while it is held, and finding an ancestor's storage is a call): @c's count of active
 * children moves by one; when that changes whether @c is active, its weight enters or leaves
 * its parent @pc's active sum in the same locked section, so a concurrent cgroup_set_weight
 * always sees the sum and the count agree. Returns whether @c changed activity: then the
 * parent's count moves next (propagate()).
 */
static __always_inline bool active_step_locked(struct cgfifo_cg *c, struct cgfifo_cg *pc, bool up)
{
	bool edge = up ? cgfifo_active_up(&c->nr_active) : cgfifo_active_down(&c->nr_active);

	if (edge && pc) {
		if (up)
			pc->active_sum += c->weight;
		else
			pc->active_sum -= c->weight;
	}
	return edge;
}

/* @cgrp (at @level) changed activity: move its ancestors' counts, up as far as that goes. */
static __always_inline void propagate(struct cgroup *cgrp, u32 level, bool up)
{
	int i;

	bpf_for(i, 0, CGFIFO_MAX_DEPTH) {
		int lvl = (int)level - 1 - i;	/* the ancestor whose count moves */
		struct cgfifo_cg *c, *pc = NULL;
		bool edge;

		if (lvl < 0)
			break;
		c = cg_ctx_ancestor(cgrp, lvl);
		if (!c)
			break;
		if (lvl > 0) {
			pc = cg_ctx_ancestor(cgrp, lvl - 1);
			if (!pc)
				break;
		}
		bpf_spin_lock(&tree_lock);
		edge = active_step_locked(c, pc, up);
		bpf_spin_unlock(&tree_lock);
		if (!edge)
			break;
	}
}

enum count_result { COUNT_STALE, COUNT_DONE, COUNT_EDGE, COUNT_EDGE_CLAMPED, COUNT_BROKEN };

/*
 * One runnable task more (@up) or less in @cgrp's own tasks. The first one adds the self
 * child's weight, the last one takes it back; when that makes the cgroup itself (in)active,
 * the change propagates up. A cgroup waking from idle resumes at no less than the frontier
 * minus --lag-us. COUNT_STALE: the cgroup has exited (its counts no longer matter).
 */
static __always_inline int count_runnable(struct cgroup *cgrp, bool up)
{
	struct cgfifo_cg *c = cg_ctx(cgrp), *pc = NULL;
	u32 level = cgrp->level;
	int ret = COUNT_STALE;
	bool edge = false;
	u64 vt;

	if (!c)
		return COUNT_BROKEN;
	if (level > 0) {
		pc = cg_ctx_ancestor(cgrp, level - 1);
		if (!pc)
			return COUNT_BROKEN;
	}
	bpf_spin_lock(&tree_lock);
	if (!c->exited) {
		ret = COUNT_DONE;
		if (up) {
			if (!c->nr_runnable++) {
				c->active_sum += CGFIFO_SELF_WEIGHT;
				edge = active_step_locked(c, pc, true);
				ret = COUNT_EDGE;
				vt = cgfifo_lag_floor(c->cvtime, cvtime_now, lag_ns);
				if (vt != c->cvtime) {
					c->cvtime = vt;
					ret = COUNT_EDGE_CLAMPED;
				}
			}
		} else if (!c->nr_runnable || c->active_sum < CGFIFO_SELF_WEIGHT) {
			ret = COUNT_BROKEN;
		} else if (!--c->nr_runnable) {
			c->active_sum -= CGFIFO_SELF_WEIGHT;
			edge = active_step_locked(c, pc, false);
			ret = COUNT_EDGE;
		}
	}
	bpf_spin_unlock(&tree_lock);
	if (edge)
		propagate(cgrp, level, up);
	if (ret == COUNT_EDGE || ret == COUNT_EDGE_CLAMPED)
		bump_hweight_gen();
	return ret;
}

static __always_inline void count_stats(int ret, bool up)
{
	if (ret == COUNT_EDGE || ret == COUNT_EDGE_CLAMPED)
		stat_inc(up ? CGFIFO_STAT_ACTIVATE : CGFIFO_STAT_IDLE);
	if (ret == COUNT_EDGE_CLAMPED)
		stat_inc(CGFIFO_STAT_LAG_CLAMP);
}

/*
 * Share of @c's own tasks (@c is @cgrp's storage): cached, and recomputed down the chain of
 * ancestors only when the tree's generation moved since (cgfifo_tree.h has the arithmetic).
 * The chain is read without the lock: the generation is read first and bumped after every
 * change, so a share computed from a tree in mid-change carries an old tag and is redone.
 */
static __always_inline u32 self_hweight(struct cgroup *cgrp, struct cgfifo_cg *c)
{
	u32 gen = (u32)*(volatile u64 *)&hweight_gen, h = CGFIFO_HWEIGHT_ONE, psum, level;
	struct cgfifo_cg *a;
	int l;

	if (cgfifo_hwcache_get(c->hweight_cache, gen, &h))
		return h;
	level = cgrp->level;
	if (level > CGFIFO_MAX_DEPTH)
		return 0;
	h = CGFIFO_HWEIGHT_ONE;
	psum = c->active_sum;
	if (level > 0) {
		a = cg_ctx_ancestor(cgrp, 0);
		psum = a ? a->active_sum : 0;
	}
	bpf_for(l, 1, level + 1) {
		a = cg_ctx_ancestor(cgrp, l);
		if (!a) {
			h = 0;
			break;
		}
		h = cgfifo_hweight_step(h, a->weight, psum);
		psum = a->active_sum;
	}
	h = cgfifo_hweight_step(h, CGFIFO_SELF_WEIGHT, psum);
	c->hweight_cache = cgfifo_hwcache_make(gen, h);
	stat_inc(CGFIFO_STAT_HWEIGHT_REFRESH);
	return h;
}

/*
 * The dispatch order: an rbtree of the cgroups that have queued tasks, keyed by cvtime. A
 * cgroup enters when it gets a queued task and it is not in (in_queue, flipped 0 -> 1 by the
 * one that adds its node), and leaves only from dispatch, when it is first and has nothing
 * queued. Runs are charged to cgroup storage (stopping), not to the key: a key can only be
 * older (lower) than the cgroup's cvtime, so the first node is re-sorted when it is stale
 * and is the true minimum when it is not.
 */
static bool qnode_less(struct bpf_rb_node *a, const struct bpf_rb_node *b)
{
	struct cg_qnode *x = container_of(a, struct cg_qnode, rb);
	struct cg_qnode *y = container_of(b, struct cg_qnode, rb);

	return cgfifo_vtime_before(x->key, y->key);
}

static __always_inline void cg_enter_queue(struct cgfifo_cg *c, u64 cgid)
{
	struct cg_qnode *n;

	if (__sync_val_compare_and_swap(&c->in_queue, 0, 1) != 0)
		return;
	n = bpf_obj_new(struct cg_qnode);
	if (!n) {
		scxlab_error("cgfifo: no memory for the queue node of cgroup %llu", cgid);
		return;
	}
	n->cgid = cgid;
	n->key = c->cvtime;
	bpf_spin_lock(&queue_lock);
	bpf_rbtree_add(&queue, &n->rb, qnode_less);
	bpf_spin_unlock(&queue_lock);
	stat_inc(CGFIFO_STAT_QUEUE_ENTER);
}

/* Queue lock held: take the first node out if it is cgroup @cgid's, else NULL. */
static __always_inline struct bpf_rb_node *take_first_locked(u64 cgid)
{
	struct bpf_rb_node *rb = bpf_rbtree_first(&queue);

	if (!rb || container_of(rb, struct cg_qnode, rb)->cgid != cgid)
		return NULL;
	return bpf_rbtree_remove(&queue, rb);
}

/*
 * Dispatch found the first cgroup @cgid empty (or exited): take its node out, then look
 * again, since an enqueue that saw it still in the queue has not added it back.
 */
static __always_inline void cg_leave_queue(struct cgfifo_cg *c, u64 cgid)
{
	struct bpf_rb_node *rb;

	bpf_spin_lock(&queue_lock);
	rb = take_first_locked(cgid);
	bpf_spin_unlock(&queue_lock);
	if (!rb)
		return;
	bpf_obj_drop(container_of(rb, struct cg_qnode, rb));
	stat_inc(CGFIFO_STAT_QUEUE_LEAVE);
	if (!c)
		return;
	__sync_val_compare_and_swap(&c->in_queue, 1, 0);
	if (!c->exited && c->nr_queued > 0)
		cg_enter_queue(c, cgid);
}

/* The first cgroup, @cgid, was charged since it was placed: put it back at @key. */
static __always_inline void cg_rekey(u64 cgid, u64 key)
{
	struct bpf_rb_node *rb;

	bpf_spin_lock(&queue_lock);
	rb = take_first_locked(cgid);
	if (rb) {
		container_of(rb, struct cg_qnode, rb)->key = key;
		bpf_rbtree_add(&queue, rb, qnode_less);
	}
	bpf_spin_unlock(&queue_lock);
}

/*
 * The first cgroup @cgid had nothing this CPU may run (its tasks bound elsewhere, or taken by
 * another CPU meanwhile): serve the second one instead, to stay work conserving. The first is
 * held out of the tree meanwhile and put back unchanged.
 */
static __always_inline bool dispatch_second(u64 cgid)
{
	struct bpf_rb_node *rb, *next;
	u64 next_cgid = 0;
	bool ok;

	bpf_spin_lock(&queue_lock);
	rb = take_first_locked(cgid);
	if (!rb) {
		bpf_spin_unlock(&queue_lock);
		return false;
	}
	next = bpf_rbtree_first(&queue);
	if (next)
		next_cgid = container_of(next, struct cg_qnode, rb)->cgid;
	bpf_spin_unlock(&queue_lock);

	ok = next_cgid && scx_bpf_dsq_move_to_local(next_cgid);

	bpf_spin_lock(&queue_lock);
	bpf_rbtree_add(&queue, rb, qnode_less);
	bpf_spin_unlock(&queue_lock);
	return ok;
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
	struct cgfifo_cg *c, *old;
	struct cgroup *cgrp;
	u64 cgid;
	s32 cpu;

	if (!t)
		return;
	cgrp = scx_bpf_task_cgroup(p);
	cgid = cgrp->kn->id;
	c = cg_ctx(cgrp);
	bpf_cgroup_release(cgrp);
	if (!c) {
		scxlab_error("cgfifo: task %d is in cgroup %llu that cgfifo does not know", p->pid, cgid);
		return;
	}
	/*
	 * Count the task as queued before it is inserted (the insert lands in the DSQ only after
	 * this callback returns): a cgroup with a task on its way stays in the dispatch order.
	 */
	if (t->queued_cgid != cgid) {
		if (t->queued_cgid) {
			old = cg_ctx_by_id(t->queued_cgid);
			if (old)
				__sync_fetch_and_sub(&old->nr_queued, 1);
		}
		__sync_fetch_and_add(&c->nr_queued, 1);
		t->queued_cgid = cgid;
	}
	stat_inc(CGFIFO_STAT_ENQUEUE);
	scx_bpf_dsq_insert(p, cgid, slice_ns, enq_flags);
	cg_enter_queue(c, cgid);

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
	int i;

	bpf_for(i, 0, CGFIFO_DISPATCH_TRIES) {
		struct bpf_rb_node *rb;
		struct cgfifo_cg *c;
		u64 cgid, key, vt;

		bpf_spin_lock(&queue_lock);
		rb = bpf_rbtree_first(&queue);
		if (!rb) {
			bpf_spin_unlock(&queue_lock);
			break;
		}
		cgid = container_of(rb, struct cg_qnode, rb)->cgid;
		key = container_of(rb, struct cg_qnode, rb)->key;
		bpf_spin_unlock(&queue_lock);

		c = cg_ctx_by_id(cgid);
		if (!c || c->exited || c->nr_queued <= 0) {
			cg_leave_queue(c, cgid);
			continue;
		}
		vt = c->cvtime;
		/* A stale key is re-sorted; on the last try the head is served as it is. */
		if (cgfifo_vtime_before(key, vt) && i < CGFIFO_DISPATCH_TRIES - 1) {
			cg_rekey(cgid, vt);
			stat_inc(CGFIFO_STAT_REKEY);
			continue;
		}
		if (scx_bpf_dsq_move_to_local(cgid)) {
			if (cgfifo_vtime_before(cvtime_now, vt))
				cvtime_now = vt;
			stat_inc(CGFIFO_STAT_DISPATCH);
			return;
		}
		if (dispatch_second(cgid)) {
			stat_inc(CGFIFO_STAT_DISPATCH_OTHER);
			return;
		}
		break;
	}
	stat_inc(CGFIFO_STAT_DISPATCH_NONE);
}

void BPF_STRUCT_OPS(cgfifo_runnable, struct task_struct *p, u64 enq_flags)
{
	struct task_ctx *t = lookup_task_ctx(p);
	struct cgroup *cgrp;
	u64 cgid;
	int ret;

	if (!t || t->counted_cgid)
		return;
	cgrp = scx_bpf_task_cgroup(p);
	cgid = cgrp->kn->id;
	ret = count_runnable(cgrp, true);
	bpf_cgroup_release(cgrp);
	if (ret == COUNT_BROKEN || ret == COUNT_STALE) {
		scxlab_error("cgfifo: runnable task %d in cgroup %llu that is not live", p->pid, cgid);
		return;
	}
	t->counted_cgid = cgid;
	count_stats(ret, true);
}

/* @p leaves the cgroup queue it was counted in (it runs, or leaves the runqueue). */
static __always_inline void uncount_queued(struct task_struct *p, struct task_ctx *t)
{
	struct cgfifo_cg *c;
	struct cgroup *cgrp;

	if (!t->queued_cgid)
		return;
	cgrp = task_cgroup_by_id(p, t->queued_cgid);
	t->queued_cgid = 0;
	if (!cgrp)
		return;
	c = cg_ctx(cgrp);
	bpf_cgroup_release(cgrp);
	if (c)
		__sync_fetch_and_sub(&c->nr_queued, 1);
}

void BPF_STRUCT_OPS(cgfifo_quiescent, struct task_struct *p, u64 deq_flags)
{
	struct task_ctx *t = lookup_task_ctx(p);
	struct cgroup *cgrp;
	u64 cgid;
	int ret;

	if (!t)
		return;
	uncount_queued(p, t);
	cgid = t->counted_cgid;
	if (!cgid)
		return;
	t->counted_cgid = 0;
	cgrp = task_cgroup_by_id(p, cgid);
	if (!cgrp)
		return;		/* the cgroup is gone: nothing to take back */
	ret = count_runnable(cgrp, false);
	bpf_cgroup_release(cgrp);
	if (ret == COUNT_BROKEN) {
		scxlab_error("cgfifo: the runnable count or active weight of cgroup %llu went negative",
			     cgid);
		return;
	}
	count_stats(ret, false);
}

void BPF_STRUCT_OPS(cgfifo_running, struct task_struct *p)
{
	struct task_ctx *t = lookup_task_ctx(p);
	struct cgroup *cgrp;

	if (!t)
		return;
	uncount_queued(p, t);
	if (t->counted_cgid) {
		t->run_cgid = t->counted_cgid;
	} else {
		cgrp = scx_bpf_task_cgroup(p);
		t->run_cgid = cgrp->kn->id;
		bpf_cgroup_release(cgrp);
	}
	t->running_at = scx_bpf_now();
}

void BPF_STRUCT_OPS(cgfifo_stopping, struct task_struct *p, bool runnable)
{
	struct task_ctx *t = lookup_task_ctx(p);
	struct cgroup *cgrp;
	struct cgfifo_cg *c;
	u64 used, now;
	u32 h;

	if (!t || !t->running_at)
		return;
	now = scx_bpf_now();
	used = cgfifo_run_ns(t->running_at, now);
	if (now != t->running_at && !used)
		stat_inc(CGFIFO_STAT_CLOCK_BACK);
	t->running_at = 0;
	cgrp = task_cgroup_by_id(p, t->run_cgid);
	if (!cgrp)
		return;
	c = cg_ctx(cgrp);
	if (c && !c->exited) {
		h = self_hweight(cgrp, c);
		__sync_fetch_and_add(&c->cvtime, cgfifo_cvtime_delta(used, h ? h : CGFIFO_HWEIGHT_ONE));
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
	if (!args->cgroup || !cg_ctx(args->cgroup)) {
		scxlab_error("cgfifo: task %d starts in a cgroup cgfifo does not know", p->pid);
		return -ENOENT;
	}
	t->counted_cgid = 0;
	t->queued_cgid = 0;
	t->run_cgid = 0;
	t->running_at = 0;
	return 0;
}

/* Sleepable: creating the cgroup's DSQ allocates memory. */
s32 BPF_STRUCT_OPS_SLEEPABLE(cgfifo_cgroup_init, struct cgroup *cgrp, struct scx_cgroup_init_args *args)
{
	u64 cgid = cgrp->kn->id;
	u32 level = cgrp->level, weight = args->weight;
	struct cgfifo_cg *c;
	int ret;

	if (level > CGFIFO_MAX_DEPTH)
		return -E2BIG;
	/* The kernel initialises parents before children. */
	if (level > 0 && !cg_ctx_ancestor(cgrp, level - 1))
		return -ENOENT;
	c = bpf_cgrp_storage_get(&cg_ctxs, cgrp, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!c)
		return -ENOMEM;
	c->weight = weight < CGFIFO_WEIGHT_MIN ? CGFIFO_WEIGHT_MIN :
		    weight > CGFIFO_WEIGHT_MAX ? CGFIFO_WEIGHT_MAX : weight;
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
	struct cgfifo_cg *c = cg_ctx(cgrp), *pc = NULL;
	u32 level = cgrp->level;
	bool was_active, busy;

	if (!c)
		return;		/* its cgroup_init failed */
	if (level > 0)
		pc = cg_ctx_ancestor(cgrp, level - 1);
	bpf_spin_lock(&tree_lock);
	/*
	 * A removed cgroup has no tasks, but on unload cgroups exit while tasks may still be
	 * counted: take back its share so that its ancestors' sums stay true.
	 */
	was_active = c->nr_active > 0;
	busy = c->active_sum != 0;
	if (was_active && pc)
		pc->active_sum -= c->weight;
	c->nr_active = 0;
	c->active_sum = 0;
	c->nr_runnable = 0;
	c->exited = 1;
	bpf_spin_unlock(&tree_lock);
	if (was_active)
		propagate(cgrp, level, false);
	bump_hweight_gen();

	/* Its node, if queued, is dropped by dispatch (c->exited). */
	scx_bpf_destroy_dsq(cgrp->kn->id);
	stat_inc(CGFIFO_STAT_CGROUP_EXIT);
	if (busy)
		stat_inc(CGFIFO_STAT_CGROUP_EXIT_BUSY);
}

void BPF_STRUCT_OPS(cgfifo_cgroup_set_weight, struct cgroup *cgrp, u32 weight)
{
	struct cgfifo_cg *c = cg_ctx(cgrp), *pc = NULL;
	u32 level = cgrp->level;

	if (!c)
		return;
	if (weight < CGFIFO_WEIGHT_MIN)
		weight = CGFIFO_WEIGHT_MIN;
	if (weight > CGFIFO_WEIGHT_MAX)
		weight = CGFIFO_WEIGHT_MAX;
	if (level > 0)
		pc = cg_ctx_ancestor(cgrp, level - 1);
	bpf_spin_lock(&tree_lock);
	/* An active cgroup's weight is part of its parent's sum: swap old for new there. */
	if (c->nr_active > 0 && pc)
		pc->active_sum = pc->active_sum - c->weight + weight;
	c->weight = weight;
	bpf_spin_unlock(&tree_lock);
	bump_hweight_gen();
	stat_inc(CGFIFO_STAT_SET_WEIGHT);
}

/* Refuse a move to a cgroup without storage here: cgroup_move itself cannot fail. */
s32 BPF_STRUCT_OPS(cgfifo_cgroup_prep_move, struct task_struct *p, struct cgroup *from, struct cgroup *to)
{
	if (!cg_ctx(to)) {
		scxlab_error("cgfifo: task %d moves to a cgroup cgfifo does not know", p->pid);
		return -ENOENT;
	}
	return 0;
}

void BPF_STRUCT_OPS(cgfifo_cgroup_move, struct task_struct *p, struct cgroup *from, struct cgroup *to)
{
	struct task_ctx *t = lookup_task_ctx(p);
	struct cgroup *old;
	u64 old_cgid, cgid = to->kn->id;
	int ret;

	if (!t)
		return;
	stat_inc(CGFIFO_STAT_MOVE);

	/*
	 * The kernel normally takes a runnable task through quiescent/runnable around a move; if
	 * it is still counted in the old cgroup, carry the count over so both sums stay exact.
	 */
	old_cgid = t->counted_cgid;
	if (!old_cgid || old_cgid == cgid)
		return;
	t->counted_cgid = 0;
	old = bpf_cgroup_from_id(old_cgid);
	if (old) {
		ret = count_runnable(old, false);
		bpf_cgroup_release(old);
		count_stats(ret, false);
	}
	ret = count_runnable(to, true);
	if (ret == COUNT_BROKEN || ret == COUNT_STALE) {
		scxlab_error("cgfifo: task %d moved to cgroup %llu that is not live", p->pid, cgid);
		return;
	}
	t->counted_cgid = cgid;
	count_stats(ret, true);
	stat_inc(CGFIFO_STAT_MOVE_RUNNABLE);
}

void BPF_STRUCT_OPS(cgfifo_cgroup_cancel_move, struct task_struct *p, struct cgroup *from, struct cgroup *to)
{
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
