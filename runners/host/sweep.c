/*
 * scxlab sweep: a parameter matrix (configs/sweeps/NAME.ini) expanded into points, each point
 * one `scxlab run` (one boot, its policies interleaved and repeated), each point one result
 * directory under results/sweeps/<NAME>-<hash>/. The sweep's state (which points are done, and
 * where their results are) is kept in sweep.json there, rewritten after every point, so an
 * interrupted sweep resumes where it stopped without repeating finished points. The hash is
 * that of the sweep config and the overrides (not of the checkout's path): a changed sweep
 * starts a new folder.
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
#include "sha256.h"
#include "sweep.h"
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

static void save_state(const char *path, json_t *state)
{
	char *tmp = xasprintf("%s.tmp", path);
	if (json_dump_file(state, tmp, JSON_INDENT(2)) || rename(tmp, path))
		die(EXIT_INFRA, "cannot write sweep state %s: %s", path, strerror(errno));
	free(tmp);
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
	static const char *const keys[] = { "duration", "repeats", "clock", "vm", "monitors" };
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const char *v = cfg_get(&c, "sweep", keys[i]);
		const char *over = !strcmp(keys[i], "duration") ? o->duration : !strcmp(keys[i], "repeats") ? o->repeats
				 : !strcmp(keys[i], "clock") ? o->clock : NULL;
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
	if (mkdir_p(sdir, 0755))
		die(EXIT_INFRA, "cannot create %s: %s", sdir, strerror(errno));
	char *spath = xasprintf("%s/sweep.json", sdir);
	json_error_t jerr;
	json_t *state = path_exists(spath) ? json_load_file(spath, 0, &jerr) : NULL;
	if (!state) {
		state = json_pack("{s:s, s:s, s:s, s:o, s:{}}", "sweep", o->name, "config", path, "config_text", cfg_text,
				  "common_args", json_array(), "points");
		for (size_t i = 1; i < common.n; i++)
			json_array_append_new(json_object_get(state, "common_args"), json_string(common.v[i]));
	}
	json_t *points = json_object_get(state, "points");
	size_t done = 0;
	for (size_t p = 0; p < npts; p++)
		done += json_object_get(points, pts[p].label) != NULL;
	fprintf(stderr, "[sweep] %s: %zu points, %zu already done (state in %s)\n", o->name, npts, done, spath);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);

	double t0 = mono_now();
	size_t ran = 0, invalid = 0;
	for (size_t p = 0; p < npts && !stop_requested; p++) {
		if (json_object_get(points, pts[p].label))
			continue;
		long left = ran ? (long)((mono_now() - t0) / ran * (npts - done - ran)) : -1;
		if (left >= 0)
			fprintf(stderr, "[sweep] point %zu/%zu (%s); about %ld min left\n", done + ran + 1, npts,
				pts[p].label, (left + 59) / 60);
		else
			fprintf(stderr, "[sweep] point %zu/%zu (%s)\n", done + ran + 1, npts, pts[p].label);
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
		/* A point that finished valid before the runner saw the signal is kept: rerunning
		 * it would only throw a good result away. Any other interrupted point is rerun. */
		if (stop_requested && !(rc == EXIT_OK && result)) {
			fprintf(stderr, "[sweep] interrupted during point %s; it will be rerun when the sweep resumes\n",
				pts[p].label);
			free(result);
			break;
		}
		if (rc == EXIT_USAGE || rc == EXIT_INFRA || !result)
			die(rc == EXIT_USAGE ? EXIT_USAGE : EXIT_INFRA,
			    "sweep point %s failed (runner exit code %d); the sweep stops here and resumes from this point",
			    pts[p].label, rc);
		json_object_set_new(points, pts[p].label, json_pack("{s:s, s:b, s:s}", "result", result, "valid",
								       rc == EXIT_OK, "finished", iso_time_now()));
		invalid += rc != EXIT_OK;
		save_state(spath, state);
		free(result);
		ran++;
	}
	save_state(spath, state);
	size_t complete = json_object_size(points);
	fprintf(stderr, "[sweep] %s: %zu of %zu points done (%zu invalid this time)%s\n", o->name, complete, npts,
		invalid, complete < npts ? "; rerun the same command to resume" : "");
	printf("%s\n", sdir);
	return complete < npts ? EXIT_INVALID_RUN : invalid ? EXIT_INVALID_RUN : EXIT_OK;
}
