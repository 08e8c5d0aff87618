// SPDX-License-Identifier: GPL-2.0
/*
 * mltrain - trains the mlyield yield predictor (64 features -> 16 ReLU -> 1 logit) from
 * traces recorded by `make experiment POLICY=mltrace`, and writes the model file the mlyield
 * loader reads (format: schedulers/mlyield/mlyield_model.h).
 *
 * Labels. A trace row is one placement decision about incumbent task R (see
 * schedulers/mlyield/mlyield.bpf.c). Its label, for horizon H (--horizon-us):
 *   1  R's next stop after the decision was voluntary (it blocked) and came within H;
 *   0  R's next stop was involuntary (preempted, slice over), or came later than H, or the
 *      trace ended more than H after the decision with R still running (censored);
 * rows whose stop was missed (outcome lost) or that were censored less than H after the
 * decision carry no label and are left out. H is a training choice, not a trace property: one
 * trace serves any horizon, and the model file records the one used, which the policy then
 * uses for its online check.
 *
 * Held-out data. --split time (default): within each trace, rows ordered by time, the last
 * --test-fraction of them are held out, so the test set lies after everything trained on.
 * --split run: in each result directory with two or more traced runs the last run is held
 * out whole (needs REPEATS >= 2): accuracy on runs never seen in training. Reported on the
 * held-out rows: accuracy, precision and recall of "yields" for the float network, its
 * fixed-point version, and the float network on decision points only (rows where another CPU
 * was idle); two baselines: the majority class of the training rows, and the majority label
 * of the incumbent's task name in training (how far knowing which program runs gets you);
 * and, if one model recorded every trace, that model's own predictions (the trace's pred
 * column: what it did live).
 *
 * Training. Binary cross-entropy on the logit, Adam, mini-batches, a fixed number of epochs;
 * inputs are the Q8 features / 256 (decayed counts, 0..8). Deterministic for a given seed:
 * the only randomness is splitmix64 seeded by --seed (initial weights, then one shuffle of
 * the training order per epoch); no threads, sums in a fixed order, and the build uses
 * -ffp-contract=off so that no fused multiply-add changes a rounding. The same inputs,
 * seed and binary give the same model file byte for byte.
 *
 * Quantization (what the kernel runs, mlyield_nn.h): W1 and W2 are scaled by the largest
 * power of two that keeps every entry within +-32767 (at most 2^24), biases are rounded at
 * the hidden and logit scales, the threshold is logit 0. Nothing else is approximated.
 *
 * Traces are read plain or gzip-compressed (zlib's gzread passes a plain file through), so the
 * kept results under paper/results, whose big raw files are stored as .gz, train as they are.
 *
 * Provenance in the model file: every trace by stable names, never by where it lay on the
 * training machine: the result directory's name (null for a trace file outside one), the file
 * within it as the runner wrote it (without a .gz added when it was kept), the sha256 of its
 * content (the uncompressed CSV, as the kept result's ORIGINAL-SHA256SUMS lists it), rows,
 * labelled rows and the fingerprint of the model loaded while it was recorded; the code as the
 * sha256 of mltrain.c and of the headers it compiles in; and every training parameter. So the
 * same traces (compressed or not, wherever they lie), parameters and sources give the same
 * file byte for byte, which `make check-models` holds paper/models to. No git commit is
 * recorded: it changes with every commit, also one that leaves the trainer alone, and the
 * sources' hashes are what decides the output.
 */
#include <dirent.h>
#include <fcntl.h>
#include <getopt.h>
#include <glob.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>
#include "mltrace_csv.h"

#define TRACE_NAME "mlyield-trace.csv"
#define GZ_SUFFIX ".gz"

struct opts {
	const char *output, *newest_root, *repo, *split;
	unsigned long long seed;
	double horizon_us, lr, l2, test_fraction;
	long epochs, batch;
};

struct trace_file {
	char *path;
	char *group;		/* the result directory it came from (for --split run) */
	char *result;		/* that directory's name, NULL for a trace file outside a result */
	char *file;		/* the trace within its result (or its file name), without .gz */
	struct mly_trace t;
	size_t labelled;
	char sha256[65];
};

struct sample {
	__u16 x[MLY_NR_FEATURES];
	char comm[MLY_COMM_LEN];
	size_t row;			/* position in its trace: orders rows with equal times */
	int decision_point;		/* idle_available: the prediction would have acted */
	double y;
	unsigned long long t_ns;
	long long trace_logit;
	int trace_pred;
};

struct set {
	struct sample *s;
	size_t n, cap;
};

struct net {
	double w1[MLY_NR_FEATURES][MLY_NR_HIDDEN], b1[MLY_NR_HIDDEN], w2[MLY_NR_HIDDEN], b2;
};

static const char *prog = "mltrain";

static void die(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));
static void die(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "%s: error: ", prog);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(code);
}

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n);
	if (!p)
		die(1, "out of memory");
	return p;
}

static char *xstrdup(const char *s)
{
	char *d = strdup(s);

	if (!d)
		die(1, "out of memory");
	return d;
}

/* ---- running other programs (sha256sum): argv only, no shell ---- */

/*
 * Runs argv with in (inlen bytes; none when in is NULL) on its stdin and its stdout in out.
 * The program run here (sha256sum) writes only after reading all its input, so writing
 * it all before reading cannot deadlock. SIGPIPE is ignored (main), so a child that dies early
 * is a failed write, not the end of mltrain.
 */
static int capture_in(char *const argv[], const char *in, size_t inlen, char *out, size_t len)
{
	int fds[2], ins[2] = { -1, -1 }, status;
	size_t got = 0;
	ssize_t n;
	pid_t pid;

	if (pipe(fds))
		return -1;
	if (in && pipe(ins))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		int devnull = open("/dev/null", O_WRONLY);

		dup2(fds[1], 1);
		if (devnull >= 0)
			dup2(devnull, 2);
		close(fds[0]);
		if (in) {
			dup2(ins[0], 0);
			close(ins[0]);
			close(ins[1]);
		}
		execvp(argv[0], argv);
		_exit(127);
	}
	close(fds[1]);
	if (in) {
		size_t put = 0;

		close(ins[0]);
		while (put < inlen && (n = write(ins[1], in + put, inlen - put)) > 0)
			put += n;
		close(ins[1]);
	}
	while (got + 1 < len && (n = read(fds[0], out + got, len - 1 - got)) > 0)
		got += n;
	while (read(fds[0], (char[256]){ 0 }, 256) > 0)
		;
	out[got] = '\0';
	close(fds[0]);
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status))
		return -1;
	while (got && (out[got - 1] == '\n' || out[got - 1] == ' '))
		out[--got] = '\0';
	return 0;
}

static int capture(char *const argv[], char *out, size_t len)
{
	return capture_in(argv, NULL, 0, out, len);
}

static int sha256_file(const char *path, char hex[65])
{
	char out[256];
	char *argv[] = { "sha256sum", "--", (char *)path, NULL };

	if (capture(argv, out, sizeof(out)) || strlen(out) < 64)
		return -1;
	memcpy(hex, out, 64);
	hex[64] = '\0';
	return 0;
}

/* sha256 of len bytes at buf (sha256sum reading its stdin). */
static int sha256_bytes(const char *buf, size_t len, char hex[65])
{
	char out[256];
	char *argv[] = { "sha256sum", "-", NULL };

	if (capture_in(argv, buf, len, out, sizeof(out)) || strlen(out) < 64)
		return -1;
	memcpy(hex, out, 64);
	hex[64] = '\0';
	return 0;
}

/*
 * The content of a trace file, uncompressed if it is gzip-compressed (zlib recognises the
 * format by its magic bytes and passes any other file through as it is). Dies naming the file
 * on a read or decompression error. The result is NUL-terminated; its length is in *len.
 */
static char *read_trace_bytes(const char *path, size_t *len)
{
	size_t cap = 1 << 20, got = 0;
	char *buf = xrealloc(NULL, cap);
	gzFile gz = gzopen(path, "rb");
	int n, zerr;

	if (!gz)
		die(2, "cannot open trace %s: %s", path, errno ? strerror(errno) : "out of memory");
	while ((n = gzread(gz, buf + got, (unsigned)(cap - got - 1))) > 0) {
		got += n;
		if (cap - got < 2)
			buf = xrealloc(buf, cap *= 2);
	}
	if (n < 0) {
		const char *msg = gzerror(gz, &zerr);

		die(2, "cannot read trace %s: %s", path, zerr == Z_ERRNO ? strerror(errno) : msg);
	}
	gzclose(gz);
	buf[got] = '\0';
	*len = got;
	return buf;
}

/* name without a trailing ".gz": the trace as the runner wrote it, before it was kept compressed */
static char *without_gz(const char *name)
{
	size_t n = strlen(name), k = strlen(GZ_SUFFIX);
	char *d = xstrdup(name);

	if (n > k && !strcmp(name + n - k, GZ_SUFFIX))
		d[n - k] = '\0';
	return d;
}

/* The last component of path, ignoring trailing slashes (a result directory given as "dir/"). */
static char *base_name(const char *path)
{
	size_t n = strlen(path);
	const char *b;
	char *d;

	while (n > 1 && path[n - 1] == '/')
		n--;
	d = xrealloc(NULL, n + 1);
	memcpy(d, path, n);
	d[n] = '\0';
	b = strrchr(d, '/');
	if (b && b[1]) {
		char *r = xstrdup(b + 1);

		free(d);
		return r;
	}
	return d;
}

/* ---- finding traces ---- */

/* result: the result directory's name or NULL; file: the trace within it, or its file name. */
static void add_trace(struct trace_file **tf, size_t *n, const char *path, const char *group,
		      const char *result, const char *file)
{
	*tf = xrealloc(*tf, (*n + 1) * sizeof(**tf));
	memset(&(*tf)[*n], 0, sizeof(**tf));
	(*tf)[*n].path = xstrdup(path);
	(*tf)[*n].group = xstrdup(group);
	(*tf)[*n].result = result ? xstrdup(result) : NULL;
	(*tf)[*n].file = without_gz(file);
	(*n)++;
}

/*
 * A trace file named by itself: if it lies where a runner puts one (<result>/runs/<run>/raw/
 * <file>), it is named like a trace found in that result directory; otherwise by its file name.
 */
static void add_trace_file(struct trace_file **tf, size_t *n, const char *path)
{
	char *copy = xstrdup(path), *part[4] = { NULL }, *slash;
	int k;

	/* the last four components (file, raw, run, runs) and what lies before them */
	for (k = 0; k < 4 && (slash = strrchr(copy, '/')); k++) {
		*slash = '\0';
		part[k] = slash + 1;
	}
	if (k == 4 && copy[0] && !strcmp(part[3], "runs") && !strcmp(part[1], "raw") && part[2][0] && part[0][0]) {
		char *result = base_name(copy), file[4096];

		snprintf(file, sizeof(file), "runs/%s/raw/%s", part[2], part[0]);
		add_trace(tf, n, path, path, result, file);
		free(result);
	} else {
		char *name = base_name(path);

		add_trace(tf, n, path, path, NULL, name);
		free(name);
	}
	free(copy);
}

static int by_string(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * A result directory: every runs/<run>/raw/mlyield-trace.csv in it, or the same kept
 * gzip-compressed (mlyield-trace.csv.gz, as `make paper-add` keeps big raw files), in run order.
 * A run holding both is refused: which of two copies was trained on must not be a guess.
 */
static void add_result_dir(struct trace_file **tf, size_t *n, const char *dir)
{
	char pattern[4096], *result = base_name(dir);
	size_t i, prefix = strlen(dir) + 1, nfound = 0;
	char **found = NULL;
	const char *suffix;
	glob_t g;

	for (suffix = ""; suffix; suffix = *suffix ? NULL : GZ_SUFFIX) {
		snprintf(pattern, sizeof(pattern), "%s/runs/*/raw/" TRACE_NAME "%s", dir, suffix);
		if (glob(pattern, 0, NULL, &g) == 0) {
			found = xrealloc(found, (nfound + g.gl_pathc) * sizeof(*found));
			for (i = 0; i < g.gl_pathc; i++)
				found[nfound++] = xstrdup(g.gl_pathv[i]);
		}
		globfree(&g);
	}
	if (!nfound)
		die(2, "%s has no runs/*/raw/" TRACE_NAME "[" GZ_SUFFIX "]: not a result directory of the "
		    "mltrace policy (make experiment POLICY=mltrace WORKLOAD=...)", dir);
	qsort(found, nfound, sizeof(*found), by_string);
	for (i = 0; i < nfound; i++) {
		char *plain = without_gz(found[i]);

		if (i + 1 < nfound && !strcmp(plain, without_gz(found[i + 1])))
			die(2, "%s holds both %s and %s" GZ_SUFFIX ": keep one of them", dir, plain + prefix,
			    plain + prefix);
		add_trace(tf, n, found[i], dir, result, found[i] + prefix);
		free(plain);
		free(found[i]);
	}
	free(found);
	free(result);
}

static bool has_suffix(const char *s, const char *suf)
{
	size_t a = strlen(s), b = strlen(suf);

	return a >= b && !strcmp(s + a - b, suf);
}

/* The newest valid mltrace result directory of each workload under root. */
static void add_newest(struct trace_file **tf, size_t *n, const char *root)
{
	struct { char *workload, *name; } best[64];
	size_t nbest = 0, i, k;
	struct dirent *de;
	DIR *d = opendir(root);

	if (!d)
		die(2, "cannot read the results folder %s: %s", root, strerror(errno));
	while ((de = readdir(d))) {
		char path[4096];
		json_t *m, *pols, *p;
		const char *wl;
		bool traced = false;

		if (de->d_name[0] == '.' || has_suffix(de->d_name, "-INVALID"))
			continue;
		snprintf(path, sizeof(path), "%s/%s/manifest.json", root, de->d_name);
		m = json_load_file(path, 0, NULL);
		if (!m)
			continue;
		pols = json_object_get(json_object_get(m, "factors"), "policies");
		json_array_foreach(pols, k, p)
			traced |= json_is_string(p) && !strcmp(json_string_value(p), "mltrace");
		wl = json_string_value(json_object_get(json_object_get(m, "factors"), "workload"));
		if (traced && wl && json_is_true(json_object_get(m, "valid"))) {
			for (i = 0; i < nbest && strcmp(best[i].workload, wl); i++)
				;
			if (i == nbest && nbest < sizeof(best) / sizeof(best[0])) {
				best[nbest].workload = xstrdup(wl);
				best[nbest++].name = xstrdup(de->d_name);
			} else if (i < nbest && strcmp(de->d_name, best[i].name) > 0) {
				free(best[i].name);
				best[i].name = xstrdup(de->d_name);	/* names start with the date: later is newer */
			}
		}
		json_decref(m);
	}
	closedir(d);
	if (!nbest)
		die(2, "no valid mltrace result under %s: record traces first, e.g. "
		    "make experiment POLICY=mltrace WORKLOAD=nginx", root);
	/* a stable order: by workload name */
	for (i = 1; i < nbest; i++)
		for (k = i; k > 0 && strcmp(best[k - 1].workload, best[k].workload) > 0; k--) {
			typeof(best[0]) tmp = best[k];

			best[k] = best[k - 1];
			best[k - 1] = tmp;
		}
	for (i = 0; i < nbest; i++) {
		char dir[4096];

		snprintf(dir, sizeof(dir), "%s/%s", root, best[i].name);
		fprintf(stderr, "%s: newest mltrace result for %s: %s\n", prog, best[i].workload, dir);
		add_result_dir(tf, n, dir);
	}
}

/* ---- the network ---- */

static __u64 rng_next(__u64 *s)
{
	__u64 z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static double rng_uniform(__u64 *s)
{
	return (rng_next(s) >> 11) * (1.0 / 9007199254740992.0);	/* [0, 1) */
}

static double forward(const struct net *w, const __u16 *xq, double *x, double *h)
{
	double out = w->b2;
	int i, j;

	for (i = 0; i < MLY_NR_FEATURES; i++)
		x[i] = xq[i] / (double)(1 << MLY_X_SHIFT);
	for (j = 0; j < MLY_NR_HIDDEN; j++) {
		double a = w->b1[j];

		for (i = 0; i < MLY_NR_FEATURES; i++)
			a += w->w1[i][j] * x[i];
		h[j] = a > 0 ? a : 0;
		out += w->w2[j] * h[j];
	}
	return out;
}

static double sigmoid(double z)
{
	return z >= 0 ? 1 / (1 + exp(-z)) : exp(z) / (1 + exp(z));
}

#define NPARAM (MLY_NR_FEATURES * MLY_NR_HIDDEN + 2 * MLY_NR_HIDDEN + 1)

/* struct net is a flat array of NPARAM doubles: Adam works on it as such. */
_Static_assert(sizeof(struct net) == NPARAM * sizeof(double), "struct net must be flat");

static void train(struct net *w, const struct set *tr, const struct opts *o)
{
	static struct net grad, m1, m2;
	double *pw = (double *)w, *pg = (double *)&grad, *pm = (double *)&m1, *pv = (double *)&m2;
	double x[MLY_NR_FEATURES], h[MLY_NR_HIDDEN];
	const double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
	size_t *order = xrealloc(NULL, (tr->n ? tr->n : 1) * sizeof(*order));
	__u64 seed = o->seed;
	long step = 0, epoch;
	size_t i, k, b;
	int p, q;

	memset(w, 0, sizeof(*w));
	memset(&m1, 0, sizeof(m1));
	memset(&m2, 0, sizeof(m2));
	/* He-uniform for the ReLU layer, Glorot-uniform for the output; biases start at 0. */
	for (p = 0; p < MLY_NR_FEATURES; p++)
		for (q = 0; q < MLY_NR_HIDDEN; q++)
			w->w1[p][q] = (2 * rng_uniform(&seed) - 1) * sqrt(6.0 / MLY_NR_FEATURES);
	for (q = 0; q < MLY_NR_HIDDEN; q++)
		w->w2[q] = (2 * rng_uniform(&seed) - 1) * sqrt(6.0 / (MLY_NR_HIDDEN + 1));
	for (i = 0; i < tr->n; i++)
		order[i] = i;

	for (epoch = 0; epoch < o->epochs; epoch++) {
		for (i = tr->n; i > 1; i--) {		/* Fisher-Yates */
			size_t j = rng_next(&seed) % i, t = order[i - 1];

			order[i - 1] = order[j];
			order[j] = t;
		}
		for (b = 0; b < tr->n; b += o->batch) {
			size_t end = b + o->batch < tr->n ? b + o->batch : tr->n;
			double scale = 1.0 / (end - b), c1, c2;

			memset(&grad, 0, sizeof(grad));
			for (k = b; k < end; k++) {
				const struct sample *s = &tr->s[order[k]];
				double z = forward(w, s->x, x, h);
				double d = (sigmoid(z) - s->y) * scale;	/* dLoss/dz of the mean BCE */

				grad.b2 += d;
				for (q = 0; q < MLY_NR_HIDDEN; q++) {
					double dh;

					grad.w2[q] += d * h[q];
					if (h[q] <= 0)
						continue;
					dh = d * w->w2[q];
					grad.b1[q] += dh;
					for (p = 0; p < MLY_NR_FEATURES; p++)
						if (s->x[p])
							grad.w1[p][q] += dh * x[p];
				}
			}
			for (p = 0; p < MLY_NR_FEATURES; p++)	/* L2 on weights, not biases */
				for (q = 0; q < MLY_NR_HIDDEN; q++)
					grad.w1[p][q] += o->l2 * w->w1[p][q];
			for (q = 0; q < MLY_NR_HIDDEN; q++)
				grad.w2[q] += o->l2 * w->w2[q];
			step++;
			c1 = 1 - pow(beta1, step);
			c2 = 1 - pow(beta2, step);
			for (p = 0; p < NPARAM; p++) {
				pm[p] = beta1 * pm[p] + (1 - beta1) * pg[p];
				pv[p] = beta2 * pv[p] + (1 - beta2) * pg[p] * pg[p];
				pw[p] -= o->lr * (pm[p] / c1) / (sqrt(pv[p] / c2) + eps);
			}
		}
	}
	free(order);
}

/* ---- quantization ---- */

static int shift_for(double maxabs)
{
	int s = MLY_SHIFT_MAX;

	while (s > 0 && maxabs * ldexp(1, s) > MLY_W_MAX)
		s--;
	return s;
}

static void quantize(const struct net *w, struct mly_nn_fixed *fx)
{
	double m1 = 0, m2 = 0;
	int i, j;

	memset(fx, 0, sizeof(*fx));
	for (i = 0; i < MLY_NR_FEATURES; i++)
		for (j = 0; j < MLY_NR_HIDDEN; j++)
			m1 = fmax(m1, fabs(w->w1[i][j]));
	for (j = 0; j < MLY_NR_HIDDEN; j++)
		m2 = fmax(m2, fabs(w->w2[j]));
	fx->w1_shift = shift_for(m1);
	fx->w2_shift = shift_for(m2);
	/* hidden biases must stay within 2^40 at scale 2^(s1 + 8) */
	for (j = 0; j < MLY_NR_HIDDEN; j++)
		while (fx->w1_shift > 0 && fabs(w->b1[j]) * ldexp(1, fx->w1_shift + MLY_X_SHIFT) > MLY_B1_MAX)
			fx->w1_shift--;
	for (i = 0; i < MLY_NR_FEATURES; i++)
		for (j = 0; j < MLY_NR_HIDDEN; j++)
			fx->w1[i][j] = llround(ldexp(w->w1[i][j], fx->w1_shift));
	for (j = 0; j < MLY_NR_HIDDEN; j++) {
		fx->b1[j] = llround(ldexp(w->b1[j], fx->w1_shift + MLY_X_SHIFT));
		fx->w2[j] = llround(ldexp(w->w2[j], fx->w2_shift));
	}
	fx->b2 = llround(ldexp(w->b2, mly_logit_shift(fx)));
	fx->threshold = 0;
	if (mly_nn_check(fx))
		die(1, "the trained weights do not fit the fixed-point ranges (|b2| >= 2^60?): "
		    "try a larger --l2");
}

/* ---- evaluation ---- */

/*
 * A stronger baseline than the majority class: the majority label of the incumbent's task
 * name among the training rows (the global majority for names not seen in training). It
 * shows how much of the network's skill is just recognising which program is running.
 */
struct comm_count {
	char comm[MLY_COMM_LEN];
	size_t pos, n;
};

static struct comm_count *comm_find(struct comm_count **cc, size_t *ncc, const char *comm, bool add)
{
	size_t i;

	for (i = 0; i < *ncc; i++)
		if (!strcmp((*cc)[i].comm, comm))
			return &(*cc)[i];
	if (!add)
		return NULL;
	*cc = xrealloc(*cc, (*ncc + 1) * sizeof(**cc));
	memset(&(*cc)[*ncc], 0, sizeof(**cc));
	memcpy((*cc)[*ncc].comm, comm, MLY_COMM_LEN);
	return &(*cc)[(*ncc)++];
}

struct metrics {
	size_t n, tp, fp, tn, fn;
};

static void count(struct metrics *m, bool pred, bool y)
{
	m->n++;
	if (pred)
		y ? m->tp++ : m->fp++;
	else
		y ? m->fn++ : m->tn++;
}

static double ratio(size_t a, size_t b)
{
	return b ? (double)a / b : 0.0;
}

static json_t *metrics_json(const struct metrics *m)
{
	json_t *o = json_object();

	json_object_set_new(o, "rows", json_integer(m->n));
	json_object_set_new(o, "accuracy", json_real(ratio(m->tp + m->tn, m->n)));
	json_object_set_new(o, "precision", json_real(ratio(m->tp, m->tp + m->fp)));
	json_object_set_new(o, "recall", json_real(ratio(m->tp, m->tp + m->fn)));
	json_object_set_new(o, "tp", json_integer(m->tp));
	json_object_set_new(o, "fp", json_integer(m->fp));
	json_object_set_new(o, "tn", json_integer(m->tn));
	json_object_set_new(o, "fn", json_integer(m->fn));
	return o;
}

static void print_metrics(const char *what, const struct metrics *m)
{
	printf("%-28s accuracy %.4f  precision %.4f  recall %.4f  (%zu rows: tp %zu fp %zu tn %zu fn %zu)\n",
	       what, ratio(m->tp + m->tn, m->n), ratio(m->tp, m->tp + m->fp), ratio(m->tp, m->tp + m->fn),
	       m->n, m->tp, m->fp, m->tn, m->fn);
}

static void push(struct set *s, const struct sample *x)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 4096;
		s->s = xrealloc(s->s, s->cap * sizeof(*s->s));
	}
	s->s[s->n++] = *x;
}

static int by_time(const void *a, const void *b)
{
	const struct sample *x = a, *y = b;

	if (x->t_ns != y->t_ns)
		return x->t_ns < y->t_ns ? -1 : 1;
	return x->row < y->row ? -1 : x->row > y->row;
}

static json_t *jarray_doubles(const double *v, int n)
{
	json_t *a = json_array();
	int i;

	for (i = 0; i < n; i++)
		json_array_append_new(a, json_real(v[i]));
	return a;
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: mltrain -o MODEL.json [OPTIONS] (RESULT_DIR | TRACE.csv)...\n"
		"       mltrain -o MODEL.json [OPTIONS] --newest RESULTS_ROOT\n"
		"Trains the mlyield yield predictor on traces of the mltrace policy and writes a model.\n\n"
		"  -o, --output PATH      model file to create (an existing file is never overwritten)\n"
		"  --newest ROOT          use the newest valid mltrace result of each workload under ROOT\n"
		"  --horizon-us H         label: the incumbent blocks within H us (default 5000)\n"
		"  --split time|run       held-out rows: last part of each trace in time (default) or\n"
		"                         the last run of each result directory\n"
		"  --test-fraction F      --split time: share held out (default 0.2)\n"
		"  --seed N               initial weights and shuffles (default 1)\n"
		"  --epochs N             passes over the training rows (default 30; 0: untrained)\n"
		"  --lr X                 Adam learning rate (default 0.005)\n"
		"  --batch N              mini-batch size (default 64)\n"
		"  --l2 X                 L2 penalty on weights (default 1e-4)\n"
		"  --repo DIR             the checkout whose trainer sources are hashed into the\n"
		"                         model's provenance (default .)\n"
		"Prints the metrics; the last line of stdout is the model path. Exit 0 done, 1 failed,\n"
		"2 bad input.\n");
}

static double parse_double(const char *opt, const char *s, double lo, double hi)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= lo && v <= hi))
		die(2, "--%s: expected a number from %g to %g, got '%s'", opt, lo, hi, s);
	return v;
}

/*
 * The code, by the sha256 of the files that decide the model (the trainer and the headers it
 * compiles in) in --repo: the same hashes train the same model from the same traces.
 */
static void code_provenance(json_t *prov, const char *repo)
{
	static const char *const sources[] = {
		"tools/mltrain/mltrain.c", "tools/mltrain/mltrace_csv.h",
		"schedulers/mlyield/mlyield_nn.h", "schedulers/mlyield/mlyield_model.h",
	};
	char path[4096], hex[65];
	json_t *code = json_object(), *src = json_object();
	size_t i;

	for (i = 0; i < sizeof(sources) / sizeof(sources[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", repo, sources[i]);
		json_object_set_new(src, sources[i], sha256_file(path, hex) ? json_null() : json_string(hex));
	}
	json_object_set_new(code, "sources_sha256", src);
	json_object_set_new(prov, "code", code);
}

int main(int argc, char **argv)
{
	enum { O_NEWEST = 256, O_HORIZON, O_SPLIT, O_TESTFRAC, O_SEED, O_EPOCHS, O_LR, O_BATCH, O_L2, O_REPO };
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "newest", required_argument, NULL, O_NEWEST },
		{ "horizon-us", required_argument, NULL, O_HORIZON },
		{ "split", required_argument, NULL, O_SPLIT },
		{ "test-fraction", required_argument, NULL, O_TESTFRAC },
		{ "seed", required_argument, NULL, O_SEED },
		{ "epochs", required_argument, NULL, O_EPOCHS },
		{ "lr", required_argument, NULL, O_LR },
		{ "batch", required_argument, NULL, O_BATCH },
		{ "l2", required_argument, NULL, O_L2 },
		{ "repo", required_argument, NULL, O_REPO },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct opts o = { .repo = ".", .split = "time", .seed = 1, .horizon_us = 5000, .lr = 0.005,
			  .l2 = 1e-4, .test_fraction = 0.2, .epochs = 30, .batch = 64 };
	struct trace_file *tf = NULL;
	size_t ntf = 0, i, k, nlab = 0, npos = 0, lost = 0, short_censored = 0;
	struct set trset = { 0 }, teset = { 0 };
	struct metrics m_tr = { 0 }, m_te = { 0 }, m_fx = { 0 }, m_maj = { 0 }, m_deployed = { 0 };
	struct metrics m_comm = { 0 }, m_dp = { 0 };
	struct comm_count *cc = NULL;
	size_t ncc = 0;
	double x[MLY_NR_FEATURES], h[MLY_NR_HIDDEN];
	size_t agree = 0, trpos = 0;
	bool majority_yields, same_trace_model = true;
	struct mly_model mm;
	struct net w;
	json_t *doc, *j, *jt, *jm;
	char err[1024], hexfp[32];
	int c, fd;

	while ((c = getopt_long(argc, argv, "o:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'o': o.output = optarg; break;
		case O_NEWEST: o.newest_root = optarg; break;
		case O_HORIZON: o.horizon_us = parse_double("horizon-us", optarg, 1, 1e7); break;
		case O_SPLIT:
			if (strcmp(optarg, "time") && strcmp(optarg, "run"))
				die(2, "--split: expected time or run, got '%s'", optarg);
			o.split = optarg;
			break;
		case O_TESTFRAC: o.test_fraction = parse_double("test-fraction", optarg, 0.01, 0.9); break;
		case O_SEED: o.seed = (unsigned long long)parse_double("seed", optarg, 0, 4294967295.0); break;
		case O_EPOCHS: o.epochs = (long)parse_double("epochs", optarg, 0, 10000); break;
		case O_LR: o.lr = parse_double("lr", optarg, 1e-7, 1); break;
		case O_BATCH: o.batch = (long)parse_double("batch", optarg, 1, 1e6); break;
		case O_L2: o.l2 = parse_double("l2", optarg, 0, 10); break;
		case O_REPO: o.repo = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	signal(SIGPIPE, SIG_IGN);	/* see capture_in() */
	if (!o.output)
		die(2, "-o MODEL.json is required (where to write the model)");
	if (!o.newest_root && optind == argc)
		die(2, "no traces: give result directories or trace CSV files, or --newest RESULTS_ROOT");
	if (o.newest_root && optind < argc)
		die(2, "give either --newest or traces, not both");
	if (!access(o.output, F_OK))
		die(2, "%s exists: a model is never overwritten; choose another -o", o.output);

	if (o.newest_root)
		add_newest(&tf, &ntf, o.newest_root);
	for (; optind < argc; optind++) {
		struct stat st;

		if (stat(argv[optind], &st))
			die(2, "%s: %s", argv[optind], strerror(errno));
		if (S_ISDIR(st.st_mode))
			add_result_dir(&tf, &ntf, argv[optind]);
		else
			add_trace_file(&tf, &ntf, argv[optind]);
	}

	/* Read and label every trace, then split it. */
	for (i = 0; i < ntf; i++) {
		struct trace_file *f = &tf[i];
		struct set rows = { 0 };
		bool last_of_group = true, group_has_two = false;
		size_t cut, len;
		char *bytes = read_trace_bytes(f->path, &len);
		FILE *in = fmemopen(bytes, len ? len : 1, "r");

		if (!in)
			die(1, "cannot read %s from memory: %s", f->path, strerror(errno));
		if (mly_trace_read_stream(in, f->path, &f->t, err, sizeof(err)))
			die(2, "%s", err);
		fclose(in);
		if (sha256_bytes(bytes, len, f->sha256))
			die(1, "cannot compute the sha256 of %s (sha256sum)", f->path);
		free(bytes);
		for (k = 0; k < ntf; k++) {
			if (k != i && !strcmp(tf[k].group, f->group)) {
				group_has_two = true;
				if (k > i)
					last_of_group = false;
			}
		}
		for (k = 0; k < f->t.nr; k++) {
			const struct mly_trace_row *r = &f->t.rows[k];
			struct sample s = { .t_ns = r->t_ns, .row = k, .trace_logit = r->logit,
					    .trace_pred = r->pred };
			long long hns = (long long)(o.horizon_us * 1000.0 + 0.5);

			if (r->outcome == MLY_OUT_LOST) {
				lost++;
				continue;
			}
			if (r->outcome == MLY_OUT_CENSORED) {
				if (r->after_ns <= hns) {
					short_censored++;
					continue;
				}
				s.y = 0;
			} else {
				s.y = r->voluntary == 1 && r->after_ns <= hns;
			}
			memcpy(s.x, r->x, sizeof(s.x));
			memcpy(s.comm, r->inc_comm, sizeof(s.comm));
			s.decision_point = r->idle_available;
			push(&rows, &s);
		}
		f->labelled = rows.n;
		nlab += rows.n;
		qsort(rows.s, rows.n, sizeof(*rows.s), by_time);
		if (!strcmp(o.split, "time"))
			cut = rows.n - (size_t)floor(rows.n * o.test_fraction);
		else
			cut = group_has_two && last_of_group ? 0 : rows.n;
		for (k = 0; k < rows.n; k++) {
			npos += rows.s[k].y > 0.5;
			push(k < cut ? &trset : &teset, &rows.s[k]);
		}
		free(rows.s);
	}
	if (!strcmp(o.split, "run") && !teset.n)
		die(2, "--split run needs a result directory with two or more traced runs (REPEATS=2 or more)");
	if (trset.n < 10 || teset.n < 10)
		die(2, "too few labelled rows to train and test (%zu train, %zu held out; %zu lost, %zu censored "
		    "within the horizon): record longer traces", trset.n, teset.n, lost, short_censored);

	/* the pred column is comparable across traces only if one model recorded them all */
	for (i = 1; i < ntf; i++)
		same_trace_model &= !strcmp(tf[i].t.model_fingerprint, tf[0].t.model_fingerprint);
	for (k = 0; k < trset.n; k++) {
		struct comm_count *c = comm_find(&cc, &ncc, trset.s[k].comm, true);

		trpos += trset.s[k].y > 0.5;
		c->pos += trset.s[k].y > 0.5;
		c->n++;
	}
	majority_yields = 2 * trpos >= trset.n;

	train(&w, &trset, &o);
	quantize(&w, &mm.fx);

	/* Metrics: float network on both sets; baseline, fixed point and the trace's own column on test. */
	memcpy(mm.w1, w.w1, sizeof(w.w1));
	memcpy(mm.b1, w.b1, sizeof(w.b1));
	memcpy(mm.w2, w.w2, sizeof(w.w2));
	mm.b2 = w.b2;
	for (k = 0; k < trset.n; k++)
		count(&m_tr, forward(&w, trset.s[k].x, x, h) > 0, trset.s[k].y > 0.5);
	for (k = 0; k < teset.n; k++) {
		const struct sample *s = &teset.s[k];
		bool fl = forward(&w, s->x, x, h) > 0, fxp = mly_nn_logit(&mm.fx, s->x) > mm.fx.threshold;

		count(&m_te, fl, s->y > 0.5);
		if (s->decision_point)
			count(&m_dp, fl, s->y > 0.5);
		count(&m_fx, fxp, s->y > 0.5);
		count(&m_maj, majority_yields, s->y > 0.5);
		{
			struct comm_count *c = comm_find(&cc, &ncc, s->comm, false);

			count(&m_comm, c ? 2 * c->pos >= c->n : majority_yields, s->y > 0.5);
		}
		count(&m_deployed, s->trace_pred, s->y > 0.5);
		agree += fl == fxp;
	}

	printf("traces: %zu file(s)\n", ntf);
	for (i = 0; i < ntf; i++)
		printf("  %s: %zu decisions (%zu stop, %zu lost, %zu censored), %zu labelled\n", tf[i].path,
		       tf[i].t.nr, tf[i].t.nr_stop, tf[i].t.nr_lost, tf[i].t.nr_censored, tf[i].labelled);
	printf("label: incumbent blocks within %g us: %zu of %zu labelled rows (%.1f%%); "
	       "left out: %zu lost, %zu censored within the horizon\n", o.horizon_us, npos, nlab,
	       100.0 * ratio(npos, nlab), lost, short_censored);
	printf("split %s: %zu train, %zu held out\n", o.split, trset.n, teset.n);
	print_metrics("train (float):", &m_tr);
	print_metrics("held out (float):", &m_te);
	print_metrics("held out (fixed point):", &m_fx);
	print_metrics("held out, decision points:", &m_dp);
	printf("%-28s accuracy %.4f  (always \"%s\", the training majority)\n", "held out majority baseline:",
	       ratio(m_maj.tp + m_maj.tn, m_maj.n), majority_yields ? "yields" : "does not yield");
	print_metrics("held out per-task baseline:", &m_comm);
	if (same_trace_model)
		print_metrics("held out (trace-time model):", &m_deployed);
	else
		printf("%-28s n/a: the traces were recorded with different models\n",
		       "held out (trace-time model):");
	printf("fixed point equals float on %zu of %zu held-out decisions\n", agree, teset.n);

	/* The model file. */
	doc = json_object();
	json_object_set_new(doc, "format", json_string(MLY_MODEL_FORMAT));
	json_object_set_new(doc, "feature_id", json_string(MLY_FEATURE_ID));
	j = json_array();
	for (i = 0; i < MLY_NR_FEATURES; i++)
		json_array_append_new(j, json_string(mly_feature_names[i]));
	json_object_set_new(doc, "features", j);
	json_object_set_new(doc, "hidden", json_integer(MLY_NR_HIDDEN));
	j = json_object();
	json_object_set_new(j, "horizon_us", json_real(o.horizon_us));
	json_object_set_new(j, "definition", json_string(
		"1 iff the incumbent's next stop after the decision is voluntary (it blocks) and comes "
		"within horizon_us of the decision"));
	json_object_set_new(doc, "label", j);

	j = json_object();
	jt = json_array();
	for (i = 0; i < MLY_NR_FEATURES; i++)
		json_array_append_new(jt, jarray_doubles(w.w1[i], MLY_NR_HIDDEN));
	json_object_set_new(j, "w1", jt);
	json_object_set_new(j, "b1", jarray_doubles(w.b1, MLY_NR_HIDDEN));
	json_object_set_new(j, "w2", jarray_doubles(w.w2, MLY_NR_HIDDEN));
	json_object_set_new(j, "b2", json_real(w.b2));
	json_object_set_new(j, "threshold_logit", json_real(0));
	json_object_set_new(doc, "float", j);

	j = json_object();
	json_object_set_new(j, "w1_shift", json_integer(mm.fx.w1_shift));
	json_object_set_new(j, "w2_shift", json_integer(mm.fx.w2_shift));
	jt = json_array();
	for (i = 0; i < MLY_NR_FEATURES; i++) {
		json_t *row = json_array();

		for (k = 0; k < MLY_NR_HIDDEN; k++)
			json_array_append_new(row, json_integer(mm.fx.w1[i][k]));
		json_array_append_new(jt, row);
	}
	json_object_set_new(j, "w1", jt);
	jt = json_array();
	jm = json_array();
	for (k = 0; k < MLY_NR_HIDDEN; k++) {
		json_array_append_new(jt, json_integer(mm.fx.b1[k]));
		json_array_append_new(jm, json_integer(mm.fx.w2[k]));
	}
	json_object_set_new(j, "b1", jt);
	json_object_set_new(j, "w2", jm);
	json_object_set_new(j, "b2", json_integer(mm.fx.b2));
	json_object_set_new(j, "threshold", json_integer(mm.fx.threshold));
	snprintf(hexfp, sizeof(hexfp), "%016" PRIx64, (uint64_t)mly_nn_fingerprint(&mm.fx));
	json_object_set_new(j, "fingerprint", json_string(hexfp));
	json_object_set_new(doc, "fixed", j);

	j = json_object();
	json_object_set_new(j, "seed", json_integer(o.seed));
	json_object_set_new(j, "epochs", json_integer(o.epochs));
	json_object_set_new(j, "optimizer", json_string("adam beta1=0.9 beta2=0.999 eps=1e-8"));
	json_object_set_new(j, "lr", json_real(o.lr));
	json_object_set_new(j, "batch", json_integer(o.batch));
	json_object_set_new(j, "l2", json_real(o.l2));
	json_object_set_new(j, "loss", json_string("binary cross-entropy on the logit"));
	json_object_set_new(j, "init", json_string("He-uniform W1, Glorot-uniform W2, zero biases, splitmix64(seed)"));
	json_object_set_new(j, "split", json_string(o.split));
	if (!strcmp(o.split, "time"))
		json_object_set_new(j, "test_fraction", json_real(o.test_fraction));
	json_object_set_new(j, "labelled_rows", json_integer(nlab));
	json_object_set_new(j, "positive_rows", json_integer(npos));
	json_object_set_new(j, "left_out_lost", json_integer(lost));
	json_object_set_new(j, "left_out_censored_within_horizon", json_integer(short_censored));
	jm = json_object();
	json_object_set_new(jm, "train_float", metrics_json(&m_tr));
	json_object_set_new(jm, "held_out_float", metrics_json(&m_te));
	json_object_set_new(jm, "held_out_fixed", metrics_json(&m_fx));
	json_object_set_new(jm, "held_out_float_decision_points", metrics_json(&m_dp));
	jt = metrics_json(&m_maj);
	json_object_set_new(jt, "always", json_string(majority_yields ? "yields" : "does not yield"));
	json_object_set_new(jm, "held_out_majority_baseline", jt);
	json_object_set_new(jm, "held_out_per_task_baseline", metrics_json(&m_comm));
	json_object_set_new(jm, "held_out_trace_time_model",
			    same_trace_model ? metrics_json(&m_deployed) : json_null());
	json_object_set_new(jm, "held_out_fixed_equals_float", json_integer(agree));
	json_object_set_new(j, "metrics", jm);
	json_object_set_new(doc, "training", j);

	j = json_object();
	jt = json_array();
	for (i = 0; i < ntf; i++) {
		json_t *t = json_object();

		json_object_set_new(t, "result", tf[i].result ? json_string(tf[i].result) : json_null());
		json_object_set_new(t, "file", json_string(tf[i].file));
		json_object_set_new(t, "sha256", json_string(tf[i].sha256));
		json_object_set_new(t, "rows", json_integer(tf[i].t.nr));
		json_object_set_new(t, "labelled_rows", json_integer(tf[i].labelled));
		json_object_set_new(t, "recorded_with_model", json_string(tf[i].t.model_fingerprint));
		json_array_append_new(jt, t);
	}
	json_object_set_new(j, "traces", jt);
	code_provenance(j, o.repo);
	json_object_set_new(doc, "provenance", j);

	/* Create exclusively, then verify the file reads back as a valid model. */
	fd = open(o.output, O_WRONLY | O_CREAT | O_EXCL, 0644);
	if (fd < 0)
		die(errno == EEXIST ? 2 : 1, "cannot create %s: %s", o.output, strerror(errno));
	if (json_dumpfd(doc, fd, JSON_INDENT(1) | JSON_PRESERVE_ORDER) || write(fd, "\n", 1) != 1 || close(fd))
		die(1, "writing %s failed: %s", o.output, strerror(errno));
	json_decref(doc);
	if (mly_model_load_file(o.output, &mm, err, sizeof(err)))
		die(1, "the model just written does not read back: %s", err);
	printf("model fingerprint %s\n%s\n", hexfp, o.output);
	return 0;
}
