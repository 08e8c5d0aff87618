/* Turning a request into a plan: validation messages, interleaving, the plan file. Uses the
 * repository's real configs/ (tests run from the repository root). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "experiment.h"
#include "testutil.h"

static int load(struct experiment *x, struct err *e, const char *pols, const char *wl, const char *dur,
		const char *rep, const char *clock, const char *target)
{
	struct request r = { .policies = pols, .workload = wl, .duration = dur, .repeats = rep,
			     .clock = clock, .target = target };
	return experiment_load(x, "configs", &r, e);
}

static void expect_error(const char *pols, const char *wl, const char *dur, const char *rep, const char *clock,
			 const char *target, const char *const *fragments)
{
	struct experiment x;
	struct err e = { 0 };
	assert_int_equal(load(&x, &e, pols, wl, dur, rep, clock, target), -1);
	for (const char *const *f = fragments; *f; f++) {
		if (!strstr(e.msg, *f))
			fail_msg("error '%s' lacks '%s'", e.msg, *f);
	}
	experiment_free(&x);
}

static void test_defaults_from_configs(void **state)
{
	struct experiment x;
	struct err e = { 0 };
	assert_int_equal(load(&x, &e, "cfs fifo", "nginx", NULL, NULL, NULL, NULL), 0);
	assert_int_equal(x.npol, 2);
	assert_string_equal(x.pol[0].kind, "cfs");
	assert_string_equal(x.pol[1].kind, "scx");
	assert_string_equal(x.pol[1].ops_name, "fifo");
	assert_string_equal(x.clock, "virtual");
	assert_non_null(strstr(x.accel, "thread=single"));
	assert_non_null(strstr(x.icount, "shift="));
	assert_string_equal(x.target, "vm");
	assert_int_equal(x.repeats, 1);
	assert_true(x.duration > 0);
	experiment_free(&x);
}

static void test_overrides(void **state)
{
	struct experiment x;
	struct err e = { 0 };
	assert_int_equal(load(&x, &e, "fifo", "nginx", "7", "4", "real", "host"), 0);
	assert_int_equal(x.duration, 7);
	assert_int_equal(x.repeats, 4);
	assert_string_equal(x.clock, "real");
	assert_string_equal(x.icount, "");
	assert_string_equal(x.target, "host");
	/* no guest, no accelerator */
	assert_string_equal(x.accel_kind, "none");
	assert_string_equal(x.accel, "");
	experiment_free(&x);
	assert_int_equal(load(&x, &e, "fifo", "nginx", NULL, NULL, "real", NULL), 0);
	assert_non_null(strstr(x.accel, "thread=multi"));
	assert_string_equal(x.accel_kind, "tcg");
	experiment_free(&x);
}

static int load_accel(struct experiment *x, struct err *e, const char *accel, const char *clock, bool kvm_usable,
		      const char *target)
{
	struct request r = { .policies = "cfs fifo", .workload = "nginx", .accel = accel, .clock = clock,
			     .kvm_usable = kvm_usable, .kvm_why = "probe said so", .target = target };
	return experiment_load(x, "configs", &r, e);
}

/* ACCEL=: KVM where it works (real clock only), TCG otherwise, and each choice explained */
static void test_accel_choice(void **state)
{
	struct experiment x;
	struct err e = { 0 };
	/* auto with a usable KVM: KVM, the real clock, the host's CPU model */
	assert_int_equal(load_accel(&x, &e, NULL, NULL, true, NULL), 0);
	assert_string_equal(x.accel_kind, "kvm");
	assert_string_equal(x.accel, "kvm");
	assert_string_equal(x.cpu, "host");
	assert_string_equal(x.clock, "real");
	assert_string_equal(x.icount, "");
	assert_false(x.accel_fell_back);
	assert_non_null(strstr(x.accel_why, "auto"));
	experiment_free(&x);
	/* auto without: TCG under the VM's default clock, and the fall-back is flagged */
	assert_int_equal(load_accel(&x, &e, "auto", NULL, false, NULL), 0);
	assert_string_equal(x.accel_kind, "tcg");
	assert_string_equal(x.clock, "virtual");
	assert_non_null(strstr(x.accel, "tcg"));
	assert_string_equal(x.cpu, "max");
	assert_true(x.accel_fell_back);
	experiment_free(&x);
	/* auto with CLOCK=virtual asked: TCG even where KVM works, not a fall-back */
	assert_int_equal(load_accel(&x, &e, NULL, "virtual", true, NULL), 0);
	assert_string_equal(x.accel_kind, "tcg");
	assert_false(x.accel_fell_back);
	assert_non_null(strstr(x.accel_why, "CLOCK=virtual"));
	experiment_free(&x);
	/* ACCEL=tcg where KVM works */
	assert_int_equal(load_accel(&x, &e, "tcg", "real", true, NULL), 0);
	assert_string_equal(x.accel_kind, "tcg");
	assert_non_null(strstr(x.accel, "thread=multi"));
	assert_string_equal(x.accel_why, "ACCEL=tcg");
	experiment_free(&x);
	/* ACCEL=kvm is resolved even where the probe failed: the runner refuses it (exit 3) */
	assert_int_equal(load_accel(&x, &e, "kvm", NULL, false, NULL), 0);
	assert_string_equal(x.accel_kind, "kvm");
	assert_string_equal(x.clock, "real");
	experiment_free(&x);
	/* refused: KVM with the virtual clock, an unknown accelerator, ACCEL= with TARGET=host */
	assert_int_equal(load_accel(&x, &e, "kvm", "virtual", true, NULL), -1);
	assert_non_null(strstr(e.msg, "CLOCK=virtual"));
	experiment_free(&x);
	assert_int_equal(load_accel(&x, &e, "hvf", NULL, true, NULL), -1);
	assert_non_null(strstr(e.msg, "ACCEL = 'hvf'"));
	assert_non_null(strstr(e.msg, "kvm"));
	experiment_free(&x);
	assert_int_equal(load_accel(&x, &e, "kvm", NULL, true, "host"), -1);
	assert_non_null(strstr(e.msg, "TARGET=vm only"));
	experiment_free(&x);
	/* a host runs on wall-clock time: its clock is real, and the virtual one is refused */
	assert_int_equal(load(&x, &e, "fifo", "nginx", NULL, NULL, NULL, "host"), 0);
	assert_string_equal(x.clock, "real");
	experiment_free(&x);
	expect_error("fifo", "nginx", NULL, NULL, "virtual", "host",
		     (const char *[]){ "CLOCK = 'virtual' does not go with TARGET=host", "CLOCK=real", NULL });
}

static void test_unknown_policy_lists_choices(void **state)
{
	expect_error("cfs nosuch", "nginx", NULL, NULL, NULL, NULL,
		     (const char *[]){ "unknown policy 'nosuch'", "cfs", "fifo", NULL });
}

static void test_unknown_workload_lists_choices(void **state)
{
	expect_error("cfs", "nosuch", NULL, NULL, NULL, NULL,
		     (const char *[]){ "unknown workload 'nosuch'", "nginx", NULL });
}

static void test_missing_policy_and_workload(void **state)
{
	expect_error("", "nginx", NULL, NULL, NULL, NULL, (const char *[]){ "no policy given", "fifo", NULL });
	expect_error("cfs", "", NULL, NULL, NULL, NULL, (const char *[]){ "no workload given", "nginx", NULL });
}

static void test_names_cannot_escape_configs(void **state)
{
	expect_error("../vm", "nginx", NULL, NULL, NULL, NULL, (const char *[]){ "not a valid name", NULL });
}

static void test_bad_duration_and_repeats(void **state)
{
	expect_error("cfs", "nginx", "ten", NULL, NULL, NULL, (const char *[]){ "DURATION", "'ten'", NULL });
	expect_error("cfs", "nginx", "0", NULL, NULL, NULL, (const char *[]){ "DURATION", "out of range", NULL });
	expect_error("cfs", "nginx", "-3", NULL, NULL, NULL, (const char *[]){ "DURATION", NULL });
	expect_error("cfs", "nginx", NULL, "0", NULL, NULL, (const char *[]){ "REPEATS", NULL });
}

static void test_bad_clock_and_target(void **state)
{
	expect_error("cfs", "nginx", NULL, NULL, "fast", NULL,
		     (const char *[]){ "CLOCK = 'fast'", "virtual", "real", NULL });
	expect_error("cfs", "nginx", NULL, NULL, NULL, "cloud",
		     (const char *[]){ "TARGET = 'cloud'", "vm", "host", NULL });
}

static void test_policy_listed_twice(void **state)
{
	expect_error("fifo fifo", "nginx", NULL, NULL, NULL, NULL, (const char *[]){ "listed twice", NULL });
}

static void test_interleaving_rotates_each_repeat(void **state)
{
	struct experiment x;
	struct err e = { 0 };
	assert_int_equal(load(&x, &e, "cfs fifo faulty", "nginx", NULL, "3", NULL, NULL), 0);
	assert_int_equal(experiment_nruns(&x), 9);
	const char *want[] = { "cfs", "fifo", "faulty", "fifo", "faulty", "cfs", "faulty", "cfs", "fifo" };
	for (size_t k = 0; k < 9; k++)
		assert_string_equal(x.pol[experiment_run_policy(&x, k)].name, want[k]);
	experiment_free(&x);
}

static void test_plan_carries_everything_the_guest_needs(void **state)
{
	struct experiment x;
	struct err e = { 0 };
	struct cfg plan;
	assert_int_equal(load(&x, &e, "cfs faulty", "nginx", "5", "2", NULL, NULL), 0);
	experiment_plan(&x, &plan);
	assert_string_equal(cfg_get(&plan, "plan", "runs"), "4");
	assert_string_equal(cfg_get(&plan, "plan", "duration"), "5");
	assert_string_equal(cfg_get(&plan, "workload", "dir"), "workloads/nginx");
	assert_string_equal(cfg_get(&plan, "workload", "headline"), "requests_per_sec");
	/* nginx's client (wrk-report.lua) marks its window; the agent must know to wait for the marks */
	assert_string_equal(cfg_get(&plan, "workload", "window"), "marks");
	assert_string_equal(cfg_get(&plan, "workload.params", "port"), cfg_get(&x.wl.cfg, "params", "port"));
	assert_string_equal(cfg_get(&plan, "run.1", "policy"), "cfs");
	assert_string_equal(cfg_get(&plan, "run.1", "loader"), "");
	assert_string_equal(cfg_get(&plan, "run.2", "policy"), "faulty");
	assert_string_equal(cfg_get(&plan, "run.2", "loader"), "bin/faulty");
	assert_string_equal(cfg_get(&plan, "run.2", "ops_name"), "faulty");
	assert_non_null(strstr(cfg_get(&plan, "run.2", "args"), "--fault"));
	assert_string_equal(cfg_get(&plan, "run.3", "policy"), "faulty");
	assert_string_equal(cfg_get(&plan, "run.3", "repeat"), "2");
	assert_null(cfg_get(&plan, "run.5", "policy"));
	cfg_free(&plan);
	experiment_free(&x);
}

static void test_malformed_policy_config(void **state)
{
	char *dir = scratch_dir();
	char *cmd = xasprintf("cp -r configs/. %s/", dir);
	assert_int_equal(system(cmd), 0);
	put_file(dir, "policies/broken.ini", "[policy]\nkind = scx\nloader = broken\n");
	put_file(dir, "policies/weird.ini", "[policy]\nkind = bpf\n");
	struct experiment x;
	struct err e = { 0 };
	struct request r = { .policies = "broken", .workload = "nginx" };
	assert_int_equal(experiment_load(&x, dir, &r, &e), -1);
	assert_non_null(strstr(e.msg, "[policy] ops_name is required"));
	experiment_free(&x);
	r.policies = "weird";
	assert_int_equal(experiment_load(&x, dir, &r, &e), -1);
	assert_non_null(strstr(e.msg, "'bpf' is not one of: cfs|scx"));
	experiment_free(&x);
	remove_tree(dir);
	free(cmd);
	free(dir);
}

/* [workload] programs: the names a TARGET=host run looks up on PATH, each a word */
static void test_workload_programs(void **state)
{
	struct experiment x;
	struct err e = { 0 };
	struct request r = { .policies = "fifo", .workload = "nginx" };
	assert_int_equal(experiment_load(&x, "configs", &r, &e), 0);
	assert_string_equal(x.wl.programs, "nginx wrk");
	experiment_free(&x);
	char *dir = scratch_dir();
	char *cmd = xasprintf("cp -r configs/. %s/", dir);
	assert_int_equal(system(cmd), 0);
	char *wl = xasprintf("%s/workloads/nginx.ini", dir), *text = read_file(wl, NULL);
	char *at = strstr(text, "programs = nginx wrk");
	assert_non_null(at);
	char *bad = xasprintf("%.*sprograms = nginx $(wrk)%s", (int)(at - text), text, at + strlen("programs = nginx wrk"));
	assert_int_equal(write_file(wl, bad, strlen(bad)), 0);
	assert_int_equal(experiment_load(&x, dir, &r, &e), -1);
	assert_non_null(strstr(e.msg, "programs: '$(wrk)'"));
	experiment_free(&x);
	remove_tree(dir);
	free(bad);
	free(text);
	free(wl);
	free(cmd);
	free(dir);
}

static void test_policy_requirements_need_a_matching_vm(void **state)
{
	char *dir = scratch_dir();
	char *cmd = xasprintf("cp -r configs/. %s/", dir);
	assert_int_equal(system(cmd), 0);
	put_file(dir, "policies/needsmt.ini", "[policy]\nkind = scx\nloader = x\nops_name = x\n[requires]\nthreads_per_core = 2\n");
	struct experiment x;
	struct err e = { 0 };
	struct request r = { .policies = "needsmt", .workload = "nginx" };
	assert_int_equal(experiment_load(&x, dir, &r, &e), -1);
	assert_non_null(strstr(e.msg, "policy needsmt needs a VM with threads_per_core >= 2"));
	assert_non_null(strstr(e.msg, "VM=smt"));
	experiment_free(&x);
	r.vm = "smt";
	assert_int_equal(experiment_load(&x, dir, &r, &e), 0);
	assert_string_equal(x.vm_name, "smt");
	assert_int_equal(x.threads_per_core, 2);
	experiment_free(&x);
	r.vm = "huge";
	assert_int_equal(experiment_load(&x, dir, &r, &e), -1);
	assert_non_null(strstr(e.msg, "unknown VM 'huge'"));
	/* every shipped VM is named, whatever else configs/vms/ holds */
	assert_non_null(strstr(e.msg, "default "));
	assert_non_null(strstr(e.msg, " smt"));
	experiment_free(&x);
	remove_tree(dir);
	free(cmd);
	free(dir);
}

static void test_params_override(void **state)
{
	struct experiment x;
	struct err e = { 0 };
	struct request r = { .policies = "cfs", .workload = "nginx", .params = "connections=8 threads=1" };
	assert_int_equal(experiment_load(&x, "configs", &r, &e), 0);
	assert_string_equal(cfg_get(&x.wl.cfg, "params", "connections"), "8");
	assert_string_equal(cfg_get(&x.wl.cfg, "params", "threads"), "1");
	struct cfg plan;
	experiment_plan(&x, &plan);
	assert_string_equal(cfg_get(&plan, "workload.params", "connections"), "8");
	cfg_free(&plan);
	experiment_free(&x);
	r.params = "conections=8";
	assert_int_equal(experiment_load(&x, "configs", &r, &e), -1);
	assert_non_null(strstr(e.msg, "PARAMS: workload nginx has no parameter 'conections'; did you mean 'connections'?"));
	assert_non_null(strstr(e.msg, "connections"));
	experiment_free(&x);
}

static void test_monitors_known_and_unknown(void **state)
{
	struct experiment x;
	struct err e = { 0 };
	struct request r = { .policies = "cfs", .workload = "nginx", .monitors = "bpf-stats sched-trace" };
	assert_int_equal(experiment_load(&x, "configs", &r, &e), 0);
	struct cfg plan;
	experiment_plan(&x, &plan);
	assert_string_equal(cfg_get(&plan, "plan", "monitors"), "bpf-stats sched-trace");
	cfg_free(&plan);
	experiment_free(&x);
	/* the one word test every monitor check uses (host, guest, validation) */
	assert_true(has_word("bpf-stats \t sched-trace", "sched-trace"));
	assert_false(has_word("sched-traced bpf-stats", "sched-trace"));
	assert_false(has_word(NULL, "bpf-stats"));
	r.monitors = "sched-trace ftrace";
	assert_int_equal(experiment_load(&x, "configs", &r, &e), -1);
	assert_non_null(strstr(e.msg, "MONITORS: unknown monitor 'ftrace'; choose from: bpf-stats sched-trace"));
	experiment_free(&x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_from_configs),
		cmocka_unit_test(test_overrides),
		cmocka_unit_test(test_unknown_policy_lists_choices),
		cmocka_unit_test(test_unknown_workload_lists_choices),
		cmocka_unit_test(test_missing_policy_and_workload),
		cmocka_unit_test(test_names_cannot_escape_configs),
		cmocka_unit_test(test_bad_duration_and_repeats),
		cmocka_unit_test(test_bad_clock_and_target),
		cmocka_unit_test(test_policy_listed_twice),
		cmocka_unit_test(test_interleaving_rotates_each_repeat),
		cmocka_unit_test(test_plan_carries_everything_the_guest_needs),
		cmocka_unit_test(test_malformed_policy_config),
		cmocka_unit_test(test_policy_requirements_need_a_matching_vm),
		cmocka_unit_test(test_workload_programs),
		cmocka_unit_test(test_params_override),
		cmocka_unit_test(test_monitors_known_and_unknown),
		cmocka_unit_test(test_accel_choice),
	};
	return cmocka_run_group_tests_name("experiment", tests, NULL, NULL);
}
