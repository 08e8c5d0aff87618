/*
 * JOBS: how many sweep points (each its own `scxlab run`, its own guest) run at once. Pure
 * rules, unit-tested in tests/unit/test_jobs.c; runners/host/sweep.c runs the points.
 *
 * A point under the real clock (multi-threaded TCG, or KVM) runs on wall-clock time: another
 * guest beside it would be measured in it. Such a point always runs alone, whatever JOBS says.
 * Under the virtual clock (-icount) guest time is instructions executed, so a neighbour slows
 * the guest down and should not move its results; measured (configs/sweeps/jobs-check.ini,
 * issue 12's note), the ratios at JOBS=2 stayed within those at JOBS=1 but cfs's run-to-run spread
 * grew, so measurements default to one guest at a time and JOBS=2 is the user's choice (README,
 * "Guests in parallel").
 */
#ifndef SCXLAB_JOBS_H
#define SCXLAB_JOBS_H
#include <stdbool.h>
#include <stddef.h>

#include "util.h"

/* More than this is surely a typo: every guest needs a host core and its memory. */
#define JOBS_MAX 256

/* The default when JOBS is not given: one point at a time (see above). */
#define JOBS_DEFAULT 1

/* JOBS as given: NULL or "" is 0 (take JOBS_DEFAULT); a whole number 1..JOBS_MAX is itself;
 * anything else is -1 with e naming the value and what is accepted. */
long jobs_parse(const char *text, struct err *e);

/* Whether a point with this clock and accelerator must run alone. ACCEL=kvm runs on the real
 * clock only. The caller resolves what the runner would: ACCEL=auto is kvm where /dev/kvm runs a
 * guest, and an unset clock is the VM config's default_clock (runners/host/sweep.c, point_alone). */
bool jobs_point_alone(const char *clock, const char *accel);

/* Whether a point may start now: `running` points are running (one of them alone when
 * running_alone), at most jobs at once, and a point that must run alone waits for none. */
bool jobs_may_start(long jobs, size_t running, bool running_alone, bool point_alone);

#endif
