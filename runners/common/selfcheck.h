/*
 * A selfcheck job: instead of runs, its plan.ini has [selfcheck] checks = N and one [check.K] per
 * inner experiment that the agent runs, inside the guest, with scxlab's own host runner and
 * TARGET=host (`make selfcheck-host`, runners/host/selfcheck.c). Each check is the inner
 * runner's request (policies, workload, duration, repeats, optional cgroups) and what must come
 * of it (expect): valid (exit 0), ejected (exit 1: a run invalid because the kernel ejected its
 * policy) or interrupted (the agent sends the inner runner SIGINT interrupt_after_s seconds into
 * its first run's measurement; exit 1, the result kept as INVALID). A check's target is host
 * (the default) or vm (`make selfcheck-kvm`: the inner runner boots a nested guest, with the
 * check's vm, accel and clock, from the image the job carries). The host checked every request
 * before the boot.
 */
#ifndef SCXLAB_SELFCHECK_H
#define SCXLAB_SELFCHECK_H
#include "config.h"
#include "util.h"

#define SELFCHECK_EXPECT "valid|ejected|interrupted"

/* The plan's [selfcheck] and every [check.K], as the agent reads them: 0, or -1 naming the problem. */
int selfcheck_plan_check(const struct cfg *plan, struct err *e);
/* The inner runner's arguments for check k (after the program's path): `run --target host|vm ...`,
 * with the job's checkout as --repo, results as --results and, unless NULL, image as --image. */
void selfcheck_argv(const struct cfg *plan, long k, const char *repo, const char *results, const char *image,
		    struct strv *argv);
/* The inner runner's exit code that expect ("valid", "ejected", "interrupted") calls for. */
int selfcheck_expected_exit(const char *expect);

#endif
