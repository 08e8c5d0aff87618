/*
 * Result directories. A run is written under results/.staging-<id>/ (a hidden name that no
 * reader takes for a result) and renamed to results/<id>/ only once complete, or to
 * results/<id>-INVALID/ when any run in it is invalid. Renames never replace an existing
 * directory, so earlier results are never overwritten.
 */
#ifndef SCXLAB_RESULTS_H
#define SCXLAB_RESULTS_H
#include "util.h"

/* A fresh id "<UTC yyyymmdd-HHMMSS>-<workload>-<p1+p2...>" unused in results_dir (a numeric
 * suffix is added while any of its final, invalid or staging names exists). Caller frees. */
char *results_new_id(const char *results_dir, const char *workload, const char *const *policies, size_t npol,
		     long long now);
char *results_staging_path(const char *results_dir, const char *id);
/* A fresh id as results_new_id gives, with its staging folder created (mkdir, which only one
 * process can win): two runners starting in the same second (a sweep's points side by side,
 * JOBS=) never share a name; the one that loses takes the next suffix. NULL (and e filled) when
 * the staging folder cannot be created for another reason. Caller frees. */
char *results_claim(const char *results_dir, const char *workload, const char *const *policies, size_t npol,
		    long long now, struct err *e);
/* Rename staging to its final name; returns the final path (caller frees) or NULL. */
char *results_finalize(const char *results_dir, const char *id, bool valid, struct err *e);

#endif
