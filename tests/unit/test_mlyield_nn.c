/*
 * The mlyield predictor's arithmetic (schedulers/mlyield/mlyield_nn.h), the part BPF runs:
 *  - the decay table and the syscall-to-bucket table are what the header says they are;
 *  - the lazy decay gives the features of the eager definition ("every syscall multiplies
 *    every count by 7/8, then adds 1 to its own") within MLY_LAZY_BOUND Q8 units;
 *  - on a recorded trace (tests/data/mltrace-small.csv, a real mltrace run), the logit column,
 *    which BPF computed in the guest with the model in tests/data/mltrace-small.model.json,
 *    equals the C fixed-point inference bit for bit;
 *  - the fixed-point logit stays within a per-row error bound of the float model's logit,
 *    derived from the weight rounding alone (see check_bound), and within the stated global
 *    bound MLY_FIXED_VS_FLOAT_BOUND on every recorded row; where the two disagree on the
 *    decision, the float logit lies within that bound of the threshold;
 *  - the model and trace readers refuse damaged files with a message naming the problem.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "../../tools/mltrain/mltrace_csv.h"
#include "testutil.h"

#define SMALL_TRACE "tests/data/mltrace-small.csv"
#define SMALL_MODEL "tests/data/mltrace-small.model.json"

/*
 * Lazy vs eager decay: |feature difference| in Q8 units (1/256 of a syscall). The lazy form
 * truncates to Q16 at each bump of a bucket and uses a rounded (7/8)^k table, the eager one is
 * exact; both errors are far below one Q8 unit per bump, and the Q8 features truncate once.
 */
#define MLY_LAZY_BOUND 2
/*
 * Fixed-point vs float logit, on every row of the recorded trace (logit units). 0.01 moves the
 * predicted probability by at most 0.0025 (the sigmoid's slope is at most 1/4). The per-row
 * bound of check_bound is the rigorous one; this is the promise for this model and trace.
 */
#define MLY_FIXED_VS_FLOAT_BOUND 0.01

static __u64 rng(__u64 *s)
{
	__u64 z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void test_decay_table(void **state)
{
	int k;

	for (k = 0; k < MLY_DECAY_WINDOW; k++)
		assert_int_equal(mly_decay_q16[k], (__u32)lround(65536.0 * pow(7.0 / 8.0, k)));
	/* past the window a full bucket (8.0) is below one Q8 unit: reading 0 loses nothing visible */
	assert_true(8.0 * pow(7.0 / 8.0, MLY_DECAY_WINDOW) * 256 < 1.0);
}

static void test_bucket_table(void **state)
{
	static const struct { int bucket; long nr; const char *name; } listed[] = {
#define ENTRY(bucket, nr, name) { bucket, nr, #name },
		MLY_SYSCALLS(ENTRY)
#undef ENTRY
	};
	static const long unlisted[] = { 59 /* execve */, 39 /* getpid */, 186 /* gettid */, 447, 448,
					 1000, -1, -1000 };
	int seen[MLY_NR_FEATURES] = { 0 };
	size_t i, k;

	assert_int_equal(sizeof(listed) / sizeof(listed[0]), MLY_NR_FEATURES - 1);
	for (i = 0; i < sizeof(listed) / sizeof(listed[0]); i++) {
		assert_int_equal(listed[i].bucket, i);
		assert_int_equal(mly_syscall_bucket(listed[i].nr), listed[i].bucket);
		assert_string_equal(mly_feature_names[i], listed[i].name);
		assert_true(listed[i].nr < MLY_SYSCALL_TABLE_LEN);
		seen[listed[i].bucket]++;
		for (k = 0; k < i; k++)
			assert_true(listed[k].nr != listed[i].nr);
	}
	for (i = 0; i < MLY_NR_FEATURES - 1; i++)
		assert_int_equal(seen[i], 1);
	for (i = 0; i < sizeof(unlisted) / sizeof(unlisted[0]); i++)
		assert_int_equal(mly_syscall_bucket(unlisted[i]), MLY_BUCKET_OTHER);
	assert_string_equal(mly_feature_names[MLY_BUCKET_OTHER], "other");
}

static void test_lazy_decay_matches_definition(void **state)
{
	static const long pool[] = { 0, 1, 232, 40, 20, 233, 202, 3, 59, 500 };
	__u64 seed = 42;
	int seq, i, b, worst = 0;

	for (seq = 0; seq < 300; seq++) {
		struct mly_syscall_hist h = { 0 };
		double eager[MLY_NR_FEATURES] = { 0 };
		__u16 x[MLY_NR_FEATURES];
		int len = rng(&seed) % 400;
		/* some sequences repeat one syscall, some use many: both saturate and decay matter */
		int spread = 1 + rng(&seed) % 10;

		for (i = 0; i < len; i++) {
			long nr = pool[rng(&seed) % spread];

			for (b = 0; b < MLY_NR_FEATURES; b++)
				eager[b] *= 7.0 / 8.0;
			eager[mly_syscall_bucket(nr)] += 1.0;
			mly_hist_add(&h, nr);
		}
		mly_hist_features(&h, x);
		for (b = 0; b < MLY_NR_FEATURES; b++) {
			int d = abs((int)x[b] - (int)floor(eager[b] * 256));

			assert_true(x[b] <= MLY_X_MAX);
			if (d > worst)
				worst = d;
		}
	}
	print_message("lazy vs eager decay: worst difference %d Q8 units (bound %d)\n", worst,
		      MLY_LAZY_BOUND);
	assert_true(worst <= MLY_LAZY_BOUND);
}

struct fixture {
	struct mly_model model;
	struct mly_trace trace;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char err[1024];

	if (!f)
		return -1;
	if (mly_model_load_file(SMALL_MODEL, &f->model, err, sizeof(err))) {
		print_error("%s\n", err);
		return -1;
	}
	if (mly_trace_read(SMALL_TRACE, &f->trace, err, sizeof(err))) {
		print_error("%s\n", err);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	free(f->trace.rows);
	free(f);
	return 0;
}

static void test_recorded_bpf_logits_equal_c(void **state)
{
	struct fixture *f = *state;
	char fp[32];
	size_t i, nonzero = 0;

	snprintf(fp, sizeof(fp), "%016llx", (unsigned long long)f->model.fingerprint);
	assert_string_equal(f->trace.model_fingerprint, fp);	/* the trace was recorded with this model */
	assert_true(f->trace.nr >= 1000);
	for (i = 0; i < f->trace.nr; i++) {
		const struct mly_trace_row *r = &f->trace.rows[i];
		__s64 c = mly_nn_logit(&f->model.fx, r->x);

		if (c != r->logit)
			fail_msg("row %zu: BPF logit %lld, C logit %lld", i, r->logit, (long long)c);
		assert_int_equal(r->pred, c > f->model.fx.threshold);
		nonzero += c != f->model.fx.b2;
	}
	/* not a vacuous pass: most rows have features that move the logit */
	assert_true(nonzero > f->trace.nr / 2);
}

/*
 * The error of the fixed-point logit against the float one comes only from rounding the
 * weights (to 2^-s1, 2^-s2) and biases (to 2^-(s1+8), 2^-(s1+8+s2)); inputs are exact Q8 and
 * sums are exact integers. With e1 = 2^-(s1+1) and e2 = 2^-(s2+1):
 *   |dh_j| <= e1 * sum_i x_i + 2^-(s1+9)                  (ReLU is 1-Lipschitz)
 *   |dlogit| <= sum_j (|w2_j| |dh_j| + e2 (h_j + |dh_j|)) + 2^-(s1+s2+9)
 * A tiny relative slack covers the float reference's own rounding.
 */
static double check_bound(const struct mly_model *m, const __u16 *x, const double *h)
{
	double e1 = ldexp(1, -(int)m->fx.w1_shift - 1), e2 = ldexp(1, -(int)m->fx.w2_shift - 1);
	double sx = 0, bound = ldexp(1, -(int)mly_logit_shift(&m->fx) - 1);
	int i, j;

	for (i = 0; i < MLY_NR_FEATURES; i++)
		sx += x[i] / 256.0;
	for (j = 0; j < MLY_NR_HIDDEN; j++) {
		double dh = e1 * sx + ldexp(1, -(int)(m->fx.w1_shift + MLY_X_SHIFT) - 1);

		bound += fabs(m->w2[j]) * dh + e2 * (h[j] + dh);
	}
	return bound * (1 + 1e-9) + 1e-12;
}

static void test_fixed_point_within_bound_of_float(void **state)
{
	struct fixture *f = *state;
	const struct mly_model *m = &f->model;
	double worst = 0, worst_bound = 0, h[MLY_NR_HIDDEN];
	size_t i, disagree = 0;

	for (i = 0; i < f->trace.nr; i++) {
		const struct mly_trace_row *r = &f->trace.rows[i];
		double fl = mly_float_logit(m, r->x, h);
		double fx = ldexp((double)mly_nn_logit(&m->fx, r->x), -(int)mly_logit_shift(&m->fx));
		double bound = check_bound(m, r->x, h), d = fabs(fx - fl);

		if (d > bound)
			fail_msg("row %zu: |fixed - float| = %g exceeds its bound %g", i, d, bound);
		if ((fl > m->threshold_logit) != (fx > ldexp((double)m->fx.threshold, -(int)mly_logit_shift(&m->fx)))) {
			disagree++;
			assert_true(fabs(fl - m->threshold_logit) <= bound);
		}
		worst = fmax(worst, d);
		worst_bound = fmax(worst_bound, bound);
	}
	print_message("fixed vs float on %zu recorded rows: worst |diff| %.3g (largest per-row bound %.3g, "
		      "stated bound %g), %zu decisions differ\n", f->trace.nr, worst, worst_bound,
		      MLY_FIXED_VS_FLOAT_BOUND, disagree);
	assert_true(worst <= MLY_FIXED_VS_FLOAT_BOUND);
}

/* Model reader: each damage gives a refusal that names it. */
static void expect_refused(json_t *doc, const char *fragment)
{
	struct mly_model m;
	char err[1024];

	assert_int_equal(mly_model_from_json(doc, &m, err, sizeof(err)), -1);
	if (!strstr(err, fragment))
		fail_msg("'%s' lacks '%s'", err, fragment);
}

static void test_model_reader_refuses_damage(void **state)
{
	json_t *good = json_load_file(SMALL_MODEL, 0, NULL), *doc;
	struct mly_model m;
	char err[1024];

	assert_non_null(good);
	assert_int_equal(mly_model_from_json(good, &m, err, sizeof(err)), 0);

	doc = json_deep_copy(good);
	json_object_set_new(doc, "feature_id", json_string("syscalls-hash/v0"));
	expect_refused(doc, "trained on other features");
	json_decref(doc);

	doc = json_deep_copy(good);
	json_array_set_new(json_array_get(json_object_get(json_object_get(doc, "fixed"), "w1"), 3), 5,
			   json_integer(1 + json_integer_value(json_array_get(json_array_get(
				   json_object_get(json_object_get(doc, "fixed"), "w1"), 3), 5))));
	expect_refused(doc, "fingerprint");
	json_decref(doc);

	doc = json_deep_copy(good);
	json_array_set_new(json_object_get(json_object_get(doc, "fixed"), "w2"), 0, json_integer(40000));
	expect_refused(doc, "outside");
	json_decref(doc);

	doc = json_deep_copy(good);
	json_object_del(doc, "float");
	expect_refused(doc, "float");
	json_decref(doc);

	doc = json_deep_copy(good);
	json_array_set_new(json_object_get(doc, "features"), 27, json_string("sendfile"));
	expect_refused(doc, "feature 27");
	json_decref(doc);

	json_decref(good);
}

static void test_trace_reader_refuses_damage(void **state)
{
	char *dir = scratch_dir(), *path = xasprintf("%s/t.csv", dir), err[1024], *text;
	struct mly_trace t = { 0 };
	size_t len;
	char *nl, *second;

	/* the header of the real trace plus one good and one broken row */
	text = read_file(SMALL_TRACE, &len);
	assert_non_null(text);
	nl = strchr(text, '\n');
	while (text[0] == '#' && nl) {		/* drop the metadata lines */
		memmove(text, nl + 1, strlen(nl + 1) + 1);
		nl = strchr(text, '\n');
	}
	second = strchr(nl + 1, '\n');		/* header, first row */
	second[1] = '\0';
	put_file(dir, "t.csv", text);
	assert_int_equal(mly_trace_read(path, &t, err, sizeof(err)), 0);
	assert_int_equal(t.nr, 1);

	{
		/* the same row again, with an outcome the format does not know */
		char *row = xstrdup(nl + 1), *bad, *out = strstr(row, ",stop,");

		assert_non_null(out);
		out[1] = '\0';
		bad = xasprintf("%s%ssometimes,%s", text, row, out + 6);
		put_file(dir, "t.csv", bad);
		free(bad);
		free(row);
	}
	free(t.rows);
	memset(&t, 0, sizeof(t));
	assert_int_equal(mly_trace_read(path, &t, err, sizeof(err)), -1);
	if (!strstr(err, "t.csv:3: malformed row"))
		fail_msg("'%s' does not name the line", err);

	put_file(dir, "t.csv", "t_ns,cpu\n1,2\n");
	free(t.rows);
	memset(&t, 0, sizeof(t));
	assert_int_equal(mly_trace_read(path, &t, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "no column"));
	free(t.rows);
	free(text);
	free(path);
	remove_tree(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decay_table),
		cmocka_unit_test(test_bucket_table),
		cmocka_unit_test(test_lazy_decay_matches_definition),
		cmocka_unit_test_setup_teardown(test_recorded_bpf_logits_equal_c, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fixed_point_within_bound_of_float, setup, teardown),
		cmocka_unit_test(test_model_reader_refuses_damage),
		cmocka_unit_test(test_trace_reader_refuses_damage),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
