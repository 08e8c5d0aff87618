/* The estimator of the stopping rule (runners/common/stats.c): the normal quantile, the
 * unit-dependent centers, and the ratio's BCa interval checked against analysis/stats.py's
 * intervals on the fixed cases of tests/data/stats-agreement.json (within each case's stated
 * Monte-Carlo tolerance).
 *
 * Also a tiny CLI for tests/analysis/test_stats_agreement.py:
 *   test_stats --json FILE   prints, as JSON, the C intervals of FILE's cases */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>

#include "stats.h"

#define AGREEMENT "tests/data/stats-agreement.json"

static void test_norm_quantile_known_values(void **state)
{
	/* from scipy.special.ndtri */
	static const double p[] = { 0.5, 0.975, 0.025, 1e-10, 0.8413447460685429, 0.9999999, 1e-300, 0.3 };
	static const double x[] = { 0.0, 1.959963984540054, -1.9599639845400545, -6.361340902404056, 1.0,
				    5.199337582290661, -37.0470962993612, -0.5244005127080409 };
	for (size_t i = 0; i < sizeof(p) / sizeof(*p); i++)
		assert_true(fabs(norm_quantile(p[i]) - x[i]) <= 1e-13 * (1 + fabs(x[i])));
	assert_true(isinf(norm_quantile(0)) && norm_quantile(0) < 0);
	assert_true(isinf(norm_quantile(1)) && norm_quantile(1) > 0);
	assert_true(isnan(norm_quantile(1.5)) && isnan(norm_quantile(NAN)));
	for (double q = 0.001; q < 1; q += 0.0437)
		assert_true(fabs(norm_cdf(norm_quantile(q)) - q) < 1e-14);
}

static void test_centers_follow_the_unit(void **state)
{
	assert_int_equal(stat_kind_of("req/s"), STAT_RATE);
	assert_int_equal(stat_kind_of(" B/s "), STAT_RATE);
	assert_int_equal(stat_kind_of("us"), STAT_TIME);
	assert_int_equal(stat_kind_of("s"), STAT_TIME);
	assert_int_equal(stat_kind_of("switches/req"), STAT_OTHER);
	assert_int_equal(stat_kind_of(NULL), STAT_OTHER);
	assert_string_equal(stat_name(STAT_RATE), "hmean");
	assert_string_equal(stat_name(STAT_TIME), "median");
	assert_string_equal(stat_name(STAT_OTHER), "mean");
	double x[] = { 1, 2, 4 }, y[] = { 4, 1, 100, 2 }, z[] = { 0, 5 };
	assert_true(fabs(stat_center(STAT_RATE, x, 3) - 3 / (1 + 0.5 + 0.25)) < 1e-12);
	assert_true(stat_center(STAT_TIME, x, 3) == 2);
	assert_true(stat_center(STAT_TIME, y, 4) == 3);	/* even: mean of the middle two */
	assert_true(y[0] == 4 && y[2] == 100);			/* the input is not reordered */
	assert_true(fabs(stat_center(STAT_OTHER, y, 4) - 26.75) < 1e-12);
	assert_true(stat_center(STAT_RATE, z, 2) == 0);	/* a zero rate makes the hmean 0 */
}

static void test_ratio_edges(void **state)
{
	double a[] = { 110, 110, 110 }, b[] = { 100, 100, 100, 100 }, zero[] = { 0, 0 };
	struct ratio_ci r;
	/* no spread: the interval collapses onto the ratio */
	assert_int_equal(stat_ratio_ci(STAT_RATE, a, 3, b, 4, STATS_SEED, 2000, 0.95, &r), 0);
	assert_true(fabs(r.ratio - 1.1) < 1e-12 && fabs(r.lo - 1.1) < 1e-12 && fabs(r.hi - 1.1) < 1e-12);
	assert_true(ratio_halfwidth_pct(&r) < 1e-9);
	assert_int_equal(stat_ratio_ci(STAT_RATE, a, 1, b, 4, STATS_SEED, 2000, 0.95, &r), 0);
	assert_string_equal(r.method, "single run");
	assert_true(fabs(r.ratio - 1.1) < 1e-12 && isinf(ratio_halfwidth_pct(&r)));
	assert_int_equal(stat_ratio_ci(STAT_OTHER, a, 3, zero, 2, STATS_SEED, 2000, 0.95, &r), 0);
	assert_string_equal(r.method, "baseline is 0");
	assert_true(isnan(r.ratio) && isinf(ratio_halfwidth_pct(&r)));
	assert_int_equal(stat_ratio_ci(STAT_OTHER, a, 0, b, 4, STATS_SEED, 2000, 0.95, &r), -1);
	/* spread: holds the point, narrows with more runs, repeats for a seed */
	double x[] = { 95, 105, 98, 102, 100, 97, 103, 99, 101, 100 };
	double y[] = { 90, 110, 96, 104, 100, 94, 106, 98, 102, 100 };
	struct ratio_ci r1, r2, r3;
	assert_int_equal(stat_ratio_ci(STAT_RATE, x, 4, y, 4, 7, 4000, 0.95, &r1), 0);
	assert_true(r1.lo <= r1.ratio && r1.ratio <= r1.hi && r1.lo < r1.hi);
	assert_string_equal(r1.method, "BCa");
	assert_int_equal(stat_ratio_ci(STAT_RATE, x, 10, y, 10, 7, 4000, 0.95, &r2), 0);
	assert_true(ratio_halfwidth_pct(&r2) < ratio_halfwidth_pct(&r1));
	assert_int_equal(stat_ratio_ci(STAT_RATE, x, 10, y, 10, 7, 4000, 0.95, &r3), 0);
	assert_true(r3.lo == r2.lo && r3.hi == r2.hi);
	/* a lower confidence gives a narrower interval */
	assert_int_equal(stat_ratio_ci(STAT_RATE, x, 10, y, 10, 7, 4000, 0.80, &r3), 0);
	assert_true(ratio_halfwidth_pct(&r3) < ratio_halfwidth_pct(&r2));
}

/* The guest pairs by round on analysis' rule: the same rounds, one run each, at least two. */
static void test_rounds_pair_on_the_same_rule_as_analysis(void **state)
{
	long r123[] = { 1, 2, 3 }, r124[] = { 1, 2, 4 }, r12[] = { 1, 2 }, r113[] = { 1, 1, 3 }, r0[] = { 0, 0 };
	assert_true(stat_rounds_paired(r123, 3, r123, 3));
	assert_false(stat_rounds_paired(r123, 3, r124, 3)); /* an invalid run in round 3 of one, 4 of the other */
	assert_false(stat_rounds_paired(r123, 3, r12, 2)); /* an invalid run: one side lacks round 3 */
	assert_false(stat_rounds_paired(r113, 3, r113, 3)); /* two runs in one round */
	assert_false(stat_rounds_paired(r123, 1, r123, 1)); /* one round: no interval */
	assert_false(stat_rounds_paired(r0, 2, r0, 2)); /* no round recorded */
}

/* Paired: a constant ratio in every round has no spread at all, however much the rounds drift
 * (unpaired, the same runs give a wide interval); one round gives no interval. */
static void test_paired_ratio_cancels_what_rounds_share(void **state)
{
	double a[] = { 110, 99, 121, 88, 132 }, b[] = { 100, 90, 110, 80, 120 };
	struct ratio_ci p, u;
	assert_int_equal(stat_ratio_ci_paired(STAT_RATE, a, b, 5, STATS_SEED, 2000, 0.95, &p), 0);
	assert_true(fabs(p.ratio - 1.1) < 1e-12 && fabs(p.lo - 1.1) < 1e-12 && fabs(p.hi - 1.1) < 1e-12);
	assert_int_equal(stat_ratio_ci(STAT_RATE, a, 5, b, 5, STATS_SEED, 2000, 0.95, &u), 0);
	assert_true(ratio_halfwidth_pct(&u) > 5);
	assert_int_equal(stat_ratio_ci_paired(STAT_RATE, a, b, 1, STATS_SEED, 2000, 0.95, &p), 0);
	assert_string_equal(p.method, "single run");
	assert_int_equal(stat_ratio_ci_paired(STAT_RATE, a, b, 0, STATS_SEED, 2000, 0.95, &p), -1);
}

static double *values(json_t *arr, size_t *n)
{
	*n = json_array_size(arr);
	double *v = malloc(sizeof(double) * (*n + 1));
	size_t i;
	json_t *x;
	json_array_foreach(arr, i, x)
		v[i] = json_number_value(x);
	return v;
}

/* The C side's answer for one case of the agreement file. */
static json_t *c_interval(json_t *c)
{
	size_t na, nb;
	double *a = values(json_object_get(c, "values"), &na), *b = values(json_object_get(c, "baseline"), &nb);
	enum stat_kind k = stat_kind_of(json_string_value(json_object_get(c, "unit")));
	struct ratio_ci r;
	json_t *out = NULL;
	/* "paired": true: values[i] and baseline[i] are one round's runs (stat_ratio_ci_paired) */
	int paired = json_is_true(json_object_get(c, "paired"));
	int rc = paired ? (na == nb ? stat_ratio_ci_paired(k, a, b, na, STATS_SEED, STATS_N_RESAMPLES, STATS_CONFIDENCE, &r)
				    : -1)
			: stat_ratio_ci(k, a, na, b, nb, STATS_SEED, STATS_N_RESAMPLES, STATS_CONFIDENCE, &r);
	if (!rc)
		out = json_pack("{s:s, s:s, s:f, s:f, s:f, s:s, s:f}", "name",
				json_string_value(json_object_get(c, "name")), "statistic", stat_name(k), "ratio", r.ratio,
				"ci_low", r.lo, "ci_high", r.hi, "method", r.method, "halfwidth_pct",
				ratio_halfwidth_pct(&r));
	free(a);
	free(b);
	return out;
}

static void test_agrees_with_analysis(void **state)
{
	json_error_t err;
	json_t *doc = json_load_file(AGREEMENT, 0, &err);
	if (!doc)
		fail_msg("%s: %s (run from the repository root)", AGREEMENT, err.text);
	json_t *cases = json_object_get(doc, "cases"), *c;
	size_t i;
	assert_true(json_array_size(cases) >= 6);
	json_array_foreach(cases, i, c) {
		json_t *ref = json_object_get(c, "analysis"), *got = c_interval(c);
		const char *name = json_string_value(json_object_get(c, "name"));
		double tol = json_number_value(json_object_get(c, "tolerance_pp"));
		assert_non_null(got);
		assert_true(tol > 0);
		assert_string_equal(json_string_value(json_object_get(got, "statistic")),
				    json_string_value(json_object_get(ref, "statistic")));
		double d_ratio = fabs(json_number_value(json_object_get(got, "ratio")) -
				      json_number_value(json_object_get(ref, "ratio")));
		double d_lo = 100 * fabs(json_number_value(json_object_get(got, "ci_low")) -
					 json_number_value(json_object_get(ref, "ci_low")));
		double d_hi = 100 * fabs(json_number_value(json_object_get(got, "ci_high")) -
					 json_number_value(json_object_get(ref, "ci_high")));
		double d_hw = fabs(json_number_value(json_object_get(got, "halfwidth_pct")) -
				   json_number_value(json_object_get(ref, "halfwidth_pct")));
		print_message("%-16s C %s [%.4f, %.4f] hw %.3f | analysis hw %.3f | diff lo %.3f hi %.3f hw %.3f pp (tol %.2f)\n",
			      name, json_string_value(json_object_get(got, "method")),
			      json_number_value(json_object_get(got, "ci_low")), json_number_value(json_object_get(got, "ci_high")),
			      json_number_value(json_object_get(got, "halfwidth_pct")),
			      json_number_value(json_object_get(ref, "halfwidth_pct")), d_lo, d_hi, d_hw, tol);
		if (d_ratio > 1e-9 || d_lo > tol || d_hi > tol || d_hw > tol)
			fail_msg("case %s: the C interval differs from analysis/stats.py beyond %.2f points", name, tol);
		/* the method must agree where the interval has a width (at zero width both are exact) */
		if (json_number_value(json_object_get(ref, "halfwidth_pct")) > 0)
			assert_string_equal(json_string_value(json_object_get(got, "method")),
					    json_string_value(json_object_get(ref, "method")));
		json_decref(got);
	}
	json_decref(doc);
}

static int print_cases(const char *path)
{
	json_error_t err;
	json_t *doc = json_load_file(path, 0, &err);
	if (!doc) {
		fprintf(stderr, "test_stats: %s: %s\n", path, err.text);
		return 2;
	}
	json_t *out = json_array(), *c;
	size_t i;
	json_array_foreach(json_object_get(doc, "cases"), i, c) {
		json_t *got = c_interval(c);
		if (!got) {
			fprintf(stderr, "test_stats: %s: case %zu has no values or baseline\n", path, i);
			return 2;
		}
		json_array_append_new(out, got);
	}
	json_t *res = json_pack("{s:o, s:I, s:f, s:I}", "cases", out, "seed", (json_int_t)STATS_SEED, "confidence",
				STATS_CONFIDENCE, "resamples", (json_int_t)STATS_N_RESAMPLES);
	json_dumpf(res, stdout, JSON_INDENT(1));
	putchar('\n');
	json_decref(res);
	json_decref(doc);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "--json"))
		return print_cases(argv[2]);
	if (argc != 1) {
		fprintf(stderr, "usage: test_stats [--json CASES.json]\n");
		return 2;
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_norm_quantile_known_values),
		cmocka_unit_test(test_centers_follow_the_unit),
		cmocka_unit_test(test_ratio_edges),
		cmocka_unit_test(test_rounds_pair_on_the_same_rule_as_analysis),
		cmocka_unit_test(test_paired_ratio_cancels_what_rounds_share),
		cmocka_unit_test(test_agrees_with_analysis),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
