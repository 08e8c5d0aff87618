/*
 * Pure judgements the runners make about how things went, kept here so that cmocka tests
 * can check them without a guest:
 *   - how a scheduler's loader ended (a clean exit, an error exit, a crash by a signal),
 *   - the per-policy summary of a result (summary.json) and each policy's ratio to cfs,
 *   - the host runner's deadlines, which stretch with how fast the emulated guest runs.
 */
#ifndef SCXLAB_OUTCOME_H
#define SCXLAB_OUTCOME_H
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* ---- how a loader ended ---- */
enum loader_end {
	LOADER_CLEAN,		/* exit 0, or the SIGINT we sent (by exit 130 or by the signal) */
	LOADER_FAILED,		/* a non-zero exit code, or killed by a signal that is no crash */
	LOADER_CRASHED,		/* killed by a crash signal (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT,
				 * SIGTRAP, SIGSYS), or exit 128+N for one (a wrapper script's
				 * scheduler crashed) */
	LOADER_UNKNOWN,		/* no status (never reaped) */
};
/*
 * status as from waitpid (or -1). Fills *code (the exit code, 128+signal when killed) and
 * sig_name ("SIGSEGV", "" when no signal is involved). The message, e.g. "crashed with
 * SIGSEGV (exit 139)", goes to msg.
 */
/* true when a console line is QEMU's own saying KVM cannot go on with the guest ("KVM internal
 * error. Suberror: 1", "KVM: entry failed, hardware error 0x..."): QEMU then pauses the guest and
 * waits, so a runner that sees it must stop it at once with that line as the reason */
bool kvm_fatal_line(const char *line);

enum loader_end loader_end_of(int status, int *code, char *sig_name, size_t sig_len, char *msg, size_t msg_len);

/* ---- summary.json ---- */
/*
 * Per policy (in the order of names), the headline value over the valid runs among runs (an
 * array of {"policy", "valid", "headline_value", "headline_unit"}): valid_runs, invalid_runs,
 * the unit (the first entry's that has one), "statistic" and "center": the summary the
 * report and the stopping rule use for that unit (stat_center: "hmean" for rates, "median"
 * for times, else "mean"), and the descriptive mean, sd, cv, min, max. center and those are
 * null when the policy has no valid run.
 */
json_t *summary_of_runs(json_t *runs, const char *const *names, size_t npol, const char *metric);
/* The ratio (center / cfs's center - 1) of policy name to cfs in a summary, whatever the order
 * of the policies; false when either has no center, cfs's is 0, or name is cfs itself. */
bool summary_vs_cfs(json_t *summary, const char *name, double *ratio);
/* What the stopping rule of PRECISION= computes (runners/common/stats.h), for the guest's
 * precision.json and the manifest: metric, unit, statistic, interval method and fallback,
 * confidence, resamples, seed, and what the half-width is measured in. */
json_t *precision_estimator(const char *metric, const char *unit);

/* ---- deadlines that follow the guest's pace ---- */
/*
 * Under TCG a guest runs as fast as the host lets it: with four guests on two cores its
 * clock (and its work) advance at a fraction of wall-clock speed. A deadline is therefore a
 * budget of *progress* (guest seconds, or emulator CPU seconds during boot), not of wall
 * time: what counts as elapsed is the smaller of the wall time and the progress made, so a
 * slow guest gets more wall time and a fast one no less than before. A guest that makes no
 * progress at all for silence_s wall seconds is stopped whatever its budget.
 */
struct pace {
	double wall0, prog0;	/* where counting started */
	double wall_last, prog_last;	/* the latest observation that showed progress */
	double prog_now;	/* the latest observation */
	bool started;
};
enum pace_verdict { PACE_OK, PACE_OVER_BUDGET, PACE_SILENT };
void pace_start(struct pace *p, double wall, double prog);
void pace_note(struct pace *p, double wall, double prog);
/* Elapsed time as the deadline counts it: min(wall elapsed, progress made). */
double pace_elapsed(const struct pace *p, double wall_now);
/* Progress per wall second so far (1 before any). */
double pace_rate(const struct pace *p, double wall_now);
enum pace_verdict pace_check(const struct pace *p, double wall_now, double budget_s, double silence_s);

#endif
