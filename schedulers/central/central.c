// SPDX-License-Identifier: GPL-2.0
/*
 * central.c - loader for the central-CPU policy (central.bpf.c explains the algorithm).
 *
 * Besides the knobs it does one thing the shared loader does not: it moves itself onto the
 * central CPU before attaching, because the policy's BPF timer is pinned to the CPU that
 * runs ops.init, which is normally the CPU of the process attaching the scheduler. It
 * stays there; it sleeps almost all the time.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include "scxlab_loader.h"
#include "central.h"
#include "central.skel.h"

enum { OPT_CENTRAL_CPU, OPT_SLICE_US, OPT_TIMER_US };

static const struct scxlab_option central_options[] = {
	[OPT_CENTRAL_CPU] = { "central-cpu", "CPU", "the CPU that schedules all others (default: 0)" },
	[OPT_SLICE_US]	  = { "slice-us", "US", "how long a task may run while others wait, in "
			      "microseconds (default: 20000)" },
	[OPT_TIMER_US]	  = { "timer-us", "US", "period of the central CPU's slice check in "
			      "microseconds (default: 2000)" },
	{ NULL },
};

static const char *const central_stat_names[CENTRAL_NR_STATS] = {
	[CENTRAL_STAT_DISPATCH_WORKER]	 = "central_to_worker",
	[CENTRAL_STAT_DISPATCH_SELF]	 = "central_to_self",
	[CENTRAL_STAT_TIMER_SERVE]	 = "timer_to_worker",
	[CENTRAL_STAT_TIMER_PREEMPT]	 = "timer_preempt",
	[CENTRAL_STAT_LOCAL_KTHREAD]	 = "local_kthread",
	[CENTRAL_STAT_LOCAL_REQUEUE]	 = "local_requeue",
	[CENTRAL_STAT_FALLBACK_KEEP]	 = "fallback_keep",
	[CENTRAL_STAT_ENQUEUE]		 = "enqueue_central",
	[CENTRAL_STAT_WORKER_REQUEST]	 = "worker_request",
	[CENTRAL_STAT_TIMER_RUNS]	 = "timer_runs",
	[CENTRAL_STAT_TIMER_OFF_CENTRAL] = "timer_off_central",
};

static unsigned long long central_cpu, slice_us = 20000, timer_us = 2000;

static int central_parse_option(int index, const char *arg)
{
	switch (index) {
	case OPT_CENTRAL_CPU:
		return scxlab_parse_ull("central-cpu", arg, 0, CENTRAL_MAX_CPUS - 1, &central_cpu);
	case OPT_SLICE_US:
		return scxlab_parse_ull("slice-us", arg, 100, 10 * 1000 * 1000, &slice_us);
	case OPT_TIMER_US:
		return scxlab_parse_ull("timer-us", arg, 100, 1000 * 1000, &timer_us);
	}
	return -1;
}

static int nr_cpus;

SCXLAB_LIFECYCLE(central)

static int central_knobs(struct central *skel, struct scxlab_policy *pol)
{
	skel->rodata->central_cpu = central_cpu;
	skel->rodata->nr_cpus = nr_cpus;
	skel->rodata->slice_ns = slice_us * 1000;
	skel->rodata->timer_ns = timer_us * 1000;
	return 0;
}

int main(int argc, char **argv)
{
	struct scxlab_policy pol = {
		.ops_name = "central",
		.summary = "One CPU decides for all: a central queue, tickless workers, slices "
			   "expired by a BPF timer on the central CPU.",
		.options = central_options,
		.parse_option = central_parse_option,
		.stat_names = central_stat_names,
		.nr_stats = CENTRAL_NR_STATS,
	};
	cpu_set_t set;

	scxlab_parse_args(&pol, argc, argv);
	nr_cpus = libbpf_num_possible_cpus();
	if (nr_cpus <= 0)
		return scxlab_fail(&pol, "load", nr_cpus ? nr_cpus : -EINVAL);
	if (nr_cpus > CENTRAL_MAX_CPUS) {
		fprintf(stderr, "central: %d possible CPUs, but the policy handles at most %d\n",
			nr_cpus, CENTRAL_MAX_CPUS);
		return scxlab_fail(&pol, "load", -E2BIG);
	}
	if (central_cpu >= (unsigned long long)nr_cpus) {
		fprintf(stderr, "central: --central-cpu %llu: this machine has CPUs 0 to %d\n",
			central_cpu, nr_cpus - 1);
		return SCXLAB_STATUS_USAGE;
	}
	CPU_ZERO(&set);
	CPU_SET(central_cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set)) {
		fprintf(stderr, "central: cannot move the loader to --central-cpu %llu (offline?): %s\n",
			central_cpu, strerror(errno));
		return scxlab_fail(&pol, "load", -errno);
	}

	return scxlab_lifecycle_central(&pol, &(struct central_hooks){ .knobs = central_knobs });
}
