/* Every config kind through its schema: the repository's own configs all load; workload
 * parameter types; cgroup-tree specs; the plan checked on the host as the guest reads it.
 * Runs from the repository root (uses configs/). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <sys/stat.h>

#include "cgroups.h"
#include "experiment.h"
#include "testutil.h"

static char *dir;	/* a copy of configs/ that tests add files to */

/* Names of the configs of one kind, at least one (an empty listing would prove nothing). */
static void names_of(const char *kind, struct strv *out)
{
	char *d = xasprintf("configs/%s", kind), *names = config_names(d);
	memset(out, 0, sizeof(*out));
	strv_split_push(out, names);
	if (!out->n)
		fail_msg("no configs in %s", d);
	free(names);
	free(d);
}

static void load_or_fail(struct experiment *x, const char *configs, const struct request *r)
{
	struct err e = { 0 };
	if (experiment_load(x, configs, r, &e))
		fail_msg("%s", e.msg);
	experiment_free(x);
}

static void test_every_config_loads_through_its_schema(void **state)
{
	struct experiment x;
	struct strv n;
	struct err e = { 0 };
	/* every policy (on the SMT VM, which has what each [requires]), every workload, every VM; the
	 * kernel's example schedulers (loader = kscx:NAME) from a stand-in $KSCX_DIR */
	char *kscx = scratch_dir(), *kscx_old = getenv("KSCX_DIR") ? xstrdup(getenv("KSCX_DIR")) : NULL;
	put_file(kscx, "package", "linux-source-0 0\n");
	setenv("KSCX_DIR", kscx, 1);
	names_of("policies", &n);
	for (size_t i = 0; i < n.n; i++) {
		struct cfg c;
		char *p = xasprintf("configs/policies/%s.ini", n.v[i]);
		const char *l = cfg_load(&c, p, &CFG_POLICY, &e) ? NULL : cfg_get(&c, "policy", "loader");
		if (l && !strncmp(l, "kscx:", 5)) {
			char *b = xasprintf("%s/bin/%s", kscx, l + 5);
			put_file(kscx, b + strlen(kscx) + 1, "#!/bin/sh\n");
			chmod(b, 0755);
			free(b);
		}
		cfg_free(&c);
		free(p);
		load_or_fail(&x, "configs", &(struct request){ .policy = n.v[i], .workload = "nginx", .vm = "smt" });
	}
	strv_free(&n);
	if (kscx_old)
		setenv("KSCX_DIR", kscx_old, 1);
	else
		unsetenv("KSCX_DIR");
	free(kscx_old);
	remove_tree(kscx);
	free(kscx);
	names_of("workloads", &n);
	for (size_t i = 0; i < n.n; i++)
		load_or_fail(&x, "configs", &(struct request){ .policies = "cfs", .workload = n.v[i] });
	strv_free(&n);
	names_of("vms", &n);
	for (size_t i = 0; i < n.n; i++)
		load_or_fail(&x, "configs", &(struct request){ .policies = "cfs", .workload = "nginx", .vm = n.v[i] });
	strv_free(&n);
	/* every cgroup tree, with a workload that has ports and one that has none */
	names_of("cgroups", &n);
	for (size_t i = 0; i < n.n; i++) {
		load_or_fail(&x, "configs", &(struct request){ .policies = "cfs", .workload = "apache", .cgroups = n.v[i] });
		load_or_fail(&x, "configs", &(struct request){ .policies = "cfs", .workload = "hackbench", .cgroups = n.v[i] });
	}
	strv_free(&n);
	/* every sweep, through the sweep schema */
	names_of("sweeps", &n);
	for (size_t i = 0; i < n.n; i++) {
		struct cfg c;
		char *p = xasprintf("configs/sweeps/%s.ini", n.v[i]);
		if (cfg_load(&c, p, &CFG_SWEEP, &e))
			fail_msg("%s", e.msg);
		cfg_free(&c);
		free(p);
	}
	strv_free(&n);
}

/* experiment_load(request) fails and its message has frag. */
static void expect_load_error(struct request r, const char *configs, const char *frag)
{
	struct experiment x;
	struct err e = { 0 };
	assert_int_equal(experiment_load(&x, configs, &r, &e), -1);
	if (!strstr(e.msg, frag))
		fail_msg("error '%s' lacks '%s'", e.msg, frag);
	experiment_free(&x);
}

/* cfs running workload wl, with PARAMS= params and CGROUPS= cgroups (either may be NULL) */
static struct request req(const char *wl, const char *params, const char *cgroups)
{
	return (struct request){ .policies = "cfs", .workload = wl, .params = params, .cgroups = cgroups };
}

static void test_params_are_checked_against_their_types(void **state)
{
	struct experiment x;
	load_or_fail(&x, "configs", &(struct request){ .policies = "cfs", .workload = "apache",
						       .params = "port=8081 mpm=prefork file_size=1048576" });
	expect_load_error(req("nginx", "port=99999", NULL), "configs",
			  "PARAMS: port (int 1 65535) = 99999 is out of range");
	expect_load_error(req("nginx", "port=80x", NULL), "configs",
			  "PARAMS: port (int 1 65535) = '80x' is not a whole number");
	expect_load_error(req("apache", "mpm=evnt", NULL), "configs",
			  "PARAMS: mpm (choice event|worker|prefork) = 'evnt' is not one of");
	expect_load_error(req("nginx", "port=1 port=2", NULL), "configs",
			  "PARAMS: parameter 'port' is given twice");
	expect_load_error(req("nginx", "port", NULL), "configs",
			  "PARAMS: 'port' is not key=value");
	/* nothing a shell would read as more than a value gets through */
	expect_load_error(req("hackbench", "threads=$(reboot)", NULL), "configs",
			  "PARAMS: threads (choice yes|no) = '$(reboot)' is not one of");
}

static void test_instance_overrides_are_checked(void **state)
{
	put_file(dir, "cgroups/badport.ini", "[tree]\n[instance.1]\ncgroup = a\nparams = port=0\n");
	put_file(dir, "cgroups/twice.ini", "[tree]\n[instance.1]\ncgroup = a\nparams = port=5 port=6\n");
	expect_load_error(req("nginx", NULL, "badport"), dir,
			  "cgroup tree badport: instance 1: params: port (int 1 65535) = 0 is out of range");
	expect_load_error(req("nginx", NULL, "twice"), dir,
			  "instance 1: params: parameter 'port' is given twice");
	/* the port instance 2 is given (port + 1) must fit the type too */
	expect_load_error(req("nginx", "port=65535", "pair:1:2"), dir,
			  "instance 2: params: port (int 1 65535) = 65536 is out of range");
}

static void test_workload_types_are_required_and_valid(void **state)
{
	/* each workload: [workload] (6 lines), then what follows, and the error it must get */
	static const struct { const char *name, *rest, *error; } cases[] = {
		{ "good", "[params]\nport = 80\n[types]\nport = int 1 65535\n", NULL },
		{ "untyped", "[params]\nport = 80\nsize = 5\n[types]\nport = int 1 65535\n",
		  "untyped.ini:9: [params] size has no [types] size" },
		{ "orphan", "[params]\nport = 80\n[types]\nport = int 1 65535\nsize = int 1 2\n",
		  "orphan.ini:11: [types] size has no [params] size" },
		{ "baddefault", "[params]\nport = 0\n[types]\nport = int 1 65535\n",
		  "baddefault.ini:8: [params] port = 0 is out of range" },
		{ "badtype", "[params]\nport = 80\n[types]\nport = number\n",
		  "badtype.ini:10: [types] port: type 'number' is not one of" },
		{ "upper", "[params]\nPort = 80\n[types]\nPort = int 1 65535\n", "parameter name 'Port' must be lower-case" },
		/* and the schema: a typo in [workload] is refused, not ignored */
		{ "typo", "warmpu = 3\n[params]\nport = 80\n[types]\nport = int 1 65535\n",
		  "typo.ini:7: unknown key 'warmpu' in [workload] (did you mean 'warmup'?)" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *name = xasprintf("workloads/%s.ini", cases[i].name);
		char *text = xasprintf("[workload]\ndir = workloads/nginx\nstart = s\nclient = c\nstop = t\nheadline = h\n%s",
				       cases[i].rest);
		put_file(dir, name, text);
		struct experiment x;
		if (cases[i].error)
			expect_load_error(req(cases[i].name, NULL, NULL), dir, cases[i].error);
		else
			load_or_fail(&x, dir, &(struct request){ .policies = "cfs", .workload = cases[i].name });
		free(text);
		free(name);
	}
}

static void test_pair_specs_are_whole(void **state)
{
	struct cgtree t;
	struct err e = { 0 };
	assert_int_equal(cgtree_generate(&t, "pair:2:3", &e), 0);
	assert_int_equal(t.ninst, 2);
	cgtree_free(&t);
	static const char *const bad[] = { "pair:2:3x", "pair:2x:3", "pair:2:3:4", "pair:2", "pair::3", "pair: 2:3",
					   "pair:0:3", "pair:2:101", "pairs:2:3" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (!cgtree_generate(&t, bad[i], &e))
			fail_msg("'%s' accepted", bad[i]);
		cgtree_free(&t);
	}
	assert_int_equal(cgtree_generate(&t, "pair:2:3x", &e), -1);
	assert_non_null(strstr(e.msg, "cgroup tree 'pair:2:3x': RATIO = '3x' is not a whole number"));
	cgtree_free(&t);
}

static void test_tree_names_fit_the_plan(void **state)
{
	/* instances numbered exactly; a cgroup path that would make a plan section too long */
	put_file(dir, "cgroups/plus.ini", "[tree]\n[instance.1]\ncgroup = a\n[instance.+1]\ncgroup = b\n");
	put_file(dir, "cgroups/long.ini", "[tree]\n[instance.1]\ncgroup = abcdefghij/abcdefghij/abcdefghij/abcdefghijk\n");
	expect_load_error(req("nginx", NULL, "plus"), dir,
			  "[instance.+1]: instances must be numbered 1, 2, 3");
	expect_load_error(req("nginx", NULL, "long"), dir,
			  "is longer than 42 characters");
}

static void test_plan_is_checked_as_the_guest_reads_it(void **state)
{
	/* an external policy's arguments go into the plan: a " ;" would be cut by inih */
	struct request r = { .policy = "external:/bin/true -v ; reboot", .workload = "nginx" };
	expect_load_error(r, "configs", "[run.1] args = '-v ; reboot' would reach the guest as '-v'");
	char *longargs = xasprintf("external:/bin/true %0*d", 200, 0);
	r.policy = longargs;
	expect_load_error(r, "configs", "[run.1] args = '0000");
	expect_load_error(r, "configs", "characters long; a line of the guest's plan holds at most 197");
	free(longargs);

	/* what the host accepts, the guest's reading accepts: write a plan, load it as the guest does */
	struct experiment x;
	struct err e = { 0 };
	struct request ok = { .policies = "cfs fifo", .workload = "apache", .cgroups = "pair:3:2", .repeats = "2" };
	assert_int_equal(experiment_load(&x, "configs", &ok, &e), 0);
	struct cfg plan, back;
	experiment_plan(&x, &plan);
	char *p = xasprintf("%s/plan.ini", dir);
	FILE *f = fopen(p, "w");
	assert_int_equal(cfg_write(&plan, f), 0);
	fclose(f);
	if (plan_load(&back, p, &e))
		fail_msg("%s", e.msg);
	cfg_free(&back);
	/* the guest's checks refuse an incomplete plan, and unsafe parameter values */
	cfg_set(&plan, "plan", "runs", "5");
	f = fopen(p, "w");
	assert_int_equal(cfg_write(&plan, f), 0);
	fclose(f);
	assert_int_equal(plan_load(&back, p, &e), -1);
	assert_non_null(strstr(e.msg, "plan section [run.5] is incomplete"));
	cfg_free(&back);
	cfg_set(&plan, "plan", "runs", "4");
	cfg_set(&plan, "workload.params", "mpm", "a;b");
	assert_int_equal(plan_check(&plan, &e), -1);
	assert_non_null(strstr(e.msg, "[workload.params] mpm = 'a;b' is not a word"));
	cfg_set(&plan, "workload.params", "mpm", "event");
	cfg_set(&plan, "workload", "window", "always");
	assert_int_equal(plan_check(&plan, &e), -1);
	assert_non_null(strstr(e.msg, "window"));
	assert_non_null(strstr(e.msg, "marks|lifetime"));
	cfg_set(&plan, "workload", "window", "lifetime");
	assert_int_equal(plan_check(&plan, &e), 0);
	cfg_set(&plan, "instance.2", "params", "port=1|2");
	assert_int_equal(plan_check(&plan, &e), -1);
	assert_non_null(strstr(e.msg, "[instance.2] params: port = '1|2' is not a word"));
	cfg_free(&plan);
	experiment_free(&x);
	free(p);
}

static int setup(void **state)
{
	dir = scratch_dir();
	char *cmd = xasprintf("cp -r configs/. %s/", dir);
	int rc = system(cmd);
	free(cmd);
	return rc;
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
		cmocka_unit_test(test_every_config_loads_through_its_schema),
		cmocka_unit_test(test_params_are_checked_against_their_types),
		cmocka_unit_test(test_instance_overrides_are_checked),
		cmocka_unit_test(test_workload_types_are_required_and_valid),
		cmocka_unit_test(test_pair_specs_are_whole),
		cmocka_unit_test(test_tree_names_fit_the_plan),
		cmocka_unit_test(test_plan_is_checked_as_the_guest_reads_it),
	};
	return cmocka_run_group_tests_name("config kinds", tests, setup, teardown);
}
