/* JOBS: what is accepted, the default, and which points may start beside which (jobs.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

#include "jobs.h"

static void test_jobs_accepts_positive_whole_numbers_only(void **st)
{
	struct err e = { 0 };
	assert_int_equal(jobs_parse(NULL, &e), 0);	/* not given: JOBS_DEFAULT */
	assert_int_equal(jobs_parse("", &e), 0);
	assert_int_equal(jobs_parse("1", &e), 1);
	assert_int_equal(jobs_parse("2", &e), 2);
	assert_int_equal(jobs_parse("256", &e), JOBS_MAX);
	const char *bad[] = { "0", "-1", "+2", " 2", "2 ", "2x", "1.5", "02", "257", "99999999999999999999999", "two",
			      "$(nproc)", "2;reboot" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&e, 0, sizeof(e));
		assert_int_equal(jobs_parse(bad[i], &e), -1);
		if (!strstr(e.msg, "JOBS=") || !strstr(e.msg, bad[i]) || !strstr(e.msg, "whole number from 1"))
			fail_msg("'%s': %s", bad[i], e.msg);
	}
}

static void test_real_clock_points_run_alone(void **st)
{
	assert_false(jobs_point_alone(NULL, NULL));	/* the defaults: virtual clock, auto */
	assert_false(jobs_point_alone("", ""));
	assert_false(jobs_point_alone("virtual", "tcg"));
	assert_false(jobs_point_alone("virtual", "auto"));
	assert_true(jobs_point_alone("real", NULL));
	assert_true(jobs_point_alone("real", "tcg"));
	assert_true(jobs_point_alone(NULL, "kvm"));	/* KVM runs on the real clock only */
}

static void test_which_point_may_start(void **st)
{
	/* nothing running: anything starts, also with JOBS=1 */
	assert_true(jobs_may_start(1, 0, false, false));
	assert_true(jobs_may_start(1, 0, false, true));
	/* JOBS=1: one at a time */
	assert_false(jobs_may_start(1, 1, false, false));
	/* JOBS=2: a second virtual-clock point beside the first, never a third */
	assert_true(jobs_may_start(2, 1, false, false));
	assert_false(jobs_may_start(2, 2, false, false));
	/* a real-clock point waits for the others to end, and none starts beside it */
	assert_false(jobs_may_start(2, 1, false, true));
	assert_false(jobs_may_start(4, 1, true, false));
	assert_true(jobs_may_start(4, 3, false, false));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_jobs_accepts_positive_whole_numbers_only),
		cmocka_unit_test(test_real_clock_points_run_alone),
		cmocka_unit_test(test_which_point_may_start),
	};
	return cmocka_run_group_tests_name("jobs", tests, NULL, NULL);
}
