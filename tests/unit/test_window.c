/*
 * The measured window (runners/common/window.c): the marks a client writes to $SCXLAB_MARK,
 * their order, the intersection of several instances' windows, and the agreement check against
 * the client's own duration. The apache numbers are those of
 * paper/results/20261126-000236-apache-cfs+fifo+cgfifo/runs/001-cfs (wrk: 30.06 s; the old
 * lifetime window: 34.47 s), kept until the claims' results were remade with marked windows
 * (2026-12-03; it is in git history).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "testutil.h"
#include "window.h"

static void test_mark_parse(void **state)
{
	assert_int_equal(mark_parse("start"), MARK_START);
	assert_int_equal(mark_parse("end"), MARK_END);
	assert_int_equal(mark_parse("end \r"), MARK_END);
	assert_int_equal(mark_parse(""), MARK_NONE);
	assert_int_equal(mark_parse(" start"), MARK_BAD);
	assert_int_equal(mark_parse("started"), MARK_BAD);
	assert_int_equal(mark_parse("en"), MARK_BAD);
	assert_int_equal(mark_parse("START"), MARK_BAD);
}

/* Lines may arrive split over reads, or several in one; an overlong line is one bad mark. */
static void test_mark_feed(void **state)
{
	struct markbuf b = { 0 };
	enum mark out[4];
	assert_int_equal(mark_feed(&b, "sta", 3, out, 4), 0);
	assert_int_equal(mark_feed(&b, "rt\n\nend\nx", 9, out, 4), 2);
	assert_int_equal(out[0], MARK_START);
	assert_int_equal(out[1], MARK_END);
	assert_int_equal(mark_feed(&b, "\n", 1, out, 4), 1);	/* the "x" left over */
	assert_int_equal(out[0], MARK_BAD);
	char big[200];
	memset(big, 'a', sizeof big);
	assert_int_equal(mark_feed(&b, big, sizeof big, out, 4), 0);
	assert_int_equal(mark_feed(&b, "start\n", 6, out, 4), 1);	/* still the long line */
	assert_int_equal(out[0], MARK_BAD);
	assert_int_equal(mark_feed(&b, "start\n", 6, out, 4), 1);
	assert_int_equal(out[0], MARK_START);
	/* more lines than room: the last slot says some were lost */
	assert_int_equal(mark_feed(&b, "start\nend\nend\n", 14, out, 2), 2);
	assert_int_equal(out[0], MARK_START);
	assert_int_equal(out[1], MARK_BAD);
}

static void test_window_order(void **state)
{
	struct window w = WINDOW_UNMARKED;
	struct err e = { 0 };
	assert_false(window_complete(&w));
	assert_true(window_length(&w) < 0);
	assert_int_equal(window_mark(&w, MARK_END, 1.0, &e), -1);
	assert_non_null(strstr(e.msg, "before its start"));
	assert_int_equal(window_mark(&w, MARK_START, 2.5, &e), 0);
	assert_int_equal(window_mark(&w, MARK_START, 3.0, &e), -1);
	assert_non_null(strstr(e.msg, "start twice"));
	assert_int_equal(window_mark(&w, MARK_BAD, 3.0, &e), -1);
	assert_non_null(strstr(e.msg, "neither"));
	assert_false(window_complete(&w));
	assert_int_equal(window_mark(&w, MARK_END, 32.75, &e), 0);
	assert_true(window_complete(&w));
	assert_float_equal(window_length(&w), 30.25, 1e-9);
	assert_int_equal(window_mark(&w, MARK_END, 40, &e), -1);
	assert_non_null(strstr(e.msg, "end twice"));
	assert_int_equal(window_mark(&w, MARK_NONE, 40, &e), 0);
}

static void test_window_intersect(void **state)
{
	struct window w[3] = { { 1.0, 31.0 }, { 2.5, 33.0 }, { 0.5, 30.0 } }, x;
	assert_int_equal(window_intersect(w, 3, &x), 0);
	assert_float_equal(x.start, 2.5, 1e-9);	/* the last start */
	assert_float_equal(x.end, 30.0, 1e-9);	/* the first end */
	assert_int_equal(window_intersect(w, 1, &x), 0);
	assert_float_equal(x.start, 1.0, 1e-9);
	assert_float_equal(x.end, 31.0, 1e-9);
	/* disjoint: one ended before the other began */
	struct window d[2] = { { 0, 5 }, { 6, 10 } };
	assert_int_equal(window_intersect(d, 2, &x), -1);
	/* an instance that never marked its end */
	struct window u[2] = { { 0, 5 }, { 1, -1 } };
	assert_int_equal(window_intersect(u, 2, &x), -1);
	assert_int_equal(window_intersect(u, 0, &x), -1);
}

static void test_tolerance(void **state)
{
	assert_float_equal(window_tolerance(30), 1.5, 1e-9);	/* 5 % */
	assert_float_equal(window_tolerance(3), 0.5, 1e-9);	/* the floor */
}

/* One apache instance: the marked window agrees with wrk's 30.06 s; the old lifetime (34.47 s) does not. */
static void test_window_json_agreement(void **state)
{
	struct window marked = { 1.9, 32.0 }, life = { 0, 34.47 };
	double wrk = 30.06;
	json_t *j = window_json("marks", &marked, &marked, &wrk, 1);
	assert_string_equal(json_string_value(json_object_get(j, "source")), "marks");
	assert_float_equal(json_number_value(json_object_get(j, "length_s")), 30.1, 1e-9);
	assert_true(json_is_true(json_object_get(j, "agrees")));
	assert_int_equal(json_array_size(json_object_get(j, "disagreements")), 0);
	json_t *i1 = json_array_get(json_object_get(j, "instances"), 0);
	assert_int_equal(json_integer_value(json_object_get(i1, "instance")), 1);
	assert_float_equal(json_number_value(json_object_get(i1, "client_duration_s")), 30.06, 1e-9);
	assert_float_equal(json_number_value(json_object_get(j, "tolerance_rel")), WINDOW_TOL_REL, 1e-12);
	json_decref(j);

	j = window_json("lifetime", &life, &life, &wrk, 1);
	assert_true(json_is_false(json_object_get(j, "agrees")));
	const char *why = json_string_value(json_array_get(json_object_get(j, "disagreements"), 0));
	assert_non_null(strstr(why, "34.470 s"));
	assert_non_null(strstr(why, "30.060 s"));
	json_decref(j);

	/* no client duration (a script's own timing): nothing to disagree with */
	double none = -1;
	j = window_json("marks", &marked, &marked, &none, 1);
	assert_true(json_is_true(json_object_get(j, "agrees")));
	assert_null(json_object_get(json_array_get(json_object_get(j, "instances"), 0), "client_duration_s"));
	json_decref(j);
}

/* Two instances: the run's window is their intersection; one that measured 3 s longer is flagged. */
static void test_window_json_instances(void **state)
{
	struct window in[2] = { { 1.0, 31.0 }, { 1.1, 31.05 } }, run;
	double cl[2] = { 30.0, 29.95 };
	assert_int_equal(window_intersect(in, 2, &run), 0);
	json_t *j = window_json("marks", &run, in, cl, 2);
	assert_true(json_is_true(json_object_get(j, "agrees")));
	assert_int_equal(json_array_size(json_object_get(j, "instances")), 2);
	json_decref(j);

	in[1] = (struct window){ 4.0, 37.0 };
	cl[1] = 33.0;
	assert_int_equal(window_intersect(in, 2, &run), 0);
	j = window_json("marks", &run, in, cl, 2);
	assert_true(json_is_false(json_object_get(j, "agrees")));
	json_t *why = json_object_get(j, "disagreements");
	assert_int_equal(json_array_size(why), 2);	/* both differ from the 27 s intersection */
	assert_non_null(strstr(json_string_value(json_array_get(why, 0)), "instance 1"));
	assert_non_null(strstr(json_string_value(json_array_get(why, 1)), "instance 2"));
	json_decref(j);
}

static void test_procs_running(void **state)
{
	assert_int_equal(procstat_running("cpu 1 2 3\nctxt 10\nprocs_running 3\nprocs_blocked 0\n"), 3);
	assert_int_equal(procstat_running("procs_running 1"), 1);
	assert_int_equal(procstat_running("cpu 1\nprocs_blocked 0\n"), -1);
	assert_int_equal(procstat_running("procs_running x\n"), -1);
	assert_int_equal(procstat_running(NULL), -1);
	/* the kept run's /proc/stat (taken by the agent itself: one task running, the reader) */
	char *t = read_file("tests/unit/data/fifo-proc-stat-before.txt", NULL);
	assert_non_null(t);
	assert_true(procstat_running(t) >= 1);
	free(t);
}

/* Quiet only after QUIET_SAMPLES quiet samples in a row; a busy one starts the count again. */
static void test_quiet(void **state)
{
	struct quiet q = { 0 };
	for (int i = 1; i < QUIET_SAMPLES; i++)
		assert_false(quiet_feed(&q, 1));
	assert_false(quiet_feed(&q, 4));	/* a queued request still running */
	for (int i = 1; i < QUIET_SAMPLES; i++)
		assert_false(quiet_feed(&q, i % 2));
	assert_true(quiet_feed(&q, 0));
	assert_true(quiet_feed(&q, 1));
	assert_false(quiet_feed(&q, -1));	/* unreadable is not quiet */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mark_parse),
		cmocka_unit_test(test_mark_feed),
		cmocka_unit_test(test_window_order),
		cmocka_unit_test(test_window_intersect),
		cmocka_unit_test(test_tolerance),
		cmocka_unit_test(test_window_json_agreement),
		cmocka_unit_test(test_window_json_instances),
		cmocka_unit_test(test_procs_running),
		cmocka_unit_test(test_quiet),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
