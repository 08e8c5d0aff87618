/*
 * What the agent makes of its monitors' raw output and its instances' metrics, on fixed inputs
 * copied from a kept result (tests/unit/data/, from paper/results/): perf stat's CSV, the
 * bpf-stats deltas, the merging of instance metrics (rates summed), the kernel log's
 * sched_ext lines and verdict. The expected values are those the agent wrote into that
 * result's run.json / metrics.json at the time.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "bpfstats.h"
#include "instmetrics.h"
#include "kmsg.h"
#include "perfstat.h"
#include "testutil.h"

#define DATA "tests/unit/data/"

static json_t *load(const char *name)
{
	json_error_t jerr;
	json_t *j = json_load_file(name, 0, &jerr);
	if (!j)
		fail_msg("%s: %s", name, jerr.text);
	return j;
}

static void assert_json_equal(json_t *got, json_t *want)
{
	if (!json_equal(got, want)) {
		char *g = json_dumps(got, JSON_SORT_KEYS), *w = json_dumps(want, JSON_SORT_KEYS);
		fail_msg("got %s\nwant %s", g, w);
	}
}

static void test_perf_stat_kept_output(void **state)
{
	char *text = read_file(DATA "perf-stat.csv", NULL);
	assert_non_null(text);
	json_t *got = perf_stat_parse(text), *kept = load(DATA "fifo-monitors.json");
	assert_json_equal(got, json_object_get(kept, "perf_stat"));
	assert_true(json_real_value(json_object_get(got, "task-clock")) == 20827.52);
	json_decref(got);
	json_decref(kept);
	free(text);
}

static void test_perf_stat_uncounted_and_junk(void **state)
{
	json_t *got = perf_stat_parse("# started on Thu\n\n"
				      "<not supported>,,cycles,0,100.00,,\n"
				      "12,,context-switches,100,100.00,,\n"
				      "no comma here\n"
				      "5,msec,,1,1,,\n");	/* no event name: skipped */
	assert_int_equal(json_object_size(got), 2);
	assert_true(json_is_null(json_object_get(got, "cycles")));
	assert_true(json_real_value(json_object_get(got, "context-switches")) == 12);
	json_decref(got);
	got = perf_stat_parse(NULL);	/* perf left no file */
	assert_int_equal(json_object_size(got), 0);
	json_decref(got);
}

static void test_bpf_stats_kept_output(void **state)
{
	json_t *before = load(DATA "bpf-progs-before.json"), *after = load(DATA "bpf-progs-after.json");
	json_t *kept = load(DATA "fifo-monitors.json");
	json_t *got = bpf_stats_delta(before, after);
	assert_json_equal(got, json_object_get(kept, "bpf_prog_stats"));
	/* fifo_select_cpu: 100414 - 5 runs, 456847201 - 22064 ns */
	json_t *sel = json_object_get(got, "fifo_select_cpu");
	assert_int_equal(json_integer_value(json_object_get(sel, "run_cnt")), 100409);
	assert_int_equal(json_integer_value(json_object_get(sel, "run_time_ns")), 456825137);
	json_decref(got);
	json_decref(before);
	json_decref(after);
	json_decref(kept);
}

static void test_bpf_stats_only_struct_ops_new_programs_from_zero(void **state)
{
	json_t *before = json_loads("[{\"id\": 1, \"type\": \"struct_ops\", \"name\": \"a\", \"run_cnt\": 10, "
				    "\"run_time_ns\": 100}]", 0, NULL);
	json_t *after = json_loads("[{\"id\": 1, \"type\": \"struct_ops\", \"name\": \"a\", \"run_cnt\": 14, "
				   "\"run_time_ns\": 180},"
				   "{\"id\": 2, \"type\": \"struct_ops\", \"name\": \"b\", \"run_cnt\": 2, \"run_time_ns\": 50},"
				   "{\"id\": 3, \"type\": \"tracing\", \"name\": \"t\", \"run_cnt\": 9, \"run_time_ns\": 9}]",
				   0, NULL);
	json_t *got = bpf_stats_delta(before, after);
	json_t *want = json_loads("{\"a\": {\"run_cnt\": 4, \"run_time_ns\": 80, \"ns_per_run\": 20.0},"
				  "\"b\": {\"run_cnt\": 2, \"run_time_ns\": 50, \"ns_per_run\": 25.0}}", 0, NULL);
	assert_json_equal(got, want);
	json_decref(got);
	json_decref(want);
	json_decref(before);
	json_decref(after);
}

static void test_instance_metrics_merged_as_kept(void **state)
{
	json_t *i1 = load(DATA "apache-i1-metrics.json"), *i2 = load(DATA "apache-i2-metrics.json");
	json_t *kept = load(DATA "apache-merged-metrics.json");
	json_t *merged = json_array();
	instmetrics_add(merged, json_object_get(i1, "metrics"), 1, 2);
	instmetrics_add(merged, json_object_get(i2, "metrics"), 2, 2);
	assert_json_equal(merged, json_object_get(kept, "metrics"));
	json_decref(merged);
	/* one instance: its metrics are the run's, unrenamed and unsummed */
	merged = json_array();
	instmetrics_add(merged, json_object_get(i1, "metrics"), 1, 1);
	assert_json_equal(merged, json_object_get(i1, "metrics"));
	json_decref(merged);
	json_decref(i1);
	json_decref(i2);
	json_decref(kept);
}

static void test_rates(void **state)
{
	assert_true(instmetrics_is_rate("req/s"));
	assert_true(instmetrics_is_rate("B/s"));
	assert_false(instmetrics_is_rate("s"));
	assert_false(instmetrics_is_rate("us"));
	assert_false(instmetrics_is_rate("count"));
	assert_false(instmetrics_is_rate(""));
	assert_false(instmetrics_is_rate(NULL));
	/* three instances: the sum is over all three, a count is not summed */
	json_t *m = json_loads("[{\"name\": \"ops\", \"unit\": \"op/s\", \"value\": 1.5, \"higher_is_better\": true},"
			       "{\"name\": \"n\", \"unit\": \"count\", \"value\": 2, \"higher_is_better\": true}]", 0, NULL);
	json_t *merged = json_array();
	for (int k = 1; k <= 3; k++)
		instmetrics_add(merged, m, k, 3);
	assert_int_equal(json_array_size(merged), 7);	/* i1..i3 of both, plus the summed rate */
	size_t i;
	json_t *o;
	int sums = 0;
	json_array_foreach(merged, i, o) {
		const char *name = json_string_value(json_object_get(o, "name"));
		assert_string_not_equal(name, "n");
		if (!strcmp(name, "ops")) {
			sums++;
			assert_true(json_number_value(json_object_get(o, "value")) == 4.5);
		}
	}
	assert_int_equal(sums, 1);
	json_decref(merged);
	json_decref(m);
}

static void test_kernel_log_kept(void **state)
{
	char *dmesg = read_file(DATA "dmesg-stall.txt", NULL);
	assert_non_null(dmesg);
	char *copy = xstrdup(dmesg);
	struct scx_disable d;
	bool found;
	json_t *msgs = kmsg_sched_ext(dmesg, &d, &found);
	assert_string_equal(dmesg, copy);	/* left as it was */
	assert_true(found);
	assert_string_equal(d.ops, "faulty");
	assert_string_equal(d.reason, "runnable task stall");
	assert_true(d.ejected);
	assert_int_equal(json_array_size(msgs), 4);
	assert_string_equal(json_string_value(json_array_get(msgs, 2)),
			    "<3>[   49.529924] sched_ext: BPF scheduler \"faulty\" disabled (runnable task stall)");
	json_decref(msgs);
	free(copy);
	free(dmesg);
}

static void test_kernel_log_first_verdict_or_none(void **state)
{
	struct scx_disable d;
	bool found = true;
	json_t *msgs = kmsg_sched_ext("[1.0] sched_ext: BPF scheduler \"a\" disabled (disabled by sysrq-S)\n"
				      "[1.1] unrelated\n"
				      "[2.0] sched_ext: BPF scheduler \"b\" disabled (runtime error)\n", &d, &found);
	assert_true(found);
	assert_string_equal(d.ops, "a");	/* the first verdict */
	assert_int_equal(json_array_size(msgs), 2);
	json_decref(msgs);
	msgs = kmsg_sched_ext("[1.0] nothing here\n", &d, &found);
	assert_false(found);
	assert_int_equal(json_array_size(msgs), 0);
	json_decref(msgs);
	msgs = kmsg_sched_ext(NULL, &d, &found);
	assert_false(found);
	json_decref(msgs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_perf_stat_kept_output),
		cmocka_unit_test(test_perf_stat_uncounted_and_junk),
		cmocka_unit_test(test_bpf_stats_kept_output),
		cmocka_unit_test(test_bpf_stats_only_struct_ops_new_programs_from_zero),
		cmocka_unit_test(test_instance_metrics_merged_as_kept),
		cmocka_unit_test(test_rates),
		cmocka_unit_test(test_kernel_log_kept),
		cmocka_unit_test(test_kernel_log_first_verdict_or_none),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
