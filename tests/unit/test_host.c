/* The host runner's pure parts: the QEMU command line per clock and VM shape, the time left
 * shown in the progress display, and reproduce.sh's text (run against a stand-in make, so
 * the quoting is checked by a real shell). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "experiment.h"
#include "outcome.h"
#include "qemu.h"
#include "reproduce.h"
#include "testutil.h"

static void load(struct experiment *x, struct request *r)
{
	struct err e = { 0 };
	if (!r->workload)
		r->workload = "nginx";
	if (experiment_load(x, "configs", r, &e))
		fail_msg("experiment_load: %s", e.msg);
}

/* The word after the n-th (0-based) occurrence of flag in a, NULL when there is none. */
static const char *after(const struct strv *a, const char *flag, int n)
{
	for (size_t i = 0; i + 1 < a->n; i++)
		if (!strcmp(a->v[i], flag) && n-- == 0)
			return a->v[i + 1];
	return NULL;
}

static void boot_argv(struct request *r, struct strv *a)
{
	struct experiment x;
	load(&x, r);
	qemu_argv(&x, "/img", "/build/kernel/initramfs.img", "/st/.job.tar", "/st/.results.img", NULL, a);
	experiment_free(&x);
}

/* a boot made to be saved, and one restoring it: the cold line but for the root disk, the
 * kernel command line's flag and -qmp / -incoming after the drives */
static void test_qemu_argv_saving_and_restoring(void **state)
{
	struct request r = { .policies = "cfs", .clock = "virtual" };
	struct experiment x;
	load(&x, &r);
	struct qemu_snap save = { .overlay = "/c/tmp/root.qcow2", .qmp = "/tmp/q.sock" };
	struct qemu_snap restore = { .overlay = "/st/.root.qcow2", .incoming = "/c/k/state" };
	struct strv cold = { 0 }, s = { 0 }, in = { 0 };
	qemu_argv(&x, "/img", "/i", "/st/.job.tar", "/st/.results.img", NULL, &cold);
	qemu_argv(&x, "/img", "/i", "/st/.job.tar", "/st/.results.img", &save, &s);
	qemu_argv(&x, "/img", "/i", "/st/.job.tar", "/st/.results.img", &restore, &in);
	assert_null(strstr(after(&cold, "-append", 0), SNAPSHOT_CMDLINE_FLAG));
	for (int k = 0; k < 2; k++) {
		struct strv *a = k ? &in : &s;
		char *want = xasprintf("%s %s", after(&cold, "-append", 0), SNAPSHOT_CMDLINE_FLAG);
		assert_string_equal(after(a, "-append", 0), want);
		free(want);
		assert_string_equal(after(a, "-drive", 1), after(&cold, "-drive", 1));
		assert_string_equal(after(a, "-drive", 2), after(&cold, "-drive", 2));
		assert_string_equal(after(a, "-icount", 0), "shift=3,sleep=off");
		assert_string_equal(after(a, "-global", 0), "migration.mapped-ram=on");
		assert_string_equal(after(a, "-global", 1), "migration.store-global-state=off");
	}
	assert_null(after(&cold, "-global", 0));
	assert_string_equal(after(&s, "-drive", 0), "file=/c/tmp/root.qcow2,if=virtio,format=qcow2,cache=unsafe");
	assert_string_equal(after(&s, "-qmp", 0), "unix:/tmp/q.sock,server=on,wait=off");
	assert_null(after(&s, "-incoming", 0));
	assert_string_equal(after(&in, "-drive", 0), "file=/st/.root.qcow2,if=virtio,format=qcow2,cache=unsafe");
	assert_string_equal(after(&in, "-incoming", 0), "file:/c/k/state");
	assert_null(after(&in, "-qmp", 0));
	/* the same machine at save and restore: only the root overlay's path and -qmp/-incoming differ */
	assert_int_equal(s.n, in.n);
	assert_null(in.v[in.n]);
	strv_free(&cold);
	strv_free(&s);
	strv_free(&in);
	experiment_free(&x);
}

static void test_qemu_argv_per_clock_and_shape(void **state)
{
	struct strv a = { 0 };
	struct request r = { .policies = "cfs", .clock = "virtual" };
	boot_argv(&r, &a);
	assert_string_equal(a.v[0], "qemu-system-x86_64");
	assert_null(a.v[a.n]);				/* ready for execvp */
	assert_string_equal(after(&a, "-accel", 0), "tcg,thread=single");
	assert_string_equal(after(&a, "-icount", 0), "shift=3,sleep=off");
	assert_string_equal(after(&a, "-smp", 0), "2,sockets=1,cores=2,threads=1");
	assert_string_equal(after(&a, "-m", 0), "2048");
	assert_string_equal(after(&a, "-cpu", 0), "max");
	assert_string_equal(after(&a, "-kernel", 0), "/img/vmlinuz");
	assert_string_equal(after(&a, "-initrd", 0), "/build/kernel/initramfs.img");
	assert_non_null(strstr(after(&a, "-append", 0), "init=/sbin/scxlab-init"));
	/* the disks in the order the guest expects them: vda rootfs, vdb the job, vdc results */
	assert_string_equal(after(&a, "-drive", 0), "file=/img/rootfs.ext4,if=virtio,format=raw,snapshot=on");
	assert_string_equal(after(&a, "-drive", 1), "file=/st/.job.tar,if=virtio,format=raw,readonly=on");
	assert_string_equal(after(&a, "-drive", 2), "file=/st/.results.img,if=virtio,format=raw");
	assert_null(after(&a, "-drive", 3));
	assert_string_equal(after(&a, "-serial", 0), "stdio");
	assert_string_equal(after(&a, "-nic", 0), "none");
	strv_free(&a);

	/* the real clock: multi-threaded TCG and no instruction counting at all */
	r.clock = "real";
	boot_argv(&r, &a);
	assert_string_equal(after(&a, "-accel", 0), "tcg,thread=multi");
	for (size_t i = 0; i < a.n; i++)
		assert_string_not_equal(a.v[i], "-icount");
	strv_free(&a);

	/* an SMT shape: 4 vCPUs as 2 cores x 2 threads */
	r.clock = NULL;
	r.vm = "smt";
	boot_argv(&r, &a);
	assert_string_equal(after(&a, "-smp", 0), "4,sockets=1,cores=2,threads=2");
	assert_string_equal(after(&a, "-icount", 0), "shift=3,sleep=off");	/* the default clock */
	strv_free(&a);

	/* ICOUNT_SHIFT: the virtual clock's shift replaced, its other options kept; it means CLOCK=virtual */
	r.vm = NULL;
	r.icount_shift = "2";
	boot_argv(&r, &a);
	assert_string_equal(after(&a, "-accel", 0), "tcg,thread=single");
	assert_string_equal(after(&a, "-icount", 0), "shift=2,sleep=off");
	strv_free(&a);
}

/* The -icount value's shift, read and replaced; shift=auto and a real clock's empty icount have none. */
static void test_icount_shift(void **state)
{
	assert_int_equal(icount_shift_of("shift=3,sleep=off"), 3);
	assert_int_equal(icount_shift_of("sleep=off,shift=10"), 10);
	assert_int_equal(icount_shift_of("4"), 4);
	assert_int_equal(icount_shift_of("shift=auto,sleep=off"), -1);
	assert_int_equal(icount_shift_of("shift=11"), -1);
	assert_int_equal(icount_shift_of("shift=3x"), -1);
	assert_int_equal(icount_shift_of(""), -1);
	assert_int_equal(icount_shift_of(NULL), -1);
	char *s = icount_with_shift("shift=3,sleep=off", 0);
	assert_string_equal(s, "shift=0,sleep=off");
	free(s);
	s = icount_with_shift("sleep=off,align=off,shift=auto", 5);
	assert_string_equal(s, "shift=5,sleep=off,align=off");
	free(s);
	s = icount_with_shift("3", 2);
	assert_string_equal(s, "shift=2");
	free(s);
	assert_int_equal(icount_shift_of(s = icount_with_shift("sleep=off", 7)), 7);
	free(s);
}

/* ICOUNT_SHIFT is recorded as the experiment's shift, and refused with what has no instruction count. */
static void test_icount_shift_request(void **state)
{
	struct experiment x;
	struct request r = { .policies = "cfs fifo" };
	load(&x, &r);
	assert_int_equal(x.icount_shift, 3);	/* configs/vms/default.ini */
	experiment_free(&x);
	r.icount_shift = "4";
	load(&x, &r);
	assert_int_equal(x.icount_shift, 4);
	assert_string_equal(x.clock, "virtual");
	assert_string_equal(x.icount, "shift=4,sleep=off");
	experiment_free(&x);
	r.icount_shift = NULL;
	r.clock = "real";
	load(&x, &r);
	assert_int_equal(x.icount_shift, -1);
	experiment_free(&x);

	static const struct { const char *shift, *clock, *accel, *target, *says; } bad[] = {
		{ "11", NULL, NULL, NULL, "whole number from 0 to 10" },
		{ "-1", NULL, NULL, NULL, "whole number from 0 to 10" },
		{ "auto", NULL, NULL, NULL, "whole number from 0 to 10" },
		{ "3 ", NULL, NULL, NULL, "whole number from 0 to 10" },
		{ "3", "real", NULL, NULL, "CLOCK = 'real' has none" },
		{ "3", NULL, "kvm", NULL, "ACCEL=kvm runs on the real clock" },
		{ "3", NULL, NULL, "host", "does not go with TARGET=host" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct request b = { .policies = "cfs fifo", .workload = "nginx", .icount_shift = bad[i].shift,
				     .clock = bad[i].clock, .accel = bad[i].accel, .target = bad[i].target };
		struct err e = { 0 };
		assert_int_not_equal(experiment_load(&x, "configs", &b, &e), 0);
		if (!strstr(e.msg, bad[i].says))
			fail_msg("ICOUNT_SHIFT=%s: '%s' lacks '%s'", bad[i].shift, e.msg, bad[i].says);
		experiment_free(&x);
	}
}

/* Runs script with a stand-in make (it prints each argument on its own line) and git (at the
 * script's commit, abc123) in a folder that looks like a checkout; returns what make got. */
static char *make_args_of(const char *script_text)
{
	char *dir = scratch_dir();
	put_file(dir, "repo/Makefile", "");
	put_file(dir, "repo/runners/host/scxlab.c", "");
	put_file(dir, "bin/make", "#!/bin/sh\nfor a; do printf '%s\\n' \"$a\"; done\n");
	put_file(dir, "bin/git", "#!/bin/sh\necho abc123\n");
	put_file(dir, "r/reproduce.sh", script_text);
	char *mk = xasprintf("%s/bin/make", dir), *git = xasprintf("%s/bin/git", dir);
	chmod(mk, 0755);
	chmod(git, 0755);
	char *path = xasprintf("PATH=%s/bin:%s", dir, getenv("PATH")), *repo = xasprintf("SCXLAB_REPO=%s/repo", dir);
	char *sh = xasprintf("%s/r/reproduce.sh", dir), *outp = xasprintf("%s/out", dir);
	char *argv[] = { "sh", sh, "DURATION=2", NULL };
	char *env[] = { path, repo, NULL };
	assert_int_equal(run_cmd(argv, outp, env, NULL, 30), 0);
	char *got = read_file(outp, NULL);
	assert_non_null(got);
	remove_tree(dir);
	free(dir);
	free(mk);
	free(git);
	free(sh);
	free(path);
	free(repo);
	free(outp);
	return got;
}

/* line (with its '\n') is one of text's lines */
static bool has_line(const char *text, const char *line)
{
	char *want = xasprintf("\n%s\n", line), *hay = xasprintf("\n%s", text);
	bool yes = strstr(hay, want) != NULL;
	free(want);
	free(hay);
	return yes;
}

static void test_reproduce_script(void **state)
{
	struct experiment x;
	struct request r = { .policies = "cfs fifo", .params = "connections=8 threads=1", .duration = "3",
			     .repeats = "2" };
	load(&x, &r);
	char *s = reproduce_script(&x, "20261202-000000-nginx-cfs+fifo", "abc123", "make compare\nPOLICIES='x'\t\x7f",
				   r.params);
	assert_int_equal(strncmp(s, "#!/bin/sh\n", 10), 0);
	/* the command the user typed stays on its comment line: control characters become '?' */
	assert_true(has_line(s, "# Original command: make compare?POLICIES='x'??"));
	assert_true(has_line(s, "# Reruns the experiment behind this result directory (20261202-000000-nginx-cfs+fifo)."));
	assert_true(has_line(s, "exec make compare POLICIES='cfs fifo' WORKLOAD=nginx DURATION=3 REPEATS=2 CLOCK=virtual "
			      "ACCEL=tcg ICOUNT_SHIFT=3 TARGET=vm VM=default MONITORS='' CGROUPS='' PARAMS='connections=8 threads=1' \"$@\""));
	/* what make gets: each value one argument, and the caller's overrides last */
	char *got = make_args_of(s);
	assert_string_equal(got, "compare\nPOLICIES=cfs fifo\nWORKLOAD=nginx\nDURATION=3\nREPEATS=2\nCLOCK=virtual\n"
			    "ACCEL=tcg\nICOUNT_SHIFT=3\nTARGET=vm\nVM=default\nMONITORS=\nCGROUPS=\nPARAMS=connections=8 threads=1\nDURATION=2\n");
	free(got);
	free(s);
	/* no command given */
	s = reproduce_script(&x, "id", "abc123", NULL, NULL);
	assert_true(has_line(s, "# Original command: (not given)"));
	assert_non_null(strstr(s, " PARAMS='' \"$@\"\n"));
	free(s);
	experiment_free(&x);

	/* external policies: joined with ';' and a trailing ';', so that arguments stay with their
	 * binary and a single external policy with arguments is one piece; quotes survive */
	char *dir = scratch_dir();
	put_file(dir, "scx_simple", "#!/bin/sh\n");
	char *bin = xasprintf("%s/scx_simple", dir);
	chmod(bin, 0755);
	char *spec = xasprintf("external:%s -v", bin);
	struct request one = { .policy = spec };
	load(&x, &one);
	s = reproduce_script(&x, "id", "abc123", "c", NULL);
	char *want = xasprintf("POLICIES=%s;\n", spec);
	got = make_args_of(s);
	assert_non_null(strstr(got, want));
	free(got);
	free(want);
	free(s);
	experiment_free(&x);

	char *pols = xasprintf("cfs;%s;fifo", spec);
	struct request two = { .policies = pols, .precision = "2", .max_repeats = "9" };
	load(&x, &two);
	s = reproduce_script(&x, "id", "abc123", "c", NULL);
	want = xasprintf("exec make compare POLICIES='cfs;%s;fifo;' WORKLOAD=nginx ", spec);
	assert_non_null(strstr(s, want));
	assert_non_null(strstr(s, " PRECISION=2 MAX_REPEATS=9 CLOCK=virtual "));
	free(want);
	got = make_args_of(s);
	want = xasprintf("POLICIES=cfs;%s;fifo;\n", spec);
	assert_non_null(strstr(got, want));
	assert_non_null(strstr(got, "\nPRECISION=2\nMAX_REPEATS=9\n"));
	free(got);
	free(want);
	free(s);
	experiment_free(&x);
	free(pols);
	free(spec);
	free(bin);
	remove_tree(dir);
	free(dir);

	char *t = one_line("a\r\nb\x1b[0m\x7f");
	assert_string_equal(t, "a??b?[0m?");
	free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_qemu_argv_per_clock_and_shape),
		cmocka_unit_test(test_qemu_argv_saving_and_restoring),
		cmocka_unit_test(test_reproduce_script),
		cmocka_unit_test(test_icount_shift),
		cmocka_unit_test(test_icount_shift_request),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
