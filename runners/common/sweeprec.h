/* A sweep's record (sweep.json; its format is in runners/host/sweep.c's header comment): whether
 * a point is done, recording an attempt, why a point is not done, and, for EXECUTOR=slurm, which
 * points an array must run and which point an array index names (pure: no file touched); and
 * the record's lock, under which every writer reads, changes and replaces it. */
#ifndef SCXLAB_SWEEPREC_H
#define SCXLAB_SWEEPREC_H
#include <jansson.h>
#include <stdbool.h>

#include "util.h"

/* A point is done only when its latest attempt is valid. */
bool sweeprec_done(json_t *points, const char *label);

/* Records one attempt of a point (result NULL: the runner left none; a path is kept as its last
 * component) finished at `now`: appended to the point's attempts, every earlier attempt marked
 * superseded by it, and the point's own result, valid, exit_code and finished set to this
 * attempt's. An entry from before attempts were kept becomes attempt 1. */
void sweeprec_record(json_t *points, const char *label, const char *result, int rc, bool interrupted,
		     const char *now);

/* Notes on the latest attempt of a point how it ran: "jobs", the sweep's JOBS, and
 * "guests_at_once", the most points (guests) that ran at once while it ran, itself included (1:
 * it ran alone). Nothing when jobs is 0 (not known: a SLURM array task). */
void sweeprec_note_jobs(json_t *points, const char *label, long jobs, long at_once);

/* Why a point is not done, for the closing lines: its latest attempt, or that it never ran. */
char *sweeprec_not_done(json_t *points, const char *label);

/* The indices into the record's point_labels of the points not done, as a SLURM --array list
 * ("0,2-4"); "" when every point is done. NULL (and e filled) when the record has no list. */
char *sweeprec_pending_array(json_t *state, struct err *e);

/* The point a SLURM array index (the text of SLURM_ARRAY_TASK_ID) names: its label, and in argv
 * (appended) the runner arguments recorded for it in point_args ("run" first). -1 with e
 * filled when the index is not a whole number within point_labels or the record has no
 * arguments for it. */
int sweeprec_point_at(json_t *state, const char *index, const char **label, struct strv *argv, struct err *e);

/* The record's lock: an exclusive flock on sweep.json.lock in the sweep's folder sdir (close-on-
 * exec, so that a point's runner never holds it), held from reading sweep.json to replacing it.
 * Array tasks finish at once, possibly on several nodes over a shared folder (NFS maps flock to
 * its byte-range locks). Dies when it cannot be taken. */
int sweeprec_lock(const char *sdir);
void sweeprec_unlock(int fd);
/* The record at spath as it is now (NULL when there is none); dies (bad input) on one that
 * cannot be read, which is never replaced: it is all that says which points are done. */
json_t *sweeprec_load(const char *spath);
/* Replaces the record (a temporary file renamed over it); dies when it cannot. */
void sweeprec_save(const char *spath, json_t *state);
/* Records one attempt under the lock into the record as it is on disk (another writer may have
 * recorded other points since), with sweeprec_note_jobs(jobs, at_once): returns that record; old
 * (may be NULL) is released. */
json_t *sweeprec_record_locked(const char *sdir, const char *spath, json_t *old, const char *label,
			       const char *result, int rc, bool interrupted, long jobs, long at_once);
/* Whether a point is done in the record as it is on disk now (read under the lock). */
bool sweeprec_done_now(const char *sdir, const char *spath, const char *label);
#endif
