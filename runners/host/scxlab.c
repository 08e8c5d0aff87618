/*
 * scxlab: the host-side experiment runner (what `make experiment` and `make compare` call).
 *
 *   scxlab run --policies "cfs fifo" --workload nginx [--duration S] [--repeats N]
 *              [--clock virtual|real] [--icount-shift N] [--target vm|host]
 *
 * 1. Reads configs/ (runners/common/experiment.c) and refuses bad input before touching
 *    anything: the error names the problem and the valid choices; exit code 2.
 * 2. Assembles a job: the plan (one section per run, policies interleaved), the guest agent,
 *    the policies' loaders and the workload's folder, as a tar.
 * 3. TARGET=vm: boots the pinned sched_ext guest under QEMU TCG (the clock decides
 *    -accel/-icount), the job tar as the second disk and an empty results disk as the third,
 *    and follows the serial console: every line goes to raw/console.log, "SCXLAB ..." lines
 *    drive the progress display (phase, run k of n, time left). TARGET=host runs the agent
 *    directly, only on a kernel that has sched_ext.
 * 4. Unpacks what the guest wrote, adds manifest.json (every factor of the setup), summary.json,
 *    reproduce.sh and raw/ host-side records, and renames the staging folder to
 *    results/<id>/ (or results/<id>-INVALID/ if any run is invalid). Prints a summary and, as
 *    its last line, the result directory. Exit code 0 when every run is valid, 1 otherwise.
 *
 * This file holds the command line, the validation and the run's control flow; the steps are
 * in the modules that host.h lists (job.c, target.c, progress.c, manifest.c, staging.c).
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "experiment.h"
#include "hostcheck.h"
#include "jobs.h"
#include "host.h"
#include "results.h"
#include "schedext.h"
#include "kvmprobe.h"
#include "sweep.h"
#include "util.h"

volatile sig_atomic_t interrupted;
void on_signal(int sig)
{
	interrupted = sig;
}

static void usage(FILE *f)
{
	fputs("usage: scxlab run --policies \"P1 P2...\" --workload W [options]\n"
	      "       scxlab sweep --sweep NAME [--duration S] [--repeats N] [--clock C] [--accel A]\n"
	      "                    [--executor local|slurm] [--jobs N]   (N points at once; default 1)\n"
	      "       scxlab sweep-point --sweep-dir DIR --index K   point K of a sweep (a SLURM array task)\n"
	      "       scxlab sweep-status --sweep-dir DIR   a sweep's closing lines and exit code, from its record\n"
	      "       scxlab kvm-check   can /dev/kvm run a guest here? (exit 0 yes, 3 no, and why)\n"
	      "       scxlab selfcheck-host [--duration S] [--clock C]   TARGET=host proven inside the guest\n"
	      "       scxlab selfcheck-kvm [--duration S] [--clock C]    ACCEL=kvm proven inside the guest\n"
	      "Runs each policy against the workload in one boot of the sched_ext guest, interleaved,\n"
	      "and writes one self-describing result directory (printed as the last line).\n\n"
	      "  --policies LIST   policies (configs/policies/NAME.ini), e.g. \"cfs fifo\"; separate with ';'\n"
	      "                    when one is external:/path/to/scheduler-binary [args]\n"
	      "  --policy P        one policy, taken whole (e.g. \"external:/usr/bin/scx_simple -v\")\n"
	      "  --monitors LIST   extra monitors, off by default: " EXTRA_MONITORS "\n"
	      "  --workload W      workload (configs/workloads/W.ini), e.g. nginx\n"
	      "  --duration S      seconds per measured run (default: the workload's config)\n"
	      "  --repeats N       runs per policy (default 1)\n"
	      "  --clock C         virtual (default; deterministic, QEMU -icount) or real (MTTCG)\n"
	      "  --icount-shift N  the virtual clock's -icount shift, 0-10 (default: the VM config's, 3): each\n"
	      "                    guest instruction lasts 2^N ns of guest time; implies --clock virtual\n"
	      "  --target T        vm (default; boots the guest) or host (needs sched_ext here)\n"
	      "  --accel A         auto (default: KVM where /dev/kvm runs a guest, else TCG), kvm or tcg;\n"
	      "                    KVM runs on the real clock only\n"
	      "  --vm NAME         VM shape (configs/vms/NAME.ini, default: default)\n"
	      "  --precision PCT   add interleaved rounds until each ratio-to-cfs 95%% CI half-width is\n"
	      "                    within PCT percent (from 3 rounds on), at most --max-repeats (default 30)\n"
	      "  --params \"K=V..\" override the workload's [params] (recorded in the manifest)\n"
	      "  --cgroups TREE    run the workload's instances in a cgroup tree: configs/cgroups/TREE.ini,\n"
	      "                    or pair:DEPTH:RATIO (two instances, siblings at DEPTH, weights RATIO:1)\n"
	      "  --repo DIR --configs DIR --results DIR --build DIR --image DIR   locations\n"
	      "  --command STR     the user's command, recorded in the manifest as given\n"
	      "  --check           validate everything (configs, values, image) and exit: 0 fine, 2 or 3\n"
	      "                    as a run would; nothing is run or written\n"
	      "  --invoked-as CMD  instead of --command: record CMD (e.g. \"make experiment\") followed by the\n"
	      "                    values given, as VAR=value words quoted for a shell\n\n"
	      "Exit codes: 0 all runs valid; 1 some run invalid (e.g. the policy was ejected);\n"
	      "2 bad input (nothing ran, no result touched); 3 the target could not be prepared.\n",
	      f);
}

/*
 * What TARGET=host needs, checked before anything runs, all of it named in one error: a kernel
 * with sched_ext (without one, TARGET=host is the wrong choice: exit 2, as before), root, cgroup v2
 * at /sys/fs/cgroup, and on PATH the workload's programs ([workload] programs) and perf (the
 * perf-stat monitor of every run). Anything but sched_ext missing: the host cannot be prepared
 * (exit 3). README's TARGET=host section lists the packages.
 */
static void host_preflight(const struct experiment *x)
{
	struct utsname u;
	uname(&u);
	struct strv need = { 0 }, missing = { 0 };
	bool scx = is_dir(SCX_SYSFS);
	if (!scx)
		strv_pushf(&need, "a kernel with sched_ext (this host's kernel %s has no %s: CONFIG_SCHED_CLASS_EXT is off)",
			   u.release, SCX_SYSFS);
	if (geteuid() != 0)
		strv_push(&need, "root (it loads BPF schedulers, makes cgroups and reads the kernel log)");
	if (!path_exists("/sys/fs/cgroup/cgroup.controllers"))
		strv_push(&need, "cgroup v2 mounted at /sys/fs/cgroup");
	char *programs = xasprintf("%s perf", x->wl.programs);
	if (programs_missing(programs, getenv("PATH"), &missing)) {
		char *list = strv_join(&missing, " ");
		strv_pushf(&need, "these programs on PATH (workload %s and the perf-stat monitor): %s", x->wl.name, list);
		free(list);
	}
	free(programs);
	if (need.n) {
		char *list = strv_join(&need, "; ");
		die(scx ? EXIT_INFRA : EXIT_USAGE, "TARGET=host needs %s. %s", list,
		    scx ? "Install what is missing (README, section TARGET=host), or use TARGET=vm"
			: "Use TARGET=vm, the default, to run in the pinned guest.");
	}
	strv_free(&need);
	strv_free(&missing);
}

static int sweep_command(int argc, char **argv)
{
	struct sweep_opts o = { .repo = ".", .image = getenv("IMAGE_DIR") };
	static const struct option longopts[] = {
		{ "sweep", 1, 0, 's' },   { "repo", 1, 0, 'R' },    { "configs", 1, 0, 'C' },
		{ "results", 1, 0, 'r' }, { "image", 1, 0, 'i' },   { "command", 1, 0, 'm' },
		{ "duration", 1, 0, 'd' }, { "repeats", 1, 0, 'n' }, { "clock", 1, 0, 'c' },
		{ "accel", 1, 0, 'a' },   { "executor", 1, 0, 'x' }, { "jobs", 1, 0, 'j' },
		{ 0 } };
	struct err e = { 0 };
	int ch;
	optind = 2;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 's': o.name = optarg; break;
		case 'R': o.repo = optarg; break;
		case 'C': o.configs = optarg; break;
		case 'r': o.results = optarg; break;
		case 'i': o.image = optarg; break;
		case 'm': o.command = optarg; break;
		case 'd': o.duration = optarg; break;
		case 'n': o.repeats = optarg; break;
		case 'c': o.clock = optarg; break;
		case 'a': o.accel = optarg; break;
		case 'x': o.executor = optarg; break;
		case 'j':
			if ((o.jobs = jobs_parse(optarg, &e)) < 0)
				die(EXIT_USAGE, "%s", e.msg);
			break;
		default: die(EXIT_USAGE, "usage: scxlab sweep --sweep NAME [--duration S] [--repeats N] [--clock C] [--accel A] "
			     "[--results DIR] [--repo DIR] [--executor local|slurm] [--jobs N]");
		}
	}
	if (snapshot_switch(getenv("SCXLAB_SNAPSHOT"), &e) < 0)
		die(EXIT_USAGE, "%s", e.msg);
	if (!o.name || !*o.name) {
		char *names = config_names(xasprintf("%s/configs/sweeps", o.repo));
		die(EXIT_USAGE, "no sweep given (SWEEP=); choose from: %s", names);
	}
	if (!o.configs)
		o.configs = xasprintf("%s/configs", o.repo);
	if (!o.results)
		o.results = xasprintf("%s/results", o.repo);
	return sweep_main(&o);
}

/* sweep-point --sweep-dir DIR --index K, sweep-status --sweep-dir DIR */
static int sweep_record_command(int argc, char **argv, bool point)
{
	static const struct option longopts[] = { { "sweep-dir", 1, 0, 'D' }, { "index", 1, 0, 'k' }, { 0 } };
	const char *dir = NULL, *index = NULL;
	int ch;
	optind = 2;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'D': dir = optarg; break;
		case 'k': index = optarg; break;
		default: die(EXIT_USAGE, "usage: scxlab sweep-point --sweep-dir DIR --index K | scxlab sweep-status "
			     "--sweep-dir DIR");
		}
	}
	if (optind < argc)
		die(EXIT_USAGE, "scxlab %s: unexpected argument '%s'", argv[1], argv[optind]);
	if (point && !index)
		die(EXIT_USAGE, "scxlab sweep-point: give the point's index (--index K, a SLURM array task id)");
	if (!point && index)
		die(EXIT_USAGE, "scxlab sweep-status takes no --index");
	return point ? sweep_point_main(dir, index) : sweep_status_main(dir);
}

int main(int argc, char **argv)
{
	/* ./scxlab starts the sweep and selfcheck runners in the background, to pass a TERM on, and a
	 * background child of a script starts with SIGINT ignored: Ctrl-C must stop this runner as it
	 * stops one started in the foreground, until a command installs its own handler */
	signal(SIGINT, SIG_DFL);
	struct opts o = { .repo = ".", .image = getenv("IMAGE_DIR") };
	static const struct option longopts[] = {
		{ "policies", 1, 0, 'p' }, { "workload", 1, 0, 'w' }, { "duration", 1, 0, 'd' },
		{ "repeats", 1, 0, 'n' },  { "clock", 1, 0, 'c' },    { "target", 1, 0, 't' },
		{ "vm", 1, 0, 'v' },       { "policy", 1, 0, 'P' },   { "monitors", 1, 0, 'M' },
		{ "cgroups", 1, 0, 'G' },  { "precision", 1, 0, 'X' }, { "max-repeats", 1, 0, 'Y' },
		{ "params", 1, 0, 'A' },    { "accel", 1, 0, 'a' },    { "icount-shift", 1, 0, 'S' },
		{ "repo", 1, 0, 'R' },     { "configs", 1, 0, 'C' },  { "results", 1, 0, 'r' },
		{ "build", 1, 0, 'b' },    { "image", 1, 0, 'i' },    { "command", 1, 0, 'm' },
		{ "invoked-as", 1, 0, 'I' }, { "check", 0, 0, 'K' },   { "help", 0, 0, 'h' },
		{ 0 } };
	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : 0;
	}
	if (!strcmp(argv[1], "sweep"))
		return sweep_command(argc, argv);
	if (!strcmp(argv[1], "sweep-point") || !strcmp(argv[1], "sweep-status"))
		return sweep_record_command(argc, argv, !strcmp(argv[1], "sweep-point"));
	if (!strcmp(argv[1], "kvm-check")) {
		char why[256];
		bool ok = kvm_probe(why, sizeof(why));
		printf("%s: %s\n", ok ? "usable" : "not usable", why);
		return ok ? EXIT_OK : EXIT_INFRA;
	}
	if (!strcmp(argv[1], "selfcheck-host") || !strcmp(argv[1], "selfcheck-kvm"))
		return selfcheck_command(argc, argv);
	if (strcmp(argv[1], "run")) {
		usage(stderr);
		die(EXIT_USAGE, "unknown command '%s' (commands: run, sweep, sweep-point, sweep-status, kvm-check, "
		    "selfcheck-host, selfcheck-kvm)", argv[1]);
	}
	int ch;
	const char *invoked_as = NULL;
	bool check_only = false;
	optind = 2;
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'p': o.req.policies = optarg; break;
		case 'w': o.req.workload = optarg; break;
		case 'd': o.req.duration = optarg; break;
		case 'n': o.req.repeats = optarg; break;
		case 'c': o.req.clock = optarg; break;
		case 't': o.req.target = optarg; break;
		case 'v': o.req.vm = optarg; break;
		case 'P': o.req.policy = optarg; break;
		case 'M': o.req.monitors = optarg; break;
		case 'G': o.req.cgroups = optarg; break;
		case 'A': o.req.params = optarg; break;
		case 'a': o.req.accel = optarg; break;
		case 'S': o.req.icount_shift = optarg; break;
		case 'X': o.req.precision = optarg; break;
		case 'Y': o.req.max_repeats = optarg; break;
		case 'R': o.repo = optarg; break;
		case 'C': o.configs = optarg; break;
		case 'r': o.results = optarg; break;
		case 'b': o.build = optarg; break;
		case 'i': o.image = optarg; break;
		case 'm': o.command = optarg; break;
		case 'I': invoked_as = optarg; break;
		case 'K': check_only = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind < argc)
		die(EXIT_USAGE, "unexpected argument '%s'", argv[optind]);
	if (invoked_as)
		o.command = request_command(invoked_as, &o.req);
	if (!o.configs)
		o.configs = xasprintf("%s/configs", o.repo);
	if (!o.results)
		o.results = xasprintf("%s/results", o.repo);
	if (!o.build)
		o.build = xasprintf("%s/build", o.repo);

	struct ctx c = { .o = &o, .t0 = mono_now(), .problems = json_array() };
	struct err e = { 0 };
	/* ACCEL=auto takes KVM where it runs a guest; ACCEL=kvm needs it (the probe: runners/host/kvm.c) */
	char kvm_why[256] = "";
	bool tcg_asked = o.req.accel && !strcmp(o.req.accel, "tcg");
	if (!tcg_asked && !(o.req.target && !strcmp(o.req.target, "host")))
		o.req.kvm_usable = kvm_probe(kvm_why, sizeof(kvm_why));
	o.req.kvm_why = kvm_why;
	if (experiment_load(&c.x, o.configs, &o.req, &e))
		die(EXIT_USAGE, "%s", e.msg);
	/* SNAPSHOT= reaches the runner as SCXLAB_SNAPSHOT (./scxlab), and sweeps pass it on to their points */
	int snap = snapshot_switch(getenv("SCXLAB_SNAPSHOT"), &e);
	if (snap < 0)
		die(EXIT_USAGE, "%s", e.msg);
	c.snapshot_on = snap;
	if (!strcmp(c.x.accel_kind, "kvm") && !o.req.kvm_usable)
		die(EXIT_INFRA, "ACCEL=kvm, but KVM cannot run the guest here: %s. Leave ACCEL out (or ACCEL=tcg) to "
		    "run under QEMU's emulator TCG instead.", kvm_why);
	/* said once: a sweep marks its points so that only the first one says it */
	if (c.x.accel_fell_back && !check_only && !getenv("SCXLAB_ACCEL_NOTED"))
		fprintf(stderr, "[scxlab] no usable KVM here (%s): the guest runs under QEMU's emulator (TCG), "
			"clock=%s. ACCEL=tcg chooses that without this note.\n", kvm_why, c.x.clock);
	c.nruns = experiment_nruns(&c.x);
	if (!strcmp(c.x.target, "host")) {
		host_preflight(&c.x);
	} else {
		static const char *const need[] = { "rootfs.ext4", "vmlinuz", "initrd.img", "kernel-release" };
		if (!o.image || !*o.image)
			die(EXIT_INFRA, "no guest image given (IMAGE_DIR or --image); run 'make setup'");
		for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++) {
			char *p = xasprintf("%s/%s", o.image, need[i]);
			if (!path_exists(p))
				die(EXIT_INFRA, "the guest image is missing %s; run 'make setup' to build it", p);
			free(p);
		}
	}
	char *wdir = xasprintf("%s/%s", o.repo, c.x.wl.dir);
	if (!is_dir(wdir))
		die(EXIT_USAGE, "workload %s: folder %s does not exist", c.x.wl.name, wdir);
	/* the agent runs each script itself (no shell): one missing or not executable would fail
	 * only in the guest, after the boot */
	const char *scripts[][2] = { { "start", c.x.wl.start }, { "client", c.x.wl.client }, { "stop", c.x.wl.stop } };
	for (size_t i = 0; i < sizeof(scripts) / sizeof(scripts[0]); i++) {
		char *sp = xasprintf("%s/%s", wdir, scripts[i][1]);
		if (is_dir(sp) || access(sp, X_OK))
			die(EXIT_USAGE, "%s: [workload] %s = %s: %s is not an executable file", c.x.wl.cfg.path,
			    scripts[i][0], scripts[i][1], sp);
		free(sp);
	}
	free(wdir);
	if (check_only)
		return EXIT_OK;

	staging_create(&c);

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);
	char *started = iso_time_now();
	fp_sample_take("", getpid(), &c.load_start);
	char shift[48] = "";
	if (c.x.icount_shift >= 0)
		snprintf(shift, sizeof(shift), " (icount shift=%ld)", c.x.icount_shift);
	progress(&c, "%s: %zu policies x %ld repeats on %s, %ld s each (+%ld s warm-up), target=%s, clock=%s%s",
		 c.id, c.x.npol, c.x.repeats, c.x.wl.name, c.x.duration, c.x.warmup, c.x.target, c.x.clock, shift);
	record_checkout(&c);
	double t_job = mono_now();
	build_job(&c);
	c.job_s = mono_now() - t_job;
	double t_target = mono_now();
	if (!strcmp(c.x.target, "vm"))
		run_vm(&c);
	else
		run_host(&c);
	phase_close(&c);
	c.target_s = mono_now() - t_target;
	if (interrupted)
		problem(&c, "interrupted by signal %d", (int)interrupted);
	/* A guest that never came up (QEMU failed to start, the boot deadline fired) is the
	 * infrastructure's failure, not the policy's: exit 3 (EXIT_INFRA), its INVALID result kept. */
	bool never_up = !c.boot_s && !interrupted;
	if (never_up)
		problem(&c, "the guest never came up: the target could not be booted (exit code 3)");

	c.assemble_t0 = mono_now();
	remove_tree(c.jobdir);
	bool valid = assemble(&c, started);
	char *final = results_finalize(o.results, c.id, valid, &e);
	if (!final)
		die(EXIT_INFRA, "%s", e.msg);
	progress(&c, "%s after %.0f s", valid ? "done" : "done, but the result is INVALID", mono_now() - c.t0);
	printf("%s\n", final);
	free(final);
	free(started);
	experiment_free(&c.x);
	return valid ? EXIT_OK : never_up ? EXIT_INFRA : EXIT_INVALID_RUN;
}
