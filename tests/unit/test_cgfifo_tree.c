/*
 * cgfifo's flattened weight tree (schedulers/cgfifo/cgfifo_tree.h): the share ("hweight", 1 << 16
 * = 100%) of a cgroup from its chain of weights and active-sibling sums. The same header is
 * compiled into the BPF policy and used by the runner for the share each cgroup is entitled to,
 * so the known answers below pin the arithmetic (including where it rounds) for all of them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "../../schedulers/cgfifo/cgfifo_tree.h"

#define ONE CGFIFO_HWEIGHT_ONE

static __u32 hw(const __u32 *w, const __u32 *s, int depth)
{
	return cgfifo_hweight(w, s, depth);
}

static void test_root_and_flat(void **state)
{
	/* The root, or a cgroup alone under it, has the whole machine. */
	assert_int_equal(hw(NULL, NULL, 0), ONE);
	assert_int_equal(hw((__u32[]){ 100 }, (__u32[]){ 100 }, 1), ONE);
	assert_int_equal(hw((__u32[]){ 1 }, (__u32[]){ 1 }, 1), ONE);
	/* Three siblings 100, 200, 100: a quarter, a half, a quarter. */
	assert_int_equal(hw((__u32[]){ 100 }, (__u32[]){ 400 }, 1), 16384);
	assert_int_equal(hw((__u32[]){ 200 }, (__u32[]){ 400 }, 1), 32768);
	/* 2:1 at the top: 2/3 and 1/3 of 65536, rounded down. */
	assert_int_equal(hw((__u32[]){ 200 }, (__u32[]){ 300 }, 1), 43690);
	assert_int_equal(hw((__u32[]){ 100 }, (__u32[]){ 300 }, 1), 21845);
	/* Weights at the ends of cpu.weight's range. */
	assert_int_equal(hw((__u32[]){ 10000 }, (__u32[]){ 10001 }, 1), 65529);
	assert_int_equal(hw((__u32[]){ 1 }, (__u32[]){ 10001 }, 1), 6);
}

static void test_nested_four_deep_two_to_one(void **state)
{
	/* At each of four levels the chain's cgroup (200) has an active sibling of weight 100. */
	__u32 heavy[4] = { 200, 200, 200, 200 }, light[4] = { 100, 100, 100, 100 };
	__u32 sums[4] = { 300, 300, 300, 300 };
	__u32 expect_heavy[5] = { ONE, 43690, 29126, 19417, 12944 };	/* floor at each step */
	__u32 expect_light[5] = { ONE, 21845, 7281, 2427, 809 };
	for (int d = 0; d <= 4; d++) {
		assert_int_equal(hw(heavy, sums, d), expect_heavy[d]);
		assert_int_equal(hw(light, sums, d), expect_light[d]);
	}
	/* (2/3)^4 = 16/81 exactly is 12945.58: per-level flooring stays within depth units. */
	assert_true(12945.58 - hw(heavy, sums, 4) < 4);
	assert_true(hw(heavy, sums, 4) <= 12945.58);

	/* Two instances 2:1 at the bottom of a chain /l1/l2/l3/{x(200), y(100)}: the levels
	 * above have one active child each and pass 100% down. */
	assert_int_equal(hw((__u32[]){ 100, 100, 100, 200 }, (__u32[]){ 100, 100, 100, 300 }, 4), 43690);
	assert_int_equal(hw((__u32[]){ 100, 100, 100, 100 }, (__u32[]){ 100, 100, 100, 300 }, 4), 21845);
	/* Same pair with a default-weight sibling of l1 busy at the top: everything halves. */
	assert_int_equal(hw((__u32[]){ 100, 100, 100, 200 }, (__u32[]){ 200, 100, 100, 300 }, 4), 21845);
}

/* The worked example of cgfifo_tree.h: A(100){B(100), C(200)} and D(300) under the root. */
static void test_inactive_siblings_do_not_count(void **state)
{
	/* B, C, D busy: top sum 400, inside A 300. */
	assert_int_equal(hw((__u32[]){ 100 }, (__u32[]){ 400 }, 1), 16384);		/* A */
	assert_int_equal(hw((__u32[]){ 300 }, (__u32[]){ 400 }, 1), 49152);		/* D */
	assert_int_equal(hw((__u32[]){ 100, 100 }, (__u32[]){ 400, 300 }, 2), 5461);	/* B */
	assert_int_equal(hw((__u32[]){ 100, 200 }, (__u32[]){ 400, 300 }, 2), 10922);	/* C */
	/* B idle: C alone in A takes A's whole quarter. */
	assert_int_equal(hw((__u32[]){ 100, 200 }, (__u32[]){ 400, 200 }, 2), 16384);
	/* B and C idle: A is idle, D alone at the top. */
	assert_int_equal(hw((__u32[]){ 300 }, (__u32[]){ 300 }, 1), ONE);
	/* D idle, B and C busy: A has the machine, split 1:2. */
	assert_int_equal(hw((__u32[]){ 100, 100 }, (__u32[]){ 100, 300 }, 2), 21845);
	assert_int_equal(hw((__u32[]){ 100, 200 }, (__u32[]){ 100, 300 }, 2), 43690);
}

static void test_reweighting(void **state)
{
	/* C re-weighted 200 -> 100: the sum inside A drops to 200, B and C get an eighth each. */
	assert_int_equal(hw((__u32[]){ 100, 100 }, (__u32[]){ 400, 200 }, 2), 8192);
	assert_int_equal(hw((__u32[]){ 100, 100 }, (__u32[]){ 400, 200 }, 2), 8192);
	/* A re-weighted 100 -> 300: A and D even at the top, C's two thirds of a half. */
	assert_int_equal(hw((__u32[]){ 300, 200 }, (__u32[]){ 600, 300 }, 2), 21845);
	assert_int_equal(hw((__u32[]){ 300 }, (__u32[]){ 600 }, 1), 32768);
}

static void test_rounding(void **state)
{
	/* Every step rounds down ... */
	assert_int_equal(cgfifo_hweight_step(ONE, 1, 3), 21845);	/* 21845.33 */
	assert_int_equal(cgfifo_hweight_step(ONE, 2, 3), 43690);	/* 43690.67: down, not to nearest */
	assert_int_equal(cgfifo_hweight_step(3, 1, 2), 1);		/* 1.5 */
	/* ... so siblings never get more than their parent between them ... */
	__u32 third = cgfifo_hweight_step(ONE, 1, 3);
	assert_true(3 * third <= ONE);
	assert_true(3 * third >= ONE - 3);
	/* ... but an active cgroup never gets 0: tiny shares are raised to 1 unit. */
	assert_int_equal(cgfifo_hweight_step(6, 1, 10001), 1);
	assert_int_equal(hw((__u32[]){ 1, 1, 1, 1 }, (__u32[]){ 10001, 10001, 10001, 10001 }, 4), 1);
	/* The order of levels matters to the rounding: the chain is taken from the top down. */
	assert_int_equal(hw((__u32[]){ 200, 2 }, (__u32[]){ 300, 300 }, 2), 291);	/* 43690*2/300 */
	assert_int_equal(hw((__u32[]){ 2, 200 }, (__u32[]){ 300, 300 }, 2), 290);	/* 436*200/300 */
}

/* Random trees: the shares of all active leaves add up to 100%, less the rounding. */
static void test_leaves_add_up(void **state)
{
	srand(12345);
	for (int round = 0; round < 2000; round++) {
		/* Two levels: up to 5 groups, each with up to 5 leaves, each maybe active. */
		__u32 gw[5], lw[5][5], gsum = 0, lsum[5] = { 0 };
		int ng = 1 + rand() % 5, nl[5], active[5][5], nleaves = 0;
		for (int g = 0; g < ng; g++) {
			gw[g] = 1 + rand() % CGFIFO_WEIGHT_MAX;
			nl[g] = 1 + rand() % 5;
			for (int l = 0; l < nl[g]; l++) {
				lw[g][l] = 1 + rand() % 1000;
				active[g][l] = rand() % 3 != 0;
				if (active[g][l])
					lsum[g] += lw[g][l];
			}
			if (lsum[g])
				gsum += gw[g];
		}
		__u64 total = 0;
		for (int g = 0; g < ng; g++)
			for (int l = 0; l < nl[g]; l++) {
				if (!active[g][l])
					continue;
				__u32 h = hw((__u32[]){ gw[g], lw[g][l] }, (__u32[]){ gsum, lsum[g] }, 2);
				assert_true(h >= 1);
				total += h;
				nleaves++;
			}
		if (!nleaves)
			continue;
		/* Each leaf loses less than one unit per level to rounding down. The +1 floor
		 * can only add to leaves whose exact share is below one unit. */
		if (total > ONE) {
			/* Only possible when some leaf was raised to 1 from below. */
			assert_true(total <= (__u64)ONE + nleaves);
		}
		assert_true(total + 2 * (__u64)nleaves + ng >= ONE);
	}
}

static void test_inconsistent_input(void **state)
{
	/* A sum below the cgroup's own weight means it was not counted active. */
	assert_int_equal(hw((__u32[]){ 200 }, (__u32[]){ 100 }, 1), 0);
	assert_int_equal(hw((__u32[]){ 100 }, (__u32[]){ 0 }, 1), 0);
	assert_int_equal(hw((__u32[]){ 0 }, (__u32[]){ 100 }, 1), 0);
	/* One bad level spoils the chain. */
	assert_int_equal(hw((__u32[]){ 100, 100, 100 }, (__u32[]){ 200, 50, 100 }, 3), 0);
	assert_int_equal(hw((__u32[]){ 100 }, (__u32[]){ 100 }, -1), 0);
	assert_int_equal(cgfifo_hweight_step(0, 100, 100), 0);
	assert_int_equal(cgfifo_hweight_step(ONE + 1, 100, 100), 0);

	/* Depth is bounded by CGFIFO_MAX_DEPTH. */
	__u32 w[CGFIFO_MAX_DEPTH + 1], s[CGFIFO_MAX_DEPTH + 1];
	for (int i = 0; i <= CGFIFO_MAX_DEPTH; i++)
		w[i] = s[i] = 100;
	assert_int_equal(hw(w, s, CGFIFO_MAX_DEPTH), ONE);
	assert_int_equal(hw(w, s, CGFIFO_MAX_DEPTH + 1), 0);
}

static void test_cvtime_delta(void **state)
{
	/* With the whole machine a cgroup ages at wall-clock rate, with a quarter four times faster. */
	assert_int_equal(cgfifo_cvtime_delta(1000, ONE), 1000);
	assert_int_equal(cgfifo_cvtime_delta(1000, 16384), 4000);
	assert_int_equal(cgfifo_cvtime_delta(20000000, 43690), 30000457);	/* 20 ms at 2/3 */
	assert_int_equal(cgfifo_cvtime_delta(20000000, 21845), 60000915);	/* 20 ms at 1/3 */
	/* An idle cgroup (share 0) is charged as the smallest share instead of dividing by 0. */
	assert_int_equal(cgfifo_cvtime_delta(3, 0), 3ULL * ONE);
	assert_int_equal(cgfifo_cvtime_delta(3, 1), 3ULL * ONE);
	/* No overflow for runs up to 2^48 ns; a longer one is charged as 2^48 - 1 ns, not wrapped. */
	assert_true(cgfifo_cvtime_delta(1ULL << 47, 1) == (1ULL << 63));
	assert_true(cgfifo_cvtime_delta(UINT64_MAX - 5, ONE) == CGFIFO_MAX_RUN_NS);
	assert_true(cgfifo_cvtime_delta(1ULL << 50, ONE / 2) == 2 * CGFIFO_MAX_RUN_NS);
}

static void test_run_ns(void **state)
{
	/* A run's time from its start and stop readings; a stop read from a CPU whose clock is
	 * behind the start's (the 20261203 share sweep's two cgfifo stalls) is no time at all,
	 * not 2^64 - 50 ns. */
	assert_int_equal(cgfifo_run_ns(1000, 1500), 500);
	assert_int_equal(cgfifo_run_ns(1000, 1000), 0);
	assert_int_equal(cgfifo_run_ns(1000, 950), 0);
	assert_int_equal(cgfifo_run_ns(UINT64_MAX - 10, 5), 16);	/* across the wrap: forward */
	assert_int_equal(cgfifo_cvtime_delta(cgfifo_run_ns(1000, 950), ONE / 4), 0);
}

static void test_vtime_order_and_lag_floor(void **state)
{
	/* Plain order, and across the 64-bit wrap (virtual time only grows, it may wrap). */
	assert_true(cgfifo_vtime_before(1, 2));
	assert_false(cgfifo_vtime_before(2, 1));
	assert_false(cgfifo_vtime_before(5, 5));
	assert_true(cgfifo_vtime_before(~0ULL - 10, 5));
	assert_false(cgfifo_vtime_before(5, ~0ULL - 10));
	/* A cgroup waking from idle keeps at most `lag` of credit behind the frontier ... */
	assert_int_equal(cgfifo_lag_floor(100, 100000, 20000), 80000);
	/* ... one that is ahead, or within the lag, keeps its own cvtime ... */
	assert_int_equal(cgfifo_lag_floor(90000, 100000, 20000), 90000);
	assert_int_equal(cgfifo_lag_floor(150000, 100000, 20000), 150000);
	assert_int_equal(cgfifo_lag_floor(80000, 100000, 20000), 80000);
	/* ... --lag-us 0 lifts it to the frontier; early on the floor may wrap below zero. */
	assert_int_equal(cgfifo_lag_floor(100, 100000, 0), 100000);
	assert_int_equal(cgfifo_lag_floor(100, 5000, 20000), 100);
	assert_int_equal(cgfifo_lag_floor(5, 0, 20000), 5);
}

/*
 * The weight tree is updated one level per locked section: a child's activity edge moves its
 * weight in its parent's sum (same section), and the parent's own count moves in a later
 * section. Two CPUs can therefore bring a child's "became idle" and "became active again" to the
 * parent in either order. Model a parent P whose only child X goes active -> idle -> active
 * (or idle -> active -> idle) and check every order of the parent-level steps: P must end
 * counted in its own parent exactly when X is active, with the right weight in the sum above.
 */
struct model_node { __s32 nr_active; __u32 weight; __u32 sum; };

static int model_step(struct model_node *c, struct model_node *pc, int up)
{
	int edge = up ? cgfifo_active_up(&c->nr_active) : cgfifo_active_down(&c->nr_active);

	if (edge && pc)
		pc->sum += up ? c->weight : -c->weight;
	return edge;
}

static void test_active_edges_in_any_order(void **state)
{
	/* dirs[k]: the direction of the k-th edge of X; order: in which order the parent-level
	 * steps of those edges run (X's own steps are serialised by the lock, in edge order). */
	static const int flips[][3] = { { 1, 0, 1 }, { 0, 1, 0 } };
	static const int orders[][3] = { { 0, 1, 2 }, { 0, 2, 1 }, { 1, 0, 2 }, { 1, 2, 0 },
					 { 2, 0, 1 }, { 2, 1, 0 } };
	for (int f = 0; f < 2; f++) {
		for (int o = 0; o < 6; o++) {
			int x_active = !flips[f][0];	/* start in the opposite state */
			struct model_node top = { 1, 100, 0 };
			struct model_node p = { x_active, 300, 0 }, x = { x_active, 200, 0 };
			int pending[3], npend = 0;

			top.sum = x_active ? p.weight : 0;
			p.sum = x_active ? x.weight : 0;
			/* X's steps: each edge moves X's count and its weight in P's sum. */
			for (int k = 0; k < 3; k++) {
				int up = flips[f][k];
				assert_true(model_step(&x, &p, up));	/* a 0<->1 edge of X */
				pending[npend++] = up;
			}
			/* P's steps, in this order. */
			for (int k = 0; k < 3; k++)
				model_step(&p, &top, pending[orders[o][k]]);
			int final_active = flips[f][2];
			assert_int_equal(x.nr_active, final_active);
			assert_int_equal(p.sum, final_active ? x.weight : 0);
			/* P is counted above exactly when its count is >= 1, and is final_active. */
			assert_int_equal(p.nr_active, final_active);
			assert_int_equal(top.sum, final_active ? p.weight : 0);
		}
	}
	/* A count that went to -1 comes back without an edge either way. */
	__s32 n = 0;
	assert_false(cgfifo_active_down(&n));
	assert_int_equal(n, -1);
	assert_false(cgfifo_active_up(&n));
	assert_int_equal(n, 0);
	assert_true(cgfifo_active_up(&n));
	assert_false(cgfifo_active_up(&n));
	assert_false(cgfifo_active_down(&n));
	assert_true(cgfifo_active_down(&n));
}

static void test_hweight_cache(void **state)
{
	__u32 h = 12345;

	/* Fresh storage (all zero) is never a valid cache, whatever the generation. */
	assert_false(cgfifo_hwcache_get(0, 0, &h));
	assert_false(cgfifo_hwcache_get(0, 1, &h));
	assert_int_equal(h, 12345);
	/* A share comes back at its own generation only. */
	assert_true(cgfifo_hwcache_get(cgfifo_hwcache_make(7, 43690), 7, &h));
	assert_int_equal(h, 43690);
	assert_false(cgfifo_hwcache_get(cgfifo_hwcache_make(7, 43690), 8, &h));
	/* Every share the tree can produce survives, 0 (idle) and 100% included. */
	assert_true(cgfifo_hwcache_get(cgfifo_hwcache_make(1, ONE), 1, &h));
	assert_int_equal(h, ONE);
	assert_true(cgfifo_hwcache_get(cgfifo_hwcache_make(1, 0), 1, &h));
	assert_int_equal(h, 0);
	assert_true(cgfifo_hwcache_get(cgfifo_hwcache_make(0xffffffffu, 1), 0xffffffffu, &h));
	assert_int_equal(h, 1);
	/* The generation is compared in 32 bits: gen 2^32 + 3 reads as 3. */
	assert_true(cgfifo_hwcache_get(cgfifo_hwcache_make((__u32)((1ULL << 32) + 3), 9), 3, &h));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_root_and_flat),
		cmocka_unit_test(test_nested_four_deep_two_to_one),
		cmocka_unit_test(test_inactive_siblings_do_not_count),
		cmocka_unit_test(test_reweighting),
		cmocka_unit_test(test_rounding),
		cmocka_unit_test(test_leaves_add_up),
		cmocka_unit_test(test_inconsistent_input),
		cmocka_unit_test(test_cvtime_delta),
		cmocka_unit_test(test_run_ns),
		cmocka_unit_test(test_vtime_order_and_lag_floor),
		cmocka_unit_test(test_active_edges_in_any_order),
		cmocka_unit_test(test_hweight_cache),
	};
	return cmocka_run_group_tests_name("cgfifo weight tree", tests, NULL, NULL);
}
