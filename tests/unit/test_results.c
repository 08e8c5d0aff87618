/* Metrics contract, result-directory naming and the no-overwrite rule, sched_ext status, stats. */
#include <math.h>
#include <sys/wait.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "metrics.h"
#include "results.h"
#include "schedext.h"
#include "stats.h"
#include "testutil.h"

static void check_metrics(const char *text, int want_rc, const char *fragment)
{
	json_error_t je;
	json_t *doc = json_loads(text, 0, &je);
	struct err e = { 0 };
	assert_non_null(doc);
	assert_int_equal(metrics_check(doc, &e), want_rc);
	if (fragment && !strstr(e.msg, fragment))
		fail_msg("'%s' lacks '%s'", e.msg, fragment);
	json_decref(doc);
}

static void test_metrics_contract(void **state)
{
	check_metrics("{\"metrics\":[{\"name\":\"rps\",\"unit\":\"req/s\",\"value\":12.5,\"higher_is_better\":true}]}", 0,
		      NULL);
	check_metrics("{\"valid\":false,\"reason\":\"no requests\",\"metrics\":[]}", 0, NULL);
	check_metrics("{\"metrics\":[]}", -1, "at least one metric");
	check_metrics("[]", -1, "not a JSON object");
	check_metrics("{\"metrics\":[{\"name\":\"rps\",\"value\":1,\"higher_is_better\":true}]}", -1, "\"unit\"");
	check_metrics("{\"metrics\":[{\"name\":\"rps\",\"unit\":\"x\",\"value\":\"1\",\"higher_is_better\":true}]}",
		      -1, "finite number");
	check_metrics("{\"metrics\":[{\"name\":\"rps\",\"unit\":\"x\",\"value\":1}]}", -1, "higher_is_better");
	check_metrics("{\"metrics\":[{\"name\":\"rps\",\"unit\":\"x\",\"value\":1,\"higher_is_better\":\"yes\"}]}", -1,
		      "true, false or null");
	/* null: no direction (the metric describes, it does not rank) */
	check_metrics("{\"metrics\":[{\"name\":\"f\",\"unit\":\"fraction\",\"value\":0.4,\"higher_is_better\":null}]}", 0,
		      NULL);
	check_metrics("{\"metrics\":[{\"name\":\"a\",\"unit\":\"x\",\"value\":1,\"higher_is_better\":true},"
		      "{\"name\":\"a\",\"unit\":\"x\",\"value\":2,\"higher_is_better\":true}]}", -1, "reported twice");
	check_metrics("{\"valid\":\"yes\",\"metrics\":[]}", -1, "\"valid\"");
}

static void test_metrics_value(void **state)
{
	json_t *doc = json_loads("{\"metrics\":[{\"name\":\"rps\",\"unit\":\"req/s\",\"value\":12.5,"
				 "\"higher_is_better\":true}]}", 0, NULL);
	double v = 0;
	struct err e = { 0 };
	assert_int_equal(metrics_value(doc, "rps", &v, &e), 0);
	assert_true(v == 12.5);
	assert_int_equal(metrics_value(doc, "latency", &v, &e), -1);
	assert_non_null(strstr(e.msg, "latency"));
	json_decref(doc);
}

static void test_ids_never_collide(void **state)
{
	char *dir = scratch_dir();
	const char *pols[] = { "cfs", "fifo" };
	char *a = results_new_id(dir, "nginx", pols, 2, 1800000000LL);
	assert_string_equal(a, "20270115-080000-nginx-cfs+fifo");
	/* a final, an invalid and a staging folder each take the name */
	char *p = xasprintf("%s/%s", dir, a);
	mkdir_p(p, 0755);
	char *b = results_new_id(dir, "nginx", pols, 2, 1800000000LL);
	assert_string_equal(b, "20270115-080000-nginx-cfs+fifo-2");
	char *q = xasprintf("%s/%s-INVALID", dir, b);
	mkdir_p(q, 0755);
	char *c = results_new_id(dir, "nginx", pols, 2, 1800000000LL);
	assert_string_equal(c, "20270115-080000-nginx-cfs+fifo-3");
	char *s = results_staging_path(dir, c);
	mkdir_p(s, 0755);
	char *d = results_new_id(dir, "nginx", pols, 2, 1800000000LL);
	assert_string_equal(d, "20270115-080000-nginx-cfs+fifo-4");
	remove_tree(dir);
	free(a), free(b), free(c), free(d), free(p), free(q), free(s), free(dir);
}

/* Runners started in the same second (a sweep's points side by side) each get a name of their
 * own: claiming creates the staging folder, which only one can win. */
static void test_claims_at_once_never_share_a_name(void **state)
{
	char *dir = scratch_dir();
	const char *pols[] = { "cfs", "fifo" };
	struct err e = { 0 };
	char *a = results_claim(dir, "nginx", pols, 2, 1800000000LL, &e);
	char *b = results_claim(dir, "nginx", pols, 2, 1800000000LL, &e);
	assert_string_equal(a, "20270115-080000-nginx-cfs+fifo");
	assert_string_equal(b, "20270115-080000-nginx-cfs+fifo-2");
	char *s = results_staging_path(dir, b);
	assert_true(is_dir(s));
	enum { CLAIMERS = 8 };
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	pid_t pids[CLAIMERS];
	for (int k = 0; k < CLAIMERS; k++) {
		if ((pids[k] = fork()) == 0) {
			struct err ce = { 0 };
			char *id = results_claim(dir, "nginx", pols, 2, 1800000000LL, &ce);
			char line[256];
			int n = snprintf(line, sizeof(line), "%s\n", id ? id : "(none)");
			_exit(write(fds[1], line, (size_t)n) == n ? 0 : 1);
		}
	}
	close(fds[1]);
	for (int k = 0; k < CLAIMERS; k++) {
		int status;
		assert_int_equal(waitpid(pids[k], &status, 0), pids[k]);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	char buf[4096] = "";
	size_t have = 0;
	ssize_t n;
	while ((n = read(fds[0], buf + have, sizeof(buf) - 1 - have)) > 0)
		have += (size_t)n;
	buf[have] = '\0';
	close(fds[0]);
	/* 8 names, all different, none of them a or b: suffixes 3 to 10 */
	for (int k = 3; k < 3 + CLAIMERS; k++) {
		char *want = xasprintf("20270115-080000-nginx-cfs+fifo-%d\n", k);
		if (!strstr(buf, want))
			fail_msg("no claimer got %s in:\n%s", want, buf);
		free(want);
	}
	/* a folder that cannot be made is an error, not a loop */
	assert_null(results_claim("/proc/no-such-folder", "nginx", pols, 2, 1800000000LL, &e));
	assert_non_null(strstr(e.msg, "cannot create"));
	remove_tree(dir);
	free(a), free(b), free(s), free(dir);
}

static void test_finalize_never_overwrites(void **state)
{
	char *dir = scratch_dir();
	struct err e = { 0 };
	char *staging = results_staging_path(dir, "run1");
	mkdir_p(staging, 0755);
	put_file(staging, "manifest.json", "{\"new\": true}");
	/* an earlier result already holds the final name */
	put_file(dir, "run1/manifest.json", "{\"old\": true}");
	assert_null(results_finalize(dir, "run1", true, &e));
	assert_non_null(strstr(e.msg, "staging folder is kept"));
	char *old = xasprintf("%s/run1/manifest.json", dir), *text = read_file(old, NULL);
	assert_string_equal(text, "{\"old\": true}");
	assert_true(is_dir(staging));
	free(text);
	/* an invalid result gets a name that says so */
	char *fin = results_finalize(dir, "run1", false, &e);
	assert_non_null(fin);
	assert_non_null(strstr(fin, "/run1-INVALID"));
	assert_false(is_dir(staging));
	remove_tree(dir);
	free(fin), free(old), free(staging), free(dir);
}

static void test_in_charge(void **state)
{
	char *root = scratch_dir();
	struct scx_status s;
	put_file(root, "state", "enabled\n");
	put_file(root, "root/ops", "fifo\n");
	scx_read(root, &s);
	assert_true(s.present);
	assert_string_equal(s.state, "enabled");
	assert_string_equal(s.ops, "fifo");
	assert_true(scx_in_charge(&s, "fifo"));
	assert_false(scx_in_charge(&s, "qmap"));
	assert_false(scx_in_charge(&s, NULL));	/* cfs is not in charge while fifo is */
	put_file(root, "state", "disabled\n");
	char *ops = xasprintf("%s/root/ops", root);
	unlink(ops);
	scx_read(root, &s);
	assert_true(scx_in_charge(&s, NULL));
	assert_false(scx_in_charge(&s, "fifo"));
	char buf[128];
	assert_string_equal(scx_describe(&s, buf, sizeof buf), "state=disabled ops=(none)");
	char *snap = xasprintf("%s-snap", root);
	put_file(root, "root/events", "SCX_EV_SELECT_CPU_FALLBACK 3\n");
	assert_int_equal(scx_snapshot(root, snap), 2);
	char *ev = xasprintf("%s/root_events", snap);
	assert_true(path_exists(ev));
	remove_tree(root);
	remove_tree(snap);
	scx_read("/nonexistent/sched_ext", &s);
	assert_false(s.present);
	assert_true(scx_in_charge(&s, NULL));
	free(ev), free(snap), free(ops), free(root);
}

static void test_summary_known_answers(void **state)
{
	double x[] = { 1, 2, 3, 4 };
	struct summary s = summarize(x, 4);
	assert_int_equal(s.n, 4);
	assert_true(fabs(s.mean - 2.5) < 1e-12);
	assert_true(fabs(s.sd - 1.2909944487358056) < 1e-12);
	assert_true(fabs(s.cv - 0.5163977794943222) < 1e-12);
	assert_true(s.min == 1 && s.max == 4);
	s = summarize(x, 1);
	assert_true(s.mean == 1 && s.sd == 0 && s.cv == 0);
	s = summarize(x, 0);
	assert_int_equal(s.n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_metrics_contract),
		cmocka_unit_test(test_metrics_value),
		cmocka_unit_test(test_ids_never_collide),
		cmocka_unit_test(test_claims_at_once_never_share_a_name),
		cmocka_unit_test(test_finalize_never_overwrites),
		cmocka_unit_test(test_in_charge),
		cmocka_unit_test(test_summary_known_answers),
	};
	return cmocka_run_group_tests_name("results", tests, NULL, NULL);
}
