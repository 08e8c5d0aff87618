/*
 * vmprogress: the outer side of the `vm` workload. It turns what the nested guest's vmbench
 * prints on its serial console into scxlab metrics measured on the outer guest's clock.
 *
 *   vmprogress stamp
 *       stdin -> stdout, every line prefixed with the outer CLOCK_MONOTONIC in ns at its
 *       arrival. start.sh pipes the nested QEMU's serial console through it into
 *       console.log, the raw record every metric is computed from.
 *   vmprogress measure --log console.log --duration S --qemu-pid PID --out metrics.json
 *                      [--neighbour-cgroup DIR]
 *       opens the measurement window now, closes it S seconds later, and reports the work
 *       the nested vCPUs did inside it.
 *
 * Mapping the two clocks. Each VMB line carries the nested guest's time t at which its
 * counts were read, and the line's arrival time a on the outer clock. a - t is the clock
 * offset plus the delivery delay (nested serial, the QEMU I/O thread, this reader), and that
 * delay is only ever positive. So the offset near a sample is the smallest a - t among the
 * samples within +-OFFSET_SPAN_S of it (the lower envelope): one promptly delivered line in
 * that span suffices, and a burst of lines delivered late, because the reader or QEMU's I/O
 * thread was not scheduled, does not shift the window. A local rather than global minimum
 * tolerates a slow drift between the nested clock and the outer one. Counts at the window's
 * edges are interpolated linearly between the two samples around each edge.
 *
 * Besides work per second per vCPU it records, from /proc/PID/task/TID/schedstat of the
 * QEMU threads that back vCPUs ("CPU n/TCG" or "CPU n/KVM"), how often they were switched in and how long
 * they waited runnable: the scheduler's own view of the preemptions a central or
 * VM-aware policy wants to avoid. With a noisy neighbour, the CPU time of its cgroup.
 *
 * Output follows scxlab's metric contract; the measurement is invalid (with the reason)
 * when the nested guest did not report both before and after the window.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_VCPUS 64
#define OFFSET_SPAN_S 5.0	/* half-width of the span the clock offset is taken from */
#define TAIL_WAIT_S 10.0	/* how long to wait for a sample past the window's end */

struct sample {
	double arrive, nested, outer;	/* seconds; outer = nested + local offset */
	uint64_t count[MAX_VCPUS];
};

struct series {
	struct sample *s;
	size_t n, cap;
	double stamp_start;	/* outer time the nested QEMU was started, or NAN */
	int nvcpu;
	long iters_per_count;
};

struct vcpu_thread {
	int vcpu;
	long tid;
	uint64_t run_ns, wait_ns, slices;
};

static double mono_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *fmt, const char *arg)
{
	fprintf(stderr, "vmprogress: error: ");
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	exit(2);
}

static int stamp(void)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	setvbuf(stdout, NULL, _IOLBF, 0);
	/* QEMU starts with this reader: the nested boot time is measured from here */
	struct timespec ts0;
	clock_gettime(CLOCK_MONOTONIC, &ts0);
	printf("%lld VMPROGRESS stamp-start\n", (long long)ts0.tv_sec * 1000000000LL + ts0.tv_nsec);
	while ((n = getline(&line, &cap, stdin)) > 0) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		/* the nested console ends lines with \r\n */
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = 0;
		printf("%lld %s\n", (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec, line);
	}
	free(line);
	return 0;
}

/* Reads every VMB sample of the stamped console log. */
static void read_series(const char *path, struct series *sr)
{
	FILE *f = fopen(path, "r");
	if (!f)
		die("cannot read the nested console log %s", path);
	sr->n = 0;
	sr->stamp_start = NAN;
	char *line = NULL;
	size_t cap = 0;
	while (getline(&line, &cap, f) > 0) {
		char *p = line, *end;
		long long arrive = strtoll(p, &end, 10);
		if (end != p && !strncmp(end, " VMPROGRESS stamp-start", 23))
			sr->stamp_start = arrive / 1e9;
		if (end == p || strncmp(end, " VMB ", 5))
			continue;
		p = end + 5;
		if (!strncmp(p, "start ", 6)) {
			char *ipc = strstr(p, "iters_per_count=");
			if (ipc)
				sr->iters_per_count = strtol(ipc + 16, NULL, 10);
			continue;
		}
		strtoull(p, &end, 10);	/* sequence number */
		if (end == p)
			continue;
		p = end;
		long long nested = strtoll(p, &end, 10);
		if (end == p)
			continue;
		p = end;
		struct sample s = { .arrive = arrive / 1e9, .nested = nested / 1e9 };
		int k = 0;
		for (; k < MAX_VCPUS; k++) {
			s.count[k] = strtoull(p, &end, 10);
			if (end == p)
				break;
			p = end;
		}
		if (*p != '\n' && *p != 0)
			continue;	/* a line cut short, or garbage on the console */
		if (!sr->nvcpu)
			sr->nvcpu = k;
		if (k != sr->nvcpu || k == 0)
			continue;
		if (sr->n == sr->cap) {
			sr->cap = sr->cap ? 2 * sr->cap : 1024;
			sr->s = realloc(sr->s, sr->cap * sizeof(*sr->s));
			if (!sr->s)
				die("%s", "out of memory");
		}
		sr->s[sr->n++] = s;
	}
	free(line);
	fclose(f);
	/* outer time of each sample from the lower envelope of arrive - nested around it */
	for (size_t i = 0, lo = 0, hi = 0; i < sr->n; i++) {
		while (sr->s[lo].nested < sr->s[i].nested - OFFSET_SPAN_S)
			lo++;
		while (hi + 1 < sr->n && sr->s[hi + 1].nested <= sr->s[i].nested + OFFSET_SPAN_S)
			hi++;
		double off = INFINITY;
		for (size_t j = lo; j <= hi; j++)
			off = fmin(off, sr->s[j].arrive - sr->s[j].nested);
		sr->s[i].outer = sr->s[i].nested + off;
	}
}

/* Count of vCPU k at outer time t, interpolated; false if t is outside the samples. */
static bool count_at(const struct series *sr, int k, double t, double *out)
{
	for (size_t i = 1; i < sr->n; i++) {
		const struct sample *a = &sr->s[i - 1], *b = &sr->s[i];
		if (a->outer <= t && t <= b->outer) {
			double f = b->outer > a->outer ? (t - a->outer) / (b->outer - a->outer) : 1;
			*out = a->count[k] + f * ((double)b->count[k] - (double)a->count[k]);
			return true;
		}
	}
	return false;
}

/* The QEMU threads that run vCPUs: named "CPU n/TCG" under TCG with thread=multi, "CPU n/KVM"
 * under KVM (nested_accel=kvm). */
static int vcpu_threads(long pid, struct vcpu_thread *out, int max)
{
	char path[320];
	snprintf(path, sizeof(path), "/proc/%ld/task", pid);
	DIR *d = opendir(path);
	if (!d)
		return -1;
	int n = 0;
	struct dirent *de;
	while ((de = readdir(d)) && n < max) {
		if (de->d_name[0] == '.')
			continue;
		char comm[64] = "";
		snprintf(path, sizeof(path), "/proc/%ld/task/%s/comm", pid, de->d_name);
		FILE *f = fopen(path, "r");
		if (!f)
			continue;
		int vcpu;
		char accel[8] = "";
		if (fgets(comm, sizeof(comm), f) && sscanf(comm, "CPU %d/%7[A-Z]", &vcpu, accel) == 2 &&
		    (!strcmp(accel, "TCG") || !strcmp(accel, "KVM"))) {
			out[n].vcpu = vcpu;
			out[n].tid = strtol(de->d_name, NULL, 10);
			n++;
		}
		fclose(f);
	}
	closedir(d);
	return n;
}

static void read_schedstat(long pid, struct vcpu_thread *t, int n)
{
	for (int i = 0; i < n; i++) {
		char path[320];
		snprintf(path, sizeof(path), "/proc/%ld/task/%ld/schedstat", pid, t[i].tid);
		FILE *f = fopen(path, "r");
		t[i].run_ns = t[i].wait_ns = t[i].slices = 0;
		if (f) {
			if (fscanf(f, "%" SCNu64 " %" SCNu64 " %" SCNu64, &t[i].run_ns, &t[i].wait_ns, &t[i].slices) != 3)
				t[i].run_ns = t[i].wait_ns = t[i].slices = 0;
			fclose(f);
		}
	}
}

static double cgroup_usage_s(const char *dir)
{
	char path[512], key[64];
	unsigned long long v;
	snprintf(path, sizeof(path), "%s/cpu.stat", dir);
	FILE *f = fopen(path, "r");
	if (!f)
		return NAN;
	double out = NAN;
	while (fscanf(f, "%63s %llu", key, &v) == 2)
		if (!strcmp(key, "usage_usec"))
			out = v / 1e6;
	fclose(f);
	return out;
}

struct out {
	FILE *f;
	int n;
};

static void metric(struct out *o, const char *name, const char *unit, double value, bool higher)
{
	fprintf(o->f, "%s\n  {\"name\": \"%s\", \"unit\": \"%s\", \"value\": %.6f, \"higher_is_better\": %s}",
		o->n++ ? "," : "", name, unit, value, higher ? "true" : "false");
}

static int measure(int argc, char **argv)
{
	const char *log = NULL, *out_path = NULL, *cgroup = NULL;
	double duration = 0;
	long qemu_pid = 0;
	static const struct option opts[] = {
		{ "log", required_argument, NULL, 'l' },
		{ "duration", required_argument, NULL, 'd' },
		{ "qemu-pid", required_argument, NULL, 'p' },
		{ "out", required_argument, NULL, 'o' },
		{ "neighbour-cgroup", required_argument, NULL, 'c' },
		{ 0 },
	};
	int c;
	char *end;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'l': log = optarg; break;
		case 'o': out_path = optarg; break;
		case 'c': cgroup = *optarg ? optarg : NULL; break;
		case 'd':
			duration = strtod(optarg, &end);
			if (*end || !(duration > 0))
				die("--duration '%s' is not a positive number of seconds", optarg);
			break;
		case 'p':
			qemu_pid = strtol(optarg, &end, 10);
			if (*end || qemu_pid <= 0)
				die("--qemu-pid '%s' is not a process id", optarg);
			break;
		default:
			die("%s", "usage: vmprogress measure --log LOG --duration S --qemu-pid PID --out FILE "
			    "[--neighbour-cgroup DIR]");
		}
	}
	if (!log || !out_path || !duration || !qemu_pid)
		die("%s", "measure needs --log, --duration, --qemu-pid and --out");

	struct vcpu_thread th0[MAX_VCPUS], th1[MAX_VCPUS];
	int nth = vcpu_threads(qemu_pid, th0, MAX_VCPUS);
	char reason[512] = "";
	if (nth < 0)
		snprintf(reason, sizeof(reason), "the nested QEMU (pid %ld) is not running", qemu_pid);
	if (nth > 0) {
		memcpy(th1, th0, sizeof(th0));
		read_schedstat(qemu_pid, th0, nth);
	}
	double cg0 = cgroup ? cgroup_usage_s(cgroup) : NAN;
	double t0 = mono_s();
	struct timespec nap = { (time_t)duration, (long)((duration - (time_t)duration) * 1e9) };
	while (nanosleep(&nap, &nap) && errno == EINTR)
		;
	double t1 = mono_s();
	if (nth > 0)
		read_schedstat(qemu_pid, th1, nth);
	double cg1 = cgroup ? cgroup_usage_s(cgroup) : NAN;

	/* the sample after the window's end may still be on its way */
	struct series sr = { 0 };
	double waited = mono_s();
	for (;;) {
		read_series(log, &sr);
		if ((sr.n && sr.s[sr.n - 1].outer >= t1) || mono_s() - waited > TAIL_WAIT_S)
			break;
		usleep(200000);
	}

	double rate[MAX_VCPUS], total = 0, rmin = INFINITY, rmax = 0, stall_max = 0, gap_max = 0;
	if (!*reason && sr.n < 2)
		snprintf(reason, sizeof(reason), "the nested guest reported %zu samples in %s; see raw/nested-console.log",
			 sr.n, log);
	for (int k = 0; !*reason && k < sr.nvcpu; k++) {
		double c0, c1;
		if (!count_at(&sr, k, t0, &c0) || !count_at(&sr, k, t1, &c1)) {
			snprintf(reason, sizeof(reason),
				 "the nested guest's samples (outer %.1f..%.1f s) do not cover the window %.1f..%.1f s: "
				 "it was still booting, or stopped reporting",
				 sr.s[0].outer, sr.s[sr.n - 1].outer, t0, t1);
			break;
		}
		rate[k] = (c1 - c0) * sr.iters_per_count / (t1 - t0) / 1e6;
		total += rate[k];
		rmin = fmin(rmin, rate[k]);
		rmax = fmax(rmax, rate[k]);
	}
	if (!*reason && sr.iters_per_count <= 0)
		snprintf(reason, sizeof(reason), "no 'VMB start' line with iters_per_count in %s", log);
	/* longest time a vCPU made no progress, and the longest gap between samples */
	for (size_t i = 1; !*reason && i < sr.n; i++) {
		if (sr.s[i].outer < t0 || sr.s[i - 1].outer > t1)
			continue;
		gap_max = fmax(gap_max, sr.s[i].outer - sr.s[i - 1].outer);
		for (int k = 0; k < sr.nvcpu; k++) {
			if (sr.s[i].count[k] != sr.s[i - 1].count[k])
				continue;
			size_t j = i;
			while (j + 1 < sr.n && sr.s[j + 1].count[k] == sr.s[i - 1].count[k])
				j++;
			stall_max = fmax(stall_max, sr.s[j].outer - sr.s[i - 1].outer);
		}
	}

	FILE *f = fopen(out_path, "w");
	if (!f)
		die("cannot write %s", out_path);
	struct out o = { .f = f };
	fprintf(f, "{\"valid\": %s, \"reason\": \"", *reason ? "false" : "true");
	for (const char *p = reason; *p; p++)
		fprintf(f, (*p == '"' || *p == '\\') ? "\\%c" : "%c", *p);
	fprintf(f, "\", \"window_s\": %.6f, \"samples\": %zu, \"vcpus\": %d, \"metrics\": [", t1 - t0, sr.n, sr.nvcpu);
	if (!*reason) {
		metric(&o, "vm_work_rate", "Miter/s", total, true);
		for (int k = 0; k < sr.nvcpu; k++) {
			char name[32];
			snprintf(name, sizeof(name), "vcpu%d_work_rate", k);
			metric(&o, name, "Miter/s", rate[k], true);
		}
		metric(&o, "vcpu_work_rate_min", "Miter/s", rmin, true);
		metric(&o, "vcpu_spread_pct", "%", total > 0 ? (rmax - rmin) / (total / sr.nvcpu) * 100 : 0, false);
		metric(&o, "vcpu_stall_max_ms", "ms", stall_max * 1e3, false);
		metric(&o, "sample_gap_max_ms", "ms", gap_max * 1e3, false);
		bool threads_ok = nth == sr.nvcpu;	/* one QEMU thread per reporting vCPU */
		for (int i = 0; i < nth; i++)	/* a thread that vanished reads as zeros */
			threads_ok &= th1[i].run_ns >= th0[i].run_ns && th1[i].slices >= th0[i].slices &&
				      th1[i].wait_ns >= th0[i].wait_ns;
		if (threads_ok) {
			double run = 0, wait = 0, slices = 0;
			for (int i = 0; i < nth; i++) {
				run += (th1[i].run_ns - th0[i].run_ns) / 1e9;
				wait += (th1[i].wait_ns - th0[i].wait_ns) / 1e9;
				slices += th1[i].slices - th0[i].slices;
			}
			metric(&o, "vcpu_threads_cpu_pct", "%", run / (t1 - t0) * 100, true);
			metric(&o, "vcpu_threads_wait_pct", "%", wait / (t1 - t0) * 100, false);
			metric(&o, "vcpu_threads_switches_per_sec", "1/s", slices / (t1 - t0), false);
		}
		if (cgroup && isfinite(cg0) && isfinite(cg1))
			metric(&o, "neighbour_cpu_pct", "%", (cg1 - cg0) / (t1 - t0) * 100, true);
		if (isfinite(sr.stamp_start))
			metric(&o, "nested_boot_s", "s", sr.s[0].arrive - sr.stamp_start, false);
	}
	fprintf(f, "\n]}\n");
	if (fclose(f))
		die("cannot write %s", out_path);
	if (*reason)
		fprintf(stderr, "vmprogress: invalid measurement: %s\n", reason);
	else
		fprintf(stderr, "vmprogress: window %.3f s, %zu samples, %d vCPUs, %.3f Miter/s, vCPU threads %d\n",
			t1 - t0, sr.n, sr.nvcpu, total, nth);
	free(sr.s);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "stamp"))
		return stamp();
	if (argc >= 2 && !strcmp(argv[1], "measure"))
		return measure(argc - 1, argv + 1);
	fprintf(stderr, "usage: vmprogress stamp < nested-console > stamped-log\n"
			"       vmprogress measure --log LOG --duration S --qemu-pid PID --out metrics.json "
			"[--neighbour-cgroup DIR]\n");
	return 2;
}
