/*
 * wakebench: how long a woken thread waits before it runs, and what that does to requests.
 * In the spirit of schbench (a message thread hands requests to worker threads it wakes),
 * written for scxlab; no code of schbench is in it.
 *
 *   wakebench --message-threads N --workers M --work-iters K --warmup W --runtime S --out DIR
 *
 * N message threads each own M worker threads. A round: the message thread stamps a request
 * for each of its workers and wakes it (a futex per worker; the stamp is taken just before
 * the FUTEX_WAKE), then sleeps on its own futex until all M have replied. A worker, once
 * running, notes the time, does K iterations of a fixed integer loop (the same work under
 * every policy, so a slower CPU share shows as longer requests, not as less work), records
 *   wakeup latency  = when it ran - when it was woken
 *   request latency = when it finished - when the round was posted
 * in its own histograms (wbhist.h: log-linear, at most 3.1% wide), and replies; the last
 * reply wakes the message thread, which posts the next round at once. So N * (M + 1)
 * threads keep the CPUs busy with wakeups and short bursts, and the policy's choices (which
 * CPU a woken worker goes to, whether it preempts, how long it queues) are what is measured.
 *
 * Warm-up: the first W seconds are recorded apart and then left out (thread start, first
 * placement, the policy settling), as if the statistics were reset: each request counts in
 * the phase during which its round was posted. The measured window is the S seconds after;
 * requests per second = requests posted in it / its length. A worker that was already
 * running when its next request came (it had replied but not yet gone to sleep) is counted
 * with the small wakeup latency it saw: it did not have to be woken.
 *
 * Writes DIR/metrics.json in scxlab's metric contract (percentiles p50 p90 p99 p99.9, mean
 * and max of both latencies, requests per second; invalid when no request was measured) and
 * DIR/histogram.tsv (the measured buckets, ns). Prints a summary on stdout. Under scxlab it marks
 * the measured window's start and end for the agent ($SCXLAB_MARK, runners/common/window.h) while
 * every thread is alive, so the agent's counters (and its per-task sample) cover exactly those S
 * seconds; metrics.json's duration_s is the window's length as wakebench measured it.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "wbhist.h"

enum phase { WARMUP, MEASURE, STOP };

struct worker {
	_Atomic uint32_t seq;		/* bumped by the message thread for each request */
	/* the request, written before seq is bumped (release) and read after (acquire) */
	uint64_t post_ns, wake_ns;
	int phase;
	bool quit;
	struct msgthread *msg;
	pthread_t tid;
	uint64_t sink;			/* the work's result, so the compiler keeps the loop */
	struct wbhist wake[2], req[2];	/* [WARMUP], [MEASURE] */
} __attribute__((aligned(64)));

struct msgthread {
	_Atomic uint32_t pending;	/* replies outstanding in this round */
	struct worker *w;
	pthread_t tid;
	uint64_t rounds;
} __attribute__((aligned(64)));

static int nmsg = 2, nworkers = 4;
static long work_iters = 2000;
static double warmup_s = 1, runtime_s = 5;
static _Atomic int phase = WARMUP;
/* Set once the agent has had time to sample the end of the window: until then the threads stay
 * alive (idle), so that its per-task sample at the end still finds them (see main). */
static _Atomic uint32_t released;
#define HOLD_AFTER_END_S 1.0

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void futex_wait(_Atomic uint32_t *addr, uint32_t val)
{
	syscall(SYS_futex, addr, FUTEX_WAIT_PRIVATE, val, NULL, NULL, 0);
}

static void futex_wake(_Atomic uint32_t *addr)
{
	syscall(SYS_futex, addr, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

/* A fixed amount of CPU work: K steps of a 64-bit LCG the compiler cannot fold away. */
static uint64_t do_work(long iters, uint64_t x)
{
	for (long i = 0; i < iters; i++) {
		x = x * 6364136223846793005u + 1442695040888963407u;
		__asm__ volatile("" : "+r"(x));
	}
	return x;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	uint32_t seen = 0;
	for (;;) {
		uint32_t s;
		while ((s = atomic_load_explicit(&w->seq, memory_order_acquire)) == seen)
			futex_wait(&w->seq, seen);
		uint64_t ran = now_ns();
		seen = s;
		if (w->quit)
			break;
		w->sink = do_work(work_iters, w->sink + s);
		uint64_t done = now_ns();
		wbh_add(&w->wake[w->phase], ran - w->wake_ns);
		wbh_add(&w->req[w->phase], done - w->post_ns);
		if (atomic_fetch_sub_explicit(&w->msg->pending, 1, memory_order_acq_rel) == 1)
			futex_wake(&w->msg->pending);
	}
	return NULL;
}

static void *msg_main(void *arg)
{
	struct msgthread *m = arg;
	int p;
	while ((p = atomic_load(&phase)) != STOP) {
		atomic_store_explicit(&m->pending, (uint32_t)nworkers, memory_order_relaxed);
		uint64_t post = now_ns();
		for (int i = 0; i < nworkers; i++) {
			struct worker *w = &m->w[i];
			w->post_ns = post;
			w->phase = p;
			w->wake_ns = now_ns();
			atomic_fetch_add_explicit(&w->seq, 1, memory_order_release);
			futex_wake(&w->seq);
		}
		uint32_t left;
		while ((left = atomic_load_explicit(&m->pending, memory_order_acquire)) != 0)
			futex_wait(&m->pending, left);
		m->rounds++;
	}
	while (!atomic_load(&released))
		futex_wait(&released, 0);
	for (int i = 0; i < nworkers; i++) {
		m->w[i].quit = true;
		atomic_fetch_add_explicit(&m->w[i].seq, 1, memory_order_release);
		futex_wake(&m->w[i].seq);
	}
	return NULL;
}

/* Tells the scxlab agent that the measured window starts or ends now (a line to the FIFO
 * $SCXLAB_MARK); nothing without it (run by hand). A failure is said, not fatal: the agent
 * then finds the window unmarked and says so. */
static void mark(const char *what)
{
	const char *p = getenv("SCXLAB_MARK");
	if (!p || !*p)
		return;
	int fd = open(p, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || dprintf(fd, "%s\n", what) < 0)
		fprintf(stderr, "wakebench: warning: could not mark the window's %s in %s: %s\n", what, p,
			strerror(errno));
	if (fd >= 0)
		close(fd);
}

static void sleep_s(double s)
{
	struct timespec ts = { .tv_sec = (time_t)s, .tv_nsec = (long)((s - (double)(time_t)s) * 1e9) };
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: wakebench [--message-threads N] [--workers M] [--work-iters K]\n"
		"                 [--warmup SECONDS] [--runtime SECONDS] --out DIR\n"
		"  N message threads (1-64, default 2) each wake M workers (1-64, default 4) per round;\n"
		"  each request is K loop iterations of work (0-100000000, default 2000).\n"
		"  The first SECONDS of --warmup (0-3600, default 1) are left out of the statistics;\n"
		"  then --runtime (1-3600, default 5) seconds are measured.\n"
		"  Writes DIR/metrics.json (scxlab's metric contract) and DIR/histogram.tsv.\n");
}

static long parse_long(const char *opt, const char *s, long lo, long hi)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi) {
		fprintf(stderr, "wakebench: error: %s '%s' is not a whole number from %ld to %ld\n", opt, s, lo, hi);
		exit(2);
	}
	return v;
}

static double parse_seconds(const char *opt, const char *s, double lo, double hi)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= lo && v <= hi)) {
		fprintf(stderr, "wakebench: error: %s '%s' is not a number of seconds from %g to %g\n", opt, s, lo, hi);
		exit(2);
	}
	return v;
}

static void metric(FILE *f, bool *first, const char *name, const char *unit, double v, const char *higher)
{
	fprintf(f, "%s\n  {\"name\": \"%s\", \"unit\": \"%s\", \"value\": %.6f, \"higher_is_better\": %s}",
		*first ? "" : ",", name, unit, v, higher);
	*first = false;
}

/* p50 p90 p99 p99.9 of h, in us; false (with the reason) when one lies beyond the buckets */
static bool quantiles_us(const struct wbhist *h, double out[4], const char *what, char *reason, size_t len)
{
	static const double q[4] = { 0.50, 0.90, 0.99, 0.999 };
	for (int i = 0; i < 4; i++) {
		int over;
		out[i] = (double)wbh_quantile(h, q[i], &over) / 1e3;
		if (over) {
			snprintf(reason, len, "the %s latency's %g quantile lies beyond %.0f s", what, q[i],
				 (double)((uint64_t)1 << WBH_MAX_LOG2) / 1e9);
			return false;
		}
	}
	return true;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "message-threads", required_argument, NULL, 'n' },
		{ "workers", required_argument, NULL, 'm' },
		{ "work-iters", required_argument, NULL, 'k' },
		{ "warmup", required_argument, NULL, 'w' },
		{ "runtime", required_argument, NULL, 'r' },
		{ "out", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *out = NULL;
	int c;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'n': nmsg = (int)parse_long("--message-threads", optarg, 1, 64); break;
		case 'm': nworkers = (int)parse_long("--workers", optarg, 1, 64); break;
		case 'k': work_iters = parse_long("--work-iters", optarg, 0, 100000000); break;
		case 'w': warmup_s = parse_seconds("--warmup", optarg, 0, 3600); break;
		case 'r': runtime_s = parse_seconds("--runtime", optarg, 1, 3600); break;
		case 'o': out = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!out || optind != argc) {
		fprintf(stderr, "wakebench: error: %s\n", !out ? "--out DIR is required" : "unexpected argument");
		usage(stderr);
		return 2;
	}

	struct msgthread *m = aligned_alloc(64, sizeof(*m) * (size_t)nmsg);
	struct worker *w = aligned_alloc(64, sizeof(*w) * (size_t)nmsg * (size_t)nworkers);
	if (!m || !w) {
		fprintf(stderr, "wakebench: error: out of memory\n");
		return 1;
	}
	memset(m, 0, sizeof(*m) * (size_t)nmsg);
	memset(w, 0, sizeof(*w) * (size_t)nmsg * (size_t)nworkers);
	for (int i = 0; i < nmsg; i++) {
		m[i].w = &w[(size_t)i * (size_t)nworkers];
		for (int j = 0; j < nworkers; j++) {
			m[i].w[j].msg = &m[i];
			m[i].w[j].sink = (uint64_t)(i * nworkers + j + 1);
			if ((errno = pthread_create(&m[i].w[j].tid, NULL, worker_main, &m[i].w[j]))) {
				perror("wakebench: error: pthread_create (worker)");
				return 1;
			}
		}
	}
	for (int i = 0; i < nmsg; i++)
		if ((errno = pthread_create(&m[i].tid, NULL, msg_main, &m[i]))) {
			perror("wakebench: error: pthread_create (message thread)");
			return 1;
		}

	if (warmup_s > 0)
		sleep_s(warmup_s);
	mark("start");
	uint64_t t0 = now_ns();
	atomic_store(&phase, MEASURE);
	sleep_s(runtime_s);
	atomic_store(&phase, STOP);
	uint64_t t1 = now_ns();
	mark("end");
	/* The agent samples every task's schedstat right after the end mark (at once: it runs in the RT
	 * class then); threads that had already exited would be missing from that sample, so they are
	 * held, idle, for longer than its sampling takes (0.07-0.1 s in the runs of 2026-12-02). */
	if (getenv("SCXLAB_MARK"))
		sleep_s(HOLD_AFTER_END_S);
	atomic_store(&released, 1);
	for (int i = 0; i < nmsg; i++)
		futex_wake(&released);
	for (int i = 0; i < nmsg; i++)
		pthread_join(m[i].tid, NULL);
	for (size_t i = 0; i < (size_t)nmsg * (size_t)nworkers; i++)
		pthread_join(w[i].tid, NULL);

	static struct wbhist wake, req, wake_warm, req_warm;
	for (size_t i = 0; i < (size_t)nmsg * (size_t)nworkers; i++) {
		wbh_merge(&wake, &w[i].wake[MEASURE]);
		wbh_merge(&req, &w[i].req[MEASURE]);
		wbh_merge(&wake_warm, &w[i].wake[WARMUP]);
		wbh_merge(&req_warm, &w[i].req[WARMUP]);
	}
	double window = (double)(t1 - t0) / 1e9, rps = (double)req.n / window;
	double wq[4] = { 0 }, rq[4] = { 0 };
	char reason[200] = "";
	if (!req.n)
		snprintf(reason, sizeof reason, "no request was posted and answered in the %.3f s measured", window);
	else if (quantiles_us(&wake, wq, "wakeup", reason, sizeof reason))
		quantiles_us(&req, rq, "request", reason, sizeof reason);
	bool valid = !reason[0];

	char *path;
	if (asprintf(&path, "%s/metrics.json", out) < 0)
		return 1;
	FILE *f = fopen(path, "w");
	if (!f) {
		fprintf(stderr, "wakebench: error: cannot write %s: %s\n", path, strerror(errno));
		return 1;
	}
	fprintf(f, "{\"valid\": %s, \"reason\": \"%s\", \"duration_s\": %.6f,\n \"settings\": {\"message_threads\": %d, \"workers_per_thread\": %d, "
		"\"work_iters\": %ld, \"warmup_s\": %g, \"runtime_s\": %g, \"measured_s\": %.6f, \"warmup_requests\": %llu},\n"
		" \"metrics\": [", valid ? "true" : "false", reason, window, nmsg, nworkers, work_iters, warmup_s, runtime_s, window,
		(unsigned long long)req_warm.n);
	if (valid) {
		bool first = true;
		static const char *pct[4] = { "p50", "p90", "p99", "p999" };
		char name[40];
		metric(f, &first, "requests_per_sec", "req/s", rps, "true");
		for (int i = 0; i < 4; i++) {
			snprintf(name, sizeof name, "wakeup_%s_us", pct[i]);
			metric(f, &first, name, "us", wq[i], "false");
		}
		metric(f, &first, "wakeup_mean_us", "us", wbh_mean(&wake) / 1e3, "false");
		metric(f, &first, "wakeup_max_us", "us", (double)wake.max / 1e3, "false");
		for (int i = 0; i < 4; i++) {
			snprintf(name, sizeof name, "request_%s_us", pct[i]);
			metric(f, &first, name, "us", rq[i], "false");
		}
		metric(f, &first, "request_mean_us", "us", wbh_mean(&req) / 1e3, "false");
		metric(f, &first, "request_max_us", "us", (double)req.max / 1e3, "false");
		metric(f, &first, "requests", "count", (double)req.n, "true");
	}
	fprintf(f, "\n]}\n");
	if (fclose(f)) {
		fprintf(stderr, "wakebench: error: cannot write %s\n", path);
		return 1;
	}
	free(path);

	if (asprintf(&path, "%s/histogram.tsv", out) < 0 || !(f = fopen(path, "w"))) {
		fprintf(stderr, "wakebench: error: cannot write %s/histogram.tsv\n", out);
		return 1;
	}
	fprintf(f, "lower_ns\twidth_ns\twakeups\trequests\n");
	for (unsigned i = 0; i < WBH_BUCKETS; i++)
		if (wake.count[i] || req.count[i])
			fprintf(f, "%llu\t%llu\t%llu\t%llu\n", (unsigned long long)wbh_lower(i),
				(unsigned long long)wbh_width(i), (unsigned long long)wake.count[i],
				(unsigned long long)req.count[i]);
	fclose(f);
	free(path);

	printf("wakebench: %d message threads x %d workers, %ld iterations per request, %g s warm-up (%llu requests "
	       "left out), %.3f s measured\n", nmsg, nworkers, work_iters, warmup_s,
	       (unsigned long long)req_warm.n, window);
	printf("  requests: %llu (%.1f/s)\n", (unsigned long long)req.n, rps);
	printf("  wakeup  us: p50 %.1f  p90 %.1f  p99 %.1f  p99.9 %.1f  max %.1f\n", wq[0], wq[1], wq[2], wq[3],
	       (double)wake.max / 1e3);
	printf("  request us: p50 %.1f  p90 %.1f  p99 %.1f  p99.9 %.1f  max %.1f\n", rq[0], rq[1], rq[2], rq[3],
	       (double)req.max / 1e3);
	if (!valid)
		printf("  INVALID: %s\n", reason);
	return 0;
}
