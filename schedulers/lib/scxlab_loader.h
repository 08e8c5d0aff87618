/* SPDX-License-Identifier: GPL-2.0 */
/*
 * scxlab_loader.h - the part of every policy loader that is not about the policy.
 *
 * A loader (schedulers/<name>/<name>.c) describes its policy in a struct scxlab_policy
 * (ops name, one-line summary, its own options, its stat names) and hands the rest of the
 * life cycle to scxlab_lifecycle_<name>(), which SCXLAB_LIFECYCLE(<name>) defines for its
 * skeleton type:
 *
 *	SCXLAB_LIFECYCLE(fifo)
 *	static int fifo_knobs(struct fifo *skel, struct scxlab_policy *pol)
 *	{
 *		skel->rodata->slice_ns = slice_us * 1000;
 *		return 0;
 *	}
 *	int main(int argc, char **argv)
 *	{
 *		scxlab_parse_args(&pol, argc, argv);		common + policy options, --help
 *		return scxlab_lifecycle_fifo(&pol, &(struct fifo_hooks){ .knobs = fifo_knobs });
 *	}
 *
 * The life cycle: open the skeleton -> hooks->knobs (rodata, before load) -> load (if it fails,
 * scxlab_check_kfuncs names the kfuncs the kernel lacks: reading the kernel's BTF again is only
 * worth it then) -> hooks->loaded
 * (fill maps, start helpers; may set pol->wait) -> scxlab_run() -> hooks->finished (report,
 * tear down helpers; gets and returns the exit status) -> destroy. A hook returns 0, or a
 * negative errno: the load is reported failed (scxlab_fail(pol, "load", err)) and the skeleton
 * destroyed; or a loader status > 0 when it reported the failure itself (another stage).
 * Every hook is optional.
 *
 * scxlab_run() attaches the struct_ops map, prints "loaded ops=<name>", then one line
 * "stats t=<seconds since attach> <name>=<count> ..." every --stats-interval seconds
 * (counts are totals since attach, summed over CPUs). It stops when SIGINT or SIGTERM
 * arrives or when the kernel has disabled the scheduler (the exit record's kind turns
 * non-zero), destroys the link, prints a summary on stderr and, with --exit-info PATH,
 * writes the exit record as JSON (see scxlab_loader.c for the fields).
 *
 * Exit status of a loader: SCXLAB_STATUS_DETACHED (0) when it detached itself (or the
 * policy asked to exit), SCXLAB_STATUS_EJECTED (1) when the kernel ejected the scheduler
 * (error, stall, SysRq, kernel unregistration: scxlab_exit_kind_ejected()),
 * SCXLAB_STATUS_LOAD_FAILED (2) when open, load or attach failed, SCXLAB_STATUS_USER_FAILED
 * (3) when the policy's own user-space part (its wait hook) failed mid-run and the loader
 * detached the scheduler because of it, SCXLAB_STATUS_USAGE (64) for a bad command line.
 */
#ifndef SCXLAB_LOADER_H
#define SCXLAB_LOADER_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <bpf/libbpf.h>
#include "scxlab_exit.h"

enum scxlab_loader_status {
	SCXLAB_STATUS_DETACHED = 0,
	SCXLAB_STATUS_EJECTED = 1,
	SCXLAB_STATUS_LOAD_FAILED = 2,
	SCXLAB_STATUS_USER_FAILED = 3,		/* the policy's user-space part (wait hook) failed */
	SCXLAB_STATUS_USAGE = 64,		/* EX_USAGE */
};

/* One policy-specific long option (no short form). */
struct scxlab_option {
	const char *name;	/* without the leading "--" */
	const char *arg;	/* metavar for --help; NULL for a flag without argument */
	const char *help;	/* one line, including the default */
};

struct scxlab_policy {
	const char *ops_name;			/* the .name in the policy's sched_ext_ops */
	const char *summary;			/* one line for --help */
	const struct scxlab_option *options;	/* terminated by an entry with name NULL */
	/* Called once per policy option seen, with its index in options[] and its argument
	 * (NULL for flags). Return 0, or -1 after printing what was wrong (exits 64). */
	int (*parse_option)(int index, const char *arg);
	const char *const *stat_names;		/* one per slot of the policy's "stats" map */
	unsigned int nr_stats;

	/*
	 * Optional, for policies with a user-space part (a scheduler loop, a load balancer):
	 * called by scxlab_run() instead of sleeping between two checks of the exit record
	 * and the stats clock, with the time it may take in ns (at most 100 ms). It should
	 * return within about that time, early is fine. Return 0 to go on, or a negative
	 * errno after printing what failed: the loader then detaches the scheduler, records
	 * the error in --exit-info and exits SCXLAB_STATUS_USER_FAILED.
	 */
	int (*wait)(void *ctx, long long timeout_ns);
	void *wait_ctx;

	/* Set by scxlab_parse_args() from the common options. */
	const char *exit_info_path;		/* --exit-info PATH, NULL if not given */
	double stats_interval_s;		/* --stats-interval SEC, 0 disables stats lines */
};

/* Parse the common and policy options; prints --help and exits 0, or exits 64 on errors. */
void scxlab_parse_args(struct scxlab_policy *pol, int argc, char **argv);

/*
 * Report a failure before the scheduler ran: stage is "load" or "attach", err a negative
 * errno as libbpf returns it. Prints the error, writes {"stage", "error", "ejected": false,
 * "libbpf_log"} to --exit-info and returns SCXLAB_STATUS_LOAD_FAILED.
 */
int scxlab_fail(const struct scxlab_policy *pol, const char *stage, int err);

/* Attach ops, watch until a signal or the kernel's exit, detach, report. Returns the exit status. */
int scxlab_run(const struct scxlab_policy *pol, struct bpf_map *ops, struct bpf_map *stats,
	       const volatile struct scxlab_exit_info *exit_info);

/*
 * Before load: every kfunc the BPF object calls must be in the running kernel's BTF, or, for
 * a kfunc that was renamed (scxlab_compat.bpf.h), its other name. Prints the missing ones by
 * name and returns -EOPNOTSUPP, 0 when all are there (or the kernel's BTF cannot be read: the
 * verifier then has the last word).
 */
int scxlab_check_kfuncs(const struct scxlab_policy *pol, const struct bpf_object *obj);

/*
 * The check itself, on two BTFs: writes the kfuncs @prog calls that @kernel lacks (with their
 * other name, for renamed ones) to @buf as "a, b (or c)" and returns how many.
 */
struct btf;
int scxlab_missing_kfuncs(const struct btf *prog, const struct btf *kernel, char *buf, size_t len);

#define SCXLAB_LIFECYCLE(name)								\
struct name##_hooks {									\
	int (*knobs)(struct name *skel, struct scxlab_policy *pol);			\
	int (*loaded)(struct name *skel, struct scxlab_policy *pol);			\
	int (*finished)(struct name *skel, struct scxlab_policy *pol, int status);	\
};											\
											\
static int scxlab_lifecycle_##name(struct scxlab_policy *pol,				\
				   const struct name##_hooks *hooks)			\
{											\
	struct name *skel = name##__open();						\
	int err = 0, ret;								\
											\
	if (!skel)									\
		return scxlab_fail(pol, "load", -errno);				\
	if (hooks->knobs)								\
		err = hooks->knobs(skel, pol);						\
	if (!err) {									\
		err = name##__load(skel);						\
		if (err && scxlab_check_kfuncs(pol, skel->obj) == -EOPNOTSUPP)		\
			err = -EOPNOTSUPP;						\
	}										\
	if (!err && hooks->loaded)							\
		err = hooks->loaded(skel, pol);						\
	if (err) {									\
		name##__destroy(skel);							\
		return err > 0 ? err : scxlab_fail(pol, "load", err);			\
	}										\
	ret = scxlab_run(pol, skel->maps.name##_ops, skel->maps.stats,			\
			 &skel->bss->scxlab_exit);					\
	if (hooks->finished)								\
		ret = hooks->finished(skel, pol, ret);					\
	name##__destroy(skel);								\
	return ret;									\
}

/*
 * Parse an unsigned integer option value in [min, max]; on error print
 * "<prog>: --<opt>: ..." and return -1, so parse_option can `return scxlab_parse_ull(...)`.
 */
int scxlab_parse_ull(const char *opt, const char *arg, unsigned long long min,
		     unsigned long long max, unsigned long long *out);

#endif /* SCXLAB_LOADER_H */
