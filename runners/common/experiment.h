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

#include "cgroups.h"
#include "config.h"

struct policy_def {
	char *name;
	struct cfg cfg;
	const char *kind;	/* "cfs": the kernel's fair class, nothing loaded; "scx": a BPF policy */
	const char *ops_name;	/* what /sys/kernel/sched_ext/root/ops must say while it runs */
	const char *loader;	/* binary under build/schedulers/ */
	const char *args;	/* extra loader arguments */
	/* external:/path/to/binary [args]: any sched_ext scheduler binary the user has. Its ops
	 * name is not known in advance (any enabled scheduler counts as in charge, and the name
	 * seen is recorded) and it speaks no scxlab loader options; loader is the host path. */
	bool external;
	long sysrq_after_s;	/* [inject] sysrq_after_s: press SysRq-S this far into the measurement */
};

struct workload_def {
	char *name;
	struct cfg cfg;
	const char *dir, *start, *client, *stop, *headline;
	const char *window;	/* "marks": the client marks its measured window; "lifetime": it does not (window.h) */
	const char *programs;	/* what its scripts run, checked on PATH before a TARGET=host run ("" unknown) */
	long duration, warmup;
	long drain;		/* seconds at most to wait after the warm-up for the machine to go quiet (window.h) */
};

struct request {
	const char *policy;	/* one policy, taken whole (POLICY=, may be "external:/bin/x args") */
	const char *policies;	/* several: split on ';' if it has one, else on whitespace */
	const char *monitors;	/* optional extra monitors, space-separated (e.g. "bpf-stats") */
	const char *cgroups;	/* a cgroup tree: configs/cgroups/NAME.ini or pair:DEPTH:RATIO */
	const char *params;	/* PARAMS="key=value ...": overrides of the workload's [params] */
	const char *precision;	/* PRECISION=: target half-width (%) of each ratio-to-cfs CI */
	const char *max_repeats;	/* MAX_REPEATS=: the cap on repeats with PRECISION= */
	const char *workload;
	const char *duration, *repeats, *clock, *target, *vm;	/* NULL or "" = the config's default */
	const char *accel;	/* ACCEL=: kvm, tcg or auto (NULL or "" = auto) */
	/* ICOUNT_SHIFT=: the virtual clock's -icount shift instead of the VM config's (NULL or "" =
	 * the config's); it implies CLOCK=virtual */
	const char *icount_shift;
	/* what the host runner found out about this machine's KVM before loading (kvm_probe()):
	 * ACCEL=auto takes KVM when kvm_usable; kvm_why says why not (or what worked) */
	bool kvm_usable;
	const char *kvm_why;
};

struct experiment {
	struct cfg vm;
	const char *vm_name;	/* configs/vms/<vm_name>.ini */
	long vcpus, threads_per_core, memory_mb, boot_timeout, load_timeout, results_disk_mb;
	const char *qemu, *cpu, *cmdline;
	/* [vm] initrd: "scxlab" (build/kernel/initramfs.img: kernel/initramfs/, loads the one
	 * module the root disk needs and switches to it) or "image" (the image's Debian initrd) */
	const char *initrd;
	const char *clock, *accel, *icount;
	/* the time model under the virtual clock: icount's shift (2^shift ns of guest time per
	 * instruction), from ICOUNT_SHIFT= or the VM config; -1 when there is none (real clock,
	 * KVM, TARGET=host) or it is adaptive (shift=auto). icount_owned: icount when rewritten. */
	long icount_shift;
	char *icount_owned;
	/* The accelerator that runs the guest: "kvm" (vCPUs are host threads doing KVM_RUN, real
	 * clock only) or "tcg" (QEMU's emulator, either clock); "none" under TARGET=host. accel_why
	 * says how it was chosen (ACCEL= given, or auto and why), and accel_fell_back that auto
	 * wanted KVM and found none, which the runner says once. */
	const char *accel_kind, *accel_why;
	bool accel_fell_back;
	const char *target;
	struct policy_def *pol;
	size_t npol;
	struct workload_def wl;
	long duration, warmup, repeats;
	const char *monitors;	/* validated extra monitors, "" when none */
	bool has_tree;
	struct cgtree tree;	/* workload instances in cgroups, when has_tree */
	double precision_pct;	/* 0: fixed repeats; else repeats is the cap of the stopping rule */
	long min_repeats;
};

/* Monitors a user may add; each is off by default because it perturbs the measurement. */
#define EXTRA_MONITORS "bpf-stats sched-trace"

int experiment_load(struct experiment *x, const char *configs_dir, const struct request *r, struct err *e);
void experiment_free(struct experiment *x);
/* Total runs and the policy index of run k (0-based): repeats are interleaved, and the
 * order rotates each repeat so that no policy always runs first after a boot. */
size_t experiment_nruns(const struct experiment *x);
size_t experiment_run_policy(const struct experiment *x, size_t k);
/* The plan file the guest agent reads. */
void experiment_plan(const struct experiment *x, struct cfg *plan);
/* The command a user typed, for the manifest: prefix (e.g. "make experiment") and each value
 * given as VAR=value, quoted for a shell. Caller frees. */
char *request_command(const char *prefix, const struct request *r);
/* The guest's checks of a plan (ranges, complete [run.K] sections, the cgroup tree, every
 * parameter value a word), shared so that the host runs them before it boots anything. */
int plan_check(const struct cfg *plan, struct err *e);
/* Read plan.ini against the plan's schema, then plan_check(). */
int plan_load(struct cfg *plan, const char *path, struct err *e);
/* Policy/workload names are folder and file names: [a-z0-9_-]+. */
int check_name(const char *what, const char *name, struct err *e);

#endif
