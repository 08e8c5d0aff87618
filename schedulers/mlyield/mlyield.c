// SPDX-License-Identifier: GPL-2.0
/*
 * mlyield.c - loader for the ML yield predictor policy (mlyield.bpf.c explains the policy).
 *
 * Besides the usual open -> knobs -> load -> attach -> watch -> report, it:
 *  - reads the model: --model PATH, or the default model compiled into this binary
 *    (schedulers/mlyield/default-model.json, embedded with .incbin, because the experiment
 *    job carries only the loader binaries); checks its features match this build's;
 *    writes its fixed-point weights into the BPF program's data before load;
 *  - self-tests before attaching: runs the BPF feature update and inference (program
 *    mlyield_selftest, through BPF_PROG_TEST_RUN) on MLY_SELFTEST_CASES inputs and compares
 *    them bit for bit with the same functions compiled here; any difference fails the load;
 *  - attaches the sys_enter tracepoint program that counts syscalls before the scheduler,
 *    so that tasks have histories when the first decisions come;
 *  - in --mode trace, drains the ring buffer from a second thread and joins each decision
 *    with the stop of its incumbent that decides its label, writing one CSV row per decision
 *    to --trace-out (default: mlyield-trace.csv next to --exit-info, i.e. the run's raw/).
 *    The observer is observed: that thread (task name "mlyield") is a task like any other,
 *    shows up in the trace as incumbent and wakee, and takes CPU time from the workload, so
 *    trace-mode throughput is not that of always-migrate;
 *  - prints the verifier's statistics per program and the load time, because verification
 *    runs at emulated speed in the guest and must finish within the agent's load timeout.
 *
 * Trace CSV (one row per wakeup whose previous CPU was busy, "decision" below; '#' lines are
 * metadata; a row's label is derived by tools/mltrain from outcome, stop_after_ns, voluntary
 * and the horizon chosen there):
 *   t_ns            decision time, CLOCK_MONOTONIC ns (bpf_ktime_get_ns)
 *   cpu, prev_cpu   CPU running select_cpu, the waking task's previous (busy) CPU
 *   idle_available  1 if another CPU was idle: a real keep-or-migrate decision point
 *   wake_flags      SCX_WAKE_* flags of the wakeup
 *   wakee_pid, wakee_comm, inc_pid, inc_comm   the waking task and the incumbent on prev_cpu
 *   inc_is_waker    1 if the incumbent itself did the wakeup
 *   inc_ran_ns      how long the incumbent had been running at the decision
 *   inc_nr_syscalls the incumbent's syscall count (wraps at 2^32)
 *   logit, pred     the loaded model's fixed-point logit and prediction (model_fingerprint)
 *   outcome         stop: the incumbent's next stop was seen; lost: that stop was missed
 *                   (a race at the decision; the row has no label); censored: the trace
 *                   ended first (stop_after_ns is then the time until the end)
 *   stop_after_ns   next stop minus t_ns
 *   voluntary       1 if it stopped because it blocked, 0 if preempted / slice expired
 *   x_<syscall>     the 64 Q8 features (mlyield_nn.h), in model input order
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "scxlab_loader.h"
#include "mlyield.h"
#include "mlyield_model.h"
#include "mlyield.skel.h"

/*
 * The default model, byte for byte. The path is relative to the repository root, where
 * build.mk runs the compiler.
 */
__asm__(".pushsection .rodata\n"
	".type mly_default_model_json, @object\n"
	"mly_default_model_json:\n"
	".incbin \"schedulers/mlyield/default-model.json\"\n"
	".byte 0\n"
	".size mly_default_model_json, . - mly_default_model_json\n"
	".popsection\n");
extern const char mly_default_model_json[];

#define MLY_SELFTEST_CASES	200
#define MLY_SELFTEST_NRS	256	/* matches mlyield.bpf.c */

enum { OPT_MODE, OPT_MODEL, OPT_TRACE_OUT, OPT_SLICE_US };

static const struct scxlab_option mly_options[] = {
	[OPT_MODE]	= { "mode", "MODE", "predict | always-migrate | never-migrate | trace "
			    "(default: predict)" },
	[OPT_MODEL]	= { "model", "PATH", "model file from tools/mltrain (default: the one "
			    "built in, schedulers/mlyield/default-model.json)" },
	[OPT_TRACE_OUT]	= { "trace-out", "PATH", "--mode trace: CSV to create (default: "
			    "mlyield-trace.csv beside --exit-info); never overwritten" },
	[OPT_SLICE_US]	= { "slice-us", "US", "time slice in microseconds (default: 20000)" },
	{ NULL },
};

static const char *const mode_names[MLY_NR_MODES] = {
	[MLY_MODE_PREDICT]		= "predict",
	[MLY_MODE_ALWAYS_MIGRATE]	= "always-migrate",
	[MLY_MODE_NEVER_MIGRATE]	= "never-migrate",
	[MLY_MODE_TRACE]		= "trace",
};

static const char *const mly_stat_names[MLY_NR_STATS] = {
	[MLY_STAT_PREV_IDLE]		= "prev_idle",
	[MLY_STAT_NO_IDLE]		= "no_idle",
	[MLY_STAT_AFFINITY]		= "affinity",
	[MLY_STAT_DECIDE_KEEP]		= "decide_keep",
	[MLY_STAT_DECIDE_MIGRATE]	= "decide_migrate",
	[MLY_STAT_MIGRATE_RACED]	= "migrate_raced",
	[MLY_STAT_NO_INCUMBENT]		= "no_incumbent",
	[MLY_STAT_PRED_YIELD]		= "pred_yield",
	[MLY_STAT_PRED_STAY]		= "pred_stay",
	[MLY_STAT_SHARED_INSERT]	= "shared_insert",
	[MLY_STAT_DISPATCH]		= "dispatch",
	[MLY_STAT_ONLINE_TP]		= "online_tp",
	[MLY_STAT_ONLINE_FP]		= "online_fp",
	[MLY_STAT_ONLINE_TN]		= "online_tn",
	[MLY_STAT_ONLINE_FN]		= "online_fn",
	[MLY_STAT_ONLINE_LOST]		= "online_lost",
	[MLY_STAT_ONLINE_UNCHECKED]	= "online_unchecked",
	[MLY_STAT_TRACE_DECISIONS]	= "trace_decisions",
	[MLY_STAT_TRACE_STOPS]		= "trace_stops",
	[MLY_STAT_TRACE_DROPPED]	= "trace_dropped",
};

static unsigned int mode = MLY_MODE_PREDICT;
static const char *model_path, *trace_out;
static unsigned long long slice_us;

static int mly_parse_option(int index, const char *arg)
{
	unsigned int m;

	switch (index) {
	case OPT_MODE:
		for (m = 0; m < MLY_NR_MODES; m++) {
			if (!strcmp(arg, mode_names[m])) {
				mode = m;
				return 0;
			}
		}
		fprintf(stderr, "mlyield: --mode: expected predict, always-migrate, never-migrate or "
			"trace, got '%s'\n", arg);
		return -1;
	case OPT_MODEL:
		model_path = arg;
		return 0;
	case OPT_TRACE_OUT:
		trace_out = arg;
		return 0;
	case OPT_SLICE_US:
		return scxlab_parse_ull("slice-us", arg, 1, 10 * 1000 * 1000, &slice_us);
	}
	return -1;
}

/* splitmix64: the self-test's inputs are the same on every load. */
static __u64 rng_next(__u64 *s)
{
	__u64 z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/*
 * Syscall sequences drawn from listed syscalls (mostly), unlisted ones, and out-of-range
 * numbers; inputs to the network are either those sequences' features or random sparse
 * vectors over the whole Q8 range. Returns 0 if BPF and C agreed on every case.
 */
static int selftest(struct mlyield *skel, const struct mly_model *model)
{
	static const long listed[] = {
#define MLY_NR_OF(bucket, nr, name) nr,
		MLY_SYSCALLS(MLY_NR_OF)
#undef MLY_NR_OF
	};
	int fd = bpf_program__fd(skel->progs.mlyield_selftest);
	__u64 seed = 0x6d6c7969656c64ULL;
	struct mly_syscall_hist h;
	__u16 feat[MLY_NR_FEATURES];
	int c, i, err, bad = 0;

	for (c = 0; c < MLY_SELFTEST_CASES; c++) {
		LIBBPF_OPTS(bpf_test_run_opts, opts);
		unsigned int n = rng_next(&seed) % (MLY_SELFTEST_NRS + 1);
		__s64 want;

		memset(&h, 0, sizeof(h));
		for (i = 0; i < (int)n; i++) {
			__u64 r = rng_next(&seed);
			long nr = r % 10 < 8 ? listed[(r >> 8) % (sizeof(listed) / sizeof(listed[0]))]
				: r % 10 == 8 ? (long)((r >> 8) % 600) : -(long)((r >> 8) % 3) - 1;

			skel->bss->selftest_nrs[i] = nr;
			mly_hist_add(&h, nr);
		}
		skel->bss->selftest_nr_count = n;
		mly_hist_features(&h, feat);
		for (i = 0; i < MLY_NR_FEATURES; i++) {
			__u64 r = rng_next(&seed);

			skel->bss->selftest_x[i] = c % 2 ? feat[i]
				: (r % 4 == 0 ? (__u16)((r >> 8) % (MLY_X_MAX + 1)) : 0);
		}
		want = mly_nn_logit(&model->fx, (const __u16 *)skel->bss->selftest_x);
		err = bpf_prog_test_run_opts(fd, &opts);
		if (err) {
			fprintf(stderr, "mlyield: self-test: BPF_PROG_TEST_RUN failed: %s\n", strerror(-err));
			return err;
		}
		if (memcmp((const void *)skel->bss->selftest_features, feat, sizeof(feat))) {
			if (bad++ < 3)
				fprintf(stderr, "mlyield: self-test case %d: BPF features differ from C "
					"(%u syscalls replayed)\n", c, n);
		}
		if (skel->bss->selftest_logit != want) {
			if (bad++ < 3)
				fprintf(stderr, "mlyield: self-test case %d: BPF logit %lld, C logit %lld\n", c,
					(long long)skel->bss->selftest_logit, (long long)want);
		}
	}
	if (bad) {
		fprintf(stderr, "mlyield: self-test FAILED: %d mismatches between BPF and C in %d cases\n",
			bad, MLY_SELFTEST_CASES);
		return -EPROTO;
	}
	printf("selftest: %d cases, BPF features and logits equal C bit for bit\n", MLY_SELFTEST_CASES);
	fflush(stdout);
	return 0;
}

/* ---- trace mode: join decisions with the stops that label them ---- */

struct pending {
	struct mly_rec_decision d;
	struct pending *next;
};

#define PENDING_BUCKETS 4096

static struct {
	FILE *out;
	struct ring_buffer *rb;
	struct pending *by_pid[PENDING_BUCKETS];
	unsigned long long rows, stopped, lost, censored;
	volatile int stop;
	int failed;
} tr;

static void comm_clean(char *dst, const char *src)
{
	int i;

	for (i = 0; i < MLY_COMM_LEN - 1 && src[i]; i++) {
		char ch = src[i];

		dst[i] = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
			 ch == '.' || ch == '-' || ch == '_' ? ch : '_';
	}
	if (!i)
		dst[i++] = '-';
	dst[i] = '\0';
}

static void write_row(const struct mly_rec_decision *d, const char *outcome, long long after_ns,
		      int voluntary)
{
	char wc[MLY_COMM_LEN], ic[MLY_COMM_LEN];
	int i;

	comm_clean(wc, d->wakee_comm);
	comm_clean(ic, d->inc_comm);
	fprintf(tr.out, "%llu,%u,%d,%u,%llu,%d,%s,%d,%s,%u,%llu,%u,%lld,%u,%s,%lld,",
		(unsigned long long)d->ts_ns, d->cpu, d->prev_cpu, d->idle_available,
		(unsigned long long)d->wake_flags, d->wakee_pid, wc, d->inc_pid, ic, d->inc_is_waker,
		(unsigned long long)d->inc_ran_ns, d->inc_nr_syscalls, (long long)d->logit, d->pred,
		outcome, after_ns);
	if (voluntary >= 0)
		fprintf(tr.out, "%d", voluntary);
	for (i = 0; i < MLY_NR_FEATURES; i++)
		fprintf(tr.out, ",%u", d->x[i]);
	fputc('\n', tr.out);
	tr.rows++;
}

static int on_record(void *ctx, void *data, size_t size)
{
	const struct mly_rec_stop *s = data;
	struct pending **pp, *p;

	if (size >= sizeof(struct mly_rec_decision) && s->type == MLY_REC_DECISION) {
		const struct mly_rec_decision *d = data;

		p = malloc(sizeof(*p));
		if (!p) {
			tr.failed = ENOMEM;
			return -ENOMEM;
		}
		p->d = *d;
		p->next = tr.by_pid[(__u32)d->inc_pid % PENDING_BUCKETS];
		tr.by_pid[(__u32)d->inc_pid % PENDING_BUCKETS] = p;
		return 0;
	}
	if (size < sizeof(*s) || s->type != MLY_REC_STOP)
		return 0;
	for (pp = &tr.by_pid[(__u32)s->pid % PENDING_BUCKETS]; (p = *pp);) {
		if (p->d.inc_pid != s->pid || p->d.inc_seq + 1 > s->seq) {
			pp = &p->next;
			continue;
		}
		if (p->d.inc_seq + 1 == s->seq) {
			write_row(&p->d, "stop", (long long)(s->ts_ns - p->d.ts_ns), s->voluntary);
			tr.stopped++;
		} else {
			/* the stop right after the decision came before the watch was set */
			write_row(&p->d, "lost", 0, -1);
			tr.lost++;
		}
		*pp = p->next;
		free(p);
	}
	return 0;
}

static void *trace_thread(void *arg)
{
	while (!tr.stop && !tr.failed) {
		int n = ring_buffer__poll(tr.rb, 100);

		if (n < 0 && n != -EINTR) {
			fprintf(stderr, "mlyield: reading the trace ring buffer failed: %s\n", strerror(-n));
			tr.failed = -n;
		}
	}
	return NULL;
}

static __u64 mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static int trace_open(const char *path, const struct mly_model *model, const char *model_src)
{
	int fd, i;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0) {
		fprintf(stderr, "mlyield: cannot create the trace %s: %s%s\n", path, strerror(errno),
			errno == EEXIST ? " (an earlier trace is never overwritten)" : "");
		return -errno;
	}
	tr.out = fdopen(fd, "w");
	if (!tr.out)
		return -errno;
	setvbuf(tr.out, NULL, _IOFBF, 1 << 20);
	fprintf(tr.out, "# scxlab mlyield trace v1\n# feature_id: %s\n# model: %s\n"
		"# model_fingerprint: %016llx\n# model_horizon_us: %g\n"
		"# clock: CLOCK_MONOTONIC ns (bpf_ktime_get_ns)\n",
		MLY_FEATURE_ID, model_src, (unsigned long long)model->fingerprint, model->horizon_us);
	fprintf(tr.out, "t_ns,cpu,prev_cpu,idle_available,wake_flags,wakee_pid,wakee_comm,inc_pid,inc_comm,inc_is_waker,"
		"inc_ran_ns,inc_nr_syscalls,logit,pred,outcome,stop_after_ns,voluntary");
	for (i = 0; i < MLY_NR_FEATURES; i++)
		fprintf(tr.out, ",x_%s", mly_feature_names[i]);
	fputc('\n', tr.out);
	return 0;
}

/* After the scheduler is gone: drain, write what never saw its stop as censored, close. */
static int trace_close(unsigned long long dropped)
{
	__u64 end = mono_ns();
	int i, ret = 0;

	ring_buffer__consume(tr.rb);
	for (i = 0; i < PENDING_BUCKETS; i++) {
		while (tr.by_pid[i]) {
			struct pending *p = tr.by_pid[i];

			write_row(&p->d, "censored", (long long)(end - p->d.ts_ns), -1);
			tr.censored++;
			tr.by_pid[i] = p->next;
			free(p);
		}
	}
	fprintf(tr.out, "# end: rows=%llu stop=%llu lost=%llu censored=%llu dropped_in_kernel=%llu\n",
		tr.rows, tr.stopped, tr.lost, tr.censored, dropped);
	if (fclose(tr.out) || tr.failed) {
		fprintf(stderr, "mlyield: writing the trace failed: %s\n", strerror(tr.failed ?: errno));
		ret = -1;
	}
	fprintf(stderr, "mlyield: trace: %llu decisions (%llu labelled by their stop, %llu lost, "
		"%llu censored), %llu records dropped in the kernel\n", tr.rows, tr.stopped, tr.lost,
		tr.censored, dropped);
	return ret;
}

/*
 * The verifier's statistics for each program (log level BPF_LOG_STATS), printed to the
 * loader's log: the inference loops are the costliest thing to verify, and under TCG a slow
 * verification shows up as a policy that is not in charge within the agent's load timeout.
 */
static char verifier_logs[8][512];

static void verifier_stats_request(struct mlyield *skel)
{
	struct bpf_program *p;
	int i = 0;

	bpf_object__for_each_program(p, skel->obj) {
		if (i == 8)
			break;
		bpf_program__set_log_buf(p, verifier_logs[i++], sizeof(verifier_logs[0]));
		bpf_program__set_log_level(p, 4);
	}
}

static void verifier_stats_print(struct mlyield *skel, __u64 load_ns)
{
	struct bpf_program *p;
	int i = 0;

	bpf_object__for_each_program(p, skel->obj) {
		const char *st;

		if (i == 8)
			break;
		st = strstr(verifier_logs[i++], "processed");
		if (st)
			printf("verifier: %s: %.*s\n", bpf_program__name(p), (int)strcspn(st, "\n"), st);
	}
	printf("loaded and verified in %.2f s\n", load_ns / 1e9);
	fflush(stdout);
}

static unsigned long long stat_total(struct mlyield *skel, __u32 idx)
{
	int n = libbpf_num_possible_cpus(), i;
	unsigned long long sum = 0, v[n > 0 ? n : 1];

	if (n <= 0 || bpf_map__lookup_elem(skel->maps.stats, &idx, sizeof(idx), v, n * sizeof(v[0]), 0))
		return 0;
	for (i = 0; i < n; i++)
		sum += v[i];
	return sum;
}

/* What main() prepares for the life cycle's hooks, and what they leave for finished. */
static struct {
	struct mly_model model;
	char *trace_path;
	struct bpf_link *sys_link;
	pthread_t thread;
	bool thread_started;
	__u64 load_started_ns;
} run;

SCXLAB_LIFECYCLE(mlyield)

static int mly_knobs(struct mlyield *skel, struct scxlab_policy *pol)
{
	skel->rodata->mode = mode;
	skel->rodata->horizon_ns = (__u64)(run.model.horizon_us * 1000.0 + 0.5);
	memcpy((void *)&skel->bss->nn, &run.model.fx, sizeof(run.model.fx));
	if (slice_us)
		skel->rodata->slice_ns = slice_us * 1000;
	verifier_stats_request(skel);
	run.load_started_ns = mono_ns();
	return 0;
}

static int mly_loaded(struct mlyield *skel, struct scxlab_policy *pol)
{
	sigset_t block, old;
	int ret;

	verifier_stats_print(skel, mono_ns() - run.load_started_ns);
	ret = selftest(skel, &run.model);
	if (ret)
		return ret;

	if (run.trace_path) {
		ret = trace_open(run.trace_path, &run.model, model_path ? model_path : "built-in");
		if (!ret) {
			tr.rb = ring_buffer__new(bpf_map__fd(skel->maps.trace_rb), on_record, NULL, NULL);
			ret = tr.rb ? 0 : -errno;
		}
		/* Signals belong to the main thread, which runs the watch loop. */
		sigemptyset(&block);
		sigaddset(&block, SIGINT);
		sigaddset(&block, SIGTERM);
		pthread_sigmask(SIG_BLOCK, &block, &old);
		if (!ret) {
			ret = -pthread_create(&run.thread, NULL, trace_thread, NULL);
			run.thread_started = !ret;
		}
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		if (ret)
			return ret;
	}

	run.sys_link = bpf_program__attach(skel->progs.mlyield_sys_enter);
	if (!run.sys_link)
		return scxlab_fail(pol, "attach", -errno);
	return 0;
}

static int mly_finished(struct mlyield *skel, struct scxlab_policy *pol, int ret)
{
	unsigned long long tp, fp, tn, fn;

	bpf_link__destroy(run.sys_link);
	if (run.thread_started) {
		tr.stop = 1;
		pthread_join(run.thread, NULL);
		if (trace_close(stat_total(skel, MLY_STAT_TRACE_DROPPED)) && ret == SCXLAB_STATUS_DETACHED)
			ret = SCXLAB_STATUS_LOAD_FAILED;
		ring_buffer__free(tr.rb);
	}

	tp = stat_total(skel, MLY_STAT_ONLINE_TP);
	fp = stat_total(skel, MLY_STAT_ONLINE_FP);
	tn = stat_total(skel, MLY_STAT_ONLINE_TN);
	fn = stat_total(skel, MLY_STAT_ONLINE_FN);
	if (tp + fp + tn + fn)
		fprintf(stderr, "mlyield: online: %llu predictions scored, accuracy %.4f, "
			"precision %.4f, recall %.4f, yield rate %.4f\n", tp + fp + tn + fn,
			(double)(tp + tn) / (tp + fp + tn + fn), tp + fp ? (double)tp / (tp + fp) : 0.0,
			tp + fn ? (double)tp / (tp + fn) : 0.0, (double)(tp + fn) / (tp + fp + tn + fn));
	return ret;
}

int main(int argc, char **argv)
{
	struct scxlab_policy pol = {
		.ops_name = "mlyield",
		.summary = "ML yield predictor: keep a waking task on its busy previous CPU when a "
			   "16-unit network predicts the task running there blocks soon.",
		.options = mly_options,
		.parse_option = mly_parse_option,
		.stat_names = mly_stat_names,
		.nr_stats = MLY_NR_STATS,
	};
	char err[512];
	int ret;

	scxlab_parse_args(&pol, argc, argv);
	if (mode == MLY_MODE_TRACE) {
		if (trace_out) {
			run.trace_path = strdup(trace_out);
		} else if (pol.exit_info_path) {
			char *dir = strdup(pol.exit_info_path);

			if (dir && asprintf(&run.trace_path, "%s/mlyield-trace.csv", dirname(dir)) < 0)
				run.trace_path = NULL;
			free(dir);
		} else {
			fprintf(stderr, "mlyield: --mode trace needs --trace-out PATH or --exit-info PATH "
				"(the trace goes beside it)\n");
			return SCXLAB_STATUS_USAGE;
		}
		if (!run.trace_path)
			return scxlab_fail(&pol, "load", -ENOMEM);
	} else if (trace_out) {
		fprintf(stderr, "mlyield: --trace-out is only meaningful with --mode trace\n");
		return SCXLAB_STATUS_USAGE;
	}

	if (model_path ? mly_model_load_file(model_path, &run.model, err, sizeof(err))
		       : mly_model_parse(mly_default_model_json, &run.model, err, sizeof(err))) {
		fprintf(stderr, "mlyield: model %s: %s\n", model_path ? model_path : "(built in)", err);
		return scxlab_fail(&pol, "load", -EINVAL);
	}
	printf("model: %s fingerprint=%016llx horizon_us=%g mode=%s\n",
	       model_path ? model_path : "built-in", (unsigned long long)run.model.fingerprint,
	       run.model.horizon_us, mode_names[mode]);
	fflush(stdout);

	ret = scxlab_lifecycle_mlyield(&pol, &(struct mlyield_hooks){ .knobs = mly_knobs,
		.loaded = mly_loaded, .finished = mly_finished });
	free(run.trace_path);
	return ret;
}
