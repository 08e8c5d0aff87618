/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cgfifo_tree.h - the integer arithmetic of cgfifo's flattened cgroup weight tree.
 *
 * One header for three users, so that all of them compute a share with the same roundings:
 * the BPF policy (schedulers/cgfifo/cgfifo.bpf.c, compiled with vmlinux.h), the unit test
 * (tests/unit/test_cgfifo_tree.c) and the runner, which computes the share each cgroup of an
 * experiment's tree is ENTITLED to from the config. It has no state and calls nothing: plain
 * integer functions, always inlined (the BPF policy calls them with a spin lock held, where
 * the verifier forbids function calls).
 *
 * Fixed point: a share ("hierarchical weight", hweight) is a fraction of the whole machine in
 * units of 1/65536: CGFIFO_HWEIGHT_ONE (1 << 16) is 100%, 32768 is 50%, 1 the smallest non-zero
 * share. Weights are cgroup v2 cpu.weight values, 1..10000 (default 100).
 *
 * The hweight of a cgroup is the product, over its chain of ancestors below the root, of
 * (own weight / sum of the weights of the ACTIVE children of the parent), itself included.
 * Idle siblings take no share, so the shares of the active leaves always add up to 100%.
 * Computed top down, one level per cgfifo_hweight_step(), each step rounding down:
 *
 *	h_0 = ONE;   h_{i+1} = floor(h_i * weight_i / active_sum_i)
 *
 * Rounding down means that siblings never get more than their parent between them (each level
 * loses less than one unit per child, so a share at depth d is at most d units below the exact
 * product), and a step never returns 0 for a non-zero parent share: it returns at least 1, so
 * that an active cgroup always has a share to divide by (cgfifo_cvtime_delta()).
 *
 * Worked example, root with children A(100){B(100), C(200)} and D(300):
 *   all of B, C, D busy:  A and D are active at the top, sum 400:  A = 100/400, D = 300/400
 *                         h(A) = 16384 (25%), h(D) = 49152 (75%)
 *                         inside A, sum 300: h(B) = 16384*100/300 = 5461 (8.3%),
 *                                            h(C) = 16384*200/300 = 10922 (16.7%)
 *   B goes idle:          A stays active (C is): h(C) = 16384*200/200 = 16384, D unchanged
 *   B and C idle:         A is idle, the top sum is 300: h(D) = 65536 (100%)
 *   C re-weighted to 100: sum inside A is 200: h(B) = h(C) = 8192 (12.5%)
 * With the chain API: h(C) = cgfifo_hweight((u32[]){100, 200}, (u32[]){400, 300}, 2) = 10922.
 *
 * cgfifo_cvtime_delta() turns CPU time used into the virtual time a cgroup is charged: a cgroup
 * with 100% advances one virtual ns per ns, one with 25% four; scheduling the cgroup with the
 * lowest virtual time then gives every cgroup CPU time in proportion to its hweight.
 */
#ifndef SCXLAB_CGFIFO_TREE_H
#define SCXLAB_CGFIFO_TREE_H

#ifndef __VMLINUX_H__
#include <linux/types.h>	/* __u32/__u64 in user space; BPF gets them from vmlinux.h */
#endif

#define CGFIFO_HWEIGHT_SHIFT	16
#define CGFIFO_HWEIGHT_ONE	(1U << CGFIFO_HWEIGHT_SHIFT)	/* 100% of the machine */

/* cgroup v2 cpu.weight: the range the kernel accepts and its default. */
#define CGFIFO_WEIGHT_MIN	1U
#define CGFIFO_WEIGHT_DFL	100U
#define CGFIFO_WEIGHT_MAX	10000U

/* Deepest cgroup level handled (the root is level 0): the longest chain passed below. */
#define CGFIFO_MAX_DEPTH	16

#define CGFIFO_INLINE static inline __attribute__((always_inline))

/*
 * One level down: the share of a child with weight @weight whose parent has share
 * @parent_hweight and whose active siblings (the child included) weigh @active_sum together.
 * Returns 0 for inconsistent input: a zero parent share or weight, a parent share above 100%,
 * or active_sum smaller than the child's own weight (the child would not be counted active).
 */
CGFIFO_INLINE __u32 cgfifo_hweight_step(__u32 parent_hweight, __u32 weight, __u32 active_sum)
{
	__u64 h;

	if (!parent_hweight || parent_hweight > CGFIFO_HWEIGHT_ONE || !weight || active_sum < weight)
		return 0;
	h = (__u64)parent_hweight * weight / active_sum;
	return h ? (__u32)h : 1;
}

/*
 * The share of a cgroup at depth @depth (1 for a child of the root; 0 is the root itself,
 * 100%), given its chain from the top down: weights[i] is the weight of its ancestor at level
 * i + 1 (weights[depth - 1] its own), active_sibling_sums[i] the sum of the weights of that
 * ancestor's active siblings, itself included (its parent's active children). Returns 0 for
 * inconsistent input (see cgfifo_hweight_step) or a depth outside 0..CGFIFO_MAX_DEPTH.
 */
CGFIFO_INLINE __u32 cgfifo_hweight(const __u32 *weights, const __u32 *active_sibling_sums, int depth)
{
	__u32 h = CGFIFO_HWEIGHT_ONE;
	int i;

	if (depth < 0 || depth > CGFIFO_MAX_DEPTH)
		return 0;
	for (i = 0; i < CGFIFO_MAX_DEPTH && i < depth; i++) {
		h = cgfifo_hweight_step(h, weights[i], active_sibling_sums[i]);
		if (!h)
			return 0;
	}
	return h;
}

/* The longest run a charge takes at face value: the product below fits in 64 bits under it. */
#define CGFIFO_MAX_RUN_NS ((1ULL << 48) - 1)

/*
 * The CPU time of one run, from the clock read when it started (@start) and when it stopped
 * (@now). The two readings can come from different CPUs' clocks (ops.stopping runs on the CPU
 * that takes the task off, e.g. one changing its scheduling class or affinity, and
 * scx_bpf_now() reads that CPU's clock), and those are not comparable: @now can be the earlier.
 * Such a run is charged nothing. Read as unsigned, its "duration" would be close to 2^64 ns, and
 * its cgroup's virtual time would leap so far ahead that the cgroup is never served again (the
 * root cgroup, kworkers and the watchdog's work included: ejected for a stall, 30 s on).
 */
CGFIFO_INLINE __u64 cgfifo_run_ns(__u64 start, __u64 now)
{
	return (__s64)(now - start) > 0 ? now - start : 0;
}

/*
 * Virtual time to charge a cgroup with share @hweight for @used_ns of CPU: used_ns scaled by
 * 100% / share. A zero share (an idle cgroup) is charged as the smallest share, 1, rather than
 * dividing by zero. A run over CGFIFO_MAX_RUN_NS (3 days) is charged as that long, so the
 * product never wraps around to a small charge.
 */
CGFIFO_INLINE __u64 cgfifo_cvtime_delta(__u64 used_ns, __u32 hweight)
{
	if (!hweight)
		hweight = 1;
	if (used_ns > CGFIFO_MAX_RUN_NS)
		used_ns = CGFIFO_MAX_RUN_NS;
	return used_ns * CGFIFO_HWEIGHT_ONE / hweight;
}

/*
 * Virtual times are compared wrap-safe: @a is before @b when their difference, read as signed,
 * is negative. The rbtree of queued cgroups orders by this, and dispatch uses it to notice a
 * queue position (key) older than the cgroup's current cvtime.
 */
CGFIFO_INLINE int cgfifo_vtime_before(__u64 a, __u64 b)
{
	return (__s64)(a - b) < 0;
}

/*
 * The cvtime a cgroup waking from idle resumes at: its own, but no less than @frontier (the
 * cvtime served last) minus @lag, so idle time earns at most @lag of credit.
 */
CGFIFO_INLINE __u64 cgfifo_lag_floor(__u64 cvtime, __u64 frontier, __u64 lag)
{
	__u64 floor = frontier - lag;

	return cgfifo_vtime_before(cvtime, floor) ? floor : cvtime;
}

/*
 * A cgroup's count of active children (its own runnable tasks count as one child) moves by one
 * under the tree lock; these say whether the cgroup itself changed activity, i.e. whether its
 * weight must enter (up) or leave (down) its parent's active sum. The lock is taken one level
 * at a time, so two CPUs propagating opposite edges can reach a parent in the other order and
 * leave its count at -1 for a moment: the count is signed, an edge is only 0 -> 1 or 1 -> 0,
 * and so "counted in the parent" stays exactly "count >= 1" whatever the order.
 */
CGFIFO_INLINE int cgfifo_active_up(__s32 *nr_active)
{
	return (*nr_active)++ == 0;
}

CGFIFO_INLINE int cgfifo_active_down(__s32 *nr_active)
{
	return --(*nr_active) == 0;
}

/*
 * The cached share of a cgroup's own tasks, tagged with the tree's generation: one 64-bit word
 * (generation << 32 | valid bit | share), so a reader never sees the share of one generation
 * with the tag of another. The tree's generation is bumped after every change of a weight or
 * an active sum; a cache whose tag differs is recomputed from the chain. A share is at most
 * CGFIFO_HWEIGHT_ONE (17 bits), below the valid bit.
 */
#define CGFIFO_HWCACHE_VALID	(1ULL << 31)

CGFIFO_INLINE __u64 cgfifo_hwcache_make(__u32 gen, __u32 hweight)
{
	return (__u64)gen << 32 | CGFIFO_HWCACHE_VALID | (hweight & (CGFIFO_HWCACHE_VALID - 1));
}

/* True, with the share in *@hweight, when @cache was made at generation @gen. */
CGFIFO_INLINE int cgfifo_hwcache_get(__u64 cache, __u32 gen, __u32 *hweight)
{
	if (!(cache & CGFIFO_HWCACHE_VALID) || (__u32)(cache >> 32) != gen)
		return 0;
	*hweight = (__u32)(cache & (CGFIFO_HWCACHE_VALID - 1));
	return 1;
}

#endif /* SCXLAB_CGFIFO_TREE_H */
