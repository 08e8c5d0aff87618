/* A sweep's record (runners/common/sweeprec.c): attempts and what supersedes what, which points a
 * SLURM array must run, which point an array index names, and the lock under which array tasks
 * finishing at once each add their attempt without losing another's. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <sys/wait.h>

#include "sweeprec.h"
#include "testutil.h"

static json_t *record_of(const char *labels[], size_t n)
{
	json_t *state = json_pack("{s:s, s:[], s:{}}", "sweep", "smoke", "point_labels", "points");
	for (size_t i = 0; i < n; i++)
		json_array_append_new(json_object_get(state, "point_labels"), json_string(labels[i]));
	return state;
}

static void test_attempts_supersede_earlier_ones(void **st)
{
	json_t *points = json_object();
	assert_false(sweeprec_done(points, "depth=1"));
	sweeprec_record(points, "depth=1", "/r/sweeps/s-1/20260101-nginx-INVALID", 1, false, "T1");
	assert_false(sweeprec_done(points, "depth=1"));
	char *why = sweeprec_not_done(points, "depth=1");
	assert_string_equal(why, "not valid, result 20260101-nginx-INVALID, runner exit code 1");
	free(why);
	/* a node died: the runner left nothing and the task was killed */
	sweeprec_record(points, "depth=1", NULL, 143, true, "T2");
	why = sweeprec_not_done(points, "depth=1");
	assert_string_equal(why, "interrupted, no result, runner exit code 143, 2 attempts");
	free(why);
	sweeprec_record(points, "depth=1", "/r/sweeps/s-1/20260102-nginx", 0, false, "T3");
	json_t *pt = json_object_get(points, "depth=1"), *att = json_object_get(pt, "attempts");
	assert_true(sweeprec_done(points, "depth=1"));
	assert_string_equal(json_string_value(json_object_get(pt, "result")), "20260102-nginx");
	assert_string_equal(json_string_value(json_object_get(pt, "finished")), "T3");
	assert_int_equal(json_array_size(att), 3);
	for (size_t i = 0; i < 2; i++)	/* each by the one after it */
		assert_int_equal(json_integer_value(json_object_get(json_array_get(att, i), "superseded_by")), i + 2);
	assert_true(json_is_null(json_object_get(json_array_get(att, 2), "superseded_by")));
	assert_true(json_is_true(json_object_get(json_array_get(att, 1), "interrupted")));
	/* a valid exit code without a result folder is no valid point */
	sweeprec_record(points, "depth=2", NULL, 0, false, "T4");
	assert_false(sweeprec_done(points, "depth=2"));
	/* how it ran goes on the latest attempt only; unknown (0: a SLURM task) writes nothing */
	sweeprec_note_jobs(points, "depth=1", 2, 2);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(att, 2), "guests_at_once")), 2);
	assert_null(json_object_get(json_array_get(att, 1), "jobs"));
	sweeprec_note_jobs(points, "depth=2", 0, 0);
	json_t *att2 = json_object_get(json_object_get(points, "depth=2"), "attempts");
	assert_null(json_object_get(json_array_get(att2, 0), "jobs"));
	sweeprec_note_jobs(points, "never", 2, 1);	/* a point never tried: nothing to note */
	assert_null(json_object_get(points, "never"));
	why = sweeprec_not_done(points, "never");
	assert_string_equal(why, "not run yet");
	free(why);
	json_decref(points);
}

static void test_entry_from_before_attempts_becomes_attempt_one(void **st)
{
	json_t *points = json_pack("{s:{s:s, s:b, s:s}}", "depth=1", "result", "/old/path/20250101-nginx-INVALID",
				   "valid", 0, "finished", "T0");
	sweeprec_record(points, "depth=1", "20260101-nginx", 0, false, "T1");
	json_t *att = json_object_get(json_object_get(points, "depth=1"), "attempts");
	assert_int_equal(json_array_size(att), 2);
	json_t *first = json_array_get(att, 0);
	assert_string_equal(json_string_value(json_object_get(first, "result")), "/old/path/20250101-nginx-INVALID");
	assert_string_equal(json_string_value(json_object_get(first, "finished")), "T0");
	assert_int_equal(json_integer_value(json_object_get(first, "superseded_by")), 2);
	assert_true(sweeprec_done(points, "depth=1"));
	json_decref(points);
}

static void test_array_lists_the_points_not_done(void **st)
{
	const char *labels[] = { "a=0", "a=1", "a=2", "a=3", "a=4", "a=5" };
	json_t *state = record_of(labels, 6);
	struct err e = { 0 };
	char *array = sweeprec_pending_array(state, &e);
	assert_string_equal(array, "0-5");
	free(array);
	json_t *points = json_object_get(state, "points");
	sweeprec_record(points, "a=1", "r1", 0, false, "T");
	sweeprec_record(points, "a=5", "r5", 0, false, "T");
	sweeprec_record(points, "a=3", "r3-INVALID", 1, false, "T");	/* tried, not valid: runs again */
	array = sweeprec_pending_array(state, &e);
	assert_string_equal(array, "0,2-4");
	free(array);
	sweeprec_record(points, "a=0", "r0", 0, false, "T");
	sweeprec_record(points, "a=3", "r3", 0, false, "T");
	array = sweeprec_pending_array(state, &e);
	assert_string_equal(array, "2,4");
	free(array);
	sweeprec_record(points, "a=2", "r2", 0, false, "T");
	sweeprec_record(points, "a=4", "r4", 0, false, "T");
	array = sweeprec_pending_array(state, &e);
	assert_string_equal(array, "");
	free(array);
	json_object_del(state, "point_labels");
	assert_null(sweeprec_pending_array(state, &e));
	assert_non_null(strstr(e.msg, "point_labels"));
	json_decref(state);
}

static void test_array_index_names_its_point(void **st)
{
	const char *labels[] = { "depth=1 ratio=2", "depth=2 ratio=2" };
	json_t *state = record_of(labels, 2);
	json_object_set_new(state, "point_args",
			    json_pack("[[s,s,s,s,s], [s,s,s,s,s]]", "run", "--policies", "cfs fifo", "--cgroups",
				      "pair:1:2", "run", "--policies", "cfs fifo", "--cgroups", "pair:2:2"));
	const char *label = NULL;
	struct strv argv = { 0 };
	struct err e = { 0 };
	assert_int_equal(sweeprec_point_at(state, "1", &label, &argv, &e), 0);
	assert_string_equal(label, "depth=2 ratio=2");
	assert_int_equal(argv.n, 5);
	assert_string_equal(argv.v[0], "run");
	assert_string_equal(argv.v[2], "cfs fifo");
	assert_string_equal(argv.v[4], "pair:2:2");
	strv_free(&argv);
	const char *bad[] = { "2", "-1", "1x", "", " 1", "+1", "99999999999999999999999" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&argv, 0, sizeof(argv));
		assert_int_equal(sweeprec_point_at(state, bad[i], &label, &argv, &e), -1);
		assert_int_equal(argv.n, 0);
	}
	assert_int_equal(sweeprec_point_at(state, NULL, &label, &argv, &e), -1);
	/* only a runner's own `run` is ever started from the record */
	json_string_set(json_array_get(json_array_get(json_object_get(state, "point_args"), 0), 0), "sweep");
	assert_int_equal(sweeprec_point_at(state, "0", &label, &argv, &e), -1);
	assert_non_null(strstr(e.msg, "malformed"));
	/* a record written before point_args: submit again */
	json_object_del(state, "point_args");
	assert_int_equal(sweeprec_point_at(state, "0", &label, &argv, &e), -1);
	assert_non_null(strstr(e.msg, "point_args"));
	json_decref(state);
}

/* Array tasks finishing at once: each of 6 processes adds 15 attempts of its own point, reading
 * and replacing the record under the lock every time; none may be lost. */
static void test_writers_at_once_lose_no_attempt(void **st)
{
	enum { WRITERS = 6, ATTEMPTS = 15 };
	char *dir = scratch_dir(), *spath = xasprintf("%s/sweep.json", dir);
	const char *labels[WRITERS] = { "w=0", "w=1", "w=2", "w=3", "w=4", "w=5" };
	json_t *state = record_of(labels, WRITERS);
	sweeprec_save(spath, state);
	json_decref(state);
	pid_t pids[WRITERS];
	for (int w = 0; w < WRITERS; w++) {
		if ((pids[w] = fork()) == 0) {
			json_t *mine = NULL;
			for (int k = 0; k < ATTEMPTS; k++)
				mine = sweeprec_record_locked(dir, spath, mine, labels[w], k + 1 == ATTEMPTS ? "done" : "bad",
							      k + 1 == ATTEMPTS ? 0 : 1, false, WRITERS, w % 2 + 1);
			json_decref(mine);
			_exit(0);
		}
	}
	for (int w = 0; w < WRITERS; w++) {
		int status;
		assert_int_equal(waitpid(pids[w], &status, 0), pids[w]);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	state = sweeprec_load(spath);
	json_t *points = json_object_get(state, "points");
	for (int w = 0; w < WRITERS; w++) {
		json_t *att = json_object_get(json_object_get(points, labels[w]), "attempts");
		assert_int_equal(json_array_size(att), ATTEMPTS);
		/* each attempt says how it ran: JOBS and the guests running at once beside it */
		assert_int_equal(json_integer_value(json_object_get(json_array_get(att, ATTEMPTS - 1), "jobs")), WRITERS);
		assert_int_equal(json_integer_value(json_object_get(json_array_get(att, 0), "guests_at_once")), w % 2 + 1);
		assert_true(sweeprec_done(points, labels[w]));
		assert_true(sweeprec_done_now(dir, spath, labels[w]));
	}
	assert_false(sweeprec_done_now(dir, spath, "w=9"));
	json_decref(state);
	remove_tree(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_attempts_supersede_earlier_ones),
		cmocka_unit_test(test_entry_from_before_attempts_becomes_attempt_one),
		cmocka_unit_test(test_array_lists_the_points_not_done),
		cmocka_unit_test(test_array_index_names_its_point),
		cmocka_unit_test(test_writers_at_once_lose_no_attempt),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
