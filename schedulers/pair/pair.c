// SPDX-License-Identifier: GPL-2.0
/*
 * pair.c - loader for the SMT-pair cgroup policy (pair.bpf.c explains the algorithm).
 *
 * Besides the knobs it tells BPF the core layout: for every CPU its sibling, read from
 * /sys/devices/system/cpu/cpuN/topology/thread_siblings_list. Every CPU must have exactly
 * one sibling; on a machine without SMT (scxlab's default VM) the loader refuses to load
 * and says to use VM=smt. The independent check of the policy's rule is
 * tools/pair-check (see its README): it reads a sched_switch trace, not these counters.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "scxlab_loader.h"
#include "pair.h"
#include "pair.skel.h"

enum { OPT_SLICE_US, OPT_PAIR_SLICE_US };

static const struct scxlab_option pair_options[] = {
	[OPT_SLICE_US]	    = { "slice-us", "US", "time slice of a task in microseconds (default: 10000)" },
	[OPT_PAIR_SLICE_US] = { "pair-slice-us", "US", "how long a cgroup keeps a core while others "
				"wait, in microseconds (default: 20000)" },
	{ NULL },
};

static const char *const pair_stat_names[PAIR_NR_STATS] = {
	[PAIR_STAT_ENQUEUE]		= "enqueue",
	[PAIR_STAT_DISPATCH]		= "dispatch",
	[PAIR_STAT_SWITCH]		= "pair_switch",
	[PAIR_STAT_IDLE_MISMATCH]	= "idle_mismatch",
	[PAIR_STAT_IDLE_DRAIN]		= "idle_drain",
	[PAIR_STAT_IDLE_WAIT]		= "idle_wait",
	[PAIR_STAT_IDLE_EMPTY]		= "idle_empty",
	[PAIR_STAT_DRAIN_KICK]		= "drain_kick",
	[PAIR_STAT_REENQUEUE]		= "reenqueue_local",
	[PAIR_STAT_CGROUP_UNKNOWN]	= "cgroup_unknown",
	[PAIR_STAT_CONFLICT]		= "self_check_conflict",
	[PAIR_STAT_TIMER_REQUEUE]	= "timer_requeue",
	[PAIR_STAT_TIMER_KICK]		= "timer_kick",
};

static unsigned long long slice_us = 10000, pair_slice_us = 20000;

static int pair_parse_option(int index, const char *arg)
{
	switch (index) {
	case OPT_SLICE_US:
		return scxlab_parse_ull("slice-us", arg, 100, 10 * 1000 * 1000, &slice_us);
	case OPT_PAIR_SLICE_US:
		return scxlab_parse_ull("pair-slice-us", arg, 100, 10 * 1000 * 1000, &pair_slice_us);
	}
	return -1;
}

/*
 * Parse a kernel CPU list ("0-1", "2,3") into cpus[]; returns how many, or -1 if it
 * names more than max CPUs or is malformed.
 */
static int parse_cpu_list(const char *s, int *cpus, int max)
{
	int n = 0;

	while (*s && *s != '\n') {
		char *end;
		long a = strtol(s, &end, 10), b = a;

		if (end == s || a < 0)
			return -1;
		s = end;
		if (*s == '-') {
			b = strtol(s + 1, &end, 10);
			if (end == s + 1 || b < a)
				return -1;
			s = end;
		}
		for (; a <= b; a++) {
			if (n >= max)
				return -1;
			cpus[n++] = a;
		}
		if (*s == ',')
			s++;
	}
	return n;
}

/* Fill the cpu_pair map; 0, or -1 after saying why the machine does not fit. */
static int load_topology(struct pair *skel, int nr_cpus)
{
	struct pair_cpu info[PAIR_MAX_CPUS];
	__u32 nr_pairs = 0;
	int cpu, i;

	for (cpu = 0; cpu < nr_cpus; cpu++)
		info[cpu].pair = ~0u;
	for (cpu = 0; cpu < nr_cpus; cpu++) {
		char path[128], buf[256];
		int sib[3], n;
		FILE *f;

		if (info[cpu].pair != ~0u)
			continue;	/* filled as the sibling of a lower CPU */
		snprintf(path, sizeof(path),
			 "/sys/devices/system/cpu/cpu%d/topology/thread_siblings_list", cpu);
		f = fopen(path, "r");
		if (!f || !fgets(buf, sizeof(buf), f)) {
			fprintf(stderr, "pair: cannot read %s (%s): is CPU %d offline?\n", path,
				strerror(errno), cpu);
			if (f)
				fclose(f);
			return -1;
		}
		fclose(f);
		n = parse_cpu_list(buf, sib, 3);
		if (n != 2) {
			buf[strcspn(buf, "\n")] = '\0';
			fprintf(stderr, "pair: CPU %d has %s hardware threads (thread_siblings_list "
				"'%s'); the pair policy needs exactly 2 per core: run it with VM=smt\n",
				cpu, n == 1 ? "no other" : "other than 2", buf);
			return -1;
		}
		for (i = 0; i < 2; i++) {
			if (sib[i] >= nr_cpus) {
				fprintf(stderr, "pair: CPU %d's sibling %d is not a possible CPU\n",
					cpu, sib[i]);
				return -1;
			}
			info[sib[i]] = (struct pair_cpu){ .pair = nr_pairs, .slot = i,
							  .sibling = sib[!i] };
		}
		nr_pairs++;
	}
	for (cpu = 0; cpu < nr_cpus; cpu++) {
		__u32 key = cpu;
		int err = bpf_map__update_elem(skel->maps.cpu_pair, &key, sizeof(key), &info[cpu],
					       sizeof(info[cpu]), BPF_ANY);

		if (err) {
			fprintf(stderr, "pair: cannot fill the cpu_pair map: %s\n", strerror(-err));
			return -1;
		}
		printf("cpu %d core %u sibling %d\n", cpu, info[cpu].pair, info[cpu].sibling);
	}
	return 0;
}

static int nr_cpus;

SCXLAB_LIFECYCLE(pair)

static int pair_knobs(struct pair *skel, struct scxlab_policy *pol)
{
	skel->rodata->nr_cpus = nr_cpus;
	skel->rodata->slice_ns = slice_us * 1000;
	skel->rodata->pair_slice_ns = pair_slice_us * 1000;
	return 0;
}

static int pair_loaded(struct pair *skel, struct scxlab_policy *pol)
{
	return load_topology(skel, nr_cpus) ? -ENODEV : 0;
}

int main(int argc, char **argv)
{
	struct scxlab_policy pol = {
		.ops_name = "pair",
		.summary = "SMT siblings only run tasks of the same cgroup at the same time "
			   "(core scheduling by cgroup).",
		.options = pair_options,
		.parse_option = pair_parse_option,
		.stat_names = pair_stat_names,
		.nr_stats = PAIR_NR_STATS,
	};

	scxlab_parse_args(&pol, argc, argv);
	nr_cpus = libbpf_num_possible_cpus();
	if (nr_cpus <= 0)
		return scxlab_fail(&pol, "load", nr_cpus ? nr_cpus : -EINVAL);
	if (nr_cpus > PAIR_MAX_CPUS) {
		fprintf(stderr, "pair: %d possible CPUs, the policy handles at most %d\n", nr_cpus,
			PAIR_MAX_CPUS);
		return scxlab_fail(&pol, "load", -E2BIG);
	}

	return scxlab_lifecycle_pair(&pol, &(struct pair_hooks){ .knobs = pair_knobs,
								  .loaded = pair_loaded });
}
