#include "results.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static bool id_taken(const char *dir, const char *id)
{
	char *a = xasprintf("%s/%s", dir, id), *b = xasprintf("%s/%s-INVALID", dir, id),
	     *c = results_staging_path(dir, id);
	bool taken = path_exists(a) || path_exists(b) || path_exists(c);
	free(a);
	free(b);
	free(c);
	return taken;
}

char *results_new_id(const char *results_dir, const char *workload, const char *const *policies, size_t npol,
		     long long now)
{
	time_t t = (time_t)now;
	struct tm tm;
	char stamp[32];
	gmtime_r(&t, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
	struct strv pols = { 0 };
	for (size_t i = 0; i < npol; i++)
		strv_push(&pols, policies[i]);
	char *joined = strv_join(&pols, "+");
	strv_free(&pols);
	char *base = xasprintf("%s-%s-%s", stamp, workload, joined), *id = xstrdup(base);
	free(joined);
	for (int n = 2; id_taken(results_dir, id); n++) {
		free(id);
		id = xasprintf("%s-%d", base, n);
	}
	free(base);
	return id;
}

char *results_staging_path(const char *results_dir, const char *id)
{
	return xasprintf("%s/.staging-%s", results_dir, id);
}

char *results_claim(const char *results_dir, const char *workload, const char *const *policies, size_t npol,
		    long long now, struct err *e)
{
	for (;;) {
		char *id = results_new_id(results_dir, workload, policies, npol, now);
		char *staging = results_staging_path(results_dir, id);
		int rc = mkdir(staging, 0755), err = errno;
		free(staging);
		if (!rc)
			return id;
		if (err != EEXIST) {
			errf(e, "cannot create %s/.staging-%s: %s", results_dir, id, strerror(err));
			free(id);
			return NULL;
		}
		free(id);	/* another runner took it between the check and mkdir: the next name */
	}
}

char *results_finalize(const char *results_dir, const char *id, bool valid, struct err *e)
{
	char *from = results_staging_path(results_dir, id);
	char *to = xasprintf("%s/%s%s", results_dir, id, valid ? "" : "-INVALID");
	if (rename_noreplace(from, to)) {
		errf(e, "cannot move %s to %s: %s (the staging folder is kept)", from, to, strerror(errno));
		free(to);
		to = NULL;
	}
	free(from);
	return to;
}
