/* Policies that name one of the kernel's example schedulers (loader = kscx:NAME): resolved
 * from $KSCX_DIR/bin/NAME, run as external binaries (no scxlab loader options) but with their
 * ops name checked, the binary's sha256 and the source package recorded; refused with a clear
 * message when they are not built. Runs from the repository root (copies configs/). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <sys/stat.h>

#include "experiment.h"
#include "sha256.h"
#include "testutil.h"

static char *configs, *kscx;

static int setup(void **state)
{
	configs = scratch_dir();
	kscx = scratch_dir();
	char *argv[] = { "cp", "-a", "configs/.", configs, NULL };
	if (run_cmd(argv, NULL, NULL, NULL, 30))
		return -1;
	put_file(configs, "policies/kx.ini",
		 "[policy]\ndescription = test\nkind = scx\nloader = kscx:scx_kx\nops_name = kxops\nargs = -v\n");
	put_file(configs, "policies/kbad.ini",
		 "[policy]\ndescription = test\nkind = scx\nloader = kscx:../evil\nops_name = x\n");
	put_file(kscx, "bin/scx_kx", "#!/bin/sh\necho fake scheduler\n");
	char *bin = xasprintf("%s/bin/scx_kx", kscx);
	chmod(bin, 0755);
	free(bin);
	put_file(kscx, "package", "linux-source-7.3 7.3.4-1~bpo13+1\n");
	return 0;
}

static int teardown(void **state)
{
	remove_tree(configs);
	remove_tree(kscx);
	return 0;
}

static void expect_error(const char *policy, const char *frag)
{
	struct experiment x;
	struct err e = { 0 };
	struct request r = { .policy = policy, .workload = "hackbench" };
	assert_int_equal(experiment_load(&x, configs, &r, &e), -1);
	if (!strstr(e.msg, frag))
		fail_msg("error '%s' lacks '%s'", e.msg, frag);
	experiment_free(&x);
}

static void test_kscx_policy_is_resolved_and_recorded(void **state)
{
	setenv("KSCX_DIR", kscx, 1);
	struct experiment x;
	struct err e = { 0 };
	struct request r = { .policies = "cfs kx", .workload = "hackbench" };
	if (experiment_load(&x, configs, &r, &e))
		fail_msg("%s", e.msg);
	struct policy_def *p = &x.pol[1];
	char *bin = xasprintf("%s/bin/scx_kx", kscx), want[65];
	assert_int_equal(sha256_file(bin, want), 0);
	assert_true(p->external);	/* run without scxlab's loader options */
	assert_string_equal(p->name, "kx");
	assert_string_equal(p->ops_name, "kxops");
	assert_string_equal(p->loader, bin);	/* the host path build_job copies */
	assert_string_equal(p->args, "-v");
	assert_string_equal(cfg_get(&p->cfg, "policy", "sha256"), want);
	assert_string_equal(cfg_get(&p->cfg, "policy", "kscx_package"), "linux-source-7.3 7.3.4-1~bpo13+1");
	assert_string_equal(cfg_get(&p->cfg, "policy", "spec"), "kx");
	/* the guest's plan: the job's copy, external (no scxlab options), and the ops name to check */
	struct cfg plan = { 0 };
	experiment_plan(&x, &plan);
	int seen = 0;
	for (int k = 1; k <= 2; k++) {
		char sec[16];
		snprintf(sec, sizeof sec, "run.%d", k);
		if (strcmp(cfg_get(&plan, sec, "policy"), "kx"))
			continue;
		seen++;
		assert_string_equal(cfg_get(&plan, sec, "loader"), "bin/kx");
		assert_string_equal(cfg_get(&plan, sec, "external"), "1");
		assert_string_equal(cfg_get(&plan, sec, "ops_name"), "kxops");
	}
	assert_int_equal(seen, 1);
	cfg_free(&plan);
	free(bin);
	experiment_free(&x);
}

static void test_kscx_policy_refused_when_not_built(void **state)
{
	unsetenv("KSCX_DIR");
	expect_error("kx", "none are built (KSCX_DIR is not set in build/setup.env); run 'make setup'");
	setenv("KSCX_DIR", "", 1);
	expect_error("kx", "none are built");
	char *other = scratch_dir();
	setenv("KSCX_DIR", other, 1);
	expect_error("kx", "the kernel's example scheduler scx_kx was not built");
	/* a binary with no record of its source package is not run */
	put_file(other, "bin/scx_kx", "x");
	char *bin = xasprintf("%s/bin/scx_kx", other);
	chmod(bin, 0755);
	expect_error("kx", "does not say which source package scx_kx came from");
	free(bin);
	remove_tree(other);
	free(other);
	/* the name after kscx: is a name, never a path */
	setenv("KSCX_DIR", kscx, 1);
	expect_error("kbad", "kscx loader '../evil' is not a valid name");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kscx_policy_is_resolved_and_recorded),
		cmocka_unit_test(test_kscx_policy_refused_when_not_built),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
