/*
 * `scxlab selfcheck-host` (make selfcheck-host): TARGET=host proven on a machine that has
 * sched_ext, the pinned guest. It boots the guest with a selfcheck job (runners/common/selfcheck.h)
 * whose agent runs scxlab's own host runner, from the job's copy of the checkout (configs/,
 * workloads/, the built runners and the loaders the checks need), with TARGET=host, once per check:
 *   1. compare cfs and fifo on nginx                          expect: valid
 *   2. fifo on nginx in the cgroup tree deep4-2to1            expect: valid (the tree recorded)
 *   3. faulty on nginx (scx_bpf_error 5 s after loading)      expect: ejected (INVALID, exit 1)
 *   4. fifo on nginx, SIGINT 2 s into the measurement        expect: interrupted (INVALID, exit 1)
 * and after each one checks that the machine is as it was (hostcheck.h). The inner results come
 * back on the results disk into results/<id>-selfcheck-host/inner/, next to selfcheck.json (the
 * agent's verdicts), guest/ (the guest's environment, each inner runner's stdout), raw/console.log
 * and raw/plan.ini. The folder is -INVALID when a check failed. `./scxlab selfcheck-host` then
 * checks each inner result with analysis/ on this host.
 *
 * `scxlab selfcheck-kvm` (make selfcheck-kvm): ACCEL=kvm proven where no usable /dev/kvm exists.
 * It boots the guest (VM=selfcheck-l1: -cpu max, so under TCG it sees AMD SVM and kvm_amd loads)
 * and its agent runs scxlab with TARGET=vm ACCEL=kvm CLOCK=real VM=nested: the inner runner
 * boots a nested sched_ext guest (L2) under the guest's /dev/kvm for one short experiment
 *   1. fifo on perf-pipe                                       expect: valid, accel kvm
 * The job carries the image's kernel, initrds and records (image/) and scxlab's initramfs; the
 * image's root filesystem comes as a fourth disk (snapshot=on), which the agent links in as the
 * nested image's rootfs.ext4. The result is results/<id>-selfcheck-kvm/, checked the same way.
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "experiment.h"
#include "host.h"
#include "results.h"
#include "selfcheck.h"
#include "util.h"

struct check {
	const char *policies, *workload, *cgroups, *expect;
	long min_duration;	/* the check needs at least this long a measurement */
	long interrupt_after_s;
	/* the inner target; for vm its shape, accelerator and clock */
	const char *target, *vm, *accel, *clock;
};
static const struct check host_checks[] = {
	{ "cfs fifo", "nginx", NULL, "valid", 0, 0, "host", NULL, NULL, NULL },
	{ "fifo", "nginx", "deep4-2to1", "valid", 0, 0, "host", NULL, NULL, NULL },
	/* faulty errors 5 s after loading: inside the measurement after nginx's 2 s warm-up */
	{ "faulty", "nginx", NULL, "ejected", 6, 0, "host", NULL, NULL, NULL },
	/* SIGINT 2 s into the measurement, which is long enough that it lands there */
	{ "fifo", "nginx", NULL, "interrupted", 30, 2, "host", NULL, NULL, NULL },
};
/* the smallest experiment that is a valid result: a sched_ext policy in charge, one run; perf-pipe
 * needs no network and little memory, and its round trips stay on the nested guest's one vCPU */
static const struct check kvm_checks[] = {
	{ "fifo", "perf-pipe", NULL, "valid", 0, 0, "vm", "nested", "kvm", "real" },
};
#define MAXCHECKS (sizeof(host_checks) / sizeof(host_checks[0]))
_Static_assert(sizeof(kvm_checks) <= sizeof(host_checks), "MAXCHECKS must hold every kind's checks");

struct selfcheck_kind {
	const char *name;	/* the command is selfcheck-<name> */
	const struct check *checks;
	size_t n;
	const char *vm;		/* the guest the checks run in */
};
static const struct selfcheck_kind kinds[] = {
	{ "host", host_checks, sizeof(host_checks) / sizeof(host_checks[0]), "default" },
	{ "kvm", kvm_checks, sizeof(kvm_checks) / sizeof(kvm_checks[0]), "selfcheck-l1" },
};

static void copy_file_or_die(const char *from, const char *to)
{
	if (copy_file(from, to, 0755))
		die(EXIT_INFRA, "cannot copy %s to %s: %s%s", from, to, errno_text(errno),
		    errno == ENOENT ? " (run 'make build')" : "");
}

/* The image's files a nested guest boots from, besides its root filesystem (the fourth disk):
 * its kernel and initrds, and what the inner runner records of the image in its manifest. */
static const char *const nested_image_files[] = { "vmlinuz", "initrd.img", "kernel-release", "kconfig",
						  "versions.txt", "lock-deviations.txt" };

/* The job: bin/scxlab-guest (PID 1), repo/ (the checkout the inner runner uses) and plan.ini; for
 * selfcheck-kvm also image/ and repo/build/kernel/initramfs.img. */
static void selfcheck_job(struct ctx *c, const struct selfcheck_kind *kind, struct experiment *inner,
			  const long *durations)
{
	const struct check *checks = kind->checks;
	const size_t nchecks = kind->n;
	struct opts *o = c->o;
	c->jobdir = xasprintf("%s/.job", c->staging);
	char *repo = xasprintf("%s/repo", c->jobdir);
	static const char *const dirs[] = { "bin", "repo/build/runners", "repo/build/schedulers" };
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		char *d = xasprintf("%s/%s", c->jobdir, dirs[i]);
		if (mkdir_p(d, 0755))
			die(EXIT_INFRA, "cannot create %s: %s", d, errno_text(errno));
		free(d);
	}
	static const char *const runners[] = { "scxlab", "scxlab-guest" };
	for (size_t i = 0; i < 2; i++) {
		char *from = xasprintf("%s/runners/%s", o->build, runners[i]);
		char *to = xasprintf("%s/build/runners/%s", repo, runners[i]);
		copy_file_or_die(from, to);
		free(to);
		if (i == 1) {
			to = xasprintf("%s/bin/scxlab-guest", c->jobdir);
			copy_file_or_die(from, to);
			free(to);
		}
		free(from);
	}
	for (size_t k = 0; k < nchecks; k++)
		for (size_t i = 0; i < inner[k].npol; i++) {
			const char *l = inner[k].pol[i].loader;
			if (!*l)
				continue;
			char *d = xasprintf("%s/build/schedulers/%s", repo, l);
			char *from = xasprintf("%s/schedulers/%s/%s", o->build, l, l), *to = xasprintf("%s/%s", d, l);
			mkdir_p(d, 0755);
			copy_file_or_die(from, to);
			free(d);
			free(from);
			free(to);
		}
	char *cfgs = xasprintf("%s/configs", o->repo), *wls = xasprintf("%s/workloads", o->repo);
	job_copy_tree(c, cfgs, repo);
	job_copy_tree(c, wls, repo);
	free(cfgs);
	free(wls);
	char *bwl = xasprintf("%s/workloads", o->build), *bto = xasprintf("%s/build", repo);
	if (is_dir(bwl))
		job_copy_tree(c, bwl, bto);
	free(bwl);
	free(bto);
	if (c->nested_rootfs) {
		char *img = xasprintf("%s/image", c->jobdir), *kdir = xasprintf("%s/build/kernel", repo);
		if (mkdir_p(img, 0755) || mkdir_p(kdir, 0755))
			die(EXIT_INFRA, "cannot create %s: %s", img, errno_text(errno));
		for (size_t i = 0; i < sizeof(nested_image_files) / sizeof(nested_image_files[0]); i++) {
			char *from = xasprintf("%s/%s", o->image, nested_image_files[i]);
			char *to = xasprintf("%s/%s", img, nested_image_files[i]);
			if (path_exists(from))	/* vmlinuz, initrd.img and kernel-release were checked */
				copy_file_or_die(from, to);
			free(from);
			free(to);
		}
		char *from = xasprintf("%s/kernel/initramfs.img", o->build), *to = xasprintf("%s/initramfs.img", kdir);
		copy_file_or_die(from, to);
		free(from);
		free(to);
		free(img);
		free(kdir);
	}

	struct cfg plan = { 0 };
	char num[32];
	snprintf(num, sizeof(num), "%zu", nchecks);
	cfg_set(&plan, "selfcheck", "checks", num);
	for (size_t k = 0; k < nchecks; k++) {
		char sec[32];
		snprintf(sec, sizeof(sec), "check.%zu", k + 1);
		cfg_set(&plan, sec, "policies", checks[k].policies);
		cfg_set(&plan, sec, "workload", checks[k].workload);
		snprintf(num, sizeof(num), "%ld", durations[k]);
		cfg_set(&plan, sec, "duration", num);
		cfg_set(&plan, sec, "repeats", "1");
		if (checks[k].cgroups)
			cfg_set(&plan, sec, "cgroups", checks[k].cgroups);
		cfg_set(&plan, sec, "expect", checks[k].expect);
		snprintf(num, sizeof(num), "%ld", checks[k].interrupt_after_s);
		cfg_set(&plan, sec, "interrupt_after_s", num);
		cfg_set(&plan, sec, "target", checks[k].target);
		if (checks[k].vm)
			cfg_set(&plan, sec, "vm", checks[k].vm);
		if (checks[k].accel)
			cfg_set(&plan, sec, "accel", checks[k].accel);
		if (checks[k].clock)
			cfg_set(&plan, sec, "clock", checks[k].clock);
	}
	char *pp = xasprintf("%s/plan.ini", c->jobdir);
	FILE *f = fopen(pp, "w");
	if (!f || cfg_write(&plan, f) || fclose(f))
		die(EXIT_INFRA, "cannot write %s: %s", pp, errno_text(errno));
	struct err e = { 0 };
	struct cfg back = { 0 };
	if (plan_load(&back, pp, &e))	/* the agent's own checks, before the boot */
		die(EXIT_INFRA, "the selfcheck plan does not pass the agent's checks: %s", e.msg);
	cfg_free(&back);
	char *rawplan = xasprintf("%s/plan.ini", c->raw);
	copy_file(pp, rawplan, 0);
	free(rawplan);
	free(pp);
	cfg_free(&plan);
	free(repo);
}

int selfcheck_command(int argc, char **argv)
{
	const struct selfcheck_kind *kind = !strcmp(argv[1], "selfcheck-kvm") ? &kinds[1] : &kinds[0];
	const struct check *checks = kind->checks;
	const size_t nchecks = kind->n;
	struct opts o = { .repo = ".", .image = getenv("IMAGE_DIR") };
	const char *duration = "3";
	static const struct option longopts[] = {
		{ "repo", 1, 0, 'R' }, { "results", 1, 0, 'r' }, { "image", 1, 0, 'i' }, { "build", 1, 0, 'b' },
		{ "duration", 1, 0, 'd' }, { "clock", 1, 0, 'c' }, { "command", 1, 0, 'm' }, { 0 } };
	int ch;
	optind = 2;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'R': o.repo = optarg; break;
		case 'r': o.results = optarg; break;
		case 'i': o.image = optarg; break;
		case 'b': o.build = optarg; break;
		case 'd': duration = *optarg ? optarg : "3"; break;
		case 'c': o.req.clock = optarg; break;
		case 'm': o.command = optarg; break;
		default: die(EXIT_USAGE, "usage: scxlab selfcheck-%s [--duration S] [--clock C] [--results DIR] "
			     "[--repo DIR]", kind->name);
		}
	}
	if (optind < argc)
		die(EXIT_USAGE, "unexpected argument '%s'", argv[optind]);
	o.configs = xasprintf("%s/configs", o.repo);
	if (!o.results)
		o.results = xasprintf("%s/results", o.repo);
	if (!o.build)
		o.build = xasprintf("%s/build", o.repo);

	/* every inner request is checked here, as the inner runner will, before anything boots */
	struct experiment inner[MAXCHECKS];
	long durations[MAXCHECKS];
	size_t inner_runs = 0;
	long longest = 0, nested_boot_s = 0;
	struct err e = { 0 };
	for (size_t k = 0; k < nchecks; k++) {
		char *end;
		long d = strtol(duration, &end, 10);
		if (*end || d < 1 || d > 600)
			die(EXIT_USAGE, "DURATION=%s: give whole seconds from 1 to 600", duration);
		durations[k] = d > checks[k].min_duration ? d : checks[k].min_duration;
		char dur[32];
		snprintf(dur, sizeof(dur), "%ld", durations[k]);
		struct request r = { .policies = checks[k].policies, .workload = checks[k].workload,
				     .cgroups = checks[k].cgroups, .duration = dur, .repeats = "1",
				     .target = checks[k].target, .vm = checks[k].vm, .accel = checks[k].accel,
				     .clock = checks[k].clock };
		if (experiment_load(&inner[k], o.configs, &r, &e))
			die(EXIT_USAGE, "selfcheck check %zu: %s", k + 1, e.msg);
		inner_runs += experiment_nruns(&inner[k]);
		if (durations[k] + inner[k].warmup > longest)
			longest = durations[k] + inner[k].warmup;
		/* a nested guest's boot is part of the check's time, but not of its runs' (the time-left estimate) */
		if (!strcmp(checks[k].target, "vm"))
			nested_boot_s += inner[k].boot_timeout;
	}
	/* the guest: the default VM shape and clock (CLOCK= may ask for the other). The virtual clock is
	 * slower on a busy host but immune to it: under the real clock a host stalling the guest made
	 * wrk time out (13 timeouts, the cfs run invalid, with the load average at 12 on 2 cores) */
	struct ctx c = { .o = &o, .t0 = mono_now(), .problems = json_array() };
	struct request vm = { .policies = "cfs", .workload = "nginx", .target = "vm", .clock = o.req.clock,
			      .vm = kind->vm, .accel = "tcg" };
	if (experiment_load(&c.x, o.configs, &vm, &e))
		die(EXIT_USAGE, "%s", e.msg);
	int snap = snapshot_switch(getenv("SCXLAB_SNAPSHOT"), &e);
	if (snap < 0)
		die(EXIT_USAGE, "%s", e.msg);
	c.snapshot_on = snap;
	static const char *const need[] = { "rootfs.ext4", "vmlinuz", "initrd.img", "kernel-release" };
	if (!o.image || !*o.image)
		die(EXIT_INFRA, "no guest image given (IMAGE_DIR or --image); run 'make setup'");
	for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++) {
		char *p = xasprintf("%s/%s", o.image, need[i]);
		if (!path_exists(p))
			die(EXIT_INFRA, "the guest image is missing %s; run 'make setup' to build it", p);
		free(p);
	}
	/* the run budget counts the inner runs, each with its runner's start and the host checks */
	c.nruns = inner_runs + nchecks;
	c.x.duration = longest;
	c.extra_run_budget_s = nested_boot_s;
	c.x.warmup = 0;
	if (strcmp(kind->name, "host"))	/* the nested guests' root filesystem, as the fourth disk */
		c.nested_rootfs = xasprintf("%s/rootfs.ext4", o.image);
	c.id = results_new_id(o.results, "selfcheck", &kind->name, 1, (long long)time(NULL));
	staging_create(&c);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);
	progress(&c, "%s: %zu check%s of TARGET=%s inside the guest (%zu inner run%s), clock=%s", c.id, nchecks,
		 nchecks > 1 ? "s" : "", checks[0].target, inner_runs, inner_runs > 1 ? "s" : "", c.x.clock);
	selfcheck_job(&c, kind, inner, durations);
	run_vm(&c);
	if (interrupted)
		problem(&c, "interrupted by signal %d", (int)interrupted);
	bool never_up = !c.boot_s && !interrupted;
	if (never_up)
		problem(&c, "the guest never came up: the target could not be booted (exit code 3)");
	remove_tree(c.jobdir);

	/* the agent's verdicts: every check as expected, the machine clean after each */
	char *sp = xasprintf("%s/selfcheck.json", c.staging);
	json_t *doc = json_load_file(sp, 0, NULL);
	free(sp);
	if (!c.guest_done && !never_up)
		problem(&c, "the guest stopped before it finished its checks; see raw/console.log");
	size_t i;
	json_t *chk;
	json_array_foreach(json_object_get(doc, "checks"), i, chk) {
		if (json_is_true(json_object_get(chk, "passed")))
			continue;
		char *left = json_dumps(json_object_get(chk, "leftovers"), JSON_COMPACT);
		problem(&c, "check %zu (expect %s) failed: exit code %lld (expected %lld), result %s, leftovers %s", i + 1,
			json_string_value(json_object_get(chk, "expect")),
			json_integer_value(json_object_get(chk, "exit_code")),
			json_integer_value(json_object_get(chk, "expected_exit_code")),
			json_string_value(json_object_get(chk, "result")) ?: "(none)", left ?: "[]");
		free(left);
	}
	if (doc && json_array_size(json_object_get(doc, "checks")) != nchecks)
		problem(&c, "selfcheck.json has %zu checks of %zu", json_array_size(json_object_get(doc, "checks")), nchecks);
	else if (!doc && !never_up)
		problem(&c, "the guest left no selfcheck.json");
	json_decref(doc);
	bool valid = json_array_size(c.problems) == 0;
	if (!valid) {
		char *ip = xasprintf("%s/INVALID", c.staging), *txt = json_dumps(c.problems, JSON_INDENT(2));
		write_text(ip, "The selfcheck failed. Reasons:\n%s\n", txt);
		free(txt);
		free(ip);
	}
	char *final = results_finalize(o.results, c.id, valid, &e);
	if (!final)
		die(EXIT_INFRA, "%s", e.msg);
	progress(&c, "%s after %.0f s", valid ? "selfcheck passed" : "selfcheck FAILED", mono_now() - c.t0);
	printf("%s\n", final);
	free(final);
	for (size_t k = 0; k < nchecks; k++)
		experiment_free(&inner[k]);
	return valid ? EXIT_OK : never_up ? EXIT_INFRA : EXIT_INVALID_RUN;
}
