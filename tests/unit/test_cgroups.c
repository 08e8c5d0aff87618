/* Cgroup trees: parsing and validation, generated trees, and the shares weights entitle to. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "cgroups.h"
#include "experiment.h"
#include "testutil.h"

static int tree_from_text(struct cgtree *t, const char *text, struct err *e)
{
	char *dir = scratch_dir();
	put_file(dir, "t.ini", text);
	char *p = xasprintf("%s/t.ini", dir);
	struct cfg c;
	int rc = cfg_load(&c, p, &CFG_CGROUPS, e);
	if (!rc)
		rc = cgtree_from_cfg(t, &c, "t", e);
	cfg_free(&c);
	remove_tree(dir);
	free(p);
	free(dir);
	return rc;
}

static void expect_tree_error(const char *text, const char *fragment)
{
	struct cgtree t;
	struct err e = { 0 };
	assert_int_equal(tree_from_text(&t, text, &e), -1);
	if (!strstr(e.msg, fragment))
		fail_msg("'%s' lacks '%s'", e.msg, fragment);
	cgtree_free(&t);
}

#define near(a, b) assert_true(fabs((a) - (b)) < 1e-9)

static void test_nested_example_shares(void **state)
{
	/* A(100){B(100), C(200)} and D(300), one instance each in B, C and D:
	 * A gets 100/400, D 300/400; inside A, B gets 1/3 and C 2/3. */
	struct cgtree t;
	struct err e = { 0 };
	assert_int_equal(tree_from_text(&t, "[tree]\ncpu_controller = on\n"
					    "[cgroup.a/c]\nweight = 200\n[cgroup.d]\nweight = 300\n"
					    "[instance.1]\ncgroup = a/b\n[instance.2]\ncgroup = a/c\n"
					    "[instance.3]\ncgroup = d\n", &e), 0);
	assert_int_equal(t.ninst, 3);
	assert_int_equal(t.nnodes, 4);	/* a (implied), a/c, d, a/b */
	near(cgtree_entitled(&t, 0), 1.0 / 12);
	near(cgtree_entitled(&t, 1), 1.0 / 6);
	near(cgtree_entitled(&t, 2), 0.75);
	cgtree_free(&t);
}

static void test_inactive_siblings_do_not_count(void **state)
{
	/* "idle" has a weight but no instance: it takes no share from the others */
	struct cgtree t;
	struct err e = { 0 };
	assert_int_equal(tree_from_text(&t, "[tree]\n[cgroup.idle]\nweight = 5000\n[cgroup.x]\nweight = 100\n"
					    "[cgroup.y]\nweight = 300\n[instance.1]\ncgroup = x\n"
					    "[instance.2]\ncgroup = y\n", &e), 0);
	near(cgtree_entitled(&t, 0), 0.25);
	near(cgtree_entitled(&t, 1), 0.75);
	cgtree_free(&t);
}

static void test_generated_pairs(void **state)
{
	struct cgtree t;
	struct err e = { 0 };
	for (long depth = 1; depth <= 4; depth++) {
		for (long ratio = 1; ratio <= 8; ratio *= 2) {
			char spec[32];
			snprintf(spec, sizeof spec, "pair:%ld:%ld", depth, ratio);
			assert_int_equal(cgtree_generate(&t, spec, &e), 0);
			assert_int_equal(t.ninst, 2);
			assert_int_equal(t.nnodes, (size_t)(depth + 1));
			assert_true(t.cpu_controller);
			near(cgtree_entitled(&t, 0), (double)ratio / (ratio + 1));
			near(cgtree_entitled(&t, 1), 1.0 / (ratio + 1));
			/* the instances' cgroups sit DEPTH levels down */
			int slashes = 0;
			for (const char *p = t.inst[0].cgroup; *p; p++)
				slashes += *p == '/';
			assert_int_equal(slashes, depth - 1);
			cgtree_free(&t);
		}
	}
	assert_int_equal(cgtree_generate(&t, "pair:0:2", &e), -1);
	cgtree_free(&t);
	assert_int_equal(cgtree_generate(&t, "ring:2:2", &e), -1);
	assert_non_null(strstr(e.msg, "pair:DEPTH:RATIO"));
	cgtree_free(&t);
}

static void test_round_trip_through_a_plan(void **state)
{
	struct cgtree t, back;
	struct err e = { 0 };
	struct cfg plan = { 0 };
	assert_int_equal(cgtree_generate(&t, "pair:3:4", &e), 0);
	cgtree_to_cfg(&t, &plan);
	assert_int_equal(cgtree_from_cfg(&back, &plan, "pair:3:4", &e), 0);
	assert_int_equal(back.nnodes, t.nnodes);
	assert_int_equal(back.ninst, t.ninst);
	for (size_t i = 0; i < t.ninst; i++) {
		assert_string_equal(back.inst[i].cgroup, t.inst[i].cgroup);
		near(cgtree_entitled(&back, i), cgtree_entitled(&t, i));
	}
	cgtree_free(&t);
	cgtree_free(&back);
	cfg_free(&plan);
}

static void test_invalid_trees(void **state)
{
	expect_tree_error("[tree]\ncpu_controller = off\n[cgroup.a]\nweight = 200\n[instance.1]\ncgroup = a\n",
			  "needs cpu_controller = on");
	expect_tree_error("[tree]\n[cgroup.a]\nweight = 0\n[instance.1]\ncgroup = a\n", "out of range");
	expect_tree_error("[tree]\n[cgroup.a]\nweight = 20000\n[instance.1]\ncgroup = a\n", "out of range");
	expect_tree_error("[tree]\n[instance.1]\ncgroup = ../etc\n", "must be relative");
	expect_tree_error("[tree]\n[instance.1]\ncgroup = /abs\n", "must be relative");
	expect_tree_error("[tree]\ncpu_controller = on\n", "at least one [instance.1]");
	expect_tree_error("[tree]\n[instance.1]\ncgroup = a\n[instance.3]\ncgroup = b\n", "without gaps");
	expect_tree_error("[tree]\n[instance.1]\ncgroup = a\n[instance.2]\ncgroup = a\n", "share cgroup a");
	expect_tree_error("[tree]\n[instance.1]\ncgroup = a\n[instance.2]\ncgroup = a/b\n", "only in leaves");
	expect_tree_error("[tree]\ncpu_controller = maybe\n[instance.1]\ncgroup = a\n", "not one of: on|off");
}

static void test_experiment_with_a_tree(void **state)
{
	struct experiment x;
	struct err e = { 0 };
	struct request r = { .policies = "cfs", .workload = "nginx", .cgroups = "deep4-2to1" };
	assert_int_equal(experiment_load(&x, "configs", &r, &e), 0);
	assert_true(x.has_tree);
	assert_int_equal(x.tree.ninst, 2);
	/* each instance got its own port */
	long port = atol(cfg_get(&x.wl.cfg, "params", "port"));
	char want[64];
	snprintf(want, sizeof want, "port=%ld", port + 1);
	assert_non_null(strstr(x.tree.inst[1].params, want));
	struct cfg plan;
	experiment_plan(&x, &plan);
	assert_string_equal(cfg_get(&plan, "instance.2", "cgroup"), "l1/l2/l3/low");
	assert_string_equal(cfg_get(&plan, "cgroup.l1/l2/l3/high", "weight"), "200");
	cfg_free(&plan);
	experiment_free(&x);

	r.cgroups = "nosuch";
	assert_int_equal(experiment_load(&x, "configs", &r, &e), -1);
	assert_non_null(strstr(e.msg, "unknown cgroup tree 'nosuch'"));
	assert_non_null(strstr(e.msg, "deep4-2to1"));
	experiment_free(&x);

	char *dir = scratch_dir();
	char *cmd = xasprintf("cp -r configs/. %s/", dir);
	assert_int_equal(system(cmd), 0);
	put_file(dir, "cgroups/typo.ini", "[tree]\n[instance.1]\ncgroup = a\nparams = prot=1\n");
	r.cgroups = "typo";
	assert_int_equal(experiment_load(&x, dir, &r, &e), -1);
	assert_non_null(strstr(e.msg, "instance 1: params: workload nginx has no parameter 'prot'; did you mean 'port'?"));
	experiment_free(&x);
	remove_tree(dir);
	free(cmd);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nested_example_shares),
		cmocka_unit_test(test_inactive_siblings_do_not_count),
		cmocka_unit_test(test_generated_pairs),
		cmocka_unit_test(test_round_trip_through_a_plan),
		cmocka_unit_test(test_invalid_trees),
		cmocka_unit_test(test_experiment_with_a_tree),
	};
	return cmocka_run_group_tests_name("cgroups", tests, NULL, NULL);
}
