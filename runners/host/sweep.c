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
 *                      "superseded_by": K2 | null}]}}}  (null: the latest attempt)
 *
 * Entries written before attempts were kept ({result, valid, finished} only) are read as one
 * attempt; one with "valid": false is tried again. Readers take a point's "result" only when
 * its "valid" is true, and never read a superseded attempt (analysis/sweep.py).
 *
 * Exit code: 0 every point valid; 1 some point not valid after this pass (invalid, interrupted
 * or not reached); 2 bad input (nothing run); 3 a point's target could not be prepared or
 * booted (the sweep stops there). The last lines on stderr name the points not valid.
 */
#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "experiment.h"
#include "progress_estimate.h"
#include "sha256.h"
#include "sweep.h"
#include "util.h"

struct point {
	char *label;		/* "depth=1 ratio=2" */
	struct strv args;	/* extra runner arguments for this point */
};

/* What `[sweep] analysis =` may name: the sweep tables of `python3 -m analysis sweep DIR`
 * (SWEEP_ANALYSES in analysis/sweep.py). */
#define ANALYSES "weights overhead suite"

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

static void save_state(const char *path, json_t *state)
{
	char *tmp = xasprintf("%s.tmp", path);
	if (json_dump_file(state, tmp, JSON_INDENT(2)) || rename(tmp, path))
		die(EXIT_INFRA, "cannot write sweep state %s: %s", path, strerror(errno));
	free(tmp);
}

/* A point is done only when its latest attempt is valid. */
static bool point_done(json_t *points, const char *label)
{
	return json_is_true(json_object_get(json_object_get(points, label), "valid"));
}

/* The last component of a result path: results of a sweep's points live in its folder. */
static const char *result_name(const char *path)
{
	const char *slash = path ? strrchr(path, '/') : NULL;
	return slash ? slash + 1 : path;
}

/*
 * Records one attempt of a point (result NULL: the runner left none): appended to the point's
 * attempts, every earlier attempt marked superseded by it, and the point's own result, valid,
 * exit_code and finished set to this attempt's. An entry from before attempts were kept
 * becomes attempt 1.
 */
static void record_attempt(json_t *points, const char *label, const char *result, int rc, bool interrupted)
{
	json_t *pt = json_object_get(points, label);
	if (!pt) {
		pt = json_pack("{s:n, s:b}", "result", "valid", 0);	/* these two first, for the reader */
		json_object_set_new(points, label, pt);
	}
	json_t *att = json_object_get(pt, "attempts");
	if (!json_is_array(att)) {
		att = json_array();
		if (json_is_string(json_object_get(pt, "result")))
			json_array_append_new(att, json_pack("{s:i, s:O, s:b, s:O?, s:b}", "attempt", 1, "result",
							     json_object_get(pt, "result"), "valid",
							     json_is_true(json_object_get(pt, "valid")), "finished",
							     json_object_get(pt, "finished"), "interrupted", 0));
		json_object_set_new(pt, "attempts", att);
	}
	size_t k = json_array_size(att) + 1, i;
	json_t *a;
	json_array_foreach(att, i, a)
		if (!json_is_integer(json_object_get(a, "superseded_by")))
			json_object_set_new(a, "superseded_by", json_integer((json_int_t)k));
	bool valid = rc == EXIT_OK && result;
	char *now = iso_time_now();
	json_array_append_new(att, json_pack("{s:i, s:s?, s:b, s:i, s:s, s:b, s:n}", "attempt", (int)k, "result",
					     result_name(result), "valid", valid, "exit_code", rc, "finished", now,
					     "interrupted", interrupted, "superseded_by"));
	json_object_set_new(pt, "result", result ? json_string(result_name(result)) : json_null());
	json_object_set_new(pt, "valid", json_boolean(valid));
	json_object_set_new(pt, "exit_code", json_integer(rc));
	json_object_set_new(pt, "finished", json_string(now));
	free(now);
}

/* Why a point is not done, for the closing lines: its latest attempt, or that it never ran. */
static char *not_done_reason(json_t *points, const char *label)
{
	json_t *pt = json_object_get(points, label);
	if (!pt)
		return xstrdup("not run yet");
	json_t *att = json_object_get(pt, "attempts");
	size_t n = json_array_size(att);
	json_t *last = n ? json_array_get(att, n - 1) : pt;
	const char *res = json_string_value(json_object_get(last, "result"));
	json_t *rc = json_object_get(last, "exit_code");
	struct strv why = { 0 };
	strv_push(&why, json_is_true(json_object_get(last, "interrupted")) ? "interrupted" : "not valid");
	if (res)
		strv_pushf(&why, "result %s", result_name(res));
	else
		strv_push(&why, "no result");
	if (json_is_integer(rc))
		strv_pushf(&why, "runner exit code %lld", (long long)json_integer_value(rc));
	if (n > 1)
		strv_pushf(&why, "%zu attempts", n);
	char *s = strv_join(&why, ", ");
	strv_free(&why);
	return s;
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
		if (!point_done(points, pts[p].label))
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

int sweep_main(const struct sweep_opts *o)
{
	struct err e = { 0 };
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
	if (analysis && *analysis && !has_word(ANALYSES, analysis))
		die(EXIT_USAGE, "%s: [sweep] analysis = %s is not one the analysis knows; choose from: %s", path, analysis,
		    ANALYSES);
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
	json_error_t jerr;
	json_t *state = path_exists(spath) ? json_load_file(spath, 0, &jerr) : NULL;
	/* A record that cannot be read is never replaced: it is all that says which points are done. */
	if (path_exists(spath) && !json_is_object(json_object_get(state, "points")))
		die(EXIT_USAGE, "%s:%d: not a sweep record (%s); repair it or move it away to start the sweep afresh",
		    spath, state ? 0 : jerr.line, state ? "no \"points\" object" : jerr.text);
	/* Every point is checked by the runner itself (--check: its whole validation, nothing run or
	 * written) before the first one boots, so that a bad value in the last point of a long sweep
	 * is refused now, not hours later; nothing is written before. */
	for (size_t p = 0; p < npts; p++) {
		if (state && point_done(json_object_get(state, "points"), pts[p].label))
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
	if (!state) {
		state = json_pack("{s:s, s:s, s:s, s:o, s:{}}", "sweep", o->name, "config", path, "config_text", cfg_text,
				  "common_args", json_array(), "points");
		for (size_t i = 1; i < common.n; i++)
			json_array_append_new(json_object_get(state, "common_args"), json_string(common.v[i]));
	}
	json_t *points = json_object_get(state, "points");
	json_object_set_new(state, "analysis", analysis && *analysis ? json_string(analysis) : json_null());
	json_t *labels = json_array();
	for (size_t p = 0; p < npts; p++)
		json_array_append_new(labels, json_string(pts[p].label));
	json_object_set_new(state, "point_labels", labels);
	size_t done = 0;
	for (size_t p = 0; p < npts; p++)
		done += point_done(points, pts[p].label);
	fprintf(stderr, "[sweep] %s: %zu points, %zu already done (state in %s)\n", o->name, npts, done, spath);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);

	double t0 = mono_now(), tried_planned = 0, *weight = point_weights(pts, npts, &common);
	size_t tried = 0;
	bool infra = false;
	for (size_t p = 0; p < npts && !stop_requested; p++) {
		if (point_done(points, pts[p].label))
			continue;
		long left = sweep_left_wall(mono_now() - t0, tried_planned, left_planned(pts, weight, p, npts, points));
		const char *again = json_object_get(points, pts[p].label) ? ", tried again" : "";
		if (left >= 0)
			fprintf(stderr, "[sweep] point %zu/%zu (%s)%s; about %ld min left\n", done + tried + 1, npts,
				pts[p].label, again, (left + 59) / 60);
		else
			fprintf(stderr, "[sweep] point %zu/%zu (%s)%s\n", done + tried + 1, npts, pts[p].label, again);
		struct strv argv = { 0 };
		for (size_t i = 0; i < common.n; i++)
			strv_push(&argv, common.v[i]);
		for (size_t i = 0; i < pts[p].args.n; i++)
			strv_push(&argv, pts[p].args.v[i]);
		strv_push(&argv, "--results");
		strv_push(&argv, sdir);
		char *cmd = xasprintf("%s (point %s)", o->command ? o->command : "make sweep", pts[p].label);
		strv_push(&argv, "--command");
		strv_push(&argv, cmd);
		free(cmd);
		char *result = NULL;
		int rc = run_point(&argv, &result);
		strv_free(&argv);
		/* the first point said whether it fell back from KVM to TCG; the others need not */
		setenv("SCXLAB_ACCEL_NOTED", "1", 1);
		tried++;
		tried_planned += weight[p];
		/* The runner refuses bad input before it runs or writes anything: nothing to record. */
		if (rc == EXIT_USAGE && !result)
			die(EXIT_USAGE, "sweep point %s: the runner refused its arguments (above); fix %s", pts[p].label,
			    path);
		bool ok = rc == EXIT_OK && result, has_result = result;
		/* A point that finished valid before the runner saw the signal is kept: rerunning it
		 * would only throw a good result away. */
		record_attempt(points, pts[p].label, result, rc, stop_requested && !ok);
		save_state(spath, state);
		free(result);
		if (ok)
			continue;
		if (stop_requested) {
			fprintf(stderr, "[sweep] interrupted during point %s; it is tried again when the sweep resumes\n",
				pts[p].label);
			break;
		}
		if (rc == EXIT_INVALID_RUN && has_result) {
			/* One bad point (a policy ejected, a workload that failed) says nothing about
			 * the others: a long sweep goes on, and the next pass retries this point. */
			fprintf(stderr, "[sweep] point %s is INVALID; going on with the other points\n", pts[p].label);
			continue;
		}
		/* EXIT_INFRA, or a runner that died without a result: the guest could not be prepared
		 * or booted. Every later point boots the same image the same way, so each would fail
		 * too, and only after its boot timeout (minutes each): stop here. */
		fprintf(stderr, "[sweep] point %s: the target could not be prepared or booted (runner exit code %d); "
			"the sweep stops here\n", pts[p].label, rc);
		infra = true;
		break;
	}
	free(weight);
	save_state(spath, state);
	size_t valid = 0;
	for (size_t p = 0; p < npts; p++)
		valid += point_done(points, pts[p].label);
	fprintf(stderr, "[sweep] %s: %zu of %zu points valid (%zu tried this time)\n", o->name, valid, npts, tried);
	for (size_t p = 0; p < npts; p++) {
		if (point_done(points, pts[p].label))
			continue;
		char *why = not_done_reason(points, pts[p].label);
		fprintf(stderr, "[sweep] not done: %s: %s\n", pts[p].label, why);
		free(why);
	}
	if (valid < npts)
		fprintf(stderr, "[sweep] rerun the same command to try the %zu point(s) not done again; the %zu valid "
			"one(s) are kept\n", npts - valid, valid);
	printf("%s\n", sdir);
	return infra ? EXIT_INFRA : valid < npts ? EXIT_INVALID_RUN : EXIT_OK;
}
