// SPDX-License-Identifier: GPL-2.0
/*
 * userland.c - loader and user-space scheduler of the userland policy (userland.bpf.c
 * explains the round trip).
 *
 * The scheduler runs in the shared loader's wait hook: it sleeps in ring_buffer__poll()
 * on the to_user ring buffer, and for each record updates the task's virtual runtime and
 * puts it in a min-heap; then it tops up the from_user queue with the lowest-vruntime
 * tasks, keeping at most --batch decisions outstanding (pushed but not yet taken by a
 * CPU). Besides the shared stats lines it prints once a second
 *
 *   usersched t=SEC received=N decided=N pending=N max_pending=N wake_records=N
 *
 * (totals since attach; pending = tasks in the heap now). The process locks its memory
 * (mlockall) so that running the scheduler never waits for a page to be read in.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "scxlab_loader.h"
#include "userland.h"
#include "userland.skel.h"

#define TABLE_SIZE	65536	/* tasks remembered (open addressing), a power of two */
#define HEAP_SIZE	TABLE_SIZE

enum { OPT_SLICE_US, OPT_BATCH };

static const struct scxlab_option userland_options[] = {
	[OPT_SLICE_US] = { "slice-us", "US", "time slice in microseconds (default: 20000)" },
	[OPT_BATCH]    = { "batch", "N", "decisions outstanding at most (default: 2 per CPU)" },
	{ NULL },
};

static const char *const userland_stat_names[USERLAND_NR_STATS] = {
	[USERLAND_STAT_TO_USER]		= "to_user",
	[USERLAND_STAT_FROM_USER]	= "from_user",
	[USERLAND_STAT_USERSCHED]	= "usersched_direct",
	[USERLAND_STAT_KTHREAD]		= "kthread_direct",
	[USERLAND_STAT_RING_FULL]	= "ring_full_direct",
	[USERLAND_STAT_TASK_GONE]	= "task_gone",
	[USERLAND_STAT_WAKE_REQUEST]	= "wake_request",
	[USERLAND_STAT_KICK_IDLE]	= "kick_idle",
};

static unsigned long long slice_us = 20000, batch;

static int userland_parse_option(int index, const char *arg)
{
	switch (index) {
	case OPT_SLICE_US:
		return scxlab_parse_ull("slice-us", arg, 100, 10 * 1000 * 1000, &slice_us);
	case OPT_BATCH:
		return scxlab_parse_ull("batch", arg, 1, USERLAND_MAX_TASKS, &batch);
	}
	return -1;
}

struct utask {
	uint32_t pid;		/* 0: free slot */
	bool queued;		/* in the heap (waiting for a decision) */
	uint32_t weight;
	uint64_t vruntime;
	uint64_t last_sum_exec_ns;
};

struct heap_node {
	uint64_t vruntime;
	uint32_t pid;
};

struct usersched {
	struct userland *skel;
	struct ring_buffer *rb;
	int from_user_fd;
	struct utask *tasks;
	unsigned int nr_tasks;
	struct heap_node *heap;
	unsigned int heap_len;
	uint64_t min_vruntime, slice_ns, nr_pushed;
	unsigned long long received, decided, wake_records, max_pending;
	uint64_t t0_ns, next_print_ns;
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static struct utask *task_slot(struct utask *table, uint32_t pid)
{
	uint32_t i = (pid * 2654435761u) & (TABLE_SIZE - 1);

	while (table[i].pid && table[i].pid != pid)
		i = (i + 1) & (TABLE_SIZE - 1);
	return &table[i];
}

/*
 * Past half full, forget the tasks not waiting in the heap: exited tasks are never
 * removed otherwise. A forgotten sleeper comes back at min_vruntime - slice, which is
 * where the sleeper rule would put it anyway after a long sleep.
 */
static void prune_tasks(struct usersched *s)
{
	struct utask *old = s->tasks, *fresh = calloc(TABLE_SIZE, sizeof(*fresh));
	unsigned int i;

	if (!fresh)
		return;		/* keep the full table; lookups still terminate below 100% */
	s->nr_tasks = 0;
	for (i = 0; i < TABLE_SIZE; i++) {
		if (old[i].pid && old[i].queued) {
			*task_slot(fresh, old[i].pid) = old[i];
			s->nr_tasks++;
		}
	}
	s->tasks = fresh;
	free(old);
}

static void heap_push(struct usersched *s, uint64_t vruntime, uint32_t pid)
{
	unsigned int i = s->heap_len++;

	while (i > 0) {
		unsigned int parent = (i - 1) / 2;

		if (s->heap[parent].vruntime <= vruntime)
			break;
		s->heap[i] = s->heap[parent];
		i = parent;
	}
	s->heap[i] = (struct heap_node){ vruntime, pid };
}

static struct heap_node heap_pop(struct usersched *s)
{
	struct heap_node top = s->heap[0], last = s->heap[--s->heap_len];
	unsigned int i = 0;

	for (;;) {
		unsigned int child = 2 * i + 1;

		if (child >= s->heap_len)
			break;
		if (child + 1 < s->heap_len && s->heap[child + 1].vruntime < s->heap[child].vruntime)
			child++;
		if (last.vruntime <= s->heap[child].vruntime)
			break;
		s->heap[i] = s->heap[child];
		i = child;
	}
	if (s->heap_len)
		s->heap[i] = last;
	return top;
}

static int on_message(void *ctx, void *data, size_t size)
{
	struct usersched *s = ctx;
	const struct userland_msg *msg = data;
	struct utask *t;
	uint64_t floor;

	if (size < sizeof(*msg))
		return 0;
	if (msg->kind == USERLAND_MSG_WAKE) {
		s->wake_records++;
		return 0;
	}
	if (msg->kind != USERLAND_MSG_TASK || !msg->pid)
		return 0;
	s->received++;

	if (s->nr_tasks >= TABLE_SIZE / 2)
		prune_tasks(s);
	t = task_slot(s->tasks, msg->pid);
	if (!t->pid) {
		t->pid = msg->pid;
		t->vruntime = s->min_vruntime;
		t->last_sum_exec_ns = msg->sum_exec_ns;
		s->nr_tasks++;
	} else if (msg->sum_exec_ns >= t->last_sum_exec_ns) {
		/* Charge the CPU time used since the last visit, scaled by 100 / weight. */
		t->vruntime += (msg->sum_exec_ns - t->last_sum_exec_ns) * 100 /
			       (msg->weight ? msg->weight : 1);
		t->last_sum_exec_ns = msg->sum_exec_ns;
	} else {
		t->last_sum_exec_ns = msg->sum_exec_ns;	/* pid reused by a new task */
	}
	t->weight = msg->weight;
	floor = s->min_vruntime > s->slice_ns ? s->min_vruntime - s->slice_ns : 0;
	if (t->vruntime < floor)
		t->vruntime = floor;

	/* Already waiting (the kernel took it back and enqueued it again): one entry is enough. */
	if (!t->queued && s->heap_len < HEAP_SIZE) {
		heap_push(s, t->vruntime, t->pid);
		t->queued = true;
	}
	return 0;
}

static int push_decisions(struct usersched *s)
{
	uint64_t outstanding = s->nr_pushed - s->skel->bss->nr_decisions_taken;

	while (outstanding < batch && s->heap_len) {
		struct heap_node n = heap_pop(s);
		struct utask *t = task_slot(s->tasks, n.pid);

		if (bpf_map_update_elem(s->from_user_fd, NULL, &n.pid, BPF_ANY)) {
			int err = -errno;

			heap_push(s, n.vruntime, n.pid);
			if (err == -E2BIG || err == -ENOSPC)
				break;		/* queue full: BPF will drain it */
			fprintf(stderr, "userland: pushing a decision failed: %s\n", strerror(-err));
			return err;
		}
		if (t->pid == n.pid)
			t->queued = false;
		if (n.vruntime > s->min_vruntime)
			s->min_vruntime = n.vruntime;
		s->nr_pushed++;
		s->decided++;
		outstanding++;
	}
	s->skel->bss->nr_user_pending = s->heap_len;
	if (s->heap_len > s->max_pending)
		s->max_pending = s->heap_len;
	return 0;
}

static int userland_wait(void *ctx, long long timeout_ns)
{
	struct usersched *s = ctx;
	uint64_t now = mono_ns(), deadline = now + timeout_ns;
	int n, err;

	if (!s->t0_ns) {
		s->t0_ns = now;
		s->next_print_ns = now + 1000000000ULL;
	}
	do {
		/* epoll's timeout is in ms: round up so that a short wait still sleeps. */
		n = ring_buffer__poll(s->rb, (int)((deadline - now + 999999) / 1000000));
		if (n < 0 && n != -EINTR) {
			fprintf(stderr, "userland: polling the ring buffer failed: %s\n", strerror(-n));
			return n;
		}
		s->skel->bss->wake_requested = 0;
		err = push_decisions(s);
		if (err)
			return err;
		now = mono_ns();
		if (now >= s->next_print_ns) {
			printf("usersched t=%.1f received=%llu decided=%llu pending=%u max_pending=%llu "
			       "wake_records=%llu\n", (now - s->t0_ns) / 1e9, s->received, s->decided,
			       s->heap_len, s->max_pending, s->wake_records);
			fflush(stdout);
			while (s->next_print_ns <= now)
				s->next_print_ns += 1000000000ULL;
		}
	} while (now < deadline && n != -EINTR);
	return 0;
}

SCXLAB_LIFECYCLE(userland)

static int userland_knobs(struct userland *skel, struct scxlab_policy *pol)
{
	struct usersched *s = pol->wait_ctx;

	s->skel = skel;
	skel->rodata->usersched_tgid = getpid();
	skel->rodata->slice_ns = s->slice_ns;
	return 0;
}

static int userland_loaded(struct userland *skel, struct scxlab_policy *pol)
{
	struct usersched *s = pol->wait_ctx;

	s->from_user_fd = bpf_map__fd(skel->maps.from_user);
	s->rb = ring_buffer__new(bpf_map__fd(skel->maps.to_user), on_message, s, NULL);
	return s->rb ? 0 : -errno;
}

static int userland_finished(struct userland *skel, struct scxlab_policy *pol, int status)
{
	struct usersched *s = pol->wait_ctx;

	fprintf(stderr, "userland: received %llu tasks, decided %llu, %u left pending, "
		"at most %llu pending, %llu wake records\n", s->received, s->decided, s->heap_len,
		s->max_pending, s->wake_records);
	ring_buffer__free(s->rb);
	return status;
}

int main(int argc, char **argv)
{
	struct scxlab_policy pol = {
		.ops_name = "userland",
		.summary = "Runnable tasks go to a user-space process that orders them by vruntime "
			   "and sends back the dispatch order.",
		.options = userland_options,
		.parse_option = userland_parse_option,
		.stat_names = userland_stat_names,
		.nr_stats = USERLAND_NR_STATS,
	};
	struct usersched s = { 0 };
	int nr_cpus, ret;

	scxlab_parse_args(&pol, argc, argv);
	nr_cpus = libbpf_num_possible_cpus();
	if (nr_cpus <= 0)
		return scxlab_fail(&pol, "load", nr_cpus ? nr_cpus : -EINVAL);
	if (!batch)
		batch = 2ULL * nr_cpus;
	s.slice_ns = slice_us * 1000;
	s.tasks = calloc(TABLE_SIZE, sizeof(*s.tasks));
	s.heap = calloc(HEAP_SIZE, sizeof(*s.heap));
	if (!s.tasks || !s.heap) {
		fprintf(stderr, "userland: out of memory\n");
		return scxlab_fail(&pol, "load", -ENOMEM);
	}
	if (mlockall(MCL_CURRENT | MCL_FUTURE))
		fprintf(stderr, "userland: warning: mlockall failed (%s); the scheduler may stall "
			"on page faults\n", strerror(errno));

	pol.wait = userland_wait;
	pol.wait_ctx = &s;
	ret = scxlab_lifecycle_userland(&pol, &(struct userland_hooks){ .knobs = userland_knobs,
		.loaded = userland_loaded, .finished = userland_finished });
	free(s.tasks);
	free(s.heap);
	return ret;
}
