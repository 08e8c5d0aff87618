/* External policies as distinct things (names, binary hashes), the kernel's disable line, how
 * a loader ended, summary.json, and the host's pace-following deadlines. */
#include <math.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "experiment.h"
#include "outcome.h"
#include "schedext.h"
#include "sha256.h"
#include "testutil.h"

static void test_sha256_known_vectors(void **state)
{
	struct sha256 s;
	char hex[65];
	sha256_init(&s);
	sha256_hex(&s, hex);
	assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	sha256_init(&s);
	sha256_update(&s, "abc", 3);
	sha256_hex(&s, hex);
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	/* 56 bytes: the padding spills into a second block; fed in two pieces */
	const char *m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	sha256_init(&s);
	sha256_update(&s, m, 10);
	sha256_update(&s, m + 10, strlen(m) - 10);
	sha256_hex(&s, hex);
	assert_string_equal(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	char *dir = scratch_dir();
	put_file(dir, "a", "abc");
	char *p = xasprintf("%s/a", dir);
	assert_int_equal(sha256_file(p, hex), 0);
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	free(p);
	remove_tree(dir);
	free(dir);
}

/* an executable file whose content is text, so two of them can differ */
static char *put_exe(const char *dir, const char *name, const char *text)
{
	put_file(dir, name, text);
	char *p = xasprintf("%s/%s", dir, name);
	chmod(p, 0755);
	return p;
}

static int load_pols(struct experiment *x, struct err *e, const char *pols)
{
	struct request r = { .policies = pols, .workload = "nginx" };
	return experiment_load(x, "configs", &r, e);
}

static void test_external_policies_are_distinct(void **state)
{
	char *dir = scratch_dir();
	char *a = put_exe(dir, "one/scx_simple", "#!/bin/sh\necho one\n");
	char *b = put_exe(dir, "two/scx_simple", "#!/bin/sh\necho two\n");
	char *pols = xasprintf("external:%s;external:%s;external:%s -v;external:%s  -v", a, b, a, a);
	struct experiment x;
	struct err e = { 0 };
	/* the last two are the same binary with the same arguments, spaced differently */
	assert_int_equal(load_pols(&x, &e, pols), -1);
	assert_non_null(strstr(e.msg, "are the same policy"));
	assert_non_null(strstr(e.msg, "list it once"));
	experiment_free(&x);
	free(pols);

	pols = xasprintf("cfs;external:%s;external:%s;external:%s -v", a, b, a);
	assert_int_equal(load_pols(&x, &e, pols), 0);
	assert_int_equal(x.npol, 4);
	for (size_t i = 1; i < 4; i++) {
		assert_true(x.pol[i].external);
		assert_int_equal(strncmp(x.pol[i].name, "ext-scx_simple-", 15), 0);
		assert_int_equal(strlen(x.pol[i].name), 15 + 8);
		for (size_t j = 1; j < i; j++)
			assert_string_not_equal(x.pol[i].name, x.pol[j].name);
	}
	/* each name is a function of path and arguments alone */
	char *one = xstrdup(x.pol[1].name), *three = xstrdup(x.pol[3].name);
	/* the binary's own hash is in its config (and so in the manifest) */
	char ha[65], hb[65];
	assert_int_equal(sha256_file(a, ha), 0);
	assert_int_equal(sha256_file(b, hb), 0);
	assert_string_not_equal(ha, hb);
	assert_string_equal(cfg_get(&x.pol[1].cfg, "policy", "sha256"), ha);
	assert_string_equal(cfg_get(&x.pol[2].cfg, "policy", "sha256"), hb);
	assert_string_equal(cfg_get(&x.pol[3].cfg, "policy", "sha256"), ha);
	assert_string_equal(x.pol[3].args, "-v");
	/* and each goes to its own file in the job */
	struct cfg plan;
	experiment_plan(&x, &plan);
	for (size_t i = 1; i < 4; i++) {
		char *want = xasprintf("bin/%s", x.pol[i].name);
		char sec[16];
		snprintf(sec, sizeof sec, "run.%zu", i + 1);
		assert_string_equal(cfg_get(&plan, sec, "loader"), want);
		free(want);
	}
	cfg_free(&plan);
	experiment_free(&x);
	free(pols);

	pols = xasprintf("external:%s  -v;external:%s", a, a);
	assert_int_equal(load_pols(&x, &e, pols), 0);
	assert_string_equal(x.pol[0].name, three);
	assert_string_equal(x.pol[1].name, one);
	experiment_free(&x);
	free(pols);
	free(one);
	free(three);
	free(a);
	free(b);
	remove_tree(dir);
	free(dir);
}

static void test_kernel_disable_line(void **state)
{
	struct scx_disable d;
	assert_true(scx_parse_disable("<3>[   41.5] sched_ext: BPF scheduler \"qmap\" disabled (runnable task stall)", &d));
	assert_string_equal(d.ops, "qmap");
	assert_string_equal(d.reason, "runnable task stall");
	assert_int_equal(d.kind, 1026);
	assert_string_equal(d.kind_name, "ERROR_STALL");
	assert_true(d.ejected);
	assert_true(scx_parse_disable("sched_ext: BPF scheduler \"fifo\" disabled (unregistered from user space)", &d));
	assert_int_equal(d.kind, 64);
	assert_string_equal(d.kind_name, "UNREG");
	assert_false(d.ejected);
	assert_true(scx_parse_disable("sched_ext: BPF scheduler \"f\" disabled (scx_bpf_error)", &d));
	assert_string_equal(d.kind_name, "ERROR_BPF");
	assert_true(scx_parse_disable("sched_ext: BPF scheduler \"s\" disabled (disabled by sysrq-S)", &d));
	assert_string_equal(d.kind_name, "SYSRQ");
	assert_true(d.ejected);
	assert_true(scx_parse_disable("sched_ext: BPF scheduler \"n\" disabled (something new)", &d));
	assert_int_equal(d.kind, -1);
	assert_string_equal(d.kind_name, "UNKNOWN");
	assert_true(d.ejected);
	assert_false(scx_parse_disable("sched_ext: fifo: some message", &d));
	assert_false(scx_parse_disable("sched_ext: BPF scheduler \"x\" enabled", &d));
}

static void expect_end(int status, enum loader_end want, int want_code, const char *want_sig, const char *fragment)
{
	int code;
	char sig[16], msg[128];
	assert_int_equal(loader_end_of(status, &code, sig, sizeof sig, msg, sizeof msg), want);
	assert_int_equal(code, want_code);
	assert_string_equal(sig, want_sig);
	if (!strstr(msg, fragment))
		fail_msg("'%s' lacks '%s'", msg, fragment);
}

static void test_loader_end(void **state)
{
	/* waitpid statuses: exit code N is N << 8, killed by signal S is S */
	expect_end(0, LOADER_CLEAN, 0, "", "cleanly");
	expect_end(SIGINT, LOADER_CLEAN, 130, "SIGINT", "cleanly");
	expect_end(130 << 8, LOADER_CLEAN, 130, "", "cleanly");
	expect_end(SIGSEGV, LOADER_CRASHED, 139, "SIGSEGV", "crashed with SIGSEGV (exit 139)");
	expect_end(139 << 8, LOADER_CRASHED, 139, "SIGSEGV", "crashed with SIGSEGV (exit 139)");
	expect_end(SIGABRT, LOADER_CRASHED, 134, "SIGABRT", "crashed with SIGABRT");
	expect_end(SIGKILL, LOADER_FAILED, 137, "SIGKILL", "was killed by SIGKILL");
	expect_end(2 << 8, LOADER_FAILED, 2, "", "exited with code 2");
	expect_end(-1, LOADER_UNKNOWN, -1, "", "unknown");
}

static json_t *run(const char *pol, bool valid, double v)
{
	return json_pack("{s:s, s:b, s:f}", "policy", pol, "valid", valid, "headline_value", v);
}

static void test_summary_nulls_and_cfs_ratio(void **state)
{
	json_t *runs = json_array();
	json_array_append_new(runs, run("fifo", true, 150));
	json_array_append_new(runs, run("broken", false, 999));
	json_array_append_new(runs, run("cfs", true, 90));
	json_array_append_new(runs, run("fifo", true, 250));
	json_array_append_new(runs, run("cfs", true, 110));
	json_array_append_new(runs, run("broken", false, 5));
	/* fifo before cfs: the ratio must still use cfs's mean */
	const char *names[] = { "fifo", "broken", "cfs" };
	json_t *s = summary_of_runs(runs, names, 3, "rps");
	json_t *fifo = json_object_get(s, "fifo"), *broken = json_object_get(s, "broken");
	assert_int_equal(json_integer_value(json_object_get(fifo, "valid_runs")), 2);
	assert_true(fabs(json_number_value(json_object_get(fifo, "mean")) - 200) < 1e-9);
	assert_true(fabs(json_number_value(json_object_get(fifo, "min")) - 150) < 1e-9);
	assert_string_equal(json_string_value(json_object_get(fifo, "metric")), "rps");
	assert_int_equal(json_integer_value(json_object_get(broken, "valid_runs")), 0);
	assert_int_equal(json_integer_value(json_object_get(broken, "invalid_runs")), 2);
	const char *keys[] = { "mean", "sd", "cv", "min", "max" };
	for (size_t i = 0; i < 5; i++) {
		assert_true(json_is_null(json_object_get(broken, keys[i])));
		assert_true(json_is_number(json_object_get(fifo, keys[i])));
	}
	double ratio;
	assert_true(summary_vs_cfs(s, "fifo", &ratio));
	assert_true(fabs(ratio - 1.0) < 1e-9);		/* 200 vs 100 */
	assert_false(summary_vs_cfs(s, "broken", &ratio));
	assert_false(summary_vs_cfs(s, "cfs", &ratio));
	json_decref(s);
	/* without cfs there is no ratio */
	s = summary_of_runs(runs, names, 2, "rps");
	assert_false(summary_vs_cfs(s, "fifo", &ratio));
	json_decref(s);
	json_decref(runs);
}

/* summary.json's center is the unit's summary (the one the report and PRECISION= use), named */
static void test_summary_center_follows_the_unit(void **state)
{
	static const struct {
		const char *unit, *stat;
		double fifo, ratio;	/* fifo's center of 100 and 400, and its ratio to cfs's (200, 200) - 1 */
	} cases[] = {
		{ "req/s", "hmean", 160, -0.2 }, { "ms", "median", 250, 0.25 }, { "count", "mean", 250, 0.25 },
		{ NULL, "mean", 250, 0.25 },
	};
	const char *names[] = { "cfs", "fifo" };
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		json_t *runs = json_array();
		json_array_append_new(runs, run("cfs", false, 1));	/* invalid: carries no unit */
		json_array_append_new(runs, run("cfs", true, 200));
		json_array_append_new(runs, run("fifo", true, 100));
		json_array_append_new(runs, run("cfs", true, 200));
		json_array_append_new(runs, run("fifo", true, 400));
		for (size_t k = 1; cases[i].unit && k < json_array_size(runs); k++)
			json_object_set_new(json_array_get(runs, k), "headline_unit", json_string(cases[i].unit));
		json_t *s = summary_of_runs(runs, names, 2, "m");
		json_t *fifo = json_object_get(s, "fifo");
		assert_string_equal(json_string_value(json_object_get(fifo, "statistic")), cases[i].stat);
		assert_true(fabs(json_number_value(json_object_get(fifo, "center")) - cases[i].fifo) < 1e-9);
		assert_true(fabs(json_number_value(json_object_get(fifo, "mean")) - 250) < 1e-9);	/* kept */
		if (cases[i].unit)
			assert_string_equal(json_string_value(json_object_get(fifo, "unit")), cases[i].unit);
		else	/* absent, as summary.schema.json says (a null broke the schema) */
			assert_null(json_object_get(fifo, "unit"));
		double ratio;
		assert_true(summary_vs_cfs(s, "fifo", &ratio));
		assert_true(fabs(ratio - cases[i].ratio) < 1e-9);
		json_decref(s);
		json_decref(runs);
	}
}

static void test_precision_estimator_names_the_method(void **state)
{
	json_t *e = precision_estimator("requests_per_sec", "req/s");
	assert_string_equal(json_string_value(json_object_get(e, "statistic")), "hmean");
	assert_string_equal(json_string_value(json_object_get(e, "interval")), "BCa");
	assert_string_equal(json_string_value(json_object_get(e, "fallback")), "percentile");
	assert_true(json_real_value(json_object_get(e, "confidence")) == 0.95);
	assert_int_equal(json_integer_value(json_object_get(e, "resamples")), 10000);
	json_decref(e);
	e = precision_estimator("latency", "us");
	assert_string_equal(json_string_value(json_object_get(e, "statistic")), "median");
	json_decref(e);
}

static void test_pace_deadlines(void **state)
{
	struct pace p = { 0 };
	assert_int_equal(pace_check(&p, 1e6, 10, 10), PACE_OK);	/* nothing to judge yet */
	/* a guest at full speed: the budget is wall time */
	pace_start(&p, 100, 0);
	for (int t = 1; t <= 50; t++)
		pace_note(&p, 100 + t, t);
	assert_true(fabs(pace_rate(&p, 150) - 1) < 1e-9);
	assert_int_equal(pace_check(&p, 150, 60, 30), PACE_OK);
	pace_note(&p, 161, 61);
	assert_int_equal(pace_check(&p, 161, 60, 30), PACE_OVER_BUDGET);

	/* a guest at a quarter speed (four guests on two cores): four times the wall time */
	pace_start(&p, 0, 1000);
	for (int t = 4; t <= 200; t += 4)
		pace_note(&p, t, 1000 + t / 4);
	assert_true(fabs(pace_rate(&p, 200) - 0.25) < 1e-9);
	assert_true(fabs(pace_elapsed(&p, 200) - 50) < 1e-9);
	assert_int_equal(pace_check(&p, 200, 60, 30), PACE_OK);	/* 200 s of wall, 50 of guest */
	for (int t = 204; t <= 244; t += 4)
		pace_note(&p, t, 1000 + t / 4);
	assert_int_equal(pace_check(&p, 244, 60, 30), PACE_OVER_BUDGET);	/* 61 guest s */

	/* a guest faster than wall time (idle jumps under -icount sleep=off) gets no more than wall */
	pace_start(&p, 0, 0);
	pace_note(&p, 30, 200);
	assert_true(fabs(pace_elapsed(&p, 30) - 30) < 1e-9);
	assert_int_equal(pace_check(&p, 30, 60, 30), PACE_OK);
	assert_int_equal(pace_check(&p, 61, 60, 100), PACE_OVER_BUDGET);

	/* no progress at all: stopped after the silence limit, however much budget is left */
	pace_start(&p, 0, 0);
	pace_note(&p, 5, 5);
	pace_note(&p, 100, 5);				/* observed, but no progress */
	assert_int_equal(pace_check(&p, 100, 1000, 120), PACE_OK);
	assert_int_equal(pace_check(&p, 126, 1000, 120), PACE_SILENT);
}

/* QEMU's lines when KVM gives up on the guest (seen: a kvm-pvm /dev/kvm and a standard kernel) */
static void test_kvm_fatal_line(void **state)
{
	assert_true(kvm_fatal_line("KVM internal error. Suberror: 1"));
	assert_true(kvm_fatal_line("KVM: entry failed, hardware error 0x80000021"));
	assert_false(kvm_fatal_line("[    0.294257] clocksource: Switched to clocksource kvm-clock"));
	assert_false(kvm_fatal_line("error: KVM internal error"));	/* not QEMU's own line */
	assert_false(kvm_fatal_line(""));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sha256_known_vectors),
		cmocka_unit_test(test_external_policies_are_distinct),
		cmocka_unit_test(test_kernel_disable_line),
		cmocka_unit_test(test_loader_end),
		cmocka_unit_test(test_summary_nulls_and_cfs_ratio),
		cmocka_unit_test(test_summary_center_follows_the_unit),
		cmocka_unit_test(test_precision_estimator_names_the_method),
		cmocka_unit_test(test_pace_deadlines),
		cmocka_unit_test(test_kvm_fatal_line),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
