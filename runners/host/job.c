/*
 * The job the guest agent reads, assembled in the staging folder as .job/: plan.ini (also kept
 * as raw/plan.ini), bin/scxlab-guest, bin/<loader> for each policy (an external one checked
 * against the hash taken when the request was read), workloads/lib/ and workloads/<name>/ with
 * its C helpers in bin/.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config.h"
#include "experiment.h"
#include "host.h"
#include "sha256.h"
#include "util.h"

/* What to tell the user when the job could not be assembled: a missing file means an incomplete build. */
static const char *copy_hint(int err)
{
	return err == ENOENT ? " (run 'make build')" : "";
}

void job_copy_tree(struct ctx *c, const char *from, const char *to)
{
	char *argv[] = { "cp", "-a", "--", (char *)from, (char *)to, NULL };
	char *log = xasprintf("%s/.copy.log", c->staging);
	if (run_cmd(argv, log, NULL, NULL, 120)) {
		/* cp's own first line says why; a full disk is called that */
		char *why = read_line_file(log);
		die(EXIT_INFRA, "cannot copy %s to %s: %s", from, to,
		    strstr(why, "No space left") ? errno_text(ENOSPC) : *why ? why : "cp failed");
	}
	unlink(log);
	free(log);
}

/* The job: plan.ini, bin/scxlab-guest, bin/<loader> for each policy, workloads/<name>/. */
void build_job(struct ctx *c)
{
	struct opts *o = c->o;
	c->jobdir = xasprintf("%s/.job", c->staging);
	char *bin = xasprintf("%s/bin", c->jobdir), *wl = xasprintf("%s/workloads", c->jobdir);
	if (mkdir_p(bin, 0755) || mkdir_p(wl, 0755))
		die(EXIT_INFRA, "cannot create %s: %s", c->jobdir, errno_text(errno));
	char *agent = xasprintf("%s/runners/scxlab-guest", o->build), *dst = xasprintf("%s/scxlab-guest", bin);
	if (copy_file(agent, dst, 0755))
		die(EXIT_INFRA, "cannot copy the guest agent %s: %s%s", agent, errno_text(errno), copy_hint(errno));
	free(agent);
	free(dst);
	for (size_t i = 0; i < c->x.npol; i++) {
		const char *l = c->x.pol[i].loader;
		if (!*l)
			continue;
		char *src = c->x.pol[i].external ? xstrdup(l) : xasprintf("%s/schedulers/%s/%s", o->build, l, l);
		dst = xasprintf("%s/%s", bin, c->x.pol[i].external ? c->x.pol[i].name : l);
		if (copy_file(src, dst, 0755))
			die(EXIT_INFRA, "cannot copy loader %s of policy %s: %s%s", src, c->x.pol[i].name,
			    errno_text(errno), copy_hint(errno));
		/* an external binary runs as the one hashed when the request was read, or not at all */
		const char *want = cfg_get(&c->x.pol[i].cfg, "policy", "sha256");
		char got[65] = "";
		if (c->x.pol[i].external && (sha256_file(dst, got) || strcmp(got, want)))
			die(EXIT_INFRA, "external policy %s: %s changed while the job was assembled (sha256 %s, now %s); "
			    "run again once it is stable", c->x.pol[i].name, src, want, got);
		free(src);
		free(dst);
	}
	/* the sched-trace monitor checks its trace in the guest with tools/pair-check */
	if (has_word(c->x.monitors, "sched-trace")) {
		char *tool = xasprintf("%s/tools/pair-check", o->build), *tdst = xasprintf("%s/pair-check", bin);
		if (copy_file(tool, tdst, 0755))
			die(EXIT_INFRA, "cannot copy %s for the sched-trace monitor: %s%s", tool, errno_text(errno),
			    copy_hint(errno));
		free(tool);
		free(tdst);
	}
	char *wsrc = xasprintf("%s/%s", o->repo, c->x.wl.dir);
	job_copy_tree(c, wsrc, wl);
	free(wsrc);
	/* code the workloads share (workloads/lib/) travels with every job */
	char *wlib = xasprintf("%s/workloads/lib", o->repo);
	if (is_dir(wlib))
		job_copy_tree(c, wlib, wl);
	free(wlib);
	/* the folder keeps the workload's name in the job, whatever its source path */
	char *copied = xasprintf("%s/%s", wl, strrchr(c->x.wl.dir, '/') ? strrchr(c->x.wl.dir, '/') + 1 : c->x.wl.dir);
	char *named = xasprintf("%s/%s", wl, c->x.wl.name);
	if (strcmp(copied, named) && rename(copied, named))
		die(EXIT_INFRA, "cannot rename %s: %s", copied, errno_text(errno));
	/* C helpers of the workload, built by build.mk, go to workloads/<name>/bin/ */
	char *wbuild = xasprintf("%s/workloads/%s", o->build, strrchr(c->x.wl.dir, '/') ? strrchr(c->x.wl.dir, '/') + 1 : c->x.wl.dir);
	if (is_dir(wbuild)) {
		char *wbin = xasprintf("%s/bin", named);
		job_copy_tree(c, wbuild, wbin);
		free(wbin);
	}
	free(wbuild);
	free(copied);
	free(named);

	struct cfg plan;
	experiment_plan(&c->x, &plan);
	char *pp = xasprintf("%s/plan.ini", c->jobdir);
	FILE *f = fopen(pp, "w");
	if (!f || cfg_write(&plan, f) || fclose(f))
		die(EXIT_INFRA, "cannot write %s: %s", pp, errno_text(errno));
	char *rawplan = xasprintf("%s/plan.ini", c->raw);
	copy_file(pp, rawplan, 0);
	free(rawplan);
	free(pp);
	cfg_free(&plan);
	free(bin);
	free(wl);
}
