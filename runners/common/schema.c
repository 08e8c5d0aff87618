/*
 * What each kind of config accepts (struct cfg_schema in config.h): cfg_load() refuses any
 * other section or key, naming the file, the line and the accepted names. Adding a key to a
 * config means adding its row here (and reading it where the config is loaded).
 */
#include "config.h"

/* rows without a type leave it NULL */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#define SCHEMA(name, kind, ...)                                                  \
	static const struct cfg_key name##_keys[] = { __VA_ARGS__ };             \
	const struct cfg_schema name = { kind, name##_keys, sizeof(name##_keys) / sizeof(name##_keys[0]) }

/* configs/vms/NAME.ini: read by load_vm() (experiment.c) */
SCHEMA(CFG_VM, "VM",
	{ "vm", "vcpus" }, { "vm", "threads_per_core" }, { "vm", "memory_mb" }, { "vm", "qemu" },
	{ "vm", "cpu" }, { "vm", "cmdline" }, { "vm", "boot_timeout" }, { "vm", "results_disk_mb" },
	{ "vm", "default_clock" }, { "vm", "initrd" },
	{ "clock.virtual", "accel" }, { "clock.virtual", "icount" },
	{ "clock.real", "accel" }, { "clock.real", "icount" },
	{ "accel.kvm", "accel" }, { "accel.kvm", "cpu" },
	{ "run", "load_timeout" });

/* configs/policies/NAME.ini: read by load_policy() and check_requirements() (experiment.c);
 * the host runner records every key in the manifest */
SCHEMA(CFG_POLICY, "policy",
	{ "policy", "description" }, { "policy", "kind" }, { "policy", "loader" }, { "policy", "ops_name" },
	{ "policy", "args" },
	{ "inject", "sysrq_after_s" },
	{ "requires", "vcpus" }, { "requires", "threads_per_core" });

/* configs/workloads/NAME.ini: read by load_workload() (experiment.c); [params] are free names,
 * each with its value type in [types] (checked there) */
SCHEMA(CFG_WORKLOAD, "workload",
	{ "workload", "description" }, { "workload", "dir" }, { "workload", "start" }, { "workload", "client" },
	{ "workload", "stop" }, { "workload", "headline" }, { "workload", "duration" }, { "workload", "warmup" },
	{ "workload", "programs" }, { "workload", "window", "choice marks|lifetime" },
	{ "workload", "drain" },
	{ "params", "*" }, { "types", "*" });

/* configs/cgroups/NAME.ini: read by cgtree_from_cfg() (cgroups.c) */
SCHEMA(CFG_CGROUPS, "cgroup tree",
	{ "tree", "cpu_controller" },
	{ "cgroup.<path>", "weight" },
	{ "instance.<K>", "cgroup" }, { "instance.<K>", "params" });

/* configs/sweeps/NAME.ini: read by sweep_main() (runners/host/sweep.c). [sweep] keys are the ones
 * it passes on to `scxlab run` (plus description and analysis); every [point] key becomes
 * --KEY VALUE of `scxlab run`, so only its options that a point may vary are accepted. */
SCHEMA(CFG_SWEEP, "sweep",
	{ "sweep", "description" }, { "sweep", "policies" }, { "sweep", "workload" }, { "sweep", "duration" },
	{ "sweep", "repeats" }, { "sweep", "clock" }, { "sweep", "accel" }, { "sweep", "vm" }, { "sweep", "monitors" },
	{ "sweep", "analysis", "choice weights|overhead|suite|twins" },
	{ "matrix", "*" },
	{ "point", "policies" }, { "point", "policy" }, { "point", "workload" }, { "point", "duration" },
	{ "point", "repeats" }, { "point", "clock" }, { "point", "target" }, { "point", "vm" },
	{ "point", "monitors" }, { "point", "cgroups" }, { "point", "params" }, { "point", "precision" },
	{ "point", "max-repeats" });

/* plan.ini: written by experiment_plan() on the host, read by the guest agent */
SCHEMA(CFG_PLAN, "plan",
	{ "plan", "workload" }, { "plan", "runs" }, { "plan", "duration" }, { "plan", "warmup" }, { "plan", "drain" },
	{ "plan", "load_timeout" }, { "plan", "clock" }, { "plan", "target" }, { "plan", "monitors" },
	{ "plan", "policies" }, { "plan", "precision_pct" }, { "plan", "min_repeats" },
	{ "workload", "dir" }, { "workload", "start" }, { "workload", "client" }, { "workload", "stop" },
	{ "workload", "headline" }, { "workload", "window", "choice marks|lifetime" },
	{ "workload.params", "*" },
	{ "tree", "name" }, { "tree", "cpu_controller" },
	{ "cgroup.<path>", "weight" },
	{ "instance.<K>", "cgroup" }, { "instance.<K>", "params" },
	{ "run.<K>", "policy" }, { "run.<K>", "kind" }, { "run.<K>", "ops_name" }, { "run.<K>", "loader" },
	{ "run.<K>", "external" }, { "run.<K>", "sysrq_after_s" }, { "run.<K>", "args" }, { "run.<K>", "repeat" },
	/* a selfcheck job (runners/common/selfcheck.h) instead of runs */
	{ "selfcheck", "checks" },
	{ "check.<K>", "policies" }, { "check.<K>", "workload" }, { "check.<K>", "duration" },
	{ "check.<K>", "repeats" }, { "check.<K>", "cgroups" }, { "check.<K>", "expect" },
	{ "check.<K>", "interrupt_after_s" }, { "check.<K>", "target" }, { "check.<K>", "vm" },
	{ "check.<K>", "accel" }, { "check.<K>", "clock" });
