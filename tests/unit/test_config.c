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
	assert_int_equal(cfg_load(&c, p, NULL, &e), 0);
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
	assert_int_equal(cfg_load(&c, p, NULL, &e), -1);
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
	assert_int_equal(cfg_load(&c, p, NULL, &e), -1);
	assert_non_null(strstr(e.msg, "bad.ini:3"));
	cfg_free(&c);
	free(p);
}

static void test_missing_file(void **state)
{
	struct cfg c;
	struct err e = { 0 };
	assert_int_equal(cfg_load(&c, "/nonexistent/x.ini", NULL, &e), -1);
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
	assert_non_null(strstr(e.msg, "[vm] vcpus = '3x' is not a whole number"));
	cfg_free(&c);
	/* a value read from a file: its error names the line too */
	put_file(dir, "v.ini", "[vm]\nvcpus = 2\nmemory_mb = 2048MB\ndefault_clock = virtaul\n");
	char *p = xasprintf("%s/v.ini", dir);
	assert_int_equal(cfg_load(&c, p, &CFG_VM, &e), 0);
	assert_int_equal(cfg_get_long(&c, "vm", "memory_mb", 1, 1, 65536, &v, &e), -1);
	assert_non_null(strstr(e.msg, "v.ini:3: [vm] memory_mb = '2048MB' is not a whole number"));
	const char *out;
	assert_int_equal(cfg_get_choice(&c, "vm", "default_clock", "virtual", "virtual|real", &out, &e), -1);
	assert_non_null(strstr(e.msg, "v.ini:4: [vm] default_clock = 'virtaul' is not one of: virtual|real"));
	cfg_free(&c);
	free(p);
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
	/* absent, with no default: an error naming the key, not a crash */
	assert_int_equal(cfg_get_choice(&c, "policy", "loader", NULL, "scx|kscx", &out, &e), -1);
	assert_non_null(strstr(e.msg, "[policy] loader is missing; choose from: scx|kscx"));
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
	assert_int_equal(cfg_load(&back, p, NULL, &e), 0);
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

/* Loads text as file name in the scratch folder against schema; returns cfg_load's result. */
static int load_text(const char *name, const char *text, const struct cfg_schema *schema, struct err *e)
{
	put_file(dir, name, text);
	char *p = xasprintf("%s/%s", dir, name);
	struct cfg c;
	e->msg[0] = '\0';
	int rc = cfg_load(&c, p, schema, e);
	cfg_free(&c);
	free(p);
	return rc;
}

/* The load fails and its message has every fragment (NULL-terminated). */
#define expect_load_error(name, text, schema, ...)                                                         \
	do {                                                                                               \
		struct err e_;                                                                             \
		assert_int_equal(load_text(name, text, schema, &e_), -1);                                 \
		const char *frags_[] = { __VA_ARGS__, NULL };                                              \
		for (const char **f_ = frags_; *f_; f_++)                                                  \
			if (!strstr(e_.msg, *f_))                                                          \
				fail_msg("error '%s' lacks '%s'", e_.msg, *f_);                            \
	} while (0)

static void test_unknown_key_names_line_and_suggests(void **state)
{
	expect_load_error("w.ini", "; a workload\n[workload]\ndir = x\nduraton = 5\n", &CFG_WORKLOAD,
			  "w.ini:4: unknown key 'duraton' in [workload] (did you mean 'duration'?)",
			  "[workload] accepts: description, dir, start, client, stop, headline, duration, warmup");
	expect_load_error("v.ini", "[vm]\nvcpus = 2\nthreads_per_cor = 1\n", &CFG_VM, "v.ini:3:",
			  "did you mean 'threads_per_core'?");
	/* nothing near: no suggestion, but the accepted names */
	struct err e;
	assert_int_equal(load_text("p.ini", "[policy]\nkind = cfs\nzzzzzzzz = 1\n", &CFG_POLICY, &e), -1);
	assert_non_null(strstr(e.msg, "p.ini:3: unknown key 'zzzzzzzz' in [policy]; [policy] accepts: description"));
	assert_null(strstr(e.msg, "did you mean"));
	/* the same text without a schema is fine, and with the right key too */
	assert_int_equal(load_text("w.ini", "[workload]\ndir = x\nduraton = 5\n", NULL, &e), 0);
	assert_int_equal(load_text("w.ini", "[workload]\ndir = x\nduration = 5\n", &CFG_WORKLOAD, &e), 0);
}

static void test_unknown_section_names_line_and_suggests(void **state)
{
	expect_load_error("v.ini", "[vm]\nvcpus = 2\n\n[clock.virtaul]\naccel = tcg\n", &CFG_VM,
			  "v.ini:4: unknown section [clock.virtaul] (did you mean [clock.virtual]?)",
			  "a VM config has the sections [vm], [clock.virtual], [clock.real], [accel.kvm], [run]");
	/* a section without keys is checked too */
	expect_load_error("t.ini", "[tree]\ncpu_controller = on\n[instance.1]\ncgroup = a\n[instanse.2]\n", &CFG_CGROUPS,
			  "t.ini:5: unknown section [instanse.2] (did you mean [instance.2]?)", "[instance.<K>]");
	expect_load_error("k.ini", "vcpus = 2\n[vm]\n", &CFG_VM, "k.ini:1: a key before any [section]");
}

static void test_patterned_sections(void **state)
{
	struct err e;
	const char *tree = "[tree]\ncpu_controller = on\n[cgroup.a/b]\nweight = 200\n[cgroup.a/c]\nweight = 100\n"
			   "[instance.1]\ncgroup = a/b\nparams = port=1\n[instance.2]\ncgroup = a/c\n";
	assert_int_equal(load_text("t.ini", tree, &CFG_CGROUPS, &e), 0);
	/* the pattern needs something after its prefix, and its keys are checked */
	expect_load_error("t.ini", "[tree]\n[cgroup.]\nweight = 2\n", &CFG_CGROUPS, "t.ini:2: unknown section [cgroup.]");
	expect_load_error("t.ini", "[tree]\n[instance.1]\ncgorup = a\n", &CFG_CGROUPS,
			  "t.ini:3: unknown key 'cgorup' in [instance.1] (did you mean 'cgroup'?)",
			  "[instance.<K>] accepts: cgroup, params");
	/* free names where the schema says so ([matrix]), typed values where it gives a type */
	const char *sweep = "[sweep]\npolicies = cfs\nanalysis = weights\n[matrix]\nanything = 1 2\n[point]\ncgroups = x\n";
	assert_int_equal(load_text("s.ini", sweep, &CFG_SWEEP, &e), 0);
	expect_load_error("s.ini", "[sweep]\nanalysis = weight\n", &CFG_SWEEP, "s.ini:2: [sweep] analysis = 'weight'",
			  "not one of: weights|overhead");
	/* a [point] key is a runner option: a misspelt one would fail only when the point runs */
	expect_load_error("s.ini", "[point]\ncgroup = x\n", &CFG_SWEEP, "did you mean 'cgroups'?");
	expect_load_error("s.ini", "[point]\nresults = /tmp\n", &CFG_SWEEP, "unknown key 'results' in [point]");
	/* the plan: run.<K> */
	expect_load_error("plan.ini", "[run.1]\npolicy = cfs\nloder = x\n", &CFG_PLAN, "did you mean 'loader'?");
}

static void test_long_lines_are_refused_not_cut(void **state)
{
	char line[512];
	struct err e;
	/* 197 characters fit inih's buffer; 198 do not */
	snprintf(line, sizeof line, "[policy]\nkind = cfs\ndescription = %0*d\n", 197 - 14, 0);
	assert_int_equal(load_text("l.ini", line, &CFG_POLICY, &e), 0);
	snprintf(line, sizeof line, "[policy]\nkind = cfs\ndescription = %0*d\nargs = x\n", 198 - 14, 0);
	expect_load_error("l.ini", line, &CFG_POLICY, "l.ini: line 3 is longer than 197 characters");
	/* a comment line too: inih would read its tail as a line of its own */
	snprintf(line, sizeof line, "; %0*d\n[policy]\n", 250, 0);
	expect_load_error("l.ini", line, NULL, "line 1 is longer than 197 characters");
}

static void test_long_names_are_refused_with_that_reason(void **state)
{
	char text[512];
	const char *a50 = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
	/* two sections alike in their first 49 characters: inih would merge them ("given twice") */
	snprintf(text, sizeof text, "[cgroup.%s1]\nweight = 1\n[cgroup.%s2]\nweight = 2\n", a50, a50);
	expect_load_error("n.ini", text, NULL, "n.ini:1: section name 'cgroup.", "is longer than 49 characters");
	struct err e;
	assert_int_equal(load_text("n.ini", text, NULL, &e), -1);
	assert_null(strstr(e.msg, "given twice"));
	snprintf(text, sizeof text, "[cgroup.%.42s]\nweight = 1\n", a50);	/* 49: the limit */
	assert_int_equal(load_text("n.ini", text, NULL, &e), 0);
	snprintf(text, sizeof text, "[x]\n%s = 1\n", a50);
	expect_load_error("n.ini", text, NULL, "n.ini:2: key name 'aaaa", "is longer than 49 characters");
}

static void test_what_inih_would_drop_is_refused(void **state)
{
	/* text after a section header: inih keeps the section and drops the rest */
	expect_load_error("h.ini", "[vm] vcpus = 2\n", &CFG_VM, "h.ini:1: 'vcpus = 2' follows the section header [vm]");
	expect_load_error("h.ini", "[vm]\nvcpus = 2\n[run]]\n", &CFG_VM, "h.ini:3: ']' follows the section header [run]");
	struct err e;
	assert_int_equal(load_text("h.ini", "[vm]  ; the machine\nvcpus = 2\n[run] # guest side\n", &CFG_VM, &e), 0);
	/* a NUL byte: inih ends the line there ("vcpus = 2\0 9" would read as 2) */
	char *p = xasprintf("%s/nul.ini", dir);
	FILE *f = fopen(p, "w");
	static const char text[] = "[vm]\nvcpus = 2\0 9\n";
	assert_int_equal(fwrite(text, 1, sizeof text - 1, f), sizeof text - 1);
	fclose(f);
	struct cfg c;
	assert_int_equal(cfg_load(&c, p, &CFG_VM, &e), -1);
	assert_non_null(strstr(e.msg, "nul.ini:2: the line holds a NUL byte"));
	cfg_free(&c);
	free(p);
}

static void test_indented_lines_are_refused(void **state)
{
	/* inih reads an indented line as more of the value above: "given twice" or a silent join */
	expect_load_error("i.ini", "[vm]\nvcpus = 2\n  memory_mb = 512\n", NULL, "i.ini:3: the line starts with blanks");
	struct err e;
	assert_int_equal(load_text("i.ini", "[vm]\n  ; an indented comment\nvcpus = 2\n\n", &CFG_VM, &e), 0);
}

static void test_numbers_are_whole_tokens(void **state)
{
	struct err e = { 0 };
	long v;
	double d;
	static const char *const bad[] = { "2x", "3 junk", " 2", "2 ", "", "-", "0x10", "1.5" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (!parse_long(bad[i], 0, 100, "N", &v, &e))
			fail_msg("parse_long accepted '%s'", bad[i]);
	assert_non_null(strstr(e.msg, "N = '1.5' is not a whole number"));
	assert_int_equal(parse_long("42", 0, 100, "N", &v, &e), 0);
	assert_int_equal(v, 42);
	assert_int_equal(parse_long("-3", -5, 5, "N", &v, &e), 0);
	assert_int_equal(v, -3);
	static const char *const badd[] = { "2x", "0.5 junk", " 1", "inf", "nan", "0x2", "", "." };
	for (size_t i = 0; i < sizeof badd / sizeof badd[0]; i++)
		if (!parse_double(badd[i], 0, 100, "P", &d, &e))
			fail_msg("parse_double accepted '%s'", badd[i]);
	assert_int_equal(parse_double("0.5", 0.1, 50, "P", &d, &e), 0);
	assert_true(d == 0.5);
	assert_int_equal(parse_double("1e1", 0.1, 50, "P", &d, &e), 0);
	assert_true(d == 10);
	assert_int_equal(parse_double("60", 0.1, 50, "P", &d, &e), -1);
	assert_non_null(strstr(e.msg, "out of range"));
}

static void test_value_types(void **state)
{
	struct err e = { 0 };
	static const char *const good_specs[] = { "int 1 65535", "int -5 5", "choice event|worker|prefork", "word",
						  "choice yes" };
	static const char *const bad_specs[] = { "int 5 1", "int 1", "int 1 x", "integer 1 2", "choice",
						 "choice a||b", "choice a|b c", "word 5", "" };
	for (size_t i = 0; i < sizeof good_specs / sizeof good_specs[0]; i++)
		if (cfg_check_type_spec(good_specs[i], "t", &e))
			fail_msg("'%s' refused: %s", good_specs[i], e.msg);
	for (size_t i = 0; i < sizeof bad_specs / sizeof bad_specs[0]; i++)
		if (!cfg_check_type_spec(bad_specs[i], "t", &e))
			fail_msg("type '%s' accepted", bad_specs[i]);
	assert_non_null(strstr(e.msg, "'int MIN MAX'"));
	assert_int_equal(cfg_check_type("int 1 65535", "8080", "port", &e), 0);
	assert_int_equal(cfg_check_type("int 1 65535", "99999", "port", &e), -1);
	assert_non_null(strstr(e.msg, "port = 99999 is out of range (expected 1 to 65535)"));
	assert_int_equal(cfg_check_type("int 1 65535", "80x", "port", &e), -1);
	assert_int_equal(cfg_check_type("choice event|worker", "worker", "mpm", &e), 0);
	assert_int_equal(cfg_check_type("choice event|worker", "work", "mpm", &e), -1);
	assert_non_null(strstr(e.msg, "mpm = 'work' is not one of: event|worker"));
	assert_int_equal(cfg_check_type("word", "a-b_c.1", "w", &e), 0);
	static const char *const not_words[] = { "", "a b", "$(reboot)", "a;b", "x'y", "a/b" };
	for (size_t i = 0; i < sizeof not_words / sizeof not_words[0]; i++)
		if (!cfg_check_type("word", not_words[i], "w", &e))
			fail_msg("'%s' accepted as a word", not_words[i]);
}

static void test_nearest_name(void **state)
{
	static const char *const names[] = { "duration", "warmup", "headline" };
	assert_string_equal(cfg_nearest("duraton", names, 3), "duration");
	assert_string_equal(cfg_nearest("warmpu", names, 3), "warmup");
	assert_null(cfg_nearest("zzzz", names, 3));
	assert_null(cfg_nearest("x", names, 0));
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
		cmocka_unit_test(test_unknown_key_names_line_and_suggests),
		cmocka_unit_test(test_unknown_section_names_line_and_suggests),
		cmocka_unit_test(test_patterned_sections),
		cmocka_unit_test(test_long_lines_are_refused_not_cut),
		cmocka_unit_test(test_long_names_are_refused_with_that_reason),
		cmocka_unit_test(test_indented_lines_are_refused),
		cmocka_unit_test(test_what_inih_would_drop_is_refused),
		cmocka_unit_test(test_numbers_are_whole_tokens),
		cmocka_unit_test(test_value_types),
		cmocka_unit_test(test_nearest_name),
	};
	return cmocka_run_group_tests_name("config", tests, setup, teardown);
}
