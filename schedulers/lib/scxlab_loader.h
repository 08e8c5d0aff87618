/* SPDX-License-Identifier: GPL-2.0 */
/*
 * scxlab_loader.h - the part of every policy loader that is not about the policy.
 *
 * A loader (schedulers/<name>/<name>.c) describes its policy in a struct scxlab_policy
 * (ops name, one-line summary, its own options, its stat names) and then does only what
 * depends on the skeleton's type:
 *
 *	scxlab_parse_args(&pol, argc, argv);		common + policy options, --help
 *	skel = fifo__open();				on failure: scxlab_fail(&pol, "load", err)
 *	skel->rodata->knob = value;			knobs from the policy's options
 *	err = fifo__load(skel);				on failure: scxlab_fail(&pol, "load", err)
 *	ret = scxlab_run(&pol, skel->maps.fifo_ops, skel->maps.stats,
 *			 &skel->bss->scxlab_exit);	attach, watch, detach, report
 *	fifo__destroy(skel);
 *	return ret;
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

#include <stdbool.h>
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
 * Parse an unsigned integer option value in [min, max]; on error print
 * "<prog>: --<opt>: ..." and return -1, so parse_option can `return scxlab_parse_ull(...)`.
 */
int scxlab_parse_ull(const char *opt, const char *arg, unsigned long long min,
		     unsigned long long max, unsigned long long *out);

#endif /* SCXLAB_LOADER_H */
