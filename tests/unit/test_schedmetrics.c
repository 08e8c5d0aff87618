/*
 * What the schedstat monitor makes of the kernel's counters (runners/common/schedmetrics.c), on
 * texts kept from a real run (tests/unit/data/fifo-*: run 002-fifo of
 * paper/results/20261126-030538-nginx-cfs+fifo, 6475.77 req/s over 10.168 s) and on small
 * made-up task lists. Every expected number is worked out by hand in the comment next to it.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "schedmetrics.h"
#include "testutil.h"

#define DATA "tests/unit/data/"

struct texts {
	char *ss0, *ss1, *ps0, *ps1, *ev0, *ev1;
};

static void kept(struct texts *t)
{
	t->ss0 = read_file(DATA "fifo-schedstat-before.txt", NULL);
	t->ss1 = read_file(DATA "fifo-schedstat-after.txt", NULL);
	t->ps0 = read_file(DATA "fifo-proc-stat-before.txt", NULL);
	t->ps1 = read_file(DATA "fifo-proc-stat-after.txt", NULL);
	t->ev0 = read_file(DATA "fifo-scx-events-before.txt", NULL);
	t->ev1 = read_file(DATA "fifo-scx-events-after.txt", NULL);
	assert_true(t->ss0 && t->ss1 && t->ps0 && t->ps1 && t->ev0 && t->ev1);
}

static void kept_free(struct texts *t)
{
	free(t->ss0);
	free(t->ss1);
	free(t->ps0);
	free(t->ps1);
	free(t->ev0);
	free(t->ev1);
}

/* The metric named name in list: its value, and its direction (1, 0, -1 for null); fails if absent. */
static double metric(json_t *list, const char *name, int *hib)
{
	size_t i;
	json_t *m;
	json_array_foreach(list, i, m)
		if (!strcmp(json_string_value(json_object_get(m, "name")), name)) {
			json_t *h = json_object_get(m, "higher_is_better");
			if (hib)
				*hib = json_is_null(h) ? -1 : json_is_true(h);
			return json_number_value(json_object_get(m, "value"));
		}
	fail_msg("no metric %s", name);
	return NAN;
}

static bool has_metric(json_t *list, const char *name)
{
	size_t i;
	json_t *m;
	json_array_foreach(list, i, m)
		if (!strcmp(json_string_value(json_object_get(m, "name")), name))
			return true;
	return false;
}

static void assert_near(double got, double want)
{
	if (fabs(got - want) > 1e-9 * fmax(1.0, fabs(want)))
		fail_msg("got %.12g, want %.12g", got, want);
}

static void test_kept_run_summary(void **state)
{
	struct texts t;
	struct err e = { 0 };
	kept(&t);
	json_t *s = sm_summary(t.ss0, t.ss1, t.ps0, t.ps1, t.ev0, t.ev1, NULL, NULL, &e);
	if (!s)
		fail_msg("%s", e.msg);
	json_t *cpus = json_object_get(s, "cpus"), *c0 = json_array_get(cpus, 0);
	assert_int_equal(json_array_size(cpus), 2);
	/* cpu0: run_delay 22159867472 - 12856938076, timeslices 45008 - 38747, wakeups 25801 - 20500,
	 * local 18997 - 15767; /proc/stat idle+iowait (466+30) - (457+30), all ticks 3353 - 2333 */
	assert_int_equal(json_integer_value(json_object_get(c0, "run_delay_ns")), 9302929396LL);
	assert_int_equal(json_integer_value(json_object_get(c0, "timeslices")), 6261);
	assert_int_equal(json_integer_value(json_object_get(c0, "wakeups")), 5301);
	assert_int_equal(json_integer_value(json_object_get(c0, "wakeups_local")), 3230);
	assert_int_equal(json_integer_value(json_object_get(c0, "idle_ticks")), 9);
	assert_int_equal(json_integer_value(json_object_get(c0, "ticks")), 1020);
	/* the events: keep-last 0 -> 16, refill 2 -> 18, bypass duration unchanged */
	json_t *ev = json_object_get(s, "scx_events");
	assert_int_equal(json_integer_value(json_object_get(ev, "SCX_EV_DISPATCH_KEEP_LAST")), 16);
	assert_int_equal(json_integer_value(json_object_get(ev, "SCX_EV_REFILL_SLICE_DFL")), 16);
	assert_int_equal(json_integer_value(json_object_get(ev, "SCX_EV_BYPASS_DURATION")), 0);
	assert_null(json_object_get(s, "tasks"));	/* no task list given */

	json_t *m = sm_metrics(s, "req/s", 6475.7706030, 10.168457877);
	int hib;
	/* (9302929396 + 7547563412) ns / (6261 + 4775) slices = 1526.866 us, lower is better */
	assert_near(metric(m, "sched.rq_wait_per_slice_us", &hib), 16850492808.0 / 11036 / 1e3);
	assert_int_equal(hib, 0);
	assert_near(metric(m, "sched.cpu0.rq_wait_per_slice_us", NULL), 9302929396.0 / 6261 / 1e3);
	assert_near(metric(m, "sched.cpu1.rq_wait_per_slice_us", NULL), 7547563412.0 / 4775 / 1e3);
	/* wakeups 5301 + 5457 = 10758, local 3230 + 2529 = 5759: remote 4999 */
	assert_near(metric(m, "sched.wakeups_remote_fraction", &hib), 4999.0 / 10758);
	assert_int_equal(hib, -1);
	double reqs = 6475.7706030 * 10.168457877;
	assert_near(metric(m, "sched.wakeups_local_per_req", NULL), 5759 / reqs);
	assert_near(metric(m, "sched.wakeups_remote_per_req", NULL), 4999 / reqs);
	assert_near(metric(m, "sched.yields_per_req", NULL), 0);
	/* idle (9 + 7) of (1020 + 1020) ticks; cpu1: (328+21) - (321+21) = 7, 3301 - 2281 = 1020 */
	assert_near(metric(m, "sched.idle_fraction", NULL), 16.0 / 2040);
	assert_near(metric(m, "sched.cpu1.idle_fraction", NULL), 7.0 / 1020);
	assert_near(metric(m, "sched.scx_events.dispatch_keep_last", &hib), 16);
	assert_int_equal(hib, 0);
	assert_near(metric(m, "sched.scx_events.bypass_duration_ns", NULL), 0);
	assert_false(has_metric(m, "sched.tasks_sampled"));
	json_decref(m);

	/* without a rate headline, counts are per second of the measurement */
	m = sm_metrics(s, "us", 55.0, 10.0);
	assert_near(metric(m, "sched.wakeups_local_per_s", NULL), 575.9);
	assert_false(has_metric(m, "sched.wakeups_local_per_req"));
	json_decref(m);
	json_decref(s);

	/* cfs: no sched_ext scheduler, no events file, no sched.scx_events.* */
	s = sm_summary(t.ss0, t.ss1, t.ps0, t.ps1, NULL, NULL, NULL, NULL, &e);
	assert_non_null(s);
	assert_null(json_object_get(s, "scx_events"));
	m = sm_metrics(s, "req/s", 100, 10);
	assert_false(has_metric(m, "sched.scx_events.dispatch_keep_last"));
	json_decref(m);
	json_decref(s);
	kept_free(&t);
}

static void test_bad_texts_are_named(void **state)
{
	struct texts t;
	struct err e = { 0 };
	kept(&t);
	assert_null(sm_summary("version 14\ncpu0 1 2 3 4 5 6 7 8 9\n", t.ss1, t.ps0, t.ps1, NULL, NULL, NULL, NULL, &e));
	assert_non_null(strstr(e.msg, "version 14"));
	assert_null(sm_summary("version 17\ncpu0 1 2 3\n", t.ss1, t.ps0, t.ps1, NULL, NULL, NULL, NULL, &e));
	assert_non_null(strstr(e.msg, "9 counters"));
	assert_null(sm_summary(NULL, t.ss1, t.ps0, t.ps1, NULL, NULL, NULL, NULL, &e));
	assert_non_null(strstr(e.msg, "no version line"));
	/* after and before swapped: counters go backwards */
	assert_null(sm_summary(t.ss1, t.ss0, t.ps0, t.ps1, NULL, NULL, NULL, NULL, &e));
	assert_non_null(strstr(e.msg, "went backwards"));
	/* one CPU fewer after */
	assert_null(sm_summary(t.ss0, "version 17\ncpu0 0 0 1 1 1 1 1 1 1\n", t.ps0, t.ps1, NULL, NULL, NULL, NULL, &e));
	assert_non_null(strstr(e.msg, "2 CPUs before and 1 after"));
	assert_null(sm_summary(t.ss0, t.ss1, t.ps0, t.ps1, t.ev0, "SCX_EV_X\n", NULL, NULL, &e));
	assert_non_null(strstr(e.msg, "NAME count"));
	assert_null(sm_summary(t.ss0, t.ss1, t.ps0, t.ps1, NULL, NULL, "", "12 5 1 2\n", &e));
	assert_non_null(strstr(e.msg, "task list after"));
	kept_free(&t);
}

static void test_tasks_matched_by_tid_and_start(void **state)
{
	struct texts t;
	struct err e = { 0 };
	kept(&t);
	const char *before = "100 50 1000000 200000 10 nginx\n"
			     "101 50 0 0 0 nginx\n"
			     "200 60 5000 5000 5 old-task\n";
	const char *after = "100 50 3000000 1200000 20 nginx\n"	/* +10 slices, +1000 us waited: 100 us */
			    "101 50 0 0 0 nginx\n"			/* never ran: not counted */
			    "200 90 4000 2000000 4 new-task\n"		/* tid reused (other start): from zero, 500 us */
			    "300 95 9000 30000 10 born\n";		/* born during the measurement: 3 us */
	json_t *s = sm_summary(t.ss0, t.ss1, t.ps0, t.ps1, NULL, NULL, before, after, &e);
	if (!s)
		fail_msg("%s", e.msg);
	json_t *tasks = json_object_get(s, "tasks");
	assert_int_equal(json_array_size(tasks), 3);
	json_t *first = json_array_get(tasks, 0);
	assert_string_equal(json_string_value(json_object_get(first, "comm")), "nginx");
	assert_int_equal(json_integer_value(json_object_get(first, "run_delay_ns")), 1000000);
	assert_int_equal(json_integer_value(json_object_get(first, "timeslices")), 10);
	json_t *m = sm_metrics(s, "req/s", 100, 10);
	int hib;
	/* per task: 100, 500 and 3 us per slice; p50 100, p90 100 + 0.8 x 400 = 420, max 500 */
	assert_near(metric(m, "sched.tasks_sampled", NULL), 3);
	assert_near(metric(m, "sched.task_rq_wait_per_slice_p50_us", &hib), 100);
	assert_int_equal(hib, 0);
	assert_near(metric(m, "sched.task_rq_wait_per_slice_p90_us", NULL), 420);
	assert_near(metric(m, "sched.task_rq_wait_per_slice_max_us", NULL), 500);
	json_decref(m);
	json_decref(s);
	/* a task whose counters went backwards (the same tid and start): refused */
	assert_null(sm_summary(t.ss0, t.ss1, t.ps0, t.ps1, NULL, NULL, "7 1 10 10 2 x\n", "7 1 5 10 2 x\n", &e));
	assert_non_null(strstr(e.msg, "task 7 (x)"));
	kept_free(&t);
}

static void test_task_stat_and_schedstat(void **state)
{
	char comm[32];
	unsigned long flags;
	unsigned long long start, v[3];
	/* a comm with a space and a ')' in it; flags (field 9) 4194560, starttime (field 22) 1234 */
	const char *stat = "42 (we ird) x) S 1 42 42 0 -1 4194560 100 0 0 0 5 6 0 0 20 0 3 0 1234 1000 100 "
			   "18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n";
	assert_int_equal(sm_parse_task_stat(stat, comm, sizeof comm, &flags, &start), 0);
	assert_string_equal(comm, "we ird) x");
	assert_int_equal(flags, 4194560);
	assert_int_equal(start, 1234);
	assert_false(flags & SM_PF_KTHREAD);
	/* a kernel thread: flags 0x208040 has PF_KTHREAD */
	const char *kt = "2 (kthreadd) S 0 0 0 0 -1 2129984 0 0 0 0 0 0 0 0 20 0 1 0 3 0 0 "
			 "18446744073709551615 0 0 0 0 0 0 0 2147483647 0 0 0 0 17 0 0 0 0 0 0\n";
	assert_int_equal(sm_parse_task_stat(kt, comm, sizeof comm, &flags, &start), 0);
	assert_true(flags & SM_PF_KTHREAD);
	assert_int_equal(sm_parse_task_stat("42 (cut short) S 1 2 3\n", comm, sizeof comm, &flags, &start), -1);
	assert_int_equal(sm_parse_task_stat("no parens", comm, sizeof comm, &flags, &start), -1);
	assert_int_equal(sm_parse_task_schedstat("3000000 1200000 20\n", v), 0);
	assert_true(v[0] == 3000000 && v[1] == 1200000 && v[2] == 20);
	assert_int_equal(sm_parse_task_schedstat("1 2\n", v), -1);
	assert_int_equal(sm_parse_task_schedstat(NULL, v), -1);
}

static void test_fairness_and_percentiles(void **state)
{
	double even[] = { 3, 3, 3 }, two_to_one[] = { 2, 1 }, starved[] = { 1, 0 };
	assert_near(sm_jain(even, 3), 1);
	assert_near(sm_jain(two_to_one, 2), 9.0 / 10);	/* (2+1)^2 / (2 x (4+1)) */
	assert_near(sm_jain(starved, 2), 0.5);		/* the floor 1/n: one instance got everything */
	assert_true(sm_jain(starved, 0) < 0);
	assert_near(sm_max_min(two_to_one, 2), 2);
	assert_true(sm_max_min(starved, 2) < 0);	/* an instance with nothing: no ratio */
	double x[] = { 4, 1, 3, 2 };
	assert_near(sm_percentile(x, 4, 50), 2.5);
	assert_near(sm_percentile(x, 4, 90), 3.7);	/* rank 2.7: 3 + 0.7 x (4 - 3) */
	assert_near(sm_percentile(x, 4, 100), 4);
	assert_near(sm_percentile(x, 1, 90), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kept_run_summary),
		cmocka_unit_test(test_bad_texts_are_named),
		cmocka_unit_test(test_tasks_matched_by_tid_and_start),
		cmocka_unit_test(test_task_stat_and_schedstat),
		cmocka_unit_test(test_fairness_and_percentiles),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
