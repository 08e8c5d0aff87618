/* What TARGET=host needs and leaves (hostcheck.h), and the selfcheck plan (selfcheck.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "config.h"
#include "experiment.h"
#include "hostcheck.h"
#include "selfcheck.h"
#include "testutil.h"

static void test_programs_missing_are_named_in_order(void **state)
{
	char *d = scratch_dir();
	put_file(d, "a/nginx", "#!/bin/sh\n");
	put_file(d, "b/wrk", "#!/bin/sh\n");
	put_file(d, "b/perf", "not executable\n");
	put_file(d, "b/stress-ng/keep", "a folder is no program\n");
	char *pa = xasprintf("%s/a", d), *pb = xasprintf("%s/b", d), *nginx = xasprintf("%s/nginx", pa);
	char *wrk = xasprintf("%s/wrk", pb);
	chmod(nginx, 0755);
	chmod(wrk, 0755);
	char *path = xasprintf("%s:%s:/nonexistent", pa, pb);
	struct strv missing = { 0 };
	assert_int_equal(programs_missing("nginx wrk perf stress-ng cyclictest", path, &missing), 3);
	char *list = strv_join(&missing, " ");
	assert_string_equal(list, "perf stress-ng cyclictest");
	strv_free(&missing);
	assert_int_equal(programs_missing("nginx wrk", path, &missing), 0);
	assert_int_equal(programs_missing("", path, &missing), 0);
	assert_int_equal(programs_missing("nginx", "", &missing), 1);	/* an empty PATH has nothing */
	strv_free(&missing);
	free(list);
	free(path);
	free(nginx);
	free(wrk);
	free(pa);
	free(pb);
	remove_tree(d);
	free(d);
}

static void test_kmsg_since_the_last_read(void **state)
{
	const char *log = "[    1.000000] boot\n[    2.000000] sched_ext: enabled\n[    3.000000] x\n";
	assert_string_equal(kmsg_since(log, NULL), log);	/* first read: all of it */
	assert_string_equal(kmsg_since(log, ""), log);
	char *last = kmsg_last_line(log);
	assert_string_equal(last, "[    3.000000] x");
	assert_string_equal(kmsg_since(log, last), "");		/* nothing new */
	const char *later = "[    1.000000] boot\n[    2.000000] sched_ext: enabled\n[    3.000000] x\n"
			    "[    4.000000] sched_ext: BPF scheduler \"faulty\" disabled (runtime error)\n";
	assert_string_equal(kmsg_since(later, last),
			    "[    4.000000] sched_ext: BPF scheduler \"faulty\" disabled (runtime error)\n");
	/* the line read last has rotated out of the ring buffer: everything is new */
	const char *rotated = "[    5.000000] y\n[    6.000000] z";
	assert_string_equal(kmsg_since(rotated, last), rotated);
	/* a line that only starts like the last one is not it */
	assert_string_equal(kmsg_since("[    3.000000] xy\n", last), "[    3.000000] xy\n");
	free(last);
	char *none = kmsg_last_line("\n\n");
	assert_string_equal(none, "");
	free(none);
	char *unterminated = kmsg_last_line("a\nb");
	assert_string_equal(unterminated, "b");
	free(unterminated);
}

static void test_leftovers_name_what_changed(void **state)
{
	struct host_state before = { .scx_state = "disabled", .subtree_control = "cpuset cpu io memory pids",
				     .sysctls = "kernel/sched_schedstats=0\nkernel/sysrq=438\n", .processes = "" };
	struct host_state after = before;
	json_t *l = host_leftovers(&before, &after);
	assert_int_equal(json_array_size(l), 0);
	json_decref(l);

	after.scx_state = "enabled";
	after.scxlab_cgroup = true;
	after.subtree_control = "cpuset io memory pids";
	after.sysctls = "kernel/sched_schedstats=1\nkernel/sysrq=438\nkernel/sched_new=5\n";
	after.processes = "nginx[12] wrk[13]";
	l = host_leftovers(&before, &after);
	assert_int_equal(json_array_size(l), 6);
	assert_non_null(strstr(json_string_value(json_array_get(l, 0)), "'enabled'"));
	assert_non_null(strstr(json_string_value(json_array_get(l, 1)), "/sys/fs/cgroup/scxlab"));
	assert_non_null(strstr(json_string_value(json_array_get(l, 2)), "subtree_control"));
	assert_string_equal(json_string_value(json_array_get(l, 3)), "sysctl kernel/sched_schedstats is 1, was 0");
	assert_string_equal(json_string_value(json_array_get(l, 4)), "sysctl kernel/sched_new is 5, was (not set)");
	assert_string_equal(json_string_value(json_array_get(l, 5)), "processes still running: nginx[12] wrk[13]");
	json_decref(l);
	/* an scxlab cgroup that was there before the run is not the run's doing */
	before.scxlab_cgroup = true;
	after = before;
	l = host_leftovers(&before, &after);
	assert_int_equal(json_array_size(l), 0);
	json_decref(l);
}

static int plan_text(struct cfg *c, const char *text, struct err *e)
{
	memset(c, 0, sizeof(*c));
	return cfg_parse_text(c, "plan.ini", text, &CFG_PLAN, e) || plan_check(c, e) ? -1 : 0;
}

static void test_selfcheck_plan(void **state)
{
	struct cfg p;
	struct err e = { 0 };
	const char *good = "[selfcheck]\nchecks = 2\n"
			   "[check.1]\npolicies = cfs fifo\nworkload = nginx\nduration = 3\nrepeats = 1\n"
			   "cgroups = deep4-2to1\nexpect = valid\ninterrupt_after_s = 0\n"
			   "[check.2]\npolicies = fifo\nworkload = nginx\nduration = 30\nrepeats = 1\n"
			   "expect = interrupted\ninterrupt_after_s = 8\n";
	assert_int_equal(plan_text(&p, good, &e), 0);
	struct strv a = { 0 };
	selfcheck_argv(&p, 1, "/job/repo", "/results/inner", NULL, &a);
	char *line = strv_join(&a, "|");
	assert_string_equal(line, "run|--target|host|--policies|cfs fifo|--workload|nginx|--duration|3|--repeats|1|"
			    "--cgroups|deep4-2to1|--repo|/job/repo|--results|/results/inner|--command|"
			    "selfcheck-host check 1");
	free(line);
	strv_free(&a);
	/* a target = vm check (selfcheck-kvm): its guest's shape, accelerator and clock, and the image */
	const char *nested = "[selfcheck]\nchecks = 1\n"
			     "[check.1]\npolicies = fifo\nworkload = perf-pipe\nduration = 3\nrepeats = 1\n"
			     "expect = valid\ninterrupt_after_s = 0\ntarget = vm\nvm = nested\naccel = kvm\nclock = real\n";
	assert_int_equal(plan_text(&p, nested, &e), 0);
	selfcheck_argv(&p, 1, "/job/repo", "/results/inner", "/job/image", &a);
	line = strv_join(&a, "|");
	assert_string_equal(line, "run|--target|vm|--policies|fifo|--workload|perf-pipe|--duration|3|--repeats|1|"
			    "--vm|nested|--accel|kvm|--clock|real|--repo|/job/repo|--results|/results/inner|"
			    "--image|/job/image|--command|selfcheck-kvm check 1");
	free(line);
	strv_free(&a);
	cfg_free(&p);
	assert_int_equal(selfcheck_expected_exit("valid"), EXIT_OK);
	assert_int_equal(selfcheck_expected_exit("ejected"), EXIT_INVALID_RUN);
	assert_int_equal(selfcheck_expected_exit("interrupted"), EXIT_INVALID_RUN);
	cfg_free(&p);

	static const struct { const char *text, *fragment; } bad[] = {
		{ "[selfcheck]\nchecks = 1\n", "policies" },
		{ "[selfcheck]\nchecks = 1\n[check.1]\npolicies = fifo\nworkload = nginx\nduration = 3\nexpect = maybe\n",
		  "valid|ejected|interrupted" },
		{ "[selfcheck]\nchecks = 1\n[check.1]\npolicies = fifo\nworkload = nginx\nduration = 3\n"
		  "expect = interrupted\n", "interrupt_after_s" },
		{ "[selfcheck]\nchecks = 1\n[check.1]\npolicies = fifo\nworkload = nginx\nduration = 3\nexpect = valid\n"
		  "interrupt_after_s = 5\n", "interrupt_after_s" },
		{ "[selfcheck]\nchecks = 1\n[check.1]\npolicies = fifo\nworkload = nginx\nduration = 3\nexpect = valid\n"
		  "command = rm\n", "command" },
		{ "[selfcheck]\nchecks = 1\n[check.1]\npolicies = fifo\nworkload = nginx\nduration = 3\nexpect = valid\n"
		  "target = cloud\n", "host|vm" },
		{ "[selfcheck]\nchecks = 1\n[check.1]\npolicies = fifo\nworkload = nginx\nduration = 3\nexpect = valid\n"
		  "target = vm\naccel = fast\n", "auto|kvm|tcg" },
		{ "[selfcheck]\nchecks = 1\n[check.1]\npolicies = fifo\nworkload = nginx\nduration = 3\nexpect = valid\n"
		  "target = vm\nclock = wall\n", "virtual|real" },
		{ "[selfcheck]\nchecks = 1\n[check.1]\npolicies = fifo\nworkload = nginx\nduration = 3\nexpect = valid\n"
		  "target = vm\nvm = ../etc\n", "VM config's name" },
		{ "[selfcheck]\nchecks = 1\n[check.1]\npolicies = fifo\nworkload = nginx\nduration = 3\nexpect = valid\n"
		  "accel = kvm\n", "target = host has none" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&e, 0, sizeof(e));
		assert_int_equal(plan_text(&p, bad[i].text, &e), -1);
		if (!strstr(e.msg, bad[i].fragment))
			fail_msg("case %zu: '%s' lacks '%s'", i, e.msg, bad[i].fragment);
		cfg_free(&p);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_programs_missing_are_named_in_order),
		cmocka_unit_test(test_kmsg_since_the_last_read),
		cmocka_unit_test(test_leftovers_name_what_changed),
		cmocka_unit_test(test_selfcheck_plan),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
