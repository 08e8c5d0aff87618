/* Time-left estimates in wall seconds at the guest's observed pace (runs) and from the wall
 * time per planned guest second of finished points (sweeps), on fixed numbers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "progress_estimate.h"

/* 3 runs of 20 guest seconds, none finished, 8 guest seconds of overhead guessed per run */
static struct runs_progress fresh(double rate, bool measured)
{
	return (struct runs_progress){ .nruns = 3, .run_guest_s = 20, .rate = rate, .measured = measured,
				       .overhead_guess_s = 8 };
}

static void test_half_speed_doubles_the_estimate(void **state)
{
	struct runs_progress p = fresh(1, true);
	struct time_left full = runs_left_wall(&p);
	assert_int_equal(full.s, 3 * (20 + 8));
	p.rate = 0.5;
	struct time_left half = runs_left_wall(&p);
	assert_int_equal(half.s, 2 * full.s);
	assert_true(half.measured);
	assert_true(half.rate == 0.5);
	/* a quarter into the first run's guest length, at half speed: (3 x 20 - 5) / 0.5 + 3 x 16 */
	p.in_run_guest_s = 5;
	assert_int_equal(runs_left_wall(&p).s, 110 + 48);
	/* a guest faster than wall time (the real clock on an idle host can be) */
	p.in_run_guest_s = 0;
	p.rate = 2;
	assert_int_equal(runs_left_wall(&p).s, 42);
}

static void test_no_heartbeat_yet_assumes_wall_speed(void **state)
{
	/* whatever rate is passed, an unmeasured one counts as 1 and says so */
	struct runs_progress p = fresh(0.3, false);
	struct time_left t = runs_left_wall(&p);
	assert_int_equal(t.s, 84);
	assert_false(t.measured);
	assert_true(t.rate == 1);
	/* a measured rate of 0 (no progress) is no rate either */
	p = fresh(0, true);
	t = runs_left_wall(&p);
	assert_int_equal(t.s, 84);
	assert_false(t.measured);
}

static void test_overhead_learnt_from_finished_runs(void **state)
{
	/* 4 runs of 10 guest seconds at half speed: each finished one took 26 wall seconds, 20 of
	 * them its length at that pace, so 6 s of overhead per run; the guess no longer counts */
	struct runs_progress p = { .nruns = 4, .done = 2, .run_guest_s = 10, .done_wall_s = 52, .rate = 0.5,
				   .measured = true, .overhead_guess_s = 100 };
	assert_int_equal(runs_left_wall(&p).s, 2 * 10 / 0.5 + 2 * 6);
	p.in_run_guest_s = 5;
	assert_int_equal(runs_left_wall(&p).s, (20 - 5) / 0.5 + 2 * 6);
	/* the same wall times at full speed: 16 s of overhead per run */
	p.in_run_guest_s = 0;
	p.rate = 1;
	assert_int_equal(runs_left_wall(&p).s, 2 * 10 + 2 * 16);
	/* runs that took less wall time than their length at the pace: no negative overhead */
	p.done_wall_s = 10;
	assert_int_equal(runs_left_wall(&p).s, 20);
}

static void test_never_negative(void **state)
{
	struct runs_progress p = { .nruns = 4, .done = 2, .run_guest_s = 10, .done_wall_s = 20, .rate = 1,
				   .measured = true, .in_run_guest_s = 35 };
	assert_int_equal(runs_left_wall(&p).s, 0);
	p.done = 4;
	p.in_run_guest_s = 0;
	assert_int_equal(runs_left_wall(&p).s, 0);
	p.done = 5;	/* more runs reported than planned (the stopping rule's cap changed) */
	assert_int_equal(runs_left_wall(&p).s, 0);
}

static void test_line_says_the_rate_when_far_from_one(void **state)
{
	char buf[128];
	struct time_left t = { .s = 100, .rate = 0.4, .measured = true };
	time_left_text(&t, buf, sizeof(buf));
	assert_string_equal(buf, "about 100 s left in all, guest at 0.40x wall speed");
	t.rate = 1.5;
	time_left_text(&t, buf, sizeof(buf));
	assert_string_equal(buf, "about 100 s left in all, guest at 1.50x wall speed");
	t.rate = 0.9;
	time_left_text(&t, buf, sizeof(buf));
	assert_string_equal(buf, "about 100 s left in all");
	t.rate = 1 / RATE_NOTE_FACTOR;	/* the limit itself is near enough */
	time_left_text(&t, buf, sizeof(buf));
	assert_string_equal(buf, "about 100 s left in all");
	t.rate = 1;
	t.measured = false;
	time_left_text(&t, buf, sizeof(buf));
	assert_string_equal(buf, "about 100 s left in all, estimate");
	/* a short buffer is cut, not overrun */
	char small[8];
	time_left_text(&t, small, sizeof(small));
	assert_string_equal(small, "about 1");
}

static void test_point_planned_guest_seconds(void **state)
{
	assert_true(point_planned_guest_s("cfs cgfifo", "3", "20") == 120);
	assert_true(point_planned_guest_s("cfs fifo qmap", "1", "10") == 30);
	/* ';'-separated when there is a ';' (external policies have arguments) */
	assert_true(point_planned_guest_s("external:/bin/x -a 1; cfs;", "2", "5") == 20);
	/* not known from the sweep: missing, not a whole number, not positive */
	assert_true(point_planned_guest_s("cfs", "3", NULL) == 0);
	assert_true(point_planned_guest_s(NULL, "3", "20") == 0);
	assert_true(point_planned_guest_s("cfs", "2x", "20") == 0);
	assert_true(point_planned_guest_s("cfs", "3", "0") == 0);
}

static void test_sweep_weights_points_by_planned_seconds(void **state)
{
	/* nothing tried yet: no estimate */
	assert_int_equal(sweep_left_wall(0, 0, 240), -1);
	/* one point of 60 planned guest seconds took 300 wall seconds (5 per planned second);
	 * left: one such point and one four times as long, 5 x 300 s, not 2 x 300 s */
	assert_int_equal(sweep_left_wall(300, 60, 60 + 240), 1500);
	/* the ratio follows the points tried: two points (60 + 240) in 600 s is 2 per second */
	assert_int_equal(sweep_left_wall(600, 300, 60), 120);
	assert_int_equal(sweep_left_wall(600, 300, 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_half_speed_doubles_the_estimate),
		cmocka_unit_test(test_no_heartbeat_yet_assumes_wall_speed),
		cmocka_unit_test(test_overhead_learnt_from_finished_runs),
		cmocka_unit_test(test_never_negative),
		cmocka_unit_test(test_line_says_the_rate_when_far_from_one),
		cmocka_unit_test(test_point_planned_guest_seconds),
		cmocka_unit_test(test_sweep_weights_points_by_planned_seconds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
