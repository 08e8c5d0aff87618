// SPDX-License-Identifier: GPL-2.0
/*
 * scxlab_loader.c - shared life cycle of every scxlab policy loader.
 *
 * open -> knobs -> load (the policy's own <name>.c) -> attach -> watch -> detach -> report
 * (here). Watching means two things at once: printing cumulative per-CPU counters every
 * --stats-interval seconds, and polling the policy's exit record (struct
 * scxlab_exit_info in the skeleton's memory-mapped .bss) every 100 ms, because the only
 * sign that the kernel has ejected a scheduler is that its ops.exit() ran. The loop also
 * ends on SIGINT/SIGTERM; destroying the struct_ops link then makes the kernel disable the
 * scheduler synchronously, so the exit record is complete when bpf_link__destroy() returns.
 * Between two checks the loop sleeps, or, for a policy with a user-space part (userland's
 * scheduler loop, atropos' load balancer), runs the policy's wait hook for that long.
 *
 * The JSON written to --exit-info after a run:
 *   {"stage": "run", "ops_name": "fifo", "kind": 64, "kind_name": "UNREG",
 *    "exit_code": 0, "reason": "unregistered from user space", "msg": "...",
 *    "dump": "<the kernel's state dump at an error exit, else empty>",
 *    "ejected": false, "stats": {"dispatch": 123, ...}}
 * plus "error": "<what failed>" when the policy's user-space part (its wait hook, see
 * scxlab_loader.h) failed and the loader detached the scheduler because of it;
 * and after a failure to open, load or attach:
 *   {"stage": "load"|"attach", "ops_name": "fifo", "error": "<what failed>: <libbpf error>",
 *    "ejected": false, "libbpf_log": "<the tail of libbpf's warnings, e.g. the verifier log>"}
 * The file is written to PATH.tmp and renamed, so a reader never sees half of it.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <jansson.h>

#include "scxlab_loader.h"

#define POLL_NS			(100 * 1000 * 1000LL)
#define LIBBPF_LOG_KEEP		(16 * 1024)	/* bytes of libbpf warnings kept for the JSON */

static const char *prog = "scxlab-loader";
static volatile sig_atomic_t stop_signal;
static char libbpf_log[LIBBPF_LOG_KEEP];
static size_t libbpf_log_len;

/* Keep the tail of what libbpf says (verifier logs included) and pass it on to stderr. */
static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char line[4096];
	size_t n;
	int len;

	if (level == LIBBPF_DEBUG)
		return 0;
	len = vsnprintf(line, sizeof(line), fmt, ap);
	if (len < 0)
		return len;
	n = (size_t)len < sizeof(line) ? (size_t)len : sizeof(line) - 1;
	fputs(line, stderr);
	if (n >= sizeof(libbpf_log)) {
		memcpy(libbpf_log, line + n - (sizeof(libbpf_log) - 1), sizeof(libbpf_log) - 1);
		libbpf_log_len = sizeof(libbpf_log) - 1;
	} else {
		if (libbpf_log_len + n >= sizeof(libbpf_log)) {
			size_t drop = libbpf_log_len + n - (sizeof(libbpf_log) - 1);

			memmove(libbpf_log, libbpf_log + drop, libbpf_log_len - drop);
			libbpf_log_len -= drop;
		}
		memcpy(libbpf_log + libbpf_log_len, line, n);
		libbpf_log_len += n;
	}
	libbpf_log[libbpf_log_len] = '\0';
	return len;
}

static void on_signal(int sig)
{
	stop_signal = sig;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void usage(const struct scxlab_policy *pol, FILE *out)
{
	const struct scxlab_option *o;
	char left[64];

	fprintf(out, "usage: %s [OPTIONS]\n%s\n\n", prog, pol->summary);
	if (pol->options && pol->options[0].name) {
		fprintf(out, "Policy options:\n");
		for (o = pol->options; o->name; o++) {
			snprintf(left, sizeof(left), "--%s%s%s", o->name, o->arg ? " " : "",
				 o->arg ? o->arg : "");
			fprintf(out, "  %-24s %s\n", left, o->help);
		}
	}
	fprintf(out,
		"Common options:\n"
		"  %-24s %s\n  %-24s %s\n  %-24s %s\n\n",
		"--exit-info PATH", "write why the scheduler stopped as JSON to PATH",
		"--stats-interval SEC", "print a stats line every SEC seconds (default 1; 0: never)",
		"-h, --help", "show this help and exit");
	fprintf(out,
		"Runs until SIGINT/SIGTERM or until the kernel disables the scheduler.\n"
		"stdout: 'loaded ops=%s', then 'stats t=SEC NAME=COUNT ...' (totals since attach).\n"
		"Exit status: 0 detached on request, 1 ejected by the kernel (error, stall, SysRq),\n"
		"2 failed to load or attach, 3 the policy's user-space part failed, 64 bad command\n"
		"line.\n", pol->ops_name);
}

void scxlab_parse_args(struct scxlab_policy *pol, int argc, char **argv)
{
	enum { OPT_EXIT_INFO = 1, OPT_STATS_INTERVAL, OPT_POLICY = 256 };
	struct option *longopts;
	int nr_policy = 0, i, c;
	char *end;

	prog = argc > 0 && argv[0] ? argv[0] : pol->ops_name;
	if (strrchr(prog, '/'))
		prog = strrchr(prog, '/') + 1;
	pol->exit_info_path = NULL;
	pol->stats_interval_s = 1.0;
	libbpf_set_print(libbpf_print);

	while (pol->options && pol->options[nr_policy].name)
		nr_policy++;
	longopts = calloc(nr_policy + 4, sizeof(*longopts));
	if (!longopts) {
		fprintf(stderr, "%s: out of memory\n", prog);
		exit(SCXLAB_STATUS_USAGE);
	}
	longopts[0] = (struct option){ "exit-info", required_argument, NULL, OPT_EXIT_INFO };
	longopts[1] = (struct option){ "stats-interval", required_argument, NULL, OPT_STATS_INTERVAL };
	longopts[2] = (struct option){ "help", no_argument, NULL, 'h' };
	for (i = 0; i < nr_policy; i++)
		longopts[3 + i] = (struct option){ pol->options[i].name,
			pol->options[i].arg ? required_argument : no_argument, NULL, OPT_POLICY + i };

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			usage(pol, stdout);
			exit(0);
		case OPT_EXIT_INFO:
			pol->exit_info_path = optarg;
			break;
		case OPT_STATS_INTERVAL:
			errno = 0;
			pol->stats_interval_s = strtod(optarg, &end);
			if (errno || end == optarg || *end || pol->stats_interval_s < 0 ||
			    pol->stats_interval_s > 86400) {
				fprintf(stderr, "%s: --stats-interval: expected seconds from 0 to 86400 "
					"(0: no stats lines), got '%s'\n", prog, optarg);
				exit(SCXLAB_STATUS_USAGE);
			}
			break;
		default:
			if (c >= OPT_POLICY && c < OPT_POLICY + nr_policy) {
				if (pol->parse_option(c - OPT_POLICY, optarg))
					exit(SCXLAB_STATUS_USAGE);
				break;
			}
			fprintf(stderr, "Try '%s --help'.\n", prog);
			exit(SCXLAB_STATUS_USAGE);
		}
	}
	if (optind < argc) {
		fprintf(stderr, "%s: unexpected argument '%s' (options only; try --help)\n",
			prog, argv[optind]);
		exit(SCXLAB_STATUS_USAGE);
	}
	free(longopts);
}

int scxlab_parse_ull(const char *opt, const char *arg, unsigned long long min,
		     unsigned long long max, unsigned long long *out)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(arg, &end, 0);
	if (errno || end == arg || *end || arg[0] == '-' || v < min || v > max) {
		fprintf(stderr, "%s: --%s: expected an integer from %llu to %llu, got '%s'\n",
			prog, opt, min, max, arg);
		return -1;
	}
	*out = v;
	return 0;
}

/* jansson wants UTF-8; kernel messages can hold arbitrary bytes (task names). */
static json_t *json_text(const char *s, size_t max)
{
	char buf[SCXLAB_EXIT_DUMP_LEN > LIBBPF_LOG_KEEP ? SCXLAB_EXIT_DUMP_LEN : LIBBPF_LOG_KEEP];
	size_t i;

	if (max > sizeof(buf) - 1)
		max = sizeof(buf) - 1;
	for (i = 0; i < max && s[i]; i++) {
		unsigned char ch = s[i];

		buf[i] = (ch >= 0x20 && ch < 0x7f) || ch == '\n' || ch == '\t' ? ch : '?';
	}
	buf[i] = '\0';
	return json_string(buf);
}

static int write_json(const struct scxlab_policy *pol, json_t *root)
{
	char tmp[4096];
	int ret = 0;

	if (!pol->exit_info_path)
		return 0;
	snprintf(tmp, sizeof(tmp), "%s.tmp", pol->exit_info_path);
	if (json_dump_file(root, tmp, JSON_INDENT(2) | JSON_PRESERVE_ORDER) ||
	    rename(tmp, pol->exit_info_path)) {
		fprintf(stderr, "%s: cannot write --exit-info %s: %s\n", prog, pol->exit_info_path,
			strerror(errno));
		unlink(tmp);
		ret = -1;
	}
	return ret;
}

int scxlab_fail(const struct scxlab_policy *pol, const char *stage, int err)
{
	char errbuf[256], what[512];
	json_t *root;

	if (err > 0)
		err = -err;
	if (err == 0)
		err = -EINVAL;
	libbpf_strerror(err, errbuf, sizeof(errbuf));
	snprintf(what, sizeof(what), "%s of scheduler '%s' failed: %s (errno %d)",
		 stage, pol->ops_name, errbuf, -err);
	fprintf(stderr, "%s: %s\n", prog, what);

	root = json_object();
	json_object_set_new(root, "stage", json_string(stage));
	json_object_set_new(root, "ops_name", json_string(pol->ops_name));
	json_object_set_new(root, "error", json_text(what, sizeof(what)));
	json_object_set_new(root, "ejected", json_false());
	json_object_set_new(root, "libbpf_log", json_text(libbpf_log, sizeof(libbpf_log)));
	write_json(pol, root);
	json_decref(root);
	return SCXLAB_STATUS_LOAD_FAILED;
}

/*
 * kfuncs renamed between kernels, as scxlab_compat.bpf.h pairs them: the current name and the
 * older one; NULL for one with a plain BPF helper as the fallback.
 */
static const char *const compat_kfuncs[][2] = {
	{ "scx_bpf_dsq_insert", "scx_bpf_dispatch" },
	{ "scx_bpf_dsq_move_to_local", "scx_bpf_consume" },
	{ "scx_bpf_dsq_move", "scx_bpf_dispatch_from_dsq" },
	{ "scx_bpf_dsq_move_set_slice", "scx_bpf_dispatch_from_dsq_set_slice" },
	{ "scx_bpf_now", NULL },
};

static bool kernel_has(const struct btf *kernel, const char *name)
{
	return name && btf__find_by_name_kind(kernel, name, BTF_KIND_FUNC) > 0;
}

int scxlab_missing_kfuncs(const struct btf *prog, const struct btf *kernel, char *buf, size_t len)
{
	unsigned int id, n = btf__type_cnt(prog), i;
	size_t used = 0;
	int missing = 0;

	if (len)
		buf[0] = '\0';
	for (id = 1; id < n; id++) {
		const struct btf_type *t = btf__type_by_id(prog, id);
		const char *name, *other = NULL;
		bool renamed = false, old_name = false;

		/* a FUNC keeps its linkage in vlen */
		if (!btf_is_func(t) || btf_vlen(t) != BTF_FUNC_EXTERN)
			continue;
		name = btf__name_by_offset(prog, t->name_off);
		if (!name || kernel_has(kernel, name))
			continue;
		for (i = 0; !renamed && i < sizeof(compat_kfuncs) / sizeof(compat_kfuncs[0]); i++) {
			old_name = compat_kfuncs[i][1] && !strcmp(name, compat_kfuncs[i][1]);
			renamed = old_name || !strcmp(name, compat_kfuncs[i][0]);
			if (renamed)
				other = compat_kfuncs[i][old_name ? 0 : 1];
		}
		/* there under its other name, or it falls back to a helper */
		if (renamed && (!other || kernel_has(kernel, other)))
			continue;
		/* missing under both names: said once, under the current one */
		if (old_name)
			continue;
		if (used < len)
			used += snprintf(buf + used, len - used, "%s%s%s%s%s", missing ? ", " : "",
					 name, other ? " (or " : "", other ? other : "",
					 other ? ")" : "");
		missing++;
	}
	return missing;
}

int scxlab_check_kfuncs(const struct scxlab_policy *pol, const struct bpf_object *obj)
{
	const struct btf *ours = bpf_object__btf(obj);
	struct btf *kernel;
	char missing[1024];
	int n;

	if (!ours)
		return 0;
	kernel = btf__load_vmlinux_btf();
	if (!kernel) {
		fprintf(stderr, "%s: cannot read the kernel's BTF (%s); not checking its kfuncs\n",
			prog, strerror(errno));
		return 0;
	}
	n = scxlab_missing_kfuncs(ours, kernel, missing, sizeof(missing));
	btf__free(kernel);
	if (!n)
		return 0;
	fprintf(stderr, "%s: this kernel lacks %d kernel function%s that policy '%s' calls: %s "
		"(sched_ext on this kernel is older or newer than the policy supports)\n",
		prog, n, n == 1 ? "" : "s", pol->ops_name, missing);
	return -EOPNOTSUPP;
}

/* Sum each per-CPU counter over all possible CPUs into totals[nr_stats]. */
static int read_stats(const struct scxlab_policy *pol, struct bpf_map *stats,
		      unsigned long long *totals)
{
	static unsigned long long *percpu;
	static int nr_cpus;
	__u32 idx;
	int cpu, err;

	if (!percpu) {
		nr_cpus = libbpf_num_possible_cpus();
		if (nr_cpus <= 0)
			return nr_cpus ? nr_cpus : -EINVAL;
		percpu = calloc(nr_cpus, sizeof(*percpu));
		if (!percpu)
			return -ENOMEM;
	}
	for (idx = 0; idx < pol->nr_stats; idx++) {
		err = bpf_map__lookup_elem(stats, &idx, sizeof(idx), percpu,
					   nr_cpus * sizeof(*percpu), 0);
		if (err)
			return err;
		totals[idx] = 0;
		for (cpu = 0; cpu < nr_cpus; cpu++)
			totals[idx] += percpu[cpu];
	}
	return 0;
}

static void print_stats(const struct scxlab_policy *pol, struct bpf_map *stats, double t)
{
	unsigned long long totals[pol->nr_stats ? pol->nr_stats : 1];
	unsigned int i;
	int err;

	err = read_stats(pol, stats, totals);
	if (err) {
		fprintf(stderr, "%s: reading the stats map failed: %s\n", prog, strerror(-err));
		return;
	}
	printf("stats t=%.1f", t);
	for (i = 0; i < pol->nr_stats; i++)
		printf(" %s=%llu", pol->stat_names[i], totals[i]);
	printf("\n");
	fflush(stdout);
}

static void sleep_ns(long long ns)
{
	struct timespec ts = { .tv_sec = ns / 1000000000LL, .tv_nsec = ns % 1000000000LL };

	nanosleep(&ts, NULL);	/* EINTR on a signal is fine: the loop checks */
}

static int check_policy(const struct scxlab_policy *pol, struct bpf_map *stats)
{
	unsigned int i;

	if (!stats || bpf_map__max_entries(stats) != pol->nr_stats) {
		fprintf(stderr, "%s: the policy's stats map has %u slots but the loader names %u\n",
			prog, stats ? bpf_map__max_entries(stats) : 0, pol->nr_stats);
		return -EINVAL;
	}
	for (i = 0; i < pol->nr_stats; i++) {
		if (!pol->stat_names[i]) {
			fprintf(stderr, "%s: stat %u has no name\n", prog, i);
			return -EINVAL;
		}
	}
	return 0;
}

int scxlab_run(const struct scxlab_policy *pol, struct bpf_map *ops, struct bpf_map *stats,
	       const volatile struct scxlab_exit_info *exit_info)
{
	unsigned long long totals[pol->nr_stats ? pol->nr_stats : 1];
	struct scxlab_exit_info ei;
	struct sigaction sa = { .sa_handler = on_signal };
	struct bpf_link *link;
	double t0, next_stats, now;
	const char *kind_name;
	json_t *root, *jstats;
	bool ejected;
	unsigned int i;
	int err, wait_err = 0;

	err = check_policy(pol, stats);
	if (err)
		return scxlab_fail(pol, "load", err);

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	link = bpf_map__attach_struct_ops(ops);
	if (!link)
		return scxlab_fail(pol, "attach", -errno);
	t0 = now_s();
	printf("loaded ops=%s\n", pol->ops_name);
	fflush(stdout);

	next_stats = t0 + pol->stats_interval_s;
	while (!stop_signal && !exit_info->kind) {
		long long wait_ns = POLL_NS, to_stats_ns = (next_stats - now_s()) * 1e9;

		/* Wake on time for the next stats line so that t= stays on the interval grid. */
		if (pol->stats_interval_s > 0 && to_stats_ns < wait_ns)
			wait_ns = to_stats_ns;
		if (pol->wait) {
			wait_err = pol->wait(pol->wait_ctx, wait_ns > 0 ? wait_ns : 0);
			if (wait_err < 0)
				break;
		} else if (wait_ns > 0) {
			sleep_ns(wait_ns);
		}
		now = now_s();
		if (pol->stats_interval_s > 0 && now >= next_stats) {
			print_stats(pol, stats, now - t0);
			while (next_stats <= now)
				next_stats += pol->stats_interval_s;
		}
	}

	/* Unregisters the scheduler if the kernel has not already; ops.exit() has run after this. */
	bpf_link__destroy(link);

	ei.kind = exit_info->kind;
	ei.exit_cpu = exit_info->exit_cpu;
	ei.exit_code = exit_info->exit_code;
	memcpy(ei.reason, (const void *)exit_info->reason, sizeof(ei.reason));
	memcpy(ei.msg, (const void *)exit_info->msg, sizeof(ei.msg));
	memcpy(ei.dump, (const void *)exit_info->dump, sizeof(ei.dump));
	ei.reason[sizeof(ei.reason) - 1] = '\0';
	ei.msg[sizeof(ei.msg) - 1] = '\0';
	ei.dump[sizeof(ei.dump) - 1] = '\0';
	kind_name = scxlab_exit_kind_name(ei.kind);
	ejected = scxlab_exit_kind_ejected(ei.kind);

	err = read_stats(pol, stats, totals);
	if (err)
		fprintf(stderr, "%s: reading the stats map failed: %s\n", prog, strerror(-err));

	if (wait_err < 0)
		fprintf(stderr, "%s: the user-space part of '%s' failed (%s); detached the scheduler\n",
			prog, pol->ops_name, strerror(-wait_err));
	if (ejected)
		fprintf(stderr, "%s: EJECTED: the kernel disabled scheduler '%s': %s (kind %d): %s",
			prog, pol->ops_name, kind_name, ei.kind, ei.reason);
	else
		fprintf(stderr, "%s: scheduler '%s' detached%s%s: %s (kind %d): %s", prog,
			pol->ops_name, stop_signal ? " on " : "",
			stop_signal == SIGINT ? "SIGINT" : stop_signal ? "SIGTERM" : "", kind_name, ei.kind,
			ei.reason[0] ? ei.reason : "no exit recorded");
	if (ei.exit_code)
		fprintf(stderr, " (exit_code %lld)", (long long)ei.exit_code);
	fprintf(stderr, "%s%s\n", ei.msg[0] ? "\n  message: " : "", ei.msg);
	if (ejected && ei.dump[0])
		fprintf(stderr, "%s: the kernel's state dump:\n%s\n", prog, ei.dump);

	root = json_object();
	json_object_set_new(root, "stage", json_string("run"));
	json_object_set_new(root, "ops_name", json_string(pol->ops_name));
	json_object_set_new(root, "kind", json_integer(ei.kind));
	json_object_set_new(root, "kind_name", json_string(kind_name));
	json_object_set_new(root, "exit_code", json_integer(ei.exit_code));
	json_object_set_new(root, "reason", json_text(ei.reason, sizeof(ei.reason)));
	json_object_set_new(root, "msg", json_text(ei.msg, sizeof(ei.msg)));
	json_object_set_new(root, "dump", json_text(ei.dump, sizeof(ei.dump)));
	json_object_set_new(root, "ejected", json_boolean(ejected));
	if (wait_err < 0) {
		char what[256];

		snprintf(what, sizeof(what), "the policy's user-space part failed: %s",
			 strerror(-wait_err));
		json_object_set_new(root, "error", json_string(what));
	}
	jstats = json_object();
	for (i = 0; !err && i < pol->nr_stats; i++)
		json_object_set_new(jstats, pol->stat_names[i], json_integer(totals[i]));
	json_object_set_new(root, "stats", jstats);
	write_json(pol, root);
	json_decref(root);

	if (ejected)
		return SCXLAB_STATUS_EJECTED;
	return wait_err < 0 ? SCXLAB_STATUS_USER_FAILED : SCXLAB_STATUS_DETACHED;
}
