/*
 * The module check in front of the KVM probe (runners/common/kvmprobe.c): a /dev/kvm served by
 * kvm-pvm alone cannot run the standard guest kernel (it passes the real-mode probe and crashes
 * the kernel 4 s into its boot, seen on this project's machines), so it must be refused before
 * ACCEL=auto picks it; hardware KVM, with or without kvm_pvm beside it, is not refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "kvmprobe.h"
#include "testutil.h"

static bool usable_with(const char *const *modules, char *why, size_t n)
{
	char *d = scratch_dir();
	for (const char *const *m = modules; *m; m++) {
		char *f = xasprintf("%s/parameters/x", *m);
		put_file(d, f, "N\n");
		free(f);
	}
	bool ok = kvm_modules_usable(d, why, n);
	remove_tree(d);
	free(d);
	return ok;
}

static void test_pvm_alone_is_refused(void **state)
{
	char why[512];
	assert_false(usable_with((const char *const[]){ "kvm", "kvm_pvm", NULL }, why, sizeof(why)));
	assert_non_null(strstr(why, "kvm-pvm"));
	assert_non_null(strstr(why, "PVM-aware"));
}

static void test_hardware_kvm_is_not_refused(void **state)
{
	char why[512];
	assert_true(usable_with((const char *const[]){ "kvm", "kvm_amd", NULL }, why, sizeof(why)));
	assert_string_equal(why, "");
	assert_true(usable_with((const char *const[]){ "kvm", "kvm_intel", NULL }, why, sizeof(why)));
	assert_true(usable_with((const char *const[]){ "kvm", "kvm_pvm", "kvm_intel", NULL }, why, sizeof(why)));
	/* no KVM module at all: the probe itself (opening /dev/kvm) says what is missing */
	assert_true(usable_with((const char *const[]){ NULL }, why, sizeof(why)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pvm_alone_is_refused),
		cmocka_unit_test(test_hardware_kvm_is_not_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
