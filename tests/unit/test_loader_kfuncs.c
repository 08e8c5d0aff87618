/*
 * scxlab_missing_kfuncs() (schedulers/lib/scxlab_loader.c): which kfuncs a policy calls that a
 * kernel lacks, with the renamed ones (scxlab_compat.bpf.h) accepted under either name. Both
 * sides are BTFs built here: a "policy" with extern functions, a "kernel" with functions.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <bpf/btf.h>

#include "scxlab_loader.h"

static struct btf *with_funcs(const char *const *names, int linkage)
{
	struct btf *btf = btf__new_empty();
	int proto;

	assert_non_null(btf);
	proto = btf__add_func_proto(btf, 0);
	assert_true(proto > 0);
	for (; *names; names++)
		assert_true(btf__add_func(btf, *names, linkage, proto) > 0);
	return btf;
}

static int missing(const char *const *prog_calls, const char *const *kernel_has, char *buf)
{
	struct btf *prog = with_funcs(prog_calls, BTF_FUNC_EXTERN);
	struct btf *kernel = with_funcs(kernel_has, BTF_FUNC_GLOBAL);
	int n = scxlab_missing_kfuncs(prog, kernel, buf, 256);

	btf__free(prog);
	btf__free(kernel);
	return n;
}

/* What a policy built with scxlab_compat.bpf.h references: both names of each renamed kfunc. */
static const char *const policy[] = { "scx_bpf_dsq_insert", "scx_bpf_dispatch",
	"scx_bpf_dsq_move_to_local", "scx_bpf_consume", "scx_bpf_now", "scx_bpf_kick_cpu", NULL };

static void test_new_kernel_has_everything(void **state)
{
	const char *const k73[] = { "scx_bpf_dsq_insert", "scx_bpf_dsq_move_to_local", "scx_bpf_now",
		"scx_bpf_kick_cpu", NULL };
	char buf[256];

	assert_int_equal(missing(policy, k73, buf), 0);
	assert_string_equal(buf, "");
}

static void test_old_kernel_has_the_old_names(void **state)
{
	/* 6.12: the RFC-era names, no scx_bpf_now (it falls back to a helper) */
	const char *const k612[] = { "scx_bpf_dispatch", "scx_bpf_consume", "scx_bpf_kick_cpu", NULL };
	char buf[256];

	assert_int_equal(missing(policy, k612, buf), 0);
}

static void test_names_what_is_missing_once(void **state)
{
	const char *const bare[] = { "scx_bpf_consume", NULL };
	char buf[256];

	/* neither name of insert, no kick: insert said once, under its current name */
	assert_int_equal(missing(policy, bare, buf), 2);
	assert_string_equal(buf, "scx_bpf_dsq_insert (or scx_bpf_dispatch), scx_bpf_kick_cpu");
}

static void test_functions_defined_in_the_policy_do_not_count(void **state)
{
	const char *const own[] = { "my_helper", NULL };
	const char *const none[] = { "something_else", NULL };
	struct btf *prog = with_funcs(own, BTF_FUNC_STATIC), *kernel = with_funcs(none, BTF_FUNC_GLOBAL);
	char buf[256];

	assert_int_equal(scxlab_missing_kfuncs(prog, kernel, buf, sizeof(buf)), 0);
	btf__free(prog);
	btf__free(kernel);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_new_kernel_has_everything),
		cmocka_unit_test(test_old_kernel_has_the_old_names),
		cmocka_unit_test(test_names_what_is_missing_once),
		cmocka_unit_test(test_functions_defined_in_the_policy_do_not_count),
	};
	return cmocka_run_group_tests_name("loader kfunc check", tests, NULL, NULL);
}
