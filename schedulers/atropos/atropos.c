// SPDX-License-Identifier: GPL-2.0
/*
 * atropos.c - loader and user-space load balancer of the atropos policy (atropos.bpf.c
 * explains the split between the two halves).
 *
 * The balancer runs in the shared loader's wait hook, every --balance-ms. Each round it
 * walks the task_load map, turns each task's runnable time since the previous round into
 * a load (fraction of one CPU), sums the loads per domain (the domain a task belongs to is
 * its task_dom entry) and divides by the domain's CPUs. Then it moves tasks greedily from
 * the busiest to the idlest domain, as long as a move shrinks the gap, and prints one line
 *
 *   balance t=SEC round=N load=D0,D1,... imbalance_before=X imbalance_after=Y migrated=M
 *
 * where load is runnable CPUs per CPU of each domain, X the measured spread (highest minus
 * lowest) and Y the spread predicted once the moves take effect; the next round's X is the
 * measured outcome. Tasks seen for the first time have no load yet (no previous sample),
 * and a task moved in the last two rounds is left alone so that it cannot ping-pong
 * before its move shows in the measurements.
 */
#include <errno.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>
#include "scxlab_loader.h"
#include "atropos.h"
#include "atropos.skel.h"

#define TABLE_SIZE	65536	/* power of two, at least twice ATROPOS_MAX_TASKS */
#define COOLDOWN_ROUNDS	2
#define MIN_TASK_LOAD	0.01	/* tasks below this are not worth moving */

enum { OPT_NR_DOMAINS, OPT_SLICE_US, OPT_BALANCE_MS, OPT_MIN_IMBALANCE, OPT_MAX_MIGRATIONS,
       OPT_NO_STEAL };

static const struct scxlab_option atropos_options[] = {
	[OPT_NR_DOMAINS]     = { "nr-domains", "N", "scheduling domains, contiguous CPU ranges "
				 "(default: 2; at most 8 and the number of CPUs)" },
	[OPT_SLICE_US]	     = { "slice-us", "US", "time slice in microseconds (default: 20000)" },
	[OPT_BALANCE_MS]     = { "balance-ms", "MS", "load balancing period (default: 500)" },
	[OPT_MIN_IMBALANCE]  = { "min-imbalance-pct", "P", "balance only above this spread, in % "
				 "of one CPU (default: 10)" },
	[OPT_MAX_MIGRATIONS] = { "max-migrations", "N", "tasks moved per round at most (default: 4)" },
	[OPT_NO_STEAL]	     = { "no-steal", NULL, "idle CPUs do not take tasks of other domains" },
	{ NULL },
};

static const char *const atropos_stat_names[ATROPOS_NR_STATS] = {
	[ATROPOS_STAT_DIRECT_IDLE]	= "direct_idle",
	[ATROPOS_STAT_ENQUEUE]		= "enqueue",
	[ATROPOS_STAT_DISPATCH_OWN]	= "dispatch_own",
	[ATROPOS_STAT_DISPATCH_STEAL]	= "dispatch_steal",
	[ATROPOS_STAT_NEW_TASK]		= "new_task",
	[ATROPOS_STAT_MIGRATED]		= "migrated",
	[ATROPOS_STAT_AFFINITY_FIX]	= "affinity_fix",
	[ATROPOS_STAT_KICK_IDLE]	= "kick_idle",
};

static unsigned long long nr_domains = 2, slice_us = 20000, balance_ms = 500,
			  min_imbalance_pct = 10, max_migrations = 4;
static bool no_steal;

static int atropos_parse_option(int index, const char *arg)
{
	switch (index) {
	case OPT_NR_DOMAINS:
		return scxlab_parse_ull("nr-domains", arg, 1, ATROPOS_MAX_DOMAINS, &nr_domains);
	case OPT_SLICE_US:
		return scxlab_parse_ull("slice-us", arg, 100, 10 * 1000 * 1000, &slice_us);
	case OPT_BALANCE_MS:
		return scxlab_parse_ull("balance-ms", arg, 10, 60 * 1000, &balance_ms);
	case OPT_MIN_IMBALANCE:
		return scxlab_parse_ull("min-imbalance-pct", arg, 0, 1000, &min_imbalance_pct);
	case OPT_MAX_MIGRATIONS:
		return scxlab_parse_ull("max-migrations", arg, 0, 1000, &max_migrations);
	case OPT_NO_STEAL:
		no_steal = true;
		return 0;
	}
	return -1;
}

/* One task as the balancer remembers it between rounds (open addressing, pid 0 = free). */
struct task_entry {
	uint32_t pid;
	uint32_t moved_round;	/* round of its last migration, 0: never */
	uint64_t total_ns;	/* runnable time at this round */
	double load;		/* fraction of a CPU over the last interval; -1 unknown */
	uint32_t dom;
};

struct balancer {
	struct atropos *skel;
	int nr_cpus;
	unsigned int cpu_dom[ATROPOS_MAX_CPUS];
	unsigned int dom_cpus[ATROPOS_MAX_DOMAINS];
	struct task_entry *cur, *prev;	/* this round's and the previous round's tasks */
	uint32_t round;
	uint64_t last_ns, next_ns, t0_ns;
	unsigned long long total_migrations;
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);	/* the clock of bpf_ktime_get_ns() */
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static struct task_entry *table_slot(struct task_entry *table, uint32_t pid)
{
	uint32_t i = (pid * 2654435761u) & (TABLE_SIZE - 1);

	while (table[i].pid && table[i].pid != pid)
		i = (i + 1) & (TABLE_SIZE - 1);
	return &table[i];
}

/* May @pid run on some CPU of @dom? A task we cannot ask about is left where it is. */
static bool allowed_in(const struct balancer *b, uint32_t pid, unsigned int dom)
{
	cpu_set_t set;
	int cpu;

	if (sched_getaffinity(pid, sizeof(set), &set))
		return false;
	for (cpu = 0; cpu < b->nr_cpus; cpu++)
		if (b->cpu_dom[cpu] == dom && CPU_ISSET(cpu, &set))
			return true;
	return false;
}

static void per_cpu_loads(const struct balancer *b, const double *dom_load, double *lpc,
			  unsigned int *hi, unsigned int *lo)
{
	unsigned int d;

	*hi = *lo = 0;
	for (d = 0; d < nr_domains; d++) {
		lpc[d] = dom_load[d] / b->dom_cpus[d];
		if (lpc[d] > lpc[*hi])
			*hi = d;
		if (lpc[d] < lpc[*lo])
			*lo = d;
	}
}

static int balance(struct balancer *b, uint64_t now)
{
	int task_load_fd = bpf_map__fd(b->skel->maps.task_load);
	int task_dom_fd = bpf_map__fd(b->skel->maps.task_dom);
	double interval = (now - b->last_ns) / 1e9, dom_load[ATROPOS_MAX_DOMAINS] = { 0 };
	double lpc[ATROPOS_MAX_DOMAINS], measured[ATROPOS_MAX_DOMAINS], before, after;
	double threshold = min_imbalance_pct / 100.0;
	struct atropos_task_load tl;
	struct task_entry *swap;
	unsigned int d, hi, lo, migrated = 0;
	uint32_t key, next, dom, i;
	bool first = true;
	int err;

	b->round++;
	swap = b->prev;
	b->prev = b->cur;
	b->cur = swap;
	memset(b->cur, 0, TABLE_SIZE * sizeof(*b->cur));

	/* Measure: runnable time since the previous round, per task and per domain. */
	for (;;) {
		struct task_entry *e, *old;
		uint64_t total;

		err = bpf_map_get_next_key(task_load_fd, first ? NULL : &key, &next);
		if (err) {
			if (errno == ENOENT)
				break;
			fprintf(stderr, "atropos: walking the task_load map failed: %s\n",
				strerror(errno));
			return -errno;
		}
		first = false;
		key = next;
		if (bpf_map_lookup_elem(task_load_fd, &key, &tl) ||
		    bpf_map_lookup_elem(task_dom_fd, &key, &dom) || dom >= nr_domains)
			continue;	/* exited meanwhile, or not queued yet */
		total = tl.runnable_ns;
		if (tl.runnable_since && now > tl.runnable_since)
			total += now - tl.runnable_since;

		e = table_slot(b->cur, key);
		e->pid = key;
		e->total_ns = total;
		e->dom = dom;
		e->load = -1;
		old = table_slot(b->prev, key);
		if (old->pid == key) {
			e->moved_round = old->moved_round;
			if (total >= old->total_ns && interval > 0) {
				e->load = (total - old->total_ns) / 1e9 / interval;
				dom_load[dom] += e->load;
			}
		}
	}
	b->last_ns = now;

	per_cpu_loads(b, dom_load, lpc, &hi, &lo);
	before = lpc[hi] - lpc[lo];
	memcpy(measured, lpc, sizeof(measured));

	/* Move: greedily, the task whose move from hi to lo leaves the smallest gap. */
	while (b->round > 1 && migrated < max_migrations && lpc[hi] - lpc[lo] > threshold) {
		double gap = lpc[hi] - lpc[lo], best_gap = gap - 0.01;
		struct task_entry *best = NULL;

		for (i = 0; i < TABLE_SIZE; i++) {
			struct task_entry *e = &b->cur[i];
			double new_gap;

			if (!e->pid || e->dom != hi || e->load < MIN_TASK_LOAD ||
			    (e->moved_round && b->round - e->moved_round <= COOLDOWN_ROUNDS))
				continue;
			new_gap = (dom_load[hi] - e->load) / b->dom_cpus[hi] -
				  (dom_load[lo] + e->load) / b->dom_cpus[lo];
			if (new_gap < 0)
				new_gap = -new_gap;
			if (new_gap < best_gap && allowed_in(b, e->pid, lo)) {
				best_gap = new_gap;
				best = e;
			}
		}
		if (!best)
			break;
		dom = lo;
		if (bpf_map_update_elem(task_dom_fd, &best->pid, &dom, BPF_EXIST)) {
			best->moved_round = b->round;	/* gone meanwhile: skip it */
			continue;
		}
		dom_load[hi] -= best->load;
		dom_load[lo] += best->load;
		best->dom = lo;
		best->moved_round = b->round;
		migrated++;
		per_cpu_loads(b, dom_load, lpc, &hi, &lo);
	}
	after = lpc[hi] - lpc[lo];
	b->total_migrations += migrated;

	if (b->round > 1) {
		printf("balance t=%.1f round=%u load=", (now - b->t0_ns) / 1e9, b->round - 1);
		for (d = 0; d < nr_domains; d++)
			printf("%s%.3f", d ? "," : "", measured[d]);
		printf(" imbalance_before=%.3f imbalance_after=%.3f migrated=%u\n", before, after,
		       migrated);
		fflush(stdout);
	}
	return 0;
}

static int atropos_wait(void *ctx, long long timeout_ns)
{
	struct balancer *b = ctx;
	uint64_t now = mono_ns(), deadline = now + timeout_ns;

	if (!b->t0_ns) {
		/* First call: right after attach. Take the baseline sample now. */
		b->t0_ns = b->last_ns = now;
		b->next_ns = now;
	}
	for (;;) {
		uint64_t until;
		struct timespec ts;

		if (now >= b->next_ns) {
			int err = balance(b, now);

			if (err)
				return err;
			while (b->next_ns <= now)
				b->next_ns += balance_ms * 1000000ULL;
		}
		if (now >= deadline)
			return 0;
		until = b->next_ns < deadline ? b->next_ns : deadline;
		ts.tv_sec = (until - now) / 1000000000ULL;
		ts.tv_nsec = (until - now) % 1000000000ULL;
		nanosleep(&ts, NULL);
		now = mono_ns();
	}
}

SCXLAB_LIFECYCLE(atropos)

static int atropos_knobs(struct atropos *skel, struct scxlab_policy *pol)
{
	struct balancer *b = pol->wait_ctx;

	b->skel = skel;
	skel->rodata->nr_cpus = b->nr_cpus;
	skel->rodata->nr_domains = nr_domains;
	skel->rodata->slice_ns = slice_us * 1000;
	skel->rodata->steal = !no_steal;
	return 0;
}

static int atropos_loaded(struct atropos *skel, struct scxlab_policy *pol)
{
	struct balancer *b = pol->wait_ctx;
	unsigned int cpu, d;
	int err = 0;

	for (cpu = 0; !err && cpu < (unsigned int)b->nr_cpus; cpu++)
		err = bpf_map__update_elem(skel->maps.cpu_dom, &cpu, sizeof(cpu), &b->cpu_dom[cpu],
					   sizeof(b->cpu_dom[cpu]), BPF_ANY);
	if (err)
		return err;
	/* e.g. "domains 0=0,1 1=2,3": what the load=... columns of the balance lines mean */
	printf("domains");
	for (d = 0; d < nr_domains; d++) {
		bool first_cpu = true;

		for (cpu = 0; cpu < (unsigned int)b->nr_cpus; cpu++) {
			if (b->cpu_dom[cpu] != d)
				continue;
			if (first_cpu)
				printf(" %u=%u", d, cpu);
			else
				printf(",%u", cpu);
			first_cpu = false;
		}
	}
	printf("\n");
	return 0;
}

static int atropos_finished(struct atropos *skel, struct scxlab_policy *pol, int status)
{
	struct balancer *b = pol->wait_ctx;

	fprintf(stderr, "atropos: %u balancing rounds, %llu migrations\n",
		b->round ? b->round - 1 : 0, b->total_migrations);
	return status;
}

int main(int argc, char **argv)
{
	struct scxlab_policy pol = {
		.ops_name = "atropos",
		.summary = "FIFO queue per CPU domain in BPF; user-space load balancer moves tasks "
			   "between domains.",
		.options = atropos_options,
		.parse_option = atropos_parse_option,
		.stat_names = atropos_stat_names,
		.nr_stats = ATROPOS_NR_STATS,
	};
	struct balancer b = { 0 };
	unsigned int cpu;
	int ret;

	scxlab_parse_args(&pol, argc, argv);
	b.nr_cpus = libbpf_num_possible_cpus();
	if (b.nr_cpus <= 0)
		return scxlab_fail(&pol, "load", b.nr_cpus ? b.nr_cpus : -EINVAL);
	if (b.nr_cpus > ATROPOS_MAX_CPUS) {
		fprintf(stderr, "atropos: %d possible CPUs, the policy handles at most %d\n",
			b.nr_cpus, ATROPOS_MAX_CPUS);
		return scxlab_fail(&pol, "load", -E2BIG);
	}
	if (nr_domains > (unsigned long long)b.nr_cpus) {
		fprintf(stderr, "atropos: --nr-domains %llu: this machine has only %d CPUs\n",
			nr_domains, b.nr_cpus);
		return SCXLAB_STATUS_USAGE;
	}
	for (cpu = 0; cpu < (unsigned int)b.nr_cpus; cpu++) {
		b.cpu_dom[cpu] = cpu * nr_domains / b.nr_cpus;
		b.dom_cpus[b.cpu_dom[cpu]]++;
	}
	b.cur = calloc(TABLE_SIZE, sizeof(*b.cur));
	b.prev = calloc(TABLE_SIZE, sizeof(*b.prev));
	if (!b.cur || !b.prev) {
		fprintf(stderr, "atropos: out of memory\n");
		return scxlab_fail(&pol, "load", -ENOMEM);
	}

	pol.wait = atropos_wait;
	pol.wait_ctx = &b;
	ret = scxlab_lifecycle_atropos(&pol, &(struct atropos_hooks){ .knobs = atropos_knobs,
		.loaded = atropos_loaded, .finished = atropos_finished });
	free(b.cur);
	free(b.prev);
	return ret;
}
