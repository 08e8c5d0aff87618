/*
 * scxlab sweep: a parameter matrix (configs/sweeps/NAME.ini) expanded into points, each point
 * one `scxlab run` (one boot, its policies interleaved and repeated), each point one result
 * directory under results/sweeps/<NAME>-<hash>/. The sweep's state (which points are done, and
 * where their results are) is kept in sweep.json there, rewritten after every point, so an
 * interrupted sweep resumes where it stopped without repeating finished points. The hash is
 * that of the sweep config and the overrides (not of the checkout's path): a changed sweep
 * starts a new folder.
 *
 * A point is done only when its result is valid. An invalid or interrupted point is tried
 * again on the next pass; every attempt's result folder stays (an invalid one ends in
 * -INVALID) and is recorded. sweep.json:
 *
 *   {"sweep": NAME, "config": PATH, "config_text": TEXT, "common_args": [ARG...],
 *    "analysis": "weights" | "overhead" | null,     ([sweep] analysis: what `python3 -m
 *                                                      analysis sweep DIR` runs on it)
 *    "point_labels": [LABEL...],                     (every point of the matrix, in order)
 *    "points": {LABEL: {                             (only points that were tried)
 *        "result": NAME | null,    the latest attempt's result folder, relative to the sweep's
 *                                  folder (older files: a path; read its last component)
 *        "valid": bool,            true only when that result is valid: the point is done
 *        "exit_code": N, "finished": TIME,           the latest attempt's
 *        "attempts": [{"attempt": K, "result": NAME | null, "valid": bool, "exit_code": N,
 *                      "finished": TIME, "interrupted": bool,
 *                      "superseded_by": K2 | null,     (null: the latest attempt)
 *                      "jobs": N, "guests_at_once": M}]}}}  (a local sweep's JOBS, and the most
 *                                                      points running at once while this one ran,
 *                                                      itself included; absent from SLURM tasks
 *                                                      and from records written before JOBS)
 *
 *   "point_args": [[ARG...]...]                     (per point_labels entry, the runner's
 *                                                      arguments for it, "run" first, without
 *                                                      --results: what a SLURM array task runs)
 *
 * Entries written before attempts were kept ({result, valid, finished} only) are read as one
 * attempt; one with "valid": false is tried again. Readers take a point's "result" only when
 * its "valid" is true, and never read a superseded attempt (analysis/sweep.py). The record's
 * pure logic is runners/common/sweeprec.c.
 *
 * Who writes it: this command (--executor local runs the points here, up to --jobs at once
 * (runners/common/jobs.h: a real-clock point alone), each runner's lines led by its label when
 * several run; --executor slurm only writes the plan and prints the array of points not done,
 * which ./scxlab submits with sbatch), and `scxlab sweep-point --sweep-dir DIR --index K`, one SLURM array task,
 * which runs point K and records it. Several of those finish at once, possibly on several
 * nodes over a shared folder, so every writer holds an exclusive flock on sweep.json.lock
 * beside the record while it reads, changes and replaces it: no one's attempt is lost, and a
 * point found done under the lock is never started again.
 *
 * Exit code: 0 every point valid; 1 some point not valid after this pass (invalid, interrupted
 * or not reached); 2 bad input (nothing run); 3 a point's target could not be prepared or
 * booted (the sweep stops there). The last lines on stderr name the points not valid.
 * `scxlab sweep-status --sweep-dir DIR` gives the same lines and code from the record alone
 * (3 when a point not done last failed with 3), after a SLURM array ended.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "experiment.h"
#include "jobs.h"
#include "kvmprobe.h"
#include "progress_estimate.h"
#include "sha256.h"
#include "sweep.h"
#include "sweeprec.h"
#include "util.h"

struct point {
	char *label;		/* "depth=1 ratio=2" */
	struct strv args;	/* extra runner arguments for this point */
};

static volatile sig_atomic_t stop_requested;
static void on_signal(int sig)
{
	stop_requested = sig;
}

/* Cartesian product of the [matrix] keys, substituted into the [point] templates. */
static struct point *expand(const struct cfg *c, size_t *npoints, struct err *e)
{
	struct strv keys = { 0 }, *vals = NULL;
	size_t total = 1;
	for (size_t i = 0; i < c->n; i++) {
		if (strcmp(c->v[i].section, "matrix"))
			continue;
		vals = xrealloc(vals, (keys.n + 1) * sizeof(*vals));
		memset(&vals[keys.n], 0, sizeof(*vals));
		strv_split_push(&vals[keys.n], c->v[i].value);
		if (!vals[keys.n].n) {
			errf(e, "%s: [matrix] %s has no values", c->path, c->v[i].key);
			return NULL;
		}
		total *= vals[keys.n].n;
		strv_push(&keys, c->v[i].key);
	}
	if (!keys.n) {
		errf(e, "%s: [matrix] needs at least one 'name = value value ...'", c->path);
		return NULL;
	}
	struct point *pts = xmalloc(total * sizeof(*pts));
	for (size_t p = 0; p < total; p++) {
		size_t rest = p;
		char **chosen = xmalloc(keys.n * sizeof(char *));
		struct strv label = { 0 };
		for (size_t k = keys.n; k-- > 0;) {
			chosen[k] = vals[k].v[rest % vals[k].n];
			rest /= vals[k].n;
		}
		for (size_t k = 0; k < keys.n; k++)
			strv_pushf(&label, "%s=%s", keys.v[k], chosen[k]);
		pts[p].label = strv_join(&label, " ");
		strv_free(&label);
		memset(&pts[p].args, 0, sizeof(pts[p].args));
		for (size_t i = 0; i < c->n; i++) {
			if (strcmp(c->v[i].section, "point"))
				continue;
			/* substitute {key} */
			char *v = xstrdup(c->v[i].value);
			for (size_t k = 0; k < keys.n; k++) {
				char *pat = xasprintf("{%s}", keys.v[k]), *at;
				while ((at = strstr(v, pat))) {
					*at = '\0';
					char *nv = xasprintf("%s%s%s", v, chosen[k], at + strlen(pat));
					free(v);
					v = nv;
				}
				free(pat);
			}
			if (strchr(v, '{')) {
				errf(e, "%s: [point] %s = %s names a value the [matrix] does not have", c->path,
				     c->v[i].key, c->v[i].value);
				return NULL;
			}
			strv_pushf(&pts[p].args, "--%s", c->v[i].key);
			strv_push(&pts[p].args, v);
			free(v);
		}
		free(chosen);
	}
	for (size_t k = 0; k < keys.n; k++)
		strv_free(&vals[k]);
	free(vals);
	strv_free(&keys);
	*npoints = total;
	return pts;
}

/* The closing lines: how many points are valid, each one that is not and why. tried < 0: not
 * known (a SLURM array ran them). Returns how many are valid. */
static size_t summarise(const char *name, json_t *labels, json_t *points, long tried)
{
	size_t valid = 0, npts = json_array_size(labels), i;
	json_t *l;
	json_array_foreach(labels, i, l)
		valid += sweeprec_done(points, json_string_value(l) ?: "");
	if (tried >= 0)
		fprintf(stderr, "[sweep] %s: %zu of %zu points valid (%ld tried this time)\n", name, valid, npts, tried);
	else
		fprintf(stderr, "[sweep] %s: %zu of %zu points valid\n", name, valid, npts);
	json_array_foreach(labels, i, l) {
		const char *label = json_string_value(l) ?: "";
		if (sweeprec_done(points, label))
			continue;
		char *why = sweeprec_not_done(points, label);
		fprintf(stderr, "[sweep] not done: %s: %s\n", label, why);
		free(why);
	}
	if (valid < npts)
		fprintf(stderr, "[sweep] rerun the same command to try the %zu point(s) not done again; the %zu valid "
			"one(s) are kept\n", npts - valid, valid);
	return valid;
}

/* The value of runner option opt ("--duration") in args (the last one given), or NULL. */
static const char *arg_of(const struct strv *args, const char *opt)
{
	const char *v = NULL;
	for (size_t i = 0; i + 1 < args->n; i++)
		if (!strcmp(args->v[i], opt))
			v = args->v[i + 1];
	return v;
}

/* A point's planned guest seconds (policies x repeats x duration, the point's own values over
 * the common ones); 0 when the sweep does not say (the workload's default duration). */
static double planned_s(const struct point *pt, const struct strv *common)
{
	const char *opt[] = { "--policies", "--repeats", "--duration" }, *v[3];
	for (size_t i = 0; i < 3; i++)
		v[i] = arg_of(&pt->args, opt[i]) ?: arg_of(common, opt[i]);
	return point_planned_guest_s(v[0], v[1], v[2]);
}

/* Each point's weight for the time left: its planned guest seconds, or 1 for every point when
 * the length of one is not known (then they count the same). */
static double *point_weights(const struct point *pts, size_t npts, const struct strv *common)
{
	double *w = xmalloc((npts + 1) * sizeof(*w));
	bool known = true;
	for (size_t p = 0; p < npts; p++)
		known &= (w[p] = planned_s(&pts[p], common)) > 0;
	for (size_t p = 0; p < npts && !known; p++)
		w[p] = 1;
	return w;
}

/* The weight of the points from `from` on that are not done yet. */
static double left_planned(const struct point *pts, const double *w, size_t from, size_t npts, json_t *points)
{
	double s = 0;
	for (size_t p = from; p < npts; p++)
		if (!sweeprec_done(points, pts[p].label))
			s += w[p];
	return s;
}

/* Runs one point: the runner itself, its stdout captured for the result directory. */
static int run_point(const struct strv *argv, char **result_dir)
{
	int fds[2];
	if (pipe(fds))
		die(EXIT_INFRA, "pipe: %s", strerror(errno));
	pid_t pid = fork();
	if (pid == 0) {
		dup2(fds[1], 1);
		close(fds[0]);
		close(fds[1]);
		execv("/proc/self/exe", argv->v);
		_exit(127);
	}
	close(fds[1]);
	FILE *f = fdopen(fds[0], "r");
	char line[4096], last[4096] = "";
	while (fgets(line, sizeof(line), f)) {
		fputs(line, stdout);
		if (*trim(line))
			snprintf(last, sizeof(last), "%s", trim(line));
	}
	fclose(f);
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	*result_dir = is_dir(last) ? xstrdup(last) : NULL;
	return exit_code_of(status);
}

/* One point running beside others (JOBS=): its runner, the pipes it writes to, what it printed. */
struct child {
	pid_t pid;
	size_t p;		/* the point's index */
	const char *label;
	bool alone;		/* a point that runs alone (the real clock) */
	long at_once;		/* the most points running at once while it ran, itself included */
	int out, err;		/* its stdout, and its stderr when prefixed (-1: closed, or not piped) */
	char *obuf, *ebuf;	/* a partial line of each */
	char last[4096];	/* the last non-empty stdout line: the result folder */
	int rc;
	char *result;
};

/* Starts a point's runner. Its stdout (result folders) is read by the sweep and passed on line by
 * line; with prefix, its stderr too, each line led by "[LABEL] " so that points side by side stay
 * readable (alone, its stderr is the sweep's, as it always was). */
static void child_start(struct child *c, const struct strv *argv, size_t p, const char *label, bool alone, bool prefix)
{
	int o[2], e[2] = { -1, -1 };
	if (pipe2(o, O_CLOEXEC) || (prefix && pipe2(e, O_CLOEXEC)))
		die(EXIT_INFRA, "pipe: %s", strerror(errno));
	*c = (struct child){ .p = p, .label = label, .alone = alone, .at_once = 1, .out = o[0], .err = e[0],
			     .obuf = xstrdup(""), .ebuf = xstrdup("") };
	fflush(NULL);
	c->pid = fork();
	if (c->pid < 0)
		die(EXIT_INFRA, "fork: %s", strerror(errno));
	if (c->pid == 0) {
		dup2(o[1], 1);
		if (prefix)
			dup2(e[1], 2);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		execv("/proc/self/exe", argv->v);
		_exit(127);
	}
	close(o[1]);
	if (prefix)
		close(e[1]);
}

/* Appends n bytes to *buf and passes on every whole line in it (stdout as is, remembering the last
 * non-empty one; stderr led by the point's label); at eof, what is left too. */
static void child_lines(struct child *c, char **buf, const char *data, size_t n, bool is_err, bool eof)
{
	size_t have = strlen(*buf);
	*buf = xrealloc(*buf, have + n + 1);
	memcpy(*buf + have, data, n);
	(*buf)[have + n] = '\0';
	char *line = *buf, *nl;
	for (;;) {
		nl = strchr(line, '\n');
		if (!nl && !(eof && *line))
			break;
		if (nl)
			*nl = '\0';
		if (is_err) {
			fprintf(stderr, "[%s] %s\n", c->label, line);
		} else {
			printf("%s\n", line);
			fflush(stdout);
			char *t = trim(line);
			if (*t)
				snprintf(c->last, sizeof(c->last), "%s", t);
		}
		line = nl ? nl + 1 : line + strlen(line);
	}
	memmove(*buf, line, strlen(line) + 1);
}

/* Waits for output or an end among the running points: passes lines on, and when one runner has
 * closed its pipes, reaps it (rc, result) and returns its index; (size_t)-1 when nothing ended
 * (a signal arrived, or lines were passed on). */
static size_t children_wait(struct child *run, size_t nrun)
{
	struct pollfd fds[2 * nrun];
	size_t owner[2 * nrun], nfd = 0;
	for (size_t i = 0; i < nrun; i++) {
		if (run[i].out >= 0)
			fds[nfd] = (struct pollfd){ .fd = run[i].out, .events = POLLIN }, owner[nfd++] = i;
		if (run[i].err >= 0)
			fds[nfd] = (struct pollfd){ .fd = run[i].err, .events = POLLIN }, owner[nfd++] = i;
	}
	for (size_t i = 0; i < nrun; i++) {
		if (run[i].out >= 0 || run[i].err >= 0)
			continue;
		int status;
		while (waitpid(run[i].pid, &status, 0) < 0 && errno == EINTR)
			;
		run[i].rc = exit_code_of(status);
		run[i].result = is_dir(run[i].last) ? xstrdup(run[i].last) : NULL;
		free(run[i].obuf);
		free(run[i].ebuf);
		return i;
	}
	if (poll(fds, nfd, 1000) <= 0)
		return (size_t)-1;
	for (size_t f = 0; f < nfd; f++) {
		if (!fds[f].revents)
			continue;
		struct child *c = &run[owner[f]];
		bool is_err = fds[f].fd == c->err;
		char data[4096];
		ssize_t n = read(fds[f].fd, data, sizeof(data));
		if (n < 0 && errno == EINTR)
			continue;
		child_lines(c, is_err ? &c->ebuf : &c->obuf, data, n > 0 ? (size_t)n : 0, is_err, n <= 0);
		if (n <= 0) {
			close(fds[f].fd);
			*(is_err ? &c->err : &c->out) = -1;
		}
	}
	return (size_t)-1;
}

/* Whether a point must run alone: it runs on the real clock. That is its own or the sweep's CLOCK,
 * else its VM config's default_clock; and ACCEL=kvm runs on the real clock only, which ACCEL=auto
 * (the default) becomes where this machine's /dev/kvm runs a guest (kvm_usable). A VM config that
 * cannot be read counts as the real clock: alone is the safe side. */
static bool point_alone(const struct point *pt, const struct strv *common, const char *configs, bool kvm_usable)
{
	const char *clock = arg_of(&pt->args, "--clock") ?: arg_of(common, "--clock");
	const char *accel = arg_of(&pt->args, "--accel") ?: arg_of(common, "--accel");
	if ((!accel || !*accel || !strcmp(accel, "auto")) && kvm_usable)
		accel = "kvm";
	if (clock && *clock)
		return jobs_point_alone(clock, accel);
	const char *vm = arg_of(&pt->args, "--vm") ?: arg_of(common, "--vm");
	char *path = xasprintf("%s/vms/%s.ini", configs, vm && *vm ? vm : "default");
	struct cfg vc;
	struct err e = { 0 };
	bool alone = true;
	if (!cfg_load(&vc, path, &CFG_VM, &e)) {
		const char *def = cfg_get(&vc, "vm", "default_clock");
		alone = jobs_point_alone(def && *def ? def : "virtual", accel);
		cfg_free(&vc);
	}
	free(path);
	return alone;
}

int sweep_main(const struct sweep_opts *o)
{
	struct err e = { 0 };
	if (o->executor && *o->executor && strcmp(o->executor, "local") && strcmp(o->executor, "slurm"))
		die(EXIT_USAGE, "unknown executor '%s' (EXECUTOR=); choose from: local slurm", o->executor);
	if (check_name("sweep", o->name, &e))
		die(EXIT_USAGE, "%s", e.msg);
	char *dir = xasprintf("%s/sweeps", o->configs), *path = xasprintf("%s/%s.ini", dir, o->name);
	if (!path_exists(path)) {
		char *names = config_names(dir);
		die(EXIT_USAGE, "unknown sweep '%s'; choose from: %s (files in %s/)", o->name, names, dir);
	}
	struct cfg c;
	if (cfg_load(&c, path, &CFG_SWEEP, &e))
		die(EXIT_USAGE, "%s", e.msg);
	const char *policies, *workload = cfg_get(&c, "sweep", "workload");
	const char *analysis = cfg_get(&c, "sweep", "analysis");
	/* [sweep] analysis = is checked by cfg_load against its choice in runners/common/schema.c
	 * (the names of SWEEP_ANALYSES in analysis/sweep.py) */
	if (cfg_require(&c, "sweep", "policies", &policies, &e))
		die(EXIT_USAGE, "%s", e.msg);
	if (!workload && !cfg_get(&c, "point", "workload"))
		die(EXIT_USAGE, "%s: give the workload in [sweep] or as a [point] template", path);
	size_t npts;
	struct point *pts = expand(&c, &npts, &e);
	if (!pts)
		die(EXIT_USAGE, "%s", e.msg);

	/* the common arguments: the sweep's own, then what the user overrides */
	struct strv common = { 0 };
	strv_push(&common, "scxlab");
	strv_push(&common, "run");
	strv_push(&common, "--policies");
	strv_push(&common, policies);
	if (workload) {
		strv_push(&common, "--workload");
		strv_push(&common, workload);
	}
	static const char *const keys[] = { "duration", "repeats", "clock", "accel", "vm", "monitors" };
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const char *v = cfg_get(&c, "sweep", keys[i]);
		const char *over = !strcmp(keys[i], "duration") ? o->duration : !strcmp(keys[i], "repeats") ? o->repeats
				 : !strcmp(keys[i], "clock") ? o->clock : !strcmp(keys[i], "accel") ? o->accel : NULL;
		if (over && *over)
			v = over;
		if (v && *v) {
			strv_pushf(&common, "--%s", keys[i]);
			strv_push(&common, v);
		}
	}
	if (o->image) {
		strv_push(&common, "--image");
		strv_push(&common, o->image);
	}

	/* The sweep's identity: its config and the arguments every point gets, except where the
	 * checkout is, so that another checkout (or another spelling of the same path) resumes
	 * the same sweep. */
	char *cfg_text = read_file(path, NULL), *joined = strv_join(&common, "\x1f");
	strv_push(&common, "--repo");
	strv_push(&common, o->repo);
	char *hashin = xasprintf("%s\x1e%s", cfg_text, joined);
	struct sha256 h;
	char hash[65];
	sha256_init(&h);
	sha256_update(&h, hashin, strlen(hashin));
	sha256_hex(&h, hash);
	hash[8] = '\0';
	char *sdir = xasprintf("%s/sweeps/%s-%s", o->results, o->name, hash);
	char *spath = xasprintf("%s/sweep.json", sdir);
	json_t *state = sweeprec_load(spath);
	/* Every point is checked by the runner itself (--check: its whole validation, nothing run or
	 * written) before the first one boots, so that a bad value in the last point of a long sweep
	 * is refused now, not hours later; nothing is written before. */
	for (size_t p = 0; p < npts; p++) {
		if (state && sweeprec_done(json_object_get(state, "points"), pts[p].label))
			continue;	/* valid already: it will not run again */
		struct strv argv = { 0 };
		for (size_t i = 0; i < common.n; i++)
			strv_push(&argv, common.v[i]);
		for (size_t i = 0; i < pts[p].args.n; i++)
			strv_push(&argv, pts[p].args.v[i]);
		strv_push(&argv, "--check");
		char *ignored = NULL;
		int rc = run_point(&argv, &ignored);
		free(ignored);
		strv_free(&argv);
		if (rc != EXIT_OK)
			die(rc == EXIT_USAGE ? EXIT_USAGE : EXIT_INFRA, "sweep point %s (%s) cannot run (above); nothing "
			    "was run; fix %s", pts[p].label, path, path);
	}

	if (mkdir_p(sdir, 0755))
		die(EXIT_INFRA, "cannot create %s: %s", sdir, strerror(errno));
	/* Each point's runner arguments (all but where its result goes), kept in the record so that
	 * an array task runs exactly what was checked above. */
	json_t *labels = json_array(), *point_args = json_array();
	for (size_t p = 0; p < npts; p++) {
		json_array_append_new(labels, json_string(pts[p].label));
		json_t *a = json_array();
		for (size_t i = 1; i < common.n; i++)
			json_array_append_new(a, json_string(common.v[i]));
		for (size_t i = 0; i < pts[p].args.n; i++)
			json_array_append_new(a, json_string(pts[p].args.v[i]));
		char *cmd = xasprintf("%s (point %s)", o->command ? o->command : "make sweep", pts[p].label);
		json_array_append_new(a, json_string("--command"));
		json_array_append_new(a, json_string(cmd));
		free(cmd);
		json_array_append_new(point_args, a);
	}
	int lock = sweeprec_lock(sdir);
	json_decref(state);
	state = sweeprec_load(spath);	/* as it is now, under the lock */
	if (!state) {
		state = json_pack("{s:s, s:s, s:s, s:o, s:{}}", "sweep", o->name, "config", path, "config_text", cfg_text,
				  "common_args", json_array(), "points");
		for (size_t i = 1; i < common.n; i++)
			json_array_append_new(json_object_get(state, "common_args"), json_string(common.v[i]));
	}
	json_object_set_new(state, "analysis", analysis && *analysis ? json_string(analysis) : json_null());
	json_object_set_new(state, "point_labels", labels);
	json_object_set_new(state, "point_args", point_args);
	sweeprec_save(spath, state);
	sweeprec_unlock(lock);
	json_t *points = json_object_get(state, "points");
	size_t done = 0;
	for (size_t p = 0; p < npts; p++)
		done += sweeprec_done(points, pts[p].label);
	fprintf(stderr, "[sweep] %s: %zu points, %zu already done (state in %s)\n", o->name, npts, done, spath);

	if (o->executor && !strcmp(o->executor, "slurm")) {
		/* The points not done, as the array for sbatch (./scxlab submits it: the toolchain
		 * root has no SLURM), then the sweep's folder. */
		struct err ae = { 0 };
		char *array = sweeprec_pending_array(state, &ae);
		if (!array)
			die(EXIT_INFRA, "%s: %s", spath, ae.msg);
		if (*array) {
			fprintf(stderr, "[sweep] %zu point(s) to run as a SLURM job array (array indices %s)\n", npts - done,
				array);
			printf("array %s\n", array);
		}
		printf("%s\n", sdir);
		free(array);
		return EXIT_OK;
	}

	/* JOBS: up to o->jobs points at once, each its own runner and guest (runners/common/jobs.h) */
	long jobs = o->jobs > 0 ? o->jobs : JOBS_DEFAULT;
	/* ACCEL=auto runs under KVM (on the real clock) where /dev/kvm runs a guest: asked once */
	char kvm_why[256];
	bool kvm_usable = jobs > 1 && kvm_probe(kvm_why, sizeof(kvm_why));
	struct sigaction sa = { .sa_handler = on_signal };	/* no SA_RESTART: poll() wakes up */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	double t0 = mono_now(), tried_planned = 0, *weight = point_weights(pts, npts, &common);
	size_t tried = 0, started = 0, next = 0, nrun = 0;
	struct child *run = xmalloc((size_t)jobs * sizeof(*run));
	/* which points run alone, decided once (it may read each point's VM config) */
	bool *alone = xmalloc(npts * sizeof(*alone) + 1);
	for (size_t p = 0; p < npts; p++)
		alone[p] = point_alone(&pts[p], &common, o->configs, kvm_usable);
	bool infra = false, refused = false, forwarded = false;
	if (jobs > 1)
		fprintf(stderr, "[sweep] up to %ld points at once (JOBS=%ld); each point's lines begin with its label; "
			"a point under the real clock runs alone\n", jobs, jobs);
	for (;;) {
		/* start what may start: points in order, none after a stop, an interrupt or a refusal */
		while (!stop_requested && !infra && !refused && next < npts) {
			size_t p = next;
			/* done by another writer (an array task) since this pass began: not run again */
			if (sweeprec_done(points, pts[p].label) || sweeprec_done_now(sdir, spath, pts[p].label)) {
				next++;
				continue;
			}
			bool running_alone = false;
			for (size_t i = 0; i < nrun; i++)
				running_alone |= run[i].alone;
			if (!jobs_may_start(jobs, nrun, running_alone, alone[p]))
				break;
			next++;
			double left_w = 0;	/* the points not finished: those still to start and the running ones */
			for (size_t i = 0; i < nrun; i++)
				left_w += weight[run[i].p];
			left_w += left_planned(pts, weight, p, npts, points);
			long left = sweep_left_wall(mono_now() - t0, tried_planned, left_w);
			const char *again = json_object_get(points, pts[p].label) ? ", tried again" : "";
			if (left >= 0)
				fprintf(stderr, "[sweep] point %zu/%zu (%s)%s; about %ld min left\n", done + started + 1, npts,
					pts[p].label, again, (left + 59) / 60);
			else
				fprintf(stderr, "[sweep] point %zu/%zu (%s)%s\n", done + started + 1, npts, pts[p].label, again);
			started++;
			struct strv argv = { 0 };
			strv_push(&argv, "scxlab");
			json_t *w;
			size_t wi;
			json_array_foreach(json_array_get(point_args, p), wi, w)
				strv_push(&argv, json_string_value(w));
			strv_push(&argv, "--results");
			strv_push(&argv, sdir);
			child_start(&run[nrun], &argv, p, pts[p].label, alone[p], jobs > 1);
			strv_free(&argv);
			/* the first point says whether it fell back from KVM to TCG; the others need not */
			setenv("SCXLAB_ACCEL_NOTED", "1", 1);
			nrun++;
			for (size_t i = 0; i < nrun; i++)
				if (run[i].at_once < (long)nrun)
					run[i].at_once = (long)nrun;
			if (jobs > 1 && nrun > 1)
				fprintf(stderr, "[sweep] %zu points running at once\n", nrun);
		}
		if (!nrun)
			break;
		/* Ctrl-C reaches every runner from the terminal; a TERM sent to the sweep alone is passed on,
		 * so that every running point stops and is kept as its -INVALID, interrupted attempt. */
		if (stop_requested && !forwarded) {
			for (size_t i = 0; i < nrun; i++)
				kill(run[i].pid, (int)stop_requested);
			forwarded = true;
		}
		size_t k = children_wait(run, nrun);
		if (k == (size_t)-1)
			continue;	/* a signal, or lines passed on: look again */
		struct child *ch = &run[k];
		size_t p = ch->p;
		int rc = ch->rc;
		char *result = ch->result;
		tried++;
		tried_planned += weight[p];
		bool ok = rc == EXIT_OK && result, has_result = result;
		/* The runner refuses bad input before it runs or writes anything: nothing to record (every
		 * point was checked first, so this is rare); the points running are let finish. */
		if (rc == EXIT_USAGE && !result) {
			fprintf(stderr, "[sweep] point %s: the runner refused its arguments (above); fix %s\n", pts[p].label,
				path);
			refused = true;
		} else {
			/* A point that finished valid before the runner saw the signal is kept: rerunning it
			 * would only throw a good result away. */
			state = sweeprec_record_locked(sdir, spath, state, pts[p].label, result, rc, stop_requested && !ok,
						       jobs, ch->at_once);
			points = json_object_get(state, "points");
			point_args = json_object_get(state, "point_args");
		}
		if (refused) {
			/* said above */
		} else if (ok) {
			if (jobs > 1)
				fprintf(stderr, "[sweep] point %s is valid (%s)\n", pts[p].label, result);
		} else if (stop_requested) {
			fprintf(stderr, "[sweep] interrupted during point %s; it is tried again when the sweep resumes\n",
				pts[p].label);
		} else if (rc == EXIT_INVALID_RUN && has_result) {
			/* One bad point (a policy ejected, a workload that failed) says nothing about
			 * the others: a long sweep goes on, and the next pass retries this point. */
			fprintf(stderr, "[sweep] point %s is INVALID; going on with the other points\n", pts[p].label);
		} else {
			/* EXIT_INFRA, or a runner that died without a result: the guest could not be prepared
			 * or booted. Every later point boots the same image the same way, so each would fail
			 * too, and only after its boot timeout (minutes each): start no other (the ones
			 * running finish and are recorded). */
			fprintf(stderr, "[sweep] point %s: the target could not be prepared or booted (runner exit code %d)%s\n",
				pts[p].label, rc, infra ? "" : nrun > 1 ? "; the sweep stops here once the points running end"
							    : "; the sweep stops here");
			infra = true;
		}
		free(result);
		run[k] = run[--nrun];
	}
	free(run);
	free(alone);
	if (refused)
		die(EXIT_USAGE, "a sweep point's arguments were refused (above); fix %s", path);
	free(weight);
	int lock_end = sweeprec_lock(sdir);	/* the record as it is now: array tasks may have added points */
	json_decref(state);
	state = sweeprec_load(spath);
	sweeprec_unlock(lock_end);
	size_t valid = summarise(o->name, json_object_get(state, "point_labels"), json_object_get(state, "points"),
				 (long)tried);
	printf("%s\n", sdir);
	return infra ? EXIT_INFRA : valid < npts ? EXIT_INVALID_RUN : EXIT_OK;
}

/* The record of the sweep in dir, read under its lock; dies when there is none. */
static json_t *record_of(const char *dir, char **spath)
{
	if (!dir || !*dir)
		die(EXIT_USAGE, "give the sweep's folder (--sweep-dir DIR, results/sweeps/<name>-<hash>)");
	*spath = xasprintf("%s/sweep.json", dir);
	if (!is_dir(dir) || !path_exists(*spath))
		die(EXIT_USAGE, "%s: no sweep record there (sweep.json); a sweep's folder is results/sweeps/<name>-<hash>",
		    dir);
	int fd = sweeprec_lock(dir);
	json_t *state = sweeprec_load(*spath);
	sweeprec_unlock(fd);
	return state;
}

int sweep_point_main(const char *dir, const char *index)
{
	char *spath;
	json_t *state = record_of(dir, &spath);
	const char *label;
	struct strv argv = { 0 };
	struct err e = { 0 };
	strv_push(&argv, "scxlab");
	if (sweeprec_point_at(state, index, &label, &argv, &e))
		die(EXIT_USAGE, "%s: %s", spath, e.msg);
	char *mine = xstrdup(label), *host = xstrdup(getenv("SLURMD_NODENAME") ?: "this host");
	size_t npts = json_array_size(json_object_get(state, "point_labels"));
	/* Checked again under the lock just before it runs: a point an earlier array (or a local
	 * sweep) finished is never run twice. */
	if (sweeprec_done_now(dir, spath, mine)) {
		fprintf(stderr, "[sweep] point %s (%s) is done already; not run again\n", index, mine);
		printf("%s\n", dir);
		return EXIT_OK;
	}
	fprintf(stderr, "[sweep] point %s of %zu (%s) on %s\n", index, npts, mine, host);
	strv_push(&argv, "--results");
	strv_push(&argv, dir);
	/* SLURM signals every process of the task (scancel, time limit): the runner keeps what its
	 * runs left as -INVALID, and this records the attempt as interrupted. */
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	char *result = NULL;
	int rc = run_point(&argv, &result);
	bool ok = rc == EXIT_OK && result;
	state = sweeprec_record_locked(dir, spath, state, mine, result, rc, stop_requested && !ok, 0, 0);
	fprintf(stderr, "[sweep] point %s (%s): %s\n", index, mine,
		ok ? "valid" : stop_requested ? "interrupted" : "not valid; the next run of the sweep tries it again");
	json_decref(state);
	free(result);
	strv_free(&argv);
	printf("%s\n", dir);
	return rc;
}

int sweep_status_main(const char *dir)
{
	char *spath;
	json_t *state = record_of(dir, &spath);
	json_t *labels = json_object_get(state, "point_labels"), *points = json_object_get(state, "points");
	if (!json_is_array(labels))
		die(EXIT_USAGE, "%s: the sweep record has no point_labels list", spath);
	const char *name = json_string_value(json_object_get(state, "sweep")) ?: "sweep";
	size_t valid = summarise(name, labels, points, -1), i;
	/* a point that could not boot (exit code 3) says the same as in a local sweep */
	bool infra = false;
	json_t *l;
	json_array_foreach(labels, i, l) {
		json_t *pt = json_object_get(points, json_string_value(l) ?: "");
		if (pt && !sweeprec_done(points, json_string_value(l)) &&
		    json_integer_value(json_object_get(pt, "exit_code")) == EXIT_INFRA)
			infra = true;
	}
	printf("%s\n", dir);
	return infra ? EXIT_INFRA : valid < json_array_size(labels) ? EXIT_INVALID_RUN : EXIT_OK;
}
