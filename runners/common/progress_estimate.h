/*
 * Time-left estimates in wall-clock seconds, for the host runner's progress lines and for
 * sweeps. Pure arithmetic on numbers the callers observe, so cmocka tests can check it on
 * fixed inputs.
 *
 * Under TCG the guest's clock runs at a fraction of wall-clock speed when the host is loaded
 * (with -icount, guest time is instructions executed). A plan is written in guest seconds
 * (warm-up + duration per run), so the work left is counted in guest seconds and turned into
 * wall seconds by the rate the guest is observed to run at (its heartbeats, struct pace in
 * outcome.h), plus what each run costs beyond its planned guest length (loading the policy,
 * starting and stopping the server), learnt from the runs that finished.
 */
#ifndef SCXLAB_PROGRESS_ESTIMATE_H
#define SCXLAB_PROGRESS_ESTIMATE_H
#include <stdbool.h>
#include <stddef.h>

/* What the host runner knows about the runs of one boot. */
struct runs_progress {
	size_t nruns, done;	/* runs planned, runs finished */
	double run_guest_s;	/* one run's planned guest length: warm-up + duration */
	double done_wall_s;	/* wall seconds the finished runs took, in all */
	double in_run_guest_s;	/* guest seconds into the current run (0 between runs) */
	double rate;		/* guest seconds per wall second observed; ignored unless measured */
	bool measured;		/* false before any heartbeat showed progress: the rate is taken as 1 */
	double overhead_guess_s;	/* guest seconds a run takes beyond its length, until one finished */
};

struct time_left {
	long s;			/* whole wall seconds left, never negative */
	double rate;		/* the rate it assumed */
	bool measured;		/* false: the rate is the assumed 1.0 (an estimate) */
};

/*
 * Wall seconds left: the guest seconds left (runs not finished x their planned length, less the
 * current run's progress) divided by the rate, plus per run not finished the overhead: once a
 * run finished, the mean wall time of the finished runs beyond their length at that rate (never
 * below 0); before, overhead_guess_s at that rate.
 */
struct time_left runs_left_wall(const struct runs_progress *p);

/* A rate this far from 1 (below 1/RATE_NOTE_FACTOR or above RATE_NOTE_FACTOR) is worth saying. */
#define RATE_NOTE_FACTOR 1.25
/*
 * The progress line's words for t: "about N s left in all", then ", estimate" when the rate was
 * not measured yet, or ", guest at 0.40x wall speed" when the measured rate is far from 1.
 */
void time_left_text(const struct time_left *t, char *buf, size_t len);

/*
 * A sweep point's planned guest seconds: policies x repeats runs of duration each, from the
 * strings the sweep passes to the runner (policies split on ';' when there is one, else on
 * whitespace, as experiment_load does). The warm-up is the workload's, which the sweep does not
 * read; the ratio learnt from finished points absorbs it. 0 when one of them is missing or not
 * a positive whole number: the point's length is not known from the sweep alone.
 */
double point_planned_guest_s(const char *policies, const char *repeats, const char *duration);

/*
 * Wall seconds left of a sweep: the points tried this pass took elapsed_s of wall time for
 * tried_planned_s of planned guest seconds; the points left have left_planned_s. -1 when
 * nothing was tried yet (no ratio learnt), never negative otherwise.
 */
long sweep_left_wall(double elapsed_s, double tried_planned_s, double left_planned_s);

#endif
