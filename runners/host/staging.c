/*
 * The staging folder: a hidden folder under the results folder where a result is made
 * (runners/common/results.c names it and renames it to the final name). Once it exists, a
 * fatal error (die()) leaves nothing half-made behind.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "host.h"
#include "results.h"
#include "util.h"

void remove_tree(const char *path)
{
	char *argv[] = { "rm", "-rf", "--", (char *)path, NULL };
	run_cmd(argv, NULL, NULL, NULL, 120);
}

/*
 * die() once the staging folder exists: nothing half-made may stay behind. Before the target was
 * started there is nothing worth keeping, and the folder goes (on a full disk that frees the
 * space). Afterwards the raw data is kept, under the -INVALID name with the reason in INVALID.
 */
static struct ctx *dying;
static void abandon_staging(int code, const char *msg)
{
	struct ctx *c = dying;
	if (!c || !c->staging || !is_dir(c->staging))
		return;
	static const char *const scratch[] = { ".job", ".job.tar", ".results.img", ".copy.log", ".tar.log" };
	for (size_t i = 0; i < sizeof(scratch) / sizeof(scratch[0]); i++) {
		char *p = xasprintf("%s/%s", c->staging, scratch[i]);
		remove_tree(p);
		free(p);
	}
	if (!c->target_started) {
		remove_tree(c->staging);
		fprintf(stderr, "scxlab: nothing ran; removed the staging folder %s\n", c->staging);
		return;
	}
	char *ip = xasprintf("%s/INVALID", c->staging);
	write_text(ip, "This result is invalid; do not use its numbers. The runner stopped (exit code %d): %s\n", code,
		   msg);
	free(ip);
	struct err e;
	char *final = results_finalize(c->o->results, c->id, false, &e);
	if (final) {
		fprintf(stderr, "scxlab: what the runs left is kept as %s (INVALID)\n", final);
		printf("%s\n", final);
		free(final);
	} else {
		fprintf(stderr, "scxlab: %s\n", e.msg);
	}
}

void staging_create(struct ctx *c)
{
	if (mkdir_p(c->o->results, 0755))
		die(EXIT_INFRA, "cannot create %s: %s", c->o->results, strerror(errno));
	if (!c->id) {
		/* named and created at once: points of a sweep start side by side (JOBS=) */
		const char **names = xmalloc(c->x.npol * sizeof(char *));
		for (size_t i = 0; i < c->x.npol; i++)
			names[i] = c->x.pol[i].name;
		struct err e = { 0 };
		c->id = results_claim(c->o->results, c->x.wl.name, names, c->x.npol, (long long)time(NULL), &e);
		free(names);
		if (!c->id)
			die(EXIT_INFRA, "%s", e.msg);
		c->staging = results_staging_path(c->o->results, c->id);
	} else {
		c->staging = results_staging_path(c->o->results, c->id);
		if (mkdir(c->staging, 0755))
			die(EXIT_INFRA, "cannot create %s: %s", c->staging, errno_text(errno));
	}
	c->raw = xasprintf("%s/raw", c->staging);
	dying = c;
	set_die_hook(abandon_staging);
	if (mkdir_p(c->raw, 0755))
		die(EXIT_INFRA, "cannot create %s: %s", c->raw, errno_text(errno));
}
