/* The host fingerprint (runners/common/fingerprint.c): parsers on fixed text, and the
 * collectors on a fake machine (a scratch folder standing for /). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "fingerprint.h"
#include "testutil.h"

static const char CPUINFO[] =
	"processor\t: 0\n"
	"vendor_id\t: GenuineIntel\n"
	"model name\t: Intel(R) Xeon(R) CPU @ 2.20GHz\n"
	"microcode\t: 0xffffffff\n"
	"flags\t\t: fpu  vme\tsse2\n"
	"flags_extra\t: nope\n"
	"\n"
	"processor\t: 1\n"
	"model name\t: another\n"
	"flags\t\t: fpu\n";

static void test_cpuinfo_field(void **state)
{
	char *v = fp_cpuinfo_field(CPUINFO, "model name");
	assert_string_equal(v, "Intel(R) Xeon(R) CPU @ 2.20GHz");	/* the first CPU's */
	free(v);
	v = fp_cpuinfo_field(CPUINFO, "microcode");
	assert_string_equal(v, "0xffffffff");
	free(v);
	v = fp_cpuinfo_field(CPUINFO, "flags");	/* not flags_extra */
	assert_string_equal(v, "fpu  vme\tsse2");
	free(v);
	assert_null(fp_cpuinfo_field(CPUINFO, "bogomips"));
	assert_null(fp_cpuinfo_field(CPUINFO, "model"));	/* a prefix of a key is not the key */
	assert_null(fp_cpuinfo_field("", "flags"));
}

static void test_flags_words_and_hash(void **state)
{
	json_t *w = fp_words(" fpu  vme\tsse2\n");
	assert_int_equal(json_array_size(w), 3);
	assert_string_equal(json_string_value(json_array_get(w, 1)), "vme");
	char hex[65];
	fp_words_sha256(w, hex);
	/* sha256("fpu vme sse2"), computed independently (Python's hashlib) */
	assert_string_equal(hex, "6565e76e52ff8579fb006c3ce65764fab52d0e93cc51e495c570a74e00e86679");
	json_t *other = fp_words("fpu vme sse3");
	char hex2[65];
	fp_words_sha256(other, hex2);
	assert_string_not_equal(hex, hex2);
	json_decref(w);
	json_decref(other);
	w = fp_words("   ");
	assert_int_equal(json_array_size(w), 0);
	json_decref(w);
}

static void test_bracketed(void **state)
{
	char *v = fp_bracketed("always [madvise] never\n");
	assert_string_equal(v, "madvise");
	free(v);
	v = fp_bracketed("[always] madvise never");
	assert_string_equal(v, "always");
	free(v);
	assert_null(fp_bracketed("always madvise never"));
	assert_null(fp_bracketed("[]"));
	assert_null(fp_bracketed(NULL));
}

static void test_loadavg(void **state)
{
	double a[3];
	assert_int_equal(fp_loadavg("0.52 1.25 7.00 3/812 12345\n", a), 0);
	assert_true(a[0] == 0.52 && a[1] == 1.25 && a[2] == 7.0);
	assert_int_equal(fp_loadavg("0.52 1.25", a), -1);
	assert_int_equal(fp_loadavg("0.52 x 1", a), -1);
	assert_int_equal(fp_loadavg("", a), -1);
	assert_int_equal(fp_loadavg("1.0 2.0 3.0x", a), -1);
}

static void test_stat_state(void **state)
{
	assert_int_equal(fp_stat_state("42 (bash) S 1 42 42 0"), 'S');
	/* a command name may hold spaces and parentheses: the state follows the last ')' */
	assert_int_equal(fp_stat_state("43 (a) R (b)) R 1 2"), 'R');
	assert_int_equal(fp_stat_state("44 (x) D 1"), 'D');
	assert_int_equal(fp_stat_state("45 garbage"), 0);
	assert_int_equal(fp_stat_state(NULL), 0);
}

static void test_set_add(void **state)
{
	json_t *s = json_array();
	fp_set_add(s, "powersave");
	fp_set_add(s, "performance");
	fp_set_add(s, "powersave");
	fp_set_add(s, "schedutil");
	assert_int_equal(json_array_size(s), 3);
	assert_string_equal(json_string_value(json_array_get(s, 0)), "performance");
	assert_string_equal(json_string_value(json_array_get(s, 1)), "powersave");
	assert_string_equal(json_string_value(json_array_get(s, 2)), "schedutil");
	json_decref(s);
}

static void test_sample_on_fake_proc(void **state)
{
	char *root = scratch_dir();
	put_file(root, "proc/loadavg", "1.50 0.75 0.25 2/100 999\n");
	put_file(root, "proc/1/stat", "1 (init) S 0 1 1");
	put_file(root, "proc/7/stat", "7 (busy one) R 1 7 7");
	put_file(root, "proc/8/stat", "8 (x) R) R 1 8 8");
	put_file(root, "proc/9/stat", "9 (us) R 1 9 9");	/* excluded: our own */
	put_file(root, "proc/self/stat", "9 (us) R 1 9 9");	/* not a pid folder */
	struct fp_sample s;
	fp_sample_take(root, 9, &s);
	assert_true(s.have_loadavg);
	assert_true(s.loadavg[0] == 1.5 && s.loadavg[2] == 0.25);
	assert_int_equal(s.busy, 2);
	json_t *j = fp_sample_json(&s);
	assert_int_equal(json_integer_value(json_object_get(j, "busy_processes")), 2);
	assert_true(json_real_value(json_array_get(json_object_get(j, "loadavg"), 1)) == 0.75);
	json_decref(j);
	remove_tree(root);
	free(root);

	/* nothing readable: no load average, busy unknown, both null in JSON */
	fp_sample_take("/nonexistent-scxlab-root", 0, &s);
	assert_false(s.have_loadavg);
	assert_int_equal(s.busy, -1);
	j = fp_sample_json(&s);
	assert_true(json_is_null(json_object_get(j, "loadavg")));
	assert_true(json_is_null(json_object_get(j, "busy_processes")));
	json_decref(j);
}

static void test_host_on_fake_machine(void **state)
{
	char *root = scratch_dir();
	put_file(root, "proc/cpuinfo", CPUINFO);
	put_file(root, "proc/cmdline", "BOOT_IMAGE=/vmlinuz root=/dev/sda1 isolcpus=3\n");
	put_file(root, "proc/sys/kernel/sched_autogroup_enabled", "1\n");
	put_file(root, "proc/sys/kernel/sched_rt_runtime_us", "950000\n");
	put_file(root, "proc/sys/kernel/panic", "0\n");	/* not a sched_ knob */
	put_file(root, "sys/devices/system/cpu/cpu0/cpufreq/scaling_governor", "powersave\n");
	put_file(root, "sys/devices/system/cpu/cpu1/cpufreq/scaling_governor", "performance\n");
	put_file(root, "sys/devices/system/cpu/cpu2/cpufreq/scaling_governor", "powersave\n");
	put_file(root, "sys/devices/system/cpu/cpufreq/scaling_governor", "bogus\n");	/* not a cpuN */
	put_file(root, "sys/devices/system/cpu/smt/active", "1\n");
	put_file(root, "sys/devices/system/cpu/smt/control", "on\n");
	put_file(root, "sys/devices/system/cpu/isolated", "3\n");
	put_file(root, "sys/kernel/mm/transparent_hugepage/enabled", "always [madvise] never\n");
	json_t *h = json_object();
	fp_host(root, h);
	assert_int_equal(json_array_size(json_object_get(h, "cpu_flags")), 3);
	assert_string_equal(json_string_value(json_object_get(h, "cpu_flags_sha256")),
			    "6565e76e52ff8579fb006c3ce65764fab52d0e93cc51e495c570a74e00e86679");
	assert_string_equal(json_string_value(json_object_get(h, "microcode")), "0xffffffff");
	assert_string_equal(json_string_value(json_object_get(h, "governor")), "performance,powersave");
	assert_int_equal(json_integer_value(json_object_get(h, "smt_active")), 1);
	assert_string_equal(json_string_value(json_object_get(h, "smt_control")), "on");
	assert_string_equal(json_string_value(json_object_get(h, "thp")), "madvise");
	assert_string_equal(json_string_value(json_object_get(h, "cmdline")),
			    "BOOT_IMAGE=/vmlinuz root=/dev/sda1 isolcpus=3");
	assert_string_equal(json_string_value(json_object_get(h, "isolated_cpus")), "3");
	json_t *sc = json_object_get(h, "sched_sysctls");
	assert_int_equal(json_object_size(sc), 2);
	assert_string_equal(json_string_value(json_object_get(sc, "sched_rt_runtime_us")), "950000");
	json_decref(h);
	remove_tree(root);
	free(root);

	/* a machine that tells nothing: "none" for the governor, null for the rest, no sysctls */
	h = json_object();
	fp_host("/nonexistent-scxlab-root", h);
	assert_string_equal(json_string_value(json_object_get(h, "governor")), "none");
	static const char *const nulls[] = { "cpu_flags", "cpu_flags_sha256", "microcode", "smt_active",
					     "smt_control", "thp", "cmdline", "isolated_cpus" };
	for (size_t i = 0; i < sizeof(nulls) / sizeof(nulls[0]); i++)
		if (!json_is_null(json_object_get(h, nulls[i])))
			fail_msg("%s is not null on an empty machine", nulls[i]);
	assert_int_equal(json_object_size(json_object_get(h, "sched_sysctls")), 0);
	json_decref(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cpuinfo_field),
		cmocka_unit_test(test_flags_words_and_hash),
		cmocka_unit_test(test_bracketed),
		cmocka_unit_test(test_loadavg),
		cmocka_unit_test(test_stat_state),
		cmocka_unit_test(test_set_add),
		cmocka_unit_test(test_sample_on_fake_proc),
		cmocka_unit_test(test_host_on_fake_machine),
	};
	return cmocka_run_group_tests_name("fingerprint", tests, NULL, NULL);
}
