/*
 * The agent's monitor table (runners/guest/monitors.c) against what the host accepts: the
 * optional monitors are exactly the words of EXTRA_MONITORS (in any order), so that a monitor
 * added to one and not the other fails here. Every row is complete and names what it writes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "experiment.h"
#include "guest.h"

static void test_optional_monitors_are_extra_monitors(void **state)
{
	struct strv extra = { 0 }, optional = { 0 };
	strv_split_push(&extra, EXTRA_MONITORS);
	for (size_t i = 0; i < monitor_count; i++)
		if (monitor_table[i]->optional)
			strv_push(&optional, monitor_table[i]->name);
	char *want = strv_join(&extra, " "), *got = strv_join(&optional, " ");
	bool same = extra.n == optional.n;
	for (size_t i = 0; i < optional.n; i++)
		same &= has_word(EXTRA_MONITORS, optional.v[i]);
	if (!same)
		fail_msg("optional monitors in runners/guest/monitors.c are '%s', EXTRA_MONITORS is '%s'", got, want);
	free(want);
	free(got);
	strv_free(&extra);
	strv_free(&optional);
}

static void test_rows_complete_and_distinct(void **state)
{
	assert_true(monitor_count >= 4);
	assert_true(monitor_count <= MAX_MONITORS);
	for (size_t i = 0; i < monitor_count; i++) {
		const struct monitor *m = monitor_table[i];
		assert_non_null(m->name);
		assert_non_null(m->start);
		assert_non_null(m->stop);
		if (!m->raw || !*m->raw)
			fail_msg("monitor %s does not say what it writes into raw/", m->name);
		/* a window's counts need both ends: a start sample with no end one would be a delta of nothing */
		if (!m->window_start != !m->window_end)
			fail_msg("monitor %s samples only one end of the measured window", m->name);
		/* the counting monitors sample at the window's ends, not at the clients' spawn and exit */
		if (has_word("perf-stat snapshots schedstat bpf-stats", m->name) && !m->window_start)
			fail_msg("monitor %s counts but takes no sample at the measured window's ends", m->name);
		for (size_t j = 0; j < i; j++) {
			assert_string_not_equal(m->name, monitor_table[j]->name);
			if (m->summary && monitor_table[j]->summary)
				assert_string_not_equal(m->summary, monitor_table[j]->summary);
		}
	}
}

/* The plan turns MONITORS= into [plan] monitors, which the agent reads with monitor_on(). */
static void test_monitor_on_reads_the_plan(void **state)
{
	struct agent a = { 0 };
	cfg_set(&a.plan, "plan", "monitors", "bpf-stats");
	assert_true(monitor_on(&a, "bpf-stats"));
	assert_false(monitor_on(&a, "sched-trace"));
	assert_false(monitor_on(&a, "bpf"));
	cfg_free(&a.plan);
}

/* A plan naming a monitor this agent lacks is refused, with the ones it has. */
static void test_plan_monitors_checked(void **state)
{
	struct err e = { 0 };
	assert_int_equal(monitors_check(NULL, &e), 0);
	assert_int_equal(monitors_check("", &e), 0);
	assert_int_equal(monitors_check(EXTRA_MONITORS, &e), 0);
	assert_int_equal(monitors_check("bpf-stats perf-stat", &e), -1);	/* always on: not a choice */
	assert_non_null(strstr(e.msg, "unknown monitor 'perf-stat'"));
	assert_int_equal(monitors_check("ftrace", &e), -1);
	assert_non_null(strstr(e.msg, "'ftrace'"));
	assert_non_null(strstr(e.msg, "bpf-stats"));
	assert_non_null(strstr(e.msg, "sched-trace"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_optional_monitors_are_extra_monitors),
		cmocka_unit_test(test_rows_complete_and_distinct),
		cmocka_unit_test(test_monitor_on_reads_the_plan),
		cmocka_unit_test(test_plan_monitors_checked),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
