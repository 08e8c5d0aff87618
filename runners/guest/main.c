/*
 * scxlab-guest: the agent that runs an experiment plan on a kernel with sched_ext.
 *
 * In the VM it is PID 1 (exec'd by kernel/guest-init once the job disk is unpacked); with
 * TARGET=host it is an ordinary process on a host whose kernel has sched_ext. For each run
 * of the plan (runners/common/experiment.c writes it) it:
 *   1. creates the run's cgroup tree, if the plan has one,
 *   2. starts the policy's loader and waits until the kernel reports that policy in charge
 *      (/sys/kernel/sched_ext/state = enabled, root/ops = its ops name); for cfs it checks
 *      that no sched_ext scheduler is loaded; then starts the workload's servers
 *      (workloads/<name>/<start>, one per instance, each in its cgroup),
 *   3. runs the client once as warm-up, snapshots schedstat and sched_ext,
 *   4. runs the measured client under `perf stat` (software events only), checking every
 *      100 ms that the policy is still in charge: if the kernel ejected it the run is
 *      marked invalid with the kernel's exit kind and reason,
 *   5. snapshots again, stops the policy (its loader writes the kernel's exit info), stops
 *      the server, saves dmesg, validates the workload's metrics.json,
 *   6. writes runs/NNN-policy/{run.json,metrics.json,raw/} and, in the VM, rewrites the whole
 *      results tree as a tar on the results disk, so a later crash loses only the run in
 *      flight.
 * Progress goes to stdout (the serial console) as "SCXLAB <event> ..." lines, defined in
 * runners/common/protocol.h, which the host runner turns into its progress display.
 *
 * This file holds the arguments, the plan loop and the stopping rule; guest.h lists the
 * other modules.
 */
#include <errno.h>
#include <libgen.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "experiment.h"
#include "guest.h"
#include "outcome.h"
#include "schedext.h"
#include "stats.h"

/*
 * The stopping rule of PRECISION=: after each complete round (every policy once), from the
 * third round on, the 95% bootstrap CI of each policy's headline ratio to cfs is computed
 * over the valid runs so far; once every half-width is within the target, the remaining runs
 * of the plan are skipped, and guest/stopping.json says why and where it stopped. The interval
 * is the one the report gives (stat_ratio_ci, runners/common/stats.h: the headline unit's
 * summary, BCa with the percentile fallback, analysis' confidence, resamples and seed) and the
 * half-width is in percentage points of the ratio, as analysis' ratio_halfwidth_pct. The
 * interval is paired by round (stat_ratio_ci_paired) when the policy and cfs have a valid run
 * in the same rounds, else independent: analysis' ratio_by_design() on one boot. Every
 * evaluation, the last one included, is kept as guest/precision.json: the estimator, and per
 * policy the ratio, its interval and the method used.
 */
struct precision {
	double target_pct;	/* 0: no stopping rule */
	long min_rounds;
	struct strv policies;	/* the policies, baseline first among them as "cfs" */
	double **vals;
	long **rounds;		/* the round of each value in vals */
	size_t *n;
	const struct cfg *plan;
	char *unit;		/* the headline's unit, from the first valid run's run.json */
};

static int policy_index(struct precision *p, const char *name)
{
	for (size_t i = 0; i < p->policies.n; i++)
		if (!strcmp(p->policies.v[i], name))
			return (int)i;
	return -1;
}

static void precision_init(struct agent *a, struct precision *p)
{
	memset(p, 0, sizeof(*p));
	p->target_pct = atof(cfg_get(&a->plan, "plan", "precision_pct") ?: "0");
	p->min_rounds = atol(cfg_get(&a->plan, "plan", "min_repeats") ?: "3");
	strv_split_push(&p->policies, cfg_get(&a->plan, "plan", "policies") ?: "");
	p->vals = xmalloc(sizeof(double *) * (p->policies.n + 1));
	p->n = xmalloc(sizeof(size_t) * (p->policies.n + 1));
	p->rounds = xmalloc(sizeof(long *) * (p->policies.n + 1));
	for (size_t i = 0; i < p->policies.n; i++) {
		p->vals[i] = xmalloc(sizeof(double) * (a->nruns + 1));
		p->rounds[i] = xmalloc(sizeof(long) * (a->nruns + 1));
	}
	p->plan = &a->plan;
}

static void precision_add(struct agent *a, struct precision *p, int index, bool valid, double headline)
{
	char sec[32];
	snprintf(sec, sizeof(sec), "run.%d", index);
	const char *policy = cfg_get(p->plan, sec, "policy") ?: "";
	int k = policy_index(p, policy);
	if (!valid || k < 0)
		return;
	p->rounds[k][p->n[k]] = (index - 1) / (long)p->policies.n + 1;
	p->vals[k][p->n[k]++] = headline;
	if (!p->unit) {
		char *rp = xasprintf("%s/runs/%03d-%s/run.json", a->results, index, policy);
		json_t *run = json_load_file(rp, 0, NULL);
		const char *u = json_string_value(json_object_get(json_object_get(run, "headline"), "unit"));
		p->unit = u ? xstrdup(u) : NULL;
		json_decref(run);
		free(rp);
	}
}

static json_t *finite_or_null(double x)
{
	return isfinite(x) ? json_real(x) : json_null();
}

static bool precision_reached(struct agent *a, struct precision *p, int index)
{
	size_t npol = p->policies.n;
	int base = policy_index(p, "cfs");
	if (p->target_pct <= 0 || base < 0 || index % npol || (long)(index / npol) < p->min_rounds ||
	    index > a->nruns)
		return false;
	enum stat_kind kind = stat_kind_of(p->unit);
	json_t *hw = json_object(), *ratios = json_object();
	bool all = true;
	for (size_t k = 0; k < npol; k++) {
		struct ratio_ci r;
		if ((int)k == base)
			continue;
		/* paired when both ran validly in the same rounds (at least two), as analysis pairs */
		bool paired = stat_rounds_paired(p->rounds[k], p->n[k], p->rounds[base], p->n[base]);
		int rc = paired ? stat_ratio_ci_paired(kind, p->vals[k], p->vals[base], p->n[k], STATS_SEED,
						       STATS_N_RESAMPLES, STATS_CONFIDENCE, &r)
				: stat_ratio_ci(kind, p->vals[k], p->n[k], p->vals[base], p->n[base], STATS_SEED,
						STATS_N_RESAMPLES, STATS_CONFIDENCE, &r);
		if (rc) {
			all = false;	/* no valid run of k or of cfs */
			json_object_set_new(ratios, p->policies.v[k], json_pack("{s:s}", "method", "no valid runs"));
			continue;
		}
		double w = ratio_halfwidth_pct(&r);
		json_object_set_new(hw, p->policies.v[k], finite_or_null(w));
		json_object_set_new(ratios, p->policies.v[k],
				    json_pack("{s:o, s:o, s:o, s:s, s:s, s:o, s:I, s:I}", "ratio", finite_or_null(r.ratio),
					      "ci_low", finite_or_null(r.lo), "ci_high", finite_or_null(r.hi), "method",
					      r.method, "design", paired ? "paired by round" : "independent",
					      "halfwidth_pct", finite_or_null(w), "runs", (json_int_t)p->n[k],
					      "baseline_runs", (json_int_t)p->n[base]));
		say(PROTO_PRECISION " %s ratio %.4f half-width %.2f points (%s, %s)", p->policies.v[k], r.ratio, w,
		    stat_name(kind), r.method);
		all &= w <= p->target_pct;
	}
	say(PROTO_PRECISION " after %ld rounds: %s", (long)(index / npol), all ? "reached" : "not yet");
	json_t *j = json_pack("{s:f, s:i, s:i, s:O, s:o, s:o}", "target_pct", p->target_pct, "runs_done", index,
			      "rounds", (int)(index / npol), "halfwidth_pct", hw, "ratios", ratios, "estimator",
			      precision_estimator(cfg_get(p->plan, "workload", "headline"), p->unit));
	char *path = xasprintf("%s/guest/precision.json", a->results);
	json_object_set_new(j, "reached", json_boolean(all));
	json_dump_file(j, path, JSON_INDENT(2));
	free(path);
	if (all) {
		path = xasprintf("%s/guest/stopping.json", a->results);
		json_object_set_new(j, "reason", json_string("precision reached"));
		json_dump_file(j, path, JSON_INDENT(2));
		free(path);
	}
	json_decref(j);
	json_decref(hw);
	return all;
}

/*
 * Reads every loader of the plan, and the libraries it links, once at boot. Under the virtual
 * clock (-icount, sleep=off) guest time jumps ahead while the vCPUs idle waiting for the disk,
 * so a loader's first start from a cold page cache could outlast its load timeout in guest
 * time while taking a fraction of a second on the host.
 */
static void prewarm_loaders(struct agent *a)
{
	for (long i = 1; i <= a->nruns; i++) {
		char sec[32];
		snprintf(sec, sizeof(sec), "run.%ld", i);
		const char *loader = cfg_get(&a->plan, sec, "loader");
		if (!loader || !*loader)
			continue;
		char *path = xasprintf("%s/%s", a->job_dir, loader);
		char *argv[] = { "/bin/sh", "-c",
				 "cat \"$1\" >/dev/null; ldd \"$1\" 2>/dev/null | awk '/=>/ {print $3}' | "
				 "xargs -r cat >/dev/null",
				 "prewarm", path, NULL };
		run_cmd(argv, "/dev/null", NULL, NULL, 60);
		free(path);
	}
}

/*
 * A child that prints "SCXLAB heartbeat <guest seconds since ready>" every 5 s of guest time
 * until the agent ends. The host runner compares these guest seconds with its wall clock, so
 * that its deadlines stretch when a loaded host slows the guest down, and stops a guest whose
 * heartbeats cease.
 */
static void start_heartbeat(void)
{
	double t0 = mono_now();
	pid_t parent = getpid();
	fflush(stdout);
	if (fork() != 0)
		return;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	for (;;) {
		if (getppid() != parent)
			_exit(0);
		proto_emit(stdout, PROTO_HEARTBEAT " %.1f", mono_now() - t0);
		sleep(5);
	}
}

static void on_stop_signal(int sig)
{
	agent_stop = sig;
}

static void usage(FILE *f)
{
	fputs("usage: scxlab-guest --plan PLAN.ini (--results-disk DEV | --results-dir DIR)\n"
	      "Runs an scxlab experiment plan on this kernel (it must have sched_ext); normally started\n"
	      "by the host runner, as PID 1 of the guest or with TARGET=host.\n", f);
}

int main(int argc, char **argv)
{
	struct agent a = { .pid1 = getpid() == 1 };
	const char *plan_path = NULL, *results_dir = NULL;
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--plan") && i + 1 < argc)
			plan_path = argv[++i];
		else if (!strcmp(argv[i], "--results-disk") && i + 1 < argc)
			a.results_disk = argv[++i];
		else if (!strcmp(argv[i], "--results-dir") && i + 1 < argc)
			results_dir = argv[++i];
		else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else {
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (!plan_path || (!a.results_disk == !results_dir)) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (a.pid1)
		setup_pid1();
	struct err e = { 0 };
	if (plan_load(&a.plan, plan_path, &e) || monitors_check(cfg_get(&a.plan, "plan", "monitors"), &e))
		fatal(&a, "%s", e.msg);
	char *pp = realpath(plan_path, NULL);
	a.job_dir = xstrdup(dirname(pp));
	free(pp);
	if (a.pid1)
		apply_boot_fresh(&a);
	a.results = xstrdup(results_dir ? results_dir : "/results");
	if (cfg_has_section(&a.plan, "selfcheck")) {
		char *g = xasprintf("%s/guest", a.results);
		if (!a.pid1 || mkdir_p(g, 0755))
			fatal(&a, "a selfcheck job runs as PID 1 of the guest only (it checks the machine it runs on)");
		free(g);
		struct utsname u;
		uname(&u);
		say(PROTO_GUEST_READY " %s", u.release);
		start_heartbeat();
		capture_env(&a);
		selfcheck_main(&a);
	}
	if (cfg_get_long(&a.plan, "plan", "runs", 0, 1, 100000, &a.nruns, &e) ||
	    cfg_get_long(&a.plan, "plan", "duration", 0, 1, 3600, &a.duration, &e) ||
	    cfg_get_long(&a.plan, "plan", "warmup", 0, 0, 600, &a.warmup, &e) ||
	    cfg_get_long(&a.plan, "plan", "drain", 0, 0, 600, &a.drain, &e) ||
	    cfg_get_long(&a.plan, "plan", "load_timeout", 15, 1, 600, &a.load_timeout, &e))
		fatal(&a, "%s", e.msg);
	if (mkdir_p(a.results, 0755))
		fatal(&a, "cannot create %s: %s", a.results, strerror(errno));
	if (!is_dir(SCX_SYSFS))
		fatal(&a, "this kernel has no sched_ext (%s is missing)", SCX_SYSFS);
	char *perf_argv[] = { "perf", "stat", "-a", "-e", "task-clock", "-o", "/dev/null", "--", "true", NULL };
	a.have_perf = run_cmd(perf_argv, "/dev/null", NULL, NULL, 30) == 0;
	if (!a.have_perf)
		say(PROTO_WARNING " perf stat does not work here; runs will have no perf-stat monitor");

	struct utsname u;
	uname(&u);
	say(PROTO_GUEST_READY " %s", u.release);
	start_heartbeat();
	if (!a.pid1) {
		/* on a host, a signal ends the run in flight with its teardown: the host is left as found */
		struct sigaction sa = { .sa_handler = on_stop_signal, .sa_flags = SA_RESTART };
		sigemptyset(&sa.sa_mask);
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGHUP, &sa, NULL);
	}
	capture_env(&a);
	prewarm_loaders(&a);
	char *bootlog = take_dmesg(&a), *bp = xasprintf("%s/guest/dmesg-boot.txt", a.results);
	write_file(bp, bootlog, strlen(bootlog));
	free(bootlog);
	free(bp);
	flush_results(&a);

	int nvalid = 0, i;
	struct precision prec;
	precision_init(&a, &prec);
	for (i = 1; i <= a.nruns; i++) {
		double h = 0;
		bool ok = do_run(&a, i, &h);
		nvalid += ok;
		precision_add(&a, &prec, i, ok, h);
		if (agent_stop) {
			say(PROTO_WARNING " stopped by signal %d after run %d of %ld", (int)agent_stop, i, a.nruns);
			break;
		}
		if (precision_reached(&a, &prec, i))
			break;
	}
	long ran = i > a.nruns ? a.nruns : i;
	char *done = xasprintf("%s/guest/done", a.results);
	write_text(done, "%d of %ld runs valid\n", nvalid, ran);
	free(done);
	flush_results(&a);
	say(PROTO_GUEST_DONE " %d %ld", nvalid, ran);
	power_off(&a, nvalid == ran ? EXIT_OK : EXIT_INVALID_RUN);
	return 0;
}
