/*
 * What to run, read from configs/: the VM shape (configs/vms/NAME.ini), each policy
 * (configs/policies/NAME.ini) and the workload (configs/workloads/NAME.ini), combined with
 * the user's request (POLICY/POLICIES, WORKLOAD, DURATION, REPEATS, CLOCK, TARGET, VM).
 * experiment_load() validates everything before anything runs, so bad input is reported
 * with the valid choices and touches no result. experiment_plan() expands the matrix into
 * the ordered list of runs the guest agent executes.
 */
#ifndef SCXLAB_EXPERIMENT_H
#define SCXLAB_EXPERIMENT_H

#include "config.h"

struct policy_def {
	char *name;
	struct cfg cfg;
	const char *kind;	/* "cfs": the kernel's fair class, nothing loaded; "scx": a BPF policy */
	const char *ops_name;	/* what /sys/kernel/sched_ext/root/ops must say while it runs */
	const char *loader;	/* binary under build/schedulers/ */
	const char *args;	/* extra loader arguments */
};

struct workload_def {
	char *name;
	struct cfg cfg;
	const char *dir, *start, *client, *stop, *headline;
	long duration, warmup;
};

struct request {
	const char *policies;	/* space-separated names */
	const char *workload;
	const char *duration, *repeats, *clock, *target, *vm;	/* NULL or "" = the config's default */
};

struct experiment {
	struct cfg vm;
	const char *vm_name;	/* configs/vms/<vm_name>.ini */
	long vcpus, threads_per_core, memory_mb, boot_timeout, load_timeout, results_disk_mb;
	const char *qemu, *cpu, *cmdline;
	const char *clock, *accel, *icount;
	const char *target;
	struct policy_def *pol;
	size_t npol;
	struct workload_def wl;
	long duration, warmup, repeats;
};

int experiment_load(struct experiment *x, const char *configs_dir, const struct request *r, struct err *e);
void experiment_free(struct experiment *x);
/* Total runs and the policy index of run k (0-based): repeats are interleaved, and the
 * order rotates each repeat so that no policy always runs first after a boot. */
size_t experiment_nruns(const struct experiment *x);
size_t experiment_run_policy(const struct experiment *x, size_t k);
/* The plan file the guest agent reads. */
void experiment_plan(const struct experiment *x, struct cfg *plan);
/* Policy/workload names are folder and file names: [a-z0-9_-]+. */
int check_name(const char *what, const char *name, struct err *e);

#endif
