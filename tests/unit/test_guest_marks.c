/*
 * The agent's reading of a client's window marks after the client has exited (runners/guest/
 * marks.c, marks_finish): wrk's end mark comes from a sleeper it forked, which can write "end"
 * just after wrk is gone. The agent waits for such a mark as long as it could still come in time
 * (the window's start + the duration + its tolerance), and no longer: a client that never marks
 * its end makes the run invalid, within that bound.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "guest.h"

struct fixture {
	struct agent a;
	struct inst in;
	struct run r;
};

/* A run of one instance whose client has marked its start (at about 0 s) and exited. */
static void started(struct fixture *f)
{
	memset(f, 0, sizeof(*f));
	cfg_set(&f->a.plan, "workload", "window", "marks");
	f->in.k = 1;
	f->in.out = "/nonexistent";	/* no metrics.json: the client's own duration is unknown */
	f->r.a = &f->a;
	f->r.inst = &f->in;
	f->r.ninst = 1;
	f->r.index = 1;
	f->r.j = json_object();
	f->r.reasons = json_array();
	marks_open(&f->r);
	assert_true(f->r.marks);
	assert_true(f->in.mark_fd >= 0);
	f->r.spawn_t = mono_now();
	char *fifo = xasprintf("%s/i1", f->r.mark_dir);
	int fd = open(fifo, O_WRONLY | O_NONBLOCK);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "start\n", 6), 6);
	close(fd);
	free(fifo);
	marks_poll(&f->r, 100);
	assert_true(f->r.win_open);
	f->in.done = true;
}

static void finished(struct fixture *f)
{
	json_decref(f->r.j);
	json_decref(f->r.reasons);
	cfg_free(&f->a.plan);
}

/* The end mark comes 0.3 s after the client exited, well inside a 1 s run's bound (1.5 s). */
static void test_a_late_end_mark_is_waited_for(void **state)
{
	struct fixture f;
	started(&f);
	char *fifo = xasprintf("%s/i1", f.r.mark_dir);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		usleep(300000);
		int fd = open(fifo, O_WRONLY | O_NONBLOCK);
		_exit(fd >= 0 && write(fd, "end\n", 4) == 4 ? 0 : 1);
	}
	marks_finish(&f.r, 1);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	if (json_array_size(f.r.reasons))
		fail_msg("the run was made invalid: %s", json_string_value(json_array_get(f.r.reasons, 0)));
	assert_true(f.in.win.end >= 0.25 && f.in.win.end < 1.5);
	assert_true(f.r.win_closed);
	assert_non_null(json_object_get(f.r.j, "measure_s"));
	free(fifo);
	finished(&f);
}

/* No end mark at all: the run is invalid for it, and the wait ends at the bound, not later. */
static void test_a_missing_end_mark_is_waited_for_no_longer_than_it_could_come(void **state)
{
	struct fixture f;
	started(&f);
	marks_finish(&f.r, 1);
	double waited = mono_now() - f.r.spawn_t;
	assert_true(waited >= 1.4 && waited < 3.0);
	assert_true(json_array_size(f.r.reasons) >= 1);
	assert_non_null(strstr(json_string_value(json_array_get(f.r.reasons, 0)), "did not mark its measured window's end"));
	finished(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_a_late_end_mark_is_waited_for),
		cmocka_unit_test(test_a_missing_end_mark_is_waited_for_no_longer_than_it_could_come),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
