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
/* Rename staging to its final name; returns the final path (caller frees) or NULL. */
char *results_finalize(const char *results_dir, const char *id, bool valid, struct err *e);

#endif
