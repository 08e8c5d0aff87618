/* The one config reader: values, types, ranges and the messages bad input gets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "config.h"
#include "testutil.h"

static char *dir;

static void test_reads_sections_and_keys(void **state)
{
	put_file(dir, "a.ini", "; comment\n[vm]\nvcpus = 4\nname = x y\n[other]\nvcpus = 2\n");
	struct cfg c;
	struct err e = { 0 };
	char *p = xasprintf("%s/a.ini", dir);
	assert_int_equal(cfg_load(&c, p, &e), 0);
	assert_string_equal(cfg_get(&c, "vm", "vcpus"), "4");
	assert_string_equal(cfg_get(&c, "vm", "name"), "x y");
	assert_string_equal(cfg_get(&c, "other", "vcpus"), "2");
	assert_null(cfg_get(&c, "vm", "missing"));
	long v;
	assert_int_equal(cfg_get_long(&c, "vm", "vcpus", 1, 1, 8, &v, &e), 0);
	assert_int_equal(v, 4);
	assert_int_equal(cfg_get_long(&c, "vm", "absent", 7, 1, 8, &v, &e), 0);
	assert_int_equal(v, 7);
	cfg_free(&c);
	free(p);
}

static void test_duplicate_key_is_an_error(void **state)
{
	put_file(dir, "dup.ini", "[vm]\nvcpus = 4\nvcpus = 5\n");
	struct cfg c;
	struct err e = { 0 };
	char *p = xasprintf("%s/dup.ini", dir);
	assert_int_equal(cfg_load(&c, p, &e), -1);
	assert_non_null(strstr(e.msg, "[vm] vcpus is given twice"));
	cfg_free(&c);
	free(p);
}

static void test_syntax_error_names_the_line(void **state)
{
	put_file(dir, "bad.ini", "[vm]\nvcpus = 4\nthis line has no equals sign\n");
	struct cfg c;
	struct err e = { 0 };
	char *p = xasprintf("%s/bad.ini", dir);
	assert_int_equal(cfg_load(&c, p, &e), -1);
	assert_non_null(strstr(e.msg, "bad.ini:3"));
	cfg_free(&c);
	free(p);
}

static void test_missing_file(void **state)
{
	struct cfg c;
	struct err e = { 0 };
	assert_int_equal(cfg_load(&c, "/nonexistent/x.ini", &e), -1);
	assert_non_null(strstr(e.msg, "/nonexistent/x.ini"));
	cfg_free(&c);
}

static void test_range_and_type_errors_name_the_key(void **state)
{
	struct cfg c = { .path = xstrdup("vm.ini") };
	struct err e = { 0 };
	long v;
	cfg_set(&c, "vm", "vcpus", "lots");
	assert_int_equal(cfg_get_long(&c, "vm", "vcpus", 1, 1, 8, &v, &e), -1);
	assert_non_null(strstr(e.msg, "[vm] vcpus = 'lots' is not a whole number"));
	cfg_set(&c, "vm", "vcpus", "99");
	assert_int_equal(cfg_get_long(&c, "vm", "vcpus", 1, 1, 8, &v, &e), -1);
	assert_non_null(strstr(e.msg, "out of range (expected 1 to 8)"));
	cfg_set(&c, "vm", "vcpus", "3x");
	assert_int_equal(cfg_get_long(&c, "vm", "vcpus", 1, 1, 8, &v, &e), -1);
	cfg_free(&c);
}

static void test_choice(void **state)
{
	struct cfg c = { .path = xstrdup("p.ini") };
	struct err e = { 0 };
	const char *out;
	cfg_set(&c, "policy", "kind", "scx");
	assert_int_equal(cfg_get_choice(&c, "policy", "kind", NULL, "cfs|scx", &out, &e), 0);
	assert_string_equal(out, "scx");
	cfg_set(&c, "policy", "kind", "sc");
	assert_int_equal(cfg_get_choice(&c, "policy", "kind", NULL, "cfs|scx", &out, &e), -1);
	assert_non_null(strstr(e.msg, "'sc' is not one of: cfs|scx"));
	cfg_free(&c);
}

static void test_write_then_read_round_trip(void **state)
{
	struct cfg c = { 0 }, back;
	struct err e = { 0 };
	cfg_set(&c, "plan", "runs", "2");
	cfg_set(&c, "run.1", "policy", "cfs");
	cfg_set(&c, "plan", "workload", "nginx");
	cfg_set(&c, "run.1", "args", "--fault error --after-ms 2000");
	char *p = xasprintf("%s/plan.ini", dir);
	FILE *f = fopen(p, "w");
	assert_int_equal(cfg_write(&c, f), 0);
	fclose(f);
	assert_int_equal(cfg_load(&back, p, &e), 0);
	assert_string_equal(cfg_get(&back, "plan", "workload"), "nginx");
	assert_string_equal(cfg_get(&back, "run.1", "args"), "--fault error --after-ms 2000");
	assert_int_equal(back.n, c.n);
	cfg_free(&c);
	cfg_free(&back);
	free(p);
}

static void test_config_names_are_sorted(void **state)
{
	char *d = xasprintf("%s/names", dir);
	put_file(d, "zeta.ini", "");
	put_file(d, "alpha.ini", "");
	put_file(d, "notes.txt", "");
	char *names = config_names(d);
	assert_string_equal(names, "alpha zeta");
	free(names);
	free(d);
}

static int setup(void **state)
{
	dir = scratch_dir();
	return 0;
}

static int teardown(void **state)
{
	remove_tree(dir);
	free(dir);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reads_sections_and_keys),
		cmocka_unit_test(test_duplicate_key_is_an_error),
		cmocka_unit_test(test_syntax_error_names_the_line),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_range_and_type_errors_name_the_key),
		cmocka_unit_test(test_choice),
		cmocka_unit_test(test_write_then_read_round_trip),
		cmocka_unit_test(test_config_names_are_sorted),
	};
	return cmocka_run_group_tests_name("config", tests, setup, teardown);
}
