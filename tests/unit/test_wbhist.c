/*
 * wakebench's histogram (workloads/wakebench/wbhist.h): the bucket layout (exact below 64 ns,
 * then 32 buckets per power of two, no gaps and no overlaps), the bound on a bucket's width,
 * and the percentile rule (rank ceil(q * n), reported as the upper edge of its bucket).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../workloads/wakebench/wbhist.h"

static void test_exact_region(void **state)
{
	for (uint64_t v = 0; v < 64; v++) {
		assert_int_equal(wbh_index(v), v);
		assert_int_equal(wbh_lower((unsigned)v), v);
		assert_int_equal(wbh_width((unsigned)v), 1);
	}
	/* the log-linear part continues where the exact part ends */
	assert_int_equal(wbh_index(64), 64);
	assert_int_equal(wbh_index(65), 64);
	assert_int_equal(wbh_index(66), 65);
	assert_int_equal(wbh_index(127), 95);
	assert_int_equal(wbh_index(128), 96);
	assert_int_equal(wbh_lower(96), 128);
	assert_int_equal(wbh_width(96), 4);
}

static void test_buckets_tile_the_range(void **state)
{
	/* each bucket starts where the previous one ends, and is at most 1/32 of its values wide */
	for (unsigned i = 1; i < WBH_BUCKETS; i++) {
		assert_int_equal(wbh_lower(i), wbh_lower(i - 1) + wbh_width(i - 1));
		if (wbh_lower(i) >= 64)
			assert_true(wbh_width(i) * 32 <= wbh_lower(i));
	}
	/* a value maps to the bucket that holds it, at the edges of every power of two */
	for (unsigned k = 6; k < WBH_MAX_LOG2; k++) {
		uint64_t vs[] = { (uint64_t)1 << k, ((uint64_t)1 << k) + 1, ((uint64_t)1 << (k + 1)) - 1,
				  ((uint64_t)3 << (k - 1)) + 7 };
		for (size_t j = 0; j < sizeof vs / sizeof vs[0]; j++) {
			unsigned i = wbh_index(vs[j]);
			assert_true(i < WBH_BUCKETS - 1);
			assert_true(wbh_lower(i) <= vs[j] && vs[j] < wbh_lower(i) + wbh_width(i));
		}
	}
	/* the largest value below 2^40 has the last ordinary bucket; 2^40 and beyond the overflow one */
	assert_int_equal(wbh_index(((uint64_t)1 << WBH_MAX_LOG2) - 1), WBH_BUCKETS - 2);
	assert_int_equal(wbh_index((uint64_t)1 << WBH_MAX_LOG2), WBH_BUCKETS - 1);
	assert_int_equal(wbh_index(UINT64_MAX), WBH_BUCKETS - 1);
	assert_int_equal(wbh_lower(WBH_BUCKETS - 1), (uint64_t)1 << WBH_MAX_LOG2);
}

static void test_quantiles(void **state)
{
	static struct wbhist h;
	memset(&h, 0, sizeof h);
	int over;
	assert_int_equal(wbh_quantile(&h, 0.5, &over), 0);
	/* 1..1000 ns: the median's rank is 500 (bucket [496, 504)), p99's 990, p99.9's 999 */
	for (uint64_t v = 1; v <= 1000; v++)
		wbh_add(&h, v);
	assert_int_equal(h.n, 1000);
	assert_int_equal(h.max, 1000);
	assert_true(wbh_mean(&h) > 500.49 && wbh_mean(&h) < 500.51);
	assert_int_equal(wbh_quantile(&h, 0.50, &over), 504);
	assert_int_equal(over, 0);
	assert_int_equal(wbh_quantile(&h, 0.99, &over), 992);
	assert_int_equal(wbh_quantile(&h, 0.999, &over), 1008);
	assert_int_equal(wbh_quantile(&h, 1.0, &over), 1008);
	/* a quantile never lies below the value of its rank, nor more than 1/32 above */
	for (int p = 1; p <= 1000; p++) {
		uint64_t got = wbh_quantile(&h, p / 1000.0, &over);
		assert_true(got > (uint64_t)p - 1 && got <= (uint64_t)p + p / 32 + 1);
	}
	/* tiny samples: rank 1 is the first value */
	static struct wbhist one;
	memset(&one, 0, sizeof one);
	wbh_add(&one, 7);
	assert_int_equal(wbh_quantile(&one, 0.001, &over), 8);
}

static void test_merge_and_overflow(void **state)
{
	static struct wbhist a, b;
	memset(&a, 0, sizeof a);
	memset(&b, 0, sizeof b);
	for (int i = 0; i < 99; i++)
		wbh_add(&a, 1000);
	wbh_add(&b, (uint64_t)1 << 41);	/* beyond the buckets' range */
	wbh_merge(&a, &b);
	assert_int_equal(a.n, 100);
	assert_int_equal(a.over, 1);
	assert_int_equal(a.max, (uint64_t)1 << 41);
	int over;
	assert_int_equal(wbh_quantile(&a, 0.99, &over), 1008);
	assert_int_equal(over, 0);
	wbh_quantile(&a, 0.999, &over);	/* rank 100: the overflowed sample, unknown */
	assert_int_equal(over, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exact_region),
		cmocka_unit_test(test_buckets_tile_the_range),
		cmocka_unit_test(test_quantiles),
		cmocka_unit_test(test_merge_and_overflow),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
