/*
 * scxlab-guest: the agent that runs an experiment plan on a kernel with sched_ext.
 *
 * In the VM it is PID 1 (exec'd by kernel/guest-init once the job disk is unpacked); with
 * TARGET=host it is an ordinary process on a host whose kernel has sched_ext. For each run
 * of the plan (runners/common/experiment.c writes it) it:
 *   1. creates the run's cgroup tree, if the plan has one,
 *   2. starts the policy's loader and waits until the kernel reports that policy in charge
 *      (/sys/kernel/sched_ext/state = enabled, root/ops = its ops name); for cfs it checks
 *      that no sched_ext scheduler is loaded; then starts the workload's servers
 *      (workloads/<name>/<start>, one per instance, each in its cgroup),
 *   3. runs the client once as warm-up, snapshots schedstat and sched_ext,
 *   4. runs the measured client under `perf stat` (software events only), checking every
 *      100 ms that the policy is still in charge: if the kernel ejected it the run is
 *      marked invalid with the kernel's exit kind and reason,
 *   5. snapshots again, stops the policy (its loader writes the kernel's exit info), stops
 *      the server, saves dmesg, validates the workload's metrics.json,
 *   6. writes runs/NNN-policy/{run.json,metrics.json,raw/} and, in the VM, rewrites the whole
 *      results tree as a tar on the results disk, so a later crash loses only the run in
 *      flight.
 * Progress goes to stdout (the serial console) as "SCXLAB <event> ..." lines, which the host
 * runner turns into its progress display.
 */
#include <errno.h>
#include <jansson.h>
#include <libgen.h>
#include <math.h>
#include <stdarg.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/klog.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroups.h"
#include "config.h"
#include "experiment.h"
#include "metrics.h"
#include "outcome.h"
#include "schedext.h"
#include "sha256.h"
#include "stats.h"
#include "util.h"

struct agent {
	struct cfg plan;
	char *job_dir;
	char *results;
	const char *results_disk;
	bool pid1;
	bool have_perf;
	long nruns, duration, warmup, load_timeout;
};

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("SCXLAB ", stdout);
	vprintf(fmt, ap);
	fputc('\n', stdout);
	fflush(stdout);
	va_end(ap);
}

static void power_off(struct agent *a, int code)
{
	fflush(stdout);
	fflush(stderr);
	if (!a->pid1)
		exit(code);
	sync();
	reboot(RB_POWER_OFF);
	for (;;)
		pause();
}

static void fatal(struct agent *a, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));
static void fatal(struct agent *a, const char *fmt, ...)
{
	char msg[ERRLEN];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	say("fatal %s", msg);
	power_off(a, EXIT_INFRA);
	exit(EXIT_INFRA);
}

/* The whole results tree, as a tar on the raw results disk; read back by the host runner. */
static void flush_results(struct agent *a)
{
	if (!a->results_disk)
		return;
	char *argv[] = { "tar", "-cf", (char *)a->results_disk, "-C", a->results, ".", NULL };
	int rc = run_cmd(argv, NULL, NULL, NULL, 120);
	sync();
	if (rc != 0)
		say("warning could not write results to %s (tar exit %d)", a->results_disk, rc);
}

static void reap_orphans(void)
{
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
}

static void setup_pid1(void)
{
	static const struct { const char *src, *dst, *type; } mounts[] = {
		{ "tracefs", "/sys/kernel/tracing", "tracefs" },
		{ "debugfs", "/sys/kernel/debug", "debugfs" },
		{ "bpffs", "/sys/fs/bpf", "bpf" },
		{ "cgroup2", "/sys/fs/cgroup", "cgroup2" },
		{ "devpts", "/dev/pts", "devpts" },
		{ "shm", "/dev/shm", "tmpfs" },	/* POSIX shared memory (cyclictest uses it) */
	};
	for (size_t i = 0; i < sizeof(mounts) / sizeof(mounts[0]); i++) {
		mkdir_p(mounts[i].dst, 0755);
		if (mount(mounts[i].src, mounts[i].dst, mounts[i].type, 0, NULL) && errno != EBUSY)
			say("warning mount %s: %s", mounts[i].dst, strerror(errno));
	}
	/* Loopback up: the workloads' servers and clients talk over 127.0.0.1. */
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct ifreq ifr = { 0 };
	strcpy(ifr.ifr_name, "lo");
	if (fd < 0 || ioctl(fd, SIOCGIFFLAGS, &ifr) ||
	    (ifr.ifr_flags |= IFF_UP | IFF_RUNNING, ioctl(fd, SIOCSIFFLAGS, &ifr)))
		say("warning could not bring up lo: %s", strerror(errno));
	if (fd >= 0)
		close(fd);
	sethostname("scxlab-guest", 12);
	setenv("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", 1);
	setenv("HOME", "/root", 1);
	setenv("LANG", "C.UTF-8", 1);
}

static void save_cmd_output(const char *out, const char *cmd)
{
	char *argv[] = { "/bin/sh", "-c", (char *)cmd, NULL };
	unlink(out);
	run_cmd(argv, out, NULL, NULL, 30);
}

/* The environment of this boot, recorded once: guest/env/ and guest/guest.json. */
static void capture_env(struct agent *a)
{
	char *env = xasprintf("%s/guest/env", a->results);
	mkdir_p(env, 0755);
	static const char *files[] = { "/proc/version", "/proc/cmdline", "/proc/cpuinfo", "/proc/meminfo",
				       "/proc/schedstat", "/proc/sys/kernel/sched_schedstats" };
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char *name = xstrdup(files[i] + 1);
		for (char *p = name; *p; p++)
			if (*p == '/')
				*p = '_';
		char *dst = xasprintf("%s/%s", env, name);
		copy_file(files[i], dst, 0);
		free(dst);
		free(name);
	}
	struct utsname u;
	uname(&u);
	char *p = xasprintf("%s/sysctl-kernel-sched.txt", env);
	save_cmd_output(p, "grep -r . /proc/sys/kernel/sched_* 2>/dev/null");
	free(p);
	p = xasprintf("%s/kconfig.sha256", env);
	char *kconfig = xasprintf("/boot/config-%s", u.release), ksha[65] = "";
	if (!sha256_file(kconfig, ksha))
		write_text(p, "%s\n", ksha);
	free(kconfig);
	free(p);
	p = xasprintf("%s/sched_ext", env);
	scx_snapshot(SCX_SYSFS, p);
	free(p);

	char *schedstats = read_line_file("/proc/sys/kernel/sched_schedstats");
	json_t *g = json_pack("{s:s, s:s, s:s, s:i, s:b, s:b, s:s, s:b}",
			      "kernel_release", u.release, "kernel_version", u.version, "machine", u.machine,
			      "nr_cpus", (int)sysconf(_SC_NPROCESSORS_ONLN),
			      "schedstats_enabled", !strcmp(schedstats, "1"),
			      "sched_ext_present", is_dir(SCX_SYSFS), "kconfig_sha256", ksha,
			      "perf_available", a->have_perf);
	char *gj = xasprintf("%s/guest/guest.json", a->results);
	json_dump_file(g, gj, JSON_INDENT(2) | JSON_SORT_KEYS);
	json_decref(g);
	free(gj);
	free(schedstats);
	free(env);
}

/* dmesg since the last call (the kernel log is cleared after each read). */
static char *take_dmesg(void)
{
	int size = klogctl(10 /* SYSLOG_ACTION_SIZE_BUFFER */, NULL, 0);
	if (size <= 0)
		return xstrdup("");
	char *buf = xmalloc(size + 1);
	int n = klogctl(3 /* SYSLOG_ACTION_READ_ALL */, buf, size);
	buf[n > 0 ? n : 0] = '\0';
	klogctl(5 /* SYSLOG_ACTION_CLEAR */, NULL, 0);
	return buf;
}

/* One workload instance: its server and its client, in its cgroup when there is a tree. */
struct inst {
	int k;			/* 1-based */
	char *out;		/* its raw folder: the run's raw/ alone, raw/i<K>/ with several */
	char *cg;		/* its cgroup folder, NULL without a tree */
	const char *params;	/* "key=value ..." overrides of the workload's params */
	pid_t pid;
	int status;
	bool done;
	long long usage0, usage1;	/* cpu.stat usage_usec around the measurement */
};

struct run {
	struct agent *a;
	int index;
	const char *policy, *kind, *ops, *loader, *args, *repeat;
	bool external;		/* any sched_ext binary: no scxlab loader options, ops name unknown */
	long sysrq_after_s;
	char ops_seen[128];
	char *dir, *raw;
	struct cgtree tree;	/* the plan's cgroup tree; ntree == 0 without one */
	bool has_tree;
	struct inst *inst;	/* workload instances: one, or one per [instance.K] of the tree */
	size_t ninst;
	json_t *j;		/* run.json */
	json_t *reasons;	/* why invalid */
	pid_t loader_pid;
	int loader_status;
	bool loader_reaped;
	bool ejected;
	bool left_charge;	/* the watcher saw the policy stop being in charge */
	const char *phase;	/* "load", "server start", "warm-up", "measurement", "teardown" */
	double phase_t0;
};

static void invalid(struct run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void invalid(struct run *r, const char *fmt, ...)
{
	char msg[ERRLEN];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_array_append_new(r->reasons, json_string(msg));
	say("run-problem %d %s", r->index, msg);
}

static char *raw_path(struct run *r, const char *name)
{
	return xasprintf("%s/%s", r->raw, name);
}

static void enter_phase(struct run *r, const char *phase)
{
	r->phase = phase;
	r->phase_t0 = mono_now();
}

/*
 * Is the policy (any enabled one for an external scheduler, none for cfs) still in charge?
 * The first time it is not, records where (left_charge_phase, left_charge_after_s: seconds
 * into that phase) and marks the run invalid.
 */
static bool still_in_charge(struct run *r)
{
	if (r->left_charge || !strcmp(r->kind, "cfs"))
		return !r->left_charge;
	const char *expect = r->external ? r->ops_seen : r->ops;
	struct scx_status s;
	char desc[256];
	scx_read(SCX_SYSFS, &s);
	if (scx_in_charge(&s, expect))
		return true;
	double into = mono_now() - r->phase_t0;
	r->left_charge = true;
	r->ejected = true;	/* refined from the kernel's exit kind when it is known (do_run) */
	json_object_set_new(r->j, "left_charge_phase", json_string(r->phase));
	json_object_set_new(r->j, "left_charge_after_s", json_real(into));
	invalid(r, "%s stopped being in charge %.1f s into the %s (%s)", r->policy, into, r->phase,
		scx_describe(&s, desc, sizeof desc));
	return false;
}

/* The value of key in a "key=value ..." override list, or NULL. */
static char *override_of(const char *overrides, const char *key)
{
	struct strv w = { 0 };
	char *found = NULL;
	strv_split_push(&w, overrides ? overrides : "");
	for (size_t i = 0; i < w.n && !found; i++) {
		char *eq = strchr(w.v[i], '=');
		if (eq && (size_t)(eq - w.v[i]) == strlen(key) && !strncmp(w.v[i], key, eq - w.v[i]))
			found = xstrdup(eq + 1);
	}
	strv_free(&w);
	return found;
}

static char **workload_env(struct agent *a, const struct inst *in, const char *out, long duration)
{
	struct strv env = { 0 };
	const char *wdir = cfg_get(&a->plan, "workload", "dir");
	strv_pushf(&env, "SCXLAB_OUT=%s", out);
	strv_pushf(&env, "SCXLAB_DURATION=%ld", duration);
	strv_pushf(&env, "SCXLAB_WORKLOAD_DIR=%s/%s", a->job_dir, wdir);
	strv_pushf(&env, "SCXLAB_INSTANCE=%d", in->k);
	for (size_t i = 0; i < a->plan.n; i++) {
		if (strcmp(a->plan.v[i].section, "workload.params"))
			continue;
		char *key = xstrdup(a->plan.v[i].key), *over = override_of(in->params, key);
		for (char *p = key; *p; p++)
			*p = (*p >= 'a' && *p <= 'z') ? *p - 32 : (*p == '-' ? '_' : *p);
		strv_pushf(&env, "WL_%s=%s", key, over ? over : a->plan.v[i].value);
		free(over);
		free(key);
	}
	return env.v;	/* leaked deliberately: putenv() in the child keeps pointers */
}

static char *script_path(struct agent *a, const char *which)
{
	return xasprintf("%s/%s/%s", a->job_dir, cfg_get(&a->plan, "workload", "dir"),
			 cfg_get(&a->plan, "workload", which));
}

/* A workload script of one instance, run to completion in the instance's cgroup. */
static int run_script(struct run *r, struct inst *in, const char *which, long duration, double timeout,
		      const char *log)
{
	char *script = script_path(r->a, which);
	char *argv[] = { script, NULL };
	char *logp = xasprintf("%s/%s", in->out, log);
	int rc = run_cmd_in(argv, logp, workload_env(r->a, in, in->out, duration), in->out, timeout, in->cg);
	free(logp);
	free(script);
	return rc;
}

/* The instance number in messages, only when there are several. */
static const char *inst_label(struct run *r, struct inst *in, char *buf, size_t len)
{
	if (r->ninst > 1)
		snprintf(buf, len, " (instance %d)", in->k);
	else
		buf[0] = '\0';
	return buf;
}

static bool loader_alive(struct run *r)
{
	if (r->loader_pid <= 0 || r->loader_reaped)
		return false;
	if (waitpid(r->loader_pid, &r->loader_status, WNOHANG) == r->loader_pid) {
		r->loader_reaped = true;
		return false;
	}
	return true;
}

/* Step 2: load the policy and wait until the kernel reports it in charge. */
static bool start_policy(struct run *r)
{
	struct agent *a = r->a;
	struct scx_status s;
	char desc[256];
	if (!strcmp(r->kind, "cfs")) {
		scx_read(SCX_SYSFS, &s);
		if (!scx_in_charge(&s, NULL)) {
			invalid(r, "cfs run, but a sched_ext scheduler is loaded (%s)", scx_describe(&s, desc, sizeof desc));
			return false;
		}
		json_object_set_new(r->j, "sched_ext_at_start", json_string(scx_describe(&s, desc, sizeof desc)));
		return true;
	}
	struct strv argv = { 0 };
	char *loader = xasprintf("%s/%s", a->job_dir, r->loader);
	strv_push(&argv, loader);
	strv_split_push(&argv, r->args);
	char *ei = raw_path(r, "exit-info.json");
	if (!r->external) {
		strv_push(&argv, "--exit-info");
		strv_push(&argv, ei);
		strv_push(&argv, "--stats-interval");
		strv_push(&argv, "1");
	}
	/* an external binary with a known ops name (the kernel's example schedulers) must show it */
	const char *expect = r->external && !*r->ops ? SCX_ANY_OPS : r->ops;
	char *log = raw_path(r, "loader.log");
	char *cmdline = strv_join(&argv, " ");
	json_object_set_new(r->j, "loader_command", json_string(cmdline));
	double t0 = mono_now();
	r->loader_pid = spawn(argv.v, log, NULL, NULL);
	strv_free(&argv);
	free(cmdline);
	free(loader);
	free(ei);
	free(log);
	if (r->loader_pid < 0) {
		invalid(r, "could not start the loader of policy %s: %s", r->policy, strerror(errno));
		return false;
	}
	for (;;) {
		scx_read(SCX_SYSFS, &s);
		if (scx_in_charge(&s, expect))
			break;
		if (!loader_alive(r)) {
			int code;
			char sig[16], how[128];
			loader_end_of(r->loader_status, &code, sig, sizeof sig, how, sizeof how);
			invalid(r, "policy %s failed to load: its loader %s before the kernel reported it in charge "
				"(%s); see raw/loader.log%s", r->policy, how, scx_describe(&s, desc, sizeof desc),
				r->external ? "" : " and raw/exit-info.json");
			return false;
		}
		/* load_timeout, like the agent's other timeouts (the client's duration + 120 s, the
		 * loader's 15 s after SIGINT), is guest time: under the virtual clock it stretches
		 * with a slow host as the guest does; under the real clock it is wall time */
		if (mono_now() - t0 > a->load_timeout) {
			invalid(r, "policy %s was not in charge %ld s after its loader started (%s, expected "
				"state=enabled ops=%s)", r->policy, a->load_timeout,
				scx_describe(&s, desc, sizeof desc), strcmp(expect, SCX_ANY_OPS) ? expect : "(any)");
			return false;
		}
		usleep(50000);
	}
	json_object_set_new(r->j, "load_s", json_real(mono_now() - t0));
	json_object_set_new(r->j, "sched_ext_at_start", json_string(scx_describe(&s, desc, sizeof desc)));
	json_object_set_new(r->j, "ops_seen", json_string(s.ops));
	snprintf(r->ops_seen, sizeof(r->ops_seen), "%s", s.ops);
	return true;
}

/* Step 5: stop the loader (it writes the kernel's exit info) and judge how the policy ended. */
static void stop_policy(struct run *r)
{
	if (r->loader_pid <= 0)
		return;
	bool killed = false;
	if (loader_alive(r)) {
		kill(r->loader_pid, SIGINT);
		r->loader_status = wait_timeout(r->loader_pid, 15, &killed);
		r->loader_reaped = true;
		if (killed)
			invalid(r, "the loader of %s did not exit within 15 s of SIGINT and was killed", r->policy);
	}
	int code;
	char sig[16], how[128];
	enum loader_end end = loader_end_of(r->loader_status, &code, sig, sizeof sig, how, sizeof how);
	json_object_set_new(r->j, "loader_exit_code", json_integer(code));
	json_object_set_new(r->j, "loader_signal", *sig ? json_string(sig) : json_null());
	json_object_set_new(r->j, "loader_crashed", json_boolean(end == LOADER_CRASHED));
	if (end == LOADER_CRASHED && r->ops_seen[0])	/* a crash while loading is reported as a load failure */
		invalid(r, "the loader of %s %s; see raw/loader.log", r->policy, how);
	if (r->external) {
		/* no exit-info file: the kernel's own messages (taken with dmesg) say why it stopped */
		if (end == LOADER_FAILED && !killed && !r->left_charge)
			invalid(r, "external scheduler %s %s; see raw/loader.log", r->loader, how);
		return;
	}
	char *ei = raw_path(r, "exit-info.json");
	json_error_t jerr;
	json_t *info = json_load_file(ei, 0, &jerr);
	free(ei);
	if (info) {
		json_object_set(r->j, "exit_info", info);
		if (json_is_true(json_object_get(info, "ejected")) || code == 1) {
			r->ejected = true;
			const char *lp = json_string_value(json_object_get(r->j, "left_charge_phase"));
			invalid(r, "policy %s was ejected by the kernel%s%s: kind=%s reason=\"%s\" msg=\"%s\"", r->policy,
				lp ? " during the " : "", lp ?: "",
				json_string_value(json_object_get(info, "kind_name")) ?: "?",
				json_string_value(json_object_get(info, "reason")) ?: "",
				json_string_value(json_object_get(info, "msg")) ?: "");
		}
		json_decref(info);
	} else if (end != LOADER_CRASHED) {
		invalid(r, "the loader of %s left no exit info (it %s): %s", r->policy, how, jerr.text);
	}
	if (end == LOADER_FAILED && !r->ejected)
		invalid(r, "the loader of %s %s; see raw/loader.log", r->policy, how);
}

static json_t *read_perf_stat(const char *path)
{
	json_t *o = json_object();
	char *s = read_file(path, NULL), *save = NULL;
	for (char *line = s ? strtok_r(s, "\n", &save) : NULL; line; line = strtok_r(NULL, "\n", &save)) {
		if (line[0] == '#' || !strchr(line, ','))
			continue;
		char *f[4] = { 0 }, *p = line;
		for (int i = 0; i < 4 && p; i++) {
			f[i] = p;
			p = strchr(p, ',');
			if (p)
				*p++ = '\0';
		}
		if (f[2] && *f[2]) {
			char *end;
			double v = strtod(f[0], &end);
			json_object_set_new(o, f[2], *end ? json_null() : json_real(v));
		}
	}
	free(s);
	return o;
}

/*
 * The bpf-stats monitor: kernel.bpf_stats_enabled makes the kernel time every BPF program
 * run (two clock reads per call, so it is off unless asked for). before=true enables it and
 * returns a snapshot; before=false snapshots, disables it, and keeps bpftool's JSON in raw/.
 */
static json_t *bpf_prog_stats(struct run *r, bool before)
{
	if (before)
		write_text("/proc/sys/kernel/bpf_stats_enabled", "1\n");
	char *out = raw_path(r, before ? "bpf-progs-before.json" : "bpf-progs-after.json");
	char *argv[] = { "bpftool", "--json", "prog", "show", NULL };
	unlink(out);
	char *tmp = xasprintf("%s.tmp", out);
	int fd_ok = run_cmd(argv, tmp, NULL, NULL, 30) == 0;
	rename(tmp, out);
	free(tmp);
	if (!before)
		write_text("/proc/sys/kernel/bpf_stats_enabled", "0\n");
	json_error_t jerr;
	json_t *doc = fd_ok ? json_load_file(out, 0, &jerr) : NULL;
	free(out);
	return doc ? doc : json_array();
}

/* Per struct_ops program: run count and run time during the measurement, and ns per call. */
static json_t *bpf_stats_delta(json_t *before, json_t *after)
{
	json_t *out = json_object();
	size_t i, j;
	json_t *a, *b;
	json_array_foreach(after, i, a) {
		const char *type = json_string_value(json_object_get(a, "type"));
		const char *name = json_string_value(json_object_get(a, "name"));
		if (!type || !name || strcmp(type, "struct_ops"))
			continue;
		json_int_t id = json_integer_value(json_object_get(a, "id"));
		json_int_t cnt = json_integer_value(json_object_get(a, "run_cnt"));
		json_int_t ns = json_integer_value(json_object_get(a, "run_time_ns"));
		json_array_foreach(before, j, b) {
			if (json_integer_value(json_object_get(b, "id")) == id) {
				cnt -= json_integer_value(json_object_get(b, "run_cnt"));
				ns -= json_integer_value(json_object_get(b, "run_time_ns"));
			}
		}
		json_object_set_new(out, name, json_pack("{s:I, s:I, s:f}", "run_cnt", cnt, "run_time_ns", ns,
							 "ns_per_run", cnt ? (double)ns / cnt : 0.0));
	}
	return out;
}

/*
 * Runs every instance's client at once (in its cgroup) and waits for all of them, checking
 * every 100 ms that the policy is still in charge (the warm-up too, so that an ejection there
 * is reported as one). When watch is set (the measurement), also presses SysRq-S when the
 * policy config asks for it.
 */
static void run_clients(struct run *r, const char *sub, long duration, bool watch)
{
	struct agent *a = r->a;
	char *script = script_path(a, "client");
	char *argv[] = { script, NULL };
	bool sysrq_done = false;
	enter_phase(r, watch ? "measurement" : "warm-up");
	double t0 = mono_now();
	for (size_t i = 0; i < r->ninst; i++) {
		struct inst *in = &r->inst[i];
		char *out = sub ? xasprintf("%s/%s", in->out, sub) : xstrdup(in->out);
		char *log = xasprintf("%s/%s", in->out, sub ? "warmup.log" : "client.log");
		mkdir_p(out, 0755);
		in->done = false;
		in->pid = spawn_in(argv, log, workload_env(a, in, out, duration), out, in->cg);
		if (in->pid < 0) {
			in->done = true;
			in->status = -1;
		}
		free(out);
		free(log);
	}
	for (;;) {
		size_t running = 0;
		for (size_t i = 0; i < r->ninst; i++) {
			struct inst *in = &r->inst[i];
			if (!in->done && waitpid(in->pid, &in->status, WNOHANG) == in->pid)
				in->done = true;
			running += !in->done;
		}
		if (!running)
			break;
		still_in_charge(r);
		if (watch && r->sysrq_after_s && !sysrq_done && mono_now() - t0 >= r->sysrq_after_s) {
			/* SysRq-S: the kernel must hand every task back to the fair class */
			sysrq_done = true;
			write_text("/proc/sysrq-trigger", "S");
			json_object_set_new(r->j, "injected_sysrq_s_at", json_real(mono_now() - t0));
			say("run-problem %d injected SysRq-S %.1f s into the measurement", r->index, mono_now() - t0);
		}
		if (mono_now() - t0 > duration + 120) {
			for (size_t i = 0; i < r->ninst; i++) {
				struct inst *in = &r->inst[i];
				if (in->done)
					continue;
				kill(-in->pid, SIGKILL);
				waitpid(in->pid, &in->status, 0);
				in->done = true;
			}
			invalid(r, "a client ran %ld s past its duration and was killed", (long)(mono_now() - t0 - duration));
			break;
		}
		usleep(100000);
	}
	if (watch)
		json_object_set_new(r->j, "measure_s", json_real(mono_now() - t0));
	for (size_t i = 0; i < r->ninst && watch; i++) {
		char lab[32];
		int code = exit_code_of(r->inst[i].status);
		if (code != 0)
			invalid(r, "the workload client%s exited with code %d; see its client.log",
				inst_label(r, &r->inst[i], lab, sizeof lab), code);
	}
	free(script);
}

static long long cgroup_usage_usec(const char *cg)
{
	char *p = xasprintf("%s/cpu.stat", cg), *text = read_file(p, NULL);
	long long v = -1;
	char *at = text ? strstr(text, "usage_usec ") : NULL;
	if (at)
		v = atoll(at + strlen("usage_usec "));
	free(text);
	free(p);
	return v;
}

/*
 * The sched-trace monitor: an independent record of who ran where, from the kernel's own
 * tracepoints rather than any policy's counters. sched_switch, sched_process_fork and
 * cgroup_attach_task go into the tracefs ring buffer during the measurement; with the task ->
 * cgroup map taken right after tracing starts, tools/pair-check can then tell whether two SMT
 * siblings ever ran tasks of different cgroups at once (the pair policy's promise). The text
 * trace is kept gzip'd as raw/sched.trace.gz so that anyone can check it again. Tracing every
 * context switch costs time, so a run with this monitor is not the one to quote throughput from.
 */
#define TRACEFS "/sys/kernel/tracing"
#define SCHED_TRACE_BUFFER_KB 16384	/* per CPU */
static const char *const sched_trace_events[] = {
	"sched/sched_switch", "sched/sched_process_fork", "cgroup/cgroup_attach_task",
};

static bool monitor_on(struct agent *a, const char *name)
{
	return has_word(cfg_get(&a->plan, "plan", "monitors"), name);
}

static void sched_trace_events_enable(bool on)
{
	for (size_t i = 0; i < sizeof(sched_trace_events) / sizeof(*sched_trace_events); i++) {
		char *p = xasprintf(TRACEFS "/events/%s/enable", sched_trace_events[i]);
		write_text(p, on ? "1\n" : "0\n");
		free(p);
	}
}

static void sched_trace_stop(void)
{
	write_text(TRACEFS "/tracing_on", "0\n");
	sched_trace_events_enable(false);
}

/* Starts tracing, then writes raw/cgroups.txt: every thread's cgroup at that moment. */
static bool sched_trace_begin(struct run *r)
{
	bool ok = write_text(TRACEFS "/tracing_on", "0\n") == 0 &&
		  write_text(TRACEFS "/buffer_size_kb", "%d\n", SCHED_TRACE_BUFFER_KB) == 0 &&
		  write_text(TRACEFS "/trace", "\n") == 0;	/* opening it for writing clears it */
	if (ok) {
		sched_trace_events_enable(true);
		ok = write_text(TRACEFS "/tracing_on", "1\n") == 0;
	}
	char *cgs = raw_path(r, "cgroups.txt");
	char *argv[] = { "sh", "-c",
		"for f in /proc/[0-9]*/task/[0-9]*/cgroup; do t=${f#/proc/*/task/}; t=${t%/cgroup}; "
		"p=$(sed -n 's/^0:://p' \"$f\" 2>/dev/null) && [ -n \"$p\" ] && echo \"$t $p\"; done; true", NULL };
	ok = ok && run_cmd(argv, cgs, NULL, NULL, 60) == 0;
	free(cgs);
	if (!ok) {
		sched_trace_stop();
		invalid(r, "the sched-trace monitor could not start tracing in %s: %s", TRACEFS, strerror(errno));
	}
	return ok;
}

/* "0-1" or "0,1" from thread_siblings_list: the pair, once, as "a:b" (NULL for no sibling). */
static char *sibling_pairs(void)
{
	struct strv pairs = { 0 };
	for (int cpu = 0;; cpu++) {
		char *p = xasprintf("/sys/devices/system/cpu/cpu%d/topology/thread_siblings_list", cpu);
		char *s = read_file(p, NULL);
		free(p);
		if (!s)
			break;	/* no such CPU: all seen */
		int a, b;
		char sep;
		if (sscanf(s, "%d%c%d", &a, &sep, &b) == 3 && (sep == '-' || sep == ',') && a == cpu && b > a)
			strv_pushf(&pairs, "%d:%d", a, b);
		free(s);
	}
	char *out = pairs.n ? strv_join(&pairs, ",") : NULL;
	strv_free(&pairs);
	return out;
}

/* Sum of "overrun:" over the per-CPU buffer stats: events the ring buffer had to drop. */
static long long sched_trace_lost(void)
{
	long long lost = 0;
	for (int cpu = 0;; cpu++) {
		char *p = xasprintf(TRACEFS "/per_cpu/cpu%d/stats", cpu);
		char *s = read_file(p, NULL);
		free(p);
		if (!s)
			break;
		char *at = strstr(s, "overrun:");
		if (at)
			lost += atoll(at + strlen("overrun:"));
		free(s);
	}
	return lost;
}

/* Stops tracing, keeps the trace, runs pair-check where the guest has SMT siblings. */
static void sched_trace_end(struct run *r)
{
	struct agent *a = r->a;
	json_t *m = json_object();
	sched_trace_stop();
	long long lost = sched_trace_lost();
	const char *tmp = "/tmp/scxlab-sched.trace";
	char *gz = raw_path(r, "sched.trace.gz"), *cgs = raw_path(r, "cgroups.txt");
	/* paths travel as arguments: with TARGET=host the run's folder is wherever RESULTS points */
	char *save_argv[] = { "sh", "-c", "cat \"$1\" > \"$2\" && gzip -1 -c \"$2\" > \"$3\"", "sh", TRACEFS "/trace",
			      (char *)tmp, gz, NULL };
	bool saved = run_cmd(save_argv, NULL, NULL, NULL, 300) == 0;
	write_text(TRACEFS "/trace", "\n");
	write_text(TRACEFS "/buffer_size_kb", "1024\n");	/* give the memory back */
	json_object_set_new(m, "events", json_string("sched_switch sched_process_fork cgroup_attach_task"));
	json_object_set_new(m, "buffer_kb_per_cpu", json_integer(SCHED_TRACE_BUFFER_KB));
	json_object_set_new(m, "lost_events", json_integer(lost));
	json_object_set_new(m, "trace", json_string(saved ? "raw/sched.trace.gz" : ""));
	char *pairs = sibling_pairs();
	if (!saved) {
		invalid(r, "the sched-trace monitor could not save the trace");
	} else if (!pairs) {
		json_object_set_new(m, "pair_check", json_null());
		json_object_set_new(m, "pair_check_note", json_string("no SMT sibling pairs in this guest"));
	} else {
		char *tool = xasprintf("%s/bin/pair-check", a->job_dir), *js = raw_path(r, "pair-check.json");
		char *log = raw_path(r, "pair-check.log");
		char *argv[] = { tool, "--pairs", pairs, "--cgroups", cgs, "--json", js, (char *)tmp, NULL };
		int code = run_cmd(argv, log, NULL, NULL, 300);
		json_error_t jerr;
		json_t *pc = (code == 0 || code == 1) ? json_load_file(js, 0, &jerr) : NULL;
		json_object_set_new(m, "pair_check_exit", json_integer(code));
		json_object_set_new(m, "pair_check", pc ? pc : json_null());
		if (!pc) {
			invalid(r, "pair-check failed on the sched trace (exit code %d); see raw/pair-check.log", code);
		} else {
			/* the summary: how long siblings ran different cgroups, of the time both ran */
			double corun = 0, conflict = 0;
			size_t i;
			json_t *pr;
			json_array_foreach(json_object_get(pc, "pairs"), i, pr) {
				corun += json_number_value(json_object_get(pr, "both_busy_s"));
				conflict += json_number_value(json_object_get(pr, "conflict_s"));
			}
			json_object_set_new(m, "siblings_both_busy_s", json_real(corun));
			json_object_set_new(m, "siblings_different_cgroups_s", json_real(conflict));
			json_object_set_new(m, "different_cgroups_fraction", corun > 0 ? json_real(conflict / corun) : json_null());
			say("run-note %d sched-trace: SMT siblings ran different cgroups for %.3f s of %.3f s both busy (%lld overlaps)",
			    r->index, conflict, corun, (long long)json_integer_value(json_object_get(pc, "conflicts")));
			if (lost)
				json_object_set_new(m, "pair_check_note", json_string(
					"the ring buffer dropped events: the verdict covers only what was recorded"));
		}
		free(tool);
		free(js);
		free(log);
	}
	unlink(tmp);
	json_object_set_new(json_object_get(r->j, "monitors"), "sched_trace", m);
	free(pairs);
	free(gz);
	free(cgs);
}

/* Step 4: the measured clients, with perf stat system-wide alongside and the policy watched. */
static void measure(struct run *r)
{
	struct agent *a = r->a;
	char *perf_out = raw_path(r, "perf-stat.csv");
	bool bpf_stats = monitor_on(a, "bpf-stats");
	bool sched_trace = monitor_on(a, "sched-trace") && sched_trace_begin(r);
	json_t *progs_before = bpf_stats ? bpf_prog_stats(r, true) : NULL;
	pid_t perf = -1;
	if (a->have_perf) {
		struct strv argv = { 0 };
		strv_push(&argv, "perf");
		strv_split_push(&argv, "stat -a -x , -e task-clock,context-switches,cpu-migrations -o");
		strv_push(&argv, perf_out);
		char *log = raw_path(r, "perf-stat.log");
		perf = spawn(argv.v, log, NULL, NULL);
		strv_free(&argv);
		free(log);
	}
	for (size_t i = 0; i < r->ninst; i++)
		if (r->inst[i].cg)
			r->inst[i].usage0 = cgroup_usage_usec(r->inst[i].cg);
	run_clients(r, NULL, a->duration, true);
	if (sched_trace)
		sched_trace_end(r);
	for (size_t i = 0; i < r->ninst; i++)
		if (r->inst[i].cg)
			r->inst[i].usage1 = cgroup_usage_usec(r->inst[i].cg);
	if (perf > 0) {
		kill(perf, SIGINT);
		wait_timeout(perf, 10, NULL);
		json_object_set_new(json_object_get(r->j, "monitors"), "perf_stat", read_perf_stat(perf_out));
	}
	if (bpf_stats) {
		json_t *after = bpf_prog_stats(r, false);
		json_object_set_new(json_object_get(r->j, "monitors"), "bpf_prog_stats",
				    bpf_stats_delta(progs_before, after));
		json_decref(progs_before);
		json_decref(after);
	}
	free(perf_out);
}

/*
 * The cgroup tree of the plan, made afresh for each run under /sys/fs/cgroup/scxlab so that
 * the policy sees it created (and its cgroup callbacks run) like any other. With the cpu
 * controller on, every level enables it for its children and each cgroup gets its cpu.weight.
 */
static bool make_tree(struct run *r)
{
	char *root = xasprintf("/sys/fs/cgroup/%s", CGROUP_ROOT);
	bool ok = mkdir_p(root, 0755) == 0;
	if (ok && r->tree.cpu_controller) {
		ok = write_text("/sys/fs/cgroup/cgroup.subtree_control", "+cpu\n") == 0;
		char *sc = xasprintf("%s/cgroup.subtree_control", root);
		ok = ok && write_text(sc, "+cpu\n") == 0;
		free(sc);
	}
	for (size_t n = 0; ok && n < r->tree.nnodes; n++) {
		char *dir = xasprintf("%s/%s", root, r->tree.nodes[n].path);
		ok = mkdir(dir, 0755) == 0 || errno == EEXIST;
		bool has_children = false;
		for (size_t m = 0; m < r->tree.nnodes; m++)
			has_children |= r->tree.nodes[m].parent == (int)n;
		if (ok && r->tree.cpu_controller) {
			char *w = xasprintf("%s/cpu.weight", dir);
			ok = write_text(w, "%ld\n", r->tree.nodes[n].weight) == 0;
			free(w);
			if (ok && has_children) {
				char *sc = xasprintf("%s/cgroup.subtree_control", dir);
				ok = write_text(sc, "+cpu\n") == 0;
				free(sc);
			}
		}
		if (!ok)
			invalid(r, "could not set up cgroup %s: %s", dir, strerror(errno));
		free(dir);
	}
	if (!ok && !json_array_size(r->reasons))
		invalid(r, "could not set up the cgroup root %s: %s", root, strerror(errno));
	free(root);
	return ok;
}

/* Leftover processes are killed (cgroup.kill), then the cgroups are removed, deepest first. */
static void remove_tree(struct run *r)
{
	for (size_t n = r->tree.nnodes; n-- > 0;) {
		char *dir = xasprintf("/sys/fs/cgroup/%s/%s", CGROUP_ROOT, r->tree.nodes[n].path);
		char *kill_file = xasprintf("%s/cgroup.kill", dir);
		write_text(kill_file, "1\n");
		for (int tries = 0; tries < 50 && rmdir(dir) && errno == EBUSY; tries++)
			usleep(100000);
		free(kill_file);
		free(dir);
	}
	char *sc = xasprintf("/sys/fs/cgroup/%s/cgroup.subtree_control", CGROUP_ROOT);
	write_text(sc, "-cpu\n");
	free(sc);
}

/* Per instance: the CPU share its weights entitle it to, and what it got during the measurement. */
static void record_shares(struct run *r)
{
	long long total = 0;
	for (size_t i = 0; i < r->ninst; i++)
		if (r->inst[i].usage0 >= 0 && r->inst[i].usage1 >= 0)
			total += r->inst[i].usage1 - r->inst[i].usage0;
	json_t *list = json_array();
	for (size_t i = 0; i < r->ninst; i++) {
		struct inst *in = &r->inst[i];
		long long used = in->usage1 - in->usage0;
		const struct cgnode *node = &r->tree.nodes[r->tree.inst[i].node];
		json_array_append_new(list, json_pack("{s:i, s:s, s:I, s:f, s:I, s:f}", "instance", in->k, "cgroup",
						      node->path, "weight", (json_int_t)node->weight, "entitled_share",
						      cgtree_entitled(&r->tree, i), "usage_usec", (json_int_t)used,
						      "achieved_share", total > 0 ? (double)used / total : 0.0));
	}
	json_object_set_new(r->j, "cgroups", json_pack("{s:s, s:b, s:o}", "tree", r->tree.name, "cpu_controller",
						       r->tree.cpu_controller, "instances", list));
}

static void snapshot(struct run *r, const char *when)
{
	char *p = xasprintf("%s/schedstat-%s.txt", r->raw, when);
	copy_file("/proc/schedstat", p, 0);
	free(p);
	p = xasprintf("%s/sched_ext-%s", r->raw, when);
	scx_snapshot(SCX_SYSFS, p);
	free(p);
	p = xasprintf("%s/proc-stat-%s.txt", r->raw, when);
	copy_file("/proc/stat", p, 0);
	free(p);
}

/*
 * Step 5b: each instance's metrics, checked against the contract, become the run's
 * metrics.json. With several instances every metric is kept as "i<K>.<name>", and rates
 * (units ending in "/s") are also summed into the plain name, so the headline is the total.
 */
static void take_metrics(struct run *r)
{
	json_t *merged = json_array();
	const char *headline = cfg_get(&r->a->plan, "workload", "headline");
	for (size_t i = 0; i < r->ninst; i++) {
		struct inst *in = &r->inst[i];
		char lab[32];
		char *src = xasprintf("%s/metrics.json", in->out);
		json_error_t jerr;
		struct err e = { 0 };
		json_t *doc = json_load_file(src, 0, &jerr);
		free(src);
		inst_label(r, in, lab, sizeof lab);
		if (!doc) {
			invalid(r, "the workload%s wrote no readable metrics.json: %s", lab, jerr.text);
			continue;
		}
		if (metrics_check(doc, &e)) {
			invalid(r, "the workload's metrics.json%s breaks the metric contract: %s", lab, e.msg);
			json_decref(doc);
			continue;
		}
		if (json_is_false(json_object_get(doc, "valid")))
			invalid(r, "the workload%s reports its measurement invalid: %s", lab,
				json_string_value(json_object_get(doc, "reason")) ?: "(no reason given)");
		size_t k;
		json_t *m;
		json_array_foreach(json_object_get(doc, "metrics"), k, m) {
			if (r->ninst == 1) {
				json_array_append(merged, m);
				continue;
			}
			json_t *copy = json_deep_copy(m);
			json_object_set_new(copy, "name", json_sprintf("i%d.%s", in->k,
							   json_string_value(json_object_get(m, "name"))));
			json_array_append_new(merged, copy);
			const char *unit = json_string_value(json_object_get(m, "unit"));
			if (strlen(unit) < 2 || strcmp(unit + strlen(unit) - 2, "/s"))
				continue;
			const char *name = json_string_value(json_object_get(m, "name"));
			json_t *sum = NULL;
			size_t j;
			json_t *o;
			json_array_foreach(merged, j, o)
				if (!strcmp(json_string_value(json_object_get(o, "name")), name))
					sum = o;
			if (sum)
				json_object_set_new(sum, "value", json_real(json_number_value(json_object_get(sum, "value")) +
									    json_number_value(json_object_get(m, "value"))));
			else
				json_array_append_new(merged, json_deep_copy(m));
		}
		json_decref(doc);
	}
	json_t *out = json_pack("{s:o}", "metrics", merged);
	struct err e = { 0 };
	double v;
	if (json_array_size(merged)) {
		char *dst = xasprintf("%s/metrics.json", r->dir);
		json_dump_file(out, dst, JSON_INDENT(2));
		free(dst);
		if (metrics_value(out, headline, &v, &e))
			invalid(r, "headline %s", e.msg);
		else
			json_object_set_new(r->j, "headline", json_pack("{s:s,s:f,s:s?}", "name", headline, "value", v,
									 "unit", metrics_unit(out, headline)));
	}
	json_decref(out);
}

/*
 * What the kernel said when it disabled the run's scheduler: its exit kind and reason go into
 * run.json for every policy. For an external scheduler (no exit-info of its own) this is the
 * only word on why it stopped, and an ejection is a reason with its phase. Whether a policy
 * that left charge counts as ejected follows the kind (the loader's own exit, UNREG, is not
 * an ejection) unless its loader's exit info already said.
 */
static void kernel_verdict(struct run *r, const struct scx_disable *d)
{
	json_object_set_new(r->j, "kernel_exit_reason", json_string(d->reason));
	json_object_set_new(r->j, "kernel_exit_kind", d->kind < 0 ? json_null() : json_integer(d->kind));
	json_object_set_new(r->j, "kernel_exit_kind_name", json_string(d->kind_name));
	if (!r->left_charge)
		return;
	if (!json_object_get(r->j, "exit_info"))	/* a loader's own exit info already said */
		r->ejected = d->ejected;
	if (!r->external || !d->ejected)
		return;
	const char *phase = json_string_value(json_object_get(r->j, "left_charge_phase"));
	double into = json_number_value(json_object_get(r->j, "left_charge_after_s"));
	invalid(r, "the kernel says: scheduler disabled (%s), exit kind %s, %.1f s into the %s", d->reason, d->kind_name,
		into, phase ? phase : "run");
}

static bool do_run(struct agent *a, int index, double *headline)
{
	char sec[32];
	snprintf(sec, sizeof(sec), "run.%d", index);
	struct run r = { .a = a, .index = index };
	r.policy = cfg_get(&a->plan, sec, "policy");
	r.kind = cfg_get(&a->plan, sec, "kind");
	r.ops = cfg_get(&a->plan, sec, "ops_name");
	r.loader = cfg_get(&a->plan, sec, "loader");
	r.args = cfg_get(&a->plan, sec, "args");
	r.repeat = cfg_get(&a->plan, sec, "repeat");
	r.external = !strcmp(cfg_get(&a->plan, sec, "external") ?: "0", "1");
	r.sysrq_after_s = atol(cfg_get(&a->plan, sec, "sysrq_after_s") ?: "0");
	if (!r.policy || !r.kind || !r.ops || !r.loader || !r.args || !r.repeat)
		fatal(a, "plan section [%s] is incomplete", sec);
	r.dir = xasprintf("%s/runs/%03d-%s", a->results, index, r.policy);
	r.raw = xasprintf("%s/raw", r.dir);
	mkdir_p(r.raw, 0755);
	r.reasons = json_array();
	char *started = iso_time_now();
	r.j = json_pack("{s:i, s:i, s:s, s:s, s:s, s:s, s:{}}", "index", index, "repeat", atoi(r.repeat),
			"policy", r.policy, "kind", r.kind, "ops_expected", r.ops, "started", started, "monitors");
	free(started);
	free(take_dmesg());	/* start this run's kernel log afresh */

	/* instances: one per [instance.K] of the plan's cgroup tree, else a single one */
	struct err e = { 0 };
	r.has_tree = cfg_has_section(&a->plan, "tree");
	if (r.has_tree && cgtree_from_cfg(&r.tree, &a->plan, cfg_get(&a->plan, "tree", "name") ?: "", &e))
		fatal(a, "plan: %s", e.msg);
	r.ninst = r.has_tree ? r.tree.ninst : 1;
	r.inst = xmalloc(r.ninst * sizeof(*r.inst));
	for (size_t i = 0; i < r.ninst; i++) {
		struct inst *in = &r.inst[i];
		in->k = (int)i + 1;
		in->out = r.ninst > 1 ? xasprintf("%s/i%d", r.raw, in->k) : xstrdup(r.raw);
		in->cg = r.has_tree ? xasprintf("/sys/fs/cgroup/%s/%s", CGROUP_ROOT, r.tree.inst[i].cgroup) : NULL;
		in->params = r.has_tree ? r.tree.inst[i].params : "";
		in->usage0 = in->usage1 = -1;
		mkdir_p(in->out, 0755);
	}

	say("run-begin %d %ld %s", index, a->nruns, r.policy);
	/* the policy takes charge before any of the workload starts */
	say("phase %d policy 0", index);
	enter_phase(&r, "load");
	bool ready = (!r.has_tree || make_tree(&r)) && start_policy(&r);
	say("phase %d server 0", index);
	enter_phase(&r, "server start");
	for (size_t i = 0; ready && i < r.ninst; i++) {
		char lab[32];
		int rc = run_script(&r, &r.inst[i], "start", a->duration, 120, "server-start.log");
		if (rc != 0) {
			invalid(&r, "the workload server%s failed to start (exit code %d); see its server-start.log",
				inst_label(&r, &r.inst[i], lab, sizeof lab), rc);
			ready = false;
		}
	}
	if (ready)
		still_in_charge(&r);
	if (ready) {
		if (a->warmup > 0) {
			say("phase %d warmup %ld", index, a->warmup);
			run_clients(&r, "warmup", a->warmup, false);
		}
		snapshot(&r, "before");
		say("phase %d measure %ld", index, a->duration);
		measure(&r);
		snapshot(&r, "after");
		if (r.has_tree)
			record_shares(&r);
		struct scx_status s;
		char desc[256];
		scx_read(SCX_SYSFS, &s);
		json_object_set_new(r.j, "sched_ext_at_end", json_string(scx_describe(&s, desc, sizeof desc)));
	}
	say("phase %d teardown 0", index);
	enter_phase(&r, "teardown");
	stop_policy(&r);
	for (size_t i = 0; i < r.ninst; i++)
		run_script(&r, &r.inst[i], "stop", a->duration, 60, "server-stop.log");
	if (r.has_tree)
		remove_tree(&r);
	take_metrics(&r);

	char *dmesg = take_dmesg(), *dp = raw_path(&r, "dmesg.txt");
	write_file(dp, dmesg, strlen(dmesg));
	json_t *kmsgs = json_array();
	char *save = NULL;
	for (char *l = strtok_r(dmesg, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
		if (strstr(l, "sched_ext")) {
			json_array_append_new(kmsgs, json_string(l));
			/* 'BPF scheduler "NAME" disabled (REASON)': the kernel's own verdict */
			struct scx_disable d;
			if (scx_parse_disable(l, &d) && !json_object_get(r.j, "kernel_exit_reason"))
				kernel_verdict(&r, &d);
		}
	json_object_set_new(r.j, "kernel_sched_ext_messages", kmsgs);
	free(dp);
	free(dmesg);

	bool valid = json_array_size(r.reasons) == 0;
	*headline = json_number_value(json_object_get(json_object_get(r.j, "headline"), "value"));
	char *finished = iso_time_now();
	json_object_set_new(r.j, "finished", json_string(finished));
	json_object_set_new(r.j, "ejected", json_boolean(r.ejected));
	json_object_set_new(r.j, "valid", json_boolean(valid));
	json_object_set_new(r.j, "invalid_reasons", r.reasons);
	char *rj = xasprintf("%s/run.json", r.dir);
	json_dump_file(r.j, rj, JSON_INDENT(2) | JSON_SORT_KEYS);
	json_decref(r.j);
	reap_orphans();
	flush_results(a);
	say("run-end %d %s", index, valid ? "valid" : "invalid");
	free(finished);
	free(rj);
	for (size_t i = 0; i < r.ninst; i++) {
		free(r.inst[i].out);
		free(r.inst[i].cg);
	}
	free(r.inst);
	if (r.has_tree)
		cgtree_free(&r.tree);
	free(r.dir);
	free(r.raw);
	return valid;
}

/*
 * The stopping rule of PRECISION=: after each complete round (every policy once), from the
 * third round on, the 95% bootstrap CI of each policy's headline ratio to cfs is computed
 * over the valid runs so far; once every half-width is within the target, the remaining runs
 * of the plan are skipped, and guest/stopping.json says why and where it stopped. The interval
 * is the one the report gives (stat_ratio_ci, runners/common/stats.h: the headline unit's
 * summary, BCa with the percentile fallback, analysis' confidence, resamples and seed) and the
 * half-width is in percentage points of the ratio, as analysis' ratio_halfwidth_pct. Every
 * evaluation, the last one included, is kept as guest/precision.json: the estimator, and per
 * policy the ratio, its interval and the method used.
 */
struct precision {
	double target_pct;	/* 0: no stopping rule */
	long min_rounds;
	struct strv policies;	/* the policies, baseline first among them as "cfs" */
	double **vals;
	size_t *n;
	const struct cfg *plan;
	char *unit;		/* the headline's unit, from the first valid run's run.json */
};

static int policy_index(struct precision *p, const char *name)
{
	for (size_t i = 0; i < p->policies.n; i++)
		if (!strcmp(p->policies.v[i], name))
			return (int)i;
	return -1;
}

static void precision_init(struct agent *a, struct precision *p)
{
	memset(p, 0, sizeof(*p));
	p->target_pct = atof(cfg_get(&a->plan, "plan", "precision_pct") ?: "0");
	p->min_rounds = atol(cfg_get(&a->plan, "plan", "min_repeats") ?: "3");
	strv_split_push(&p->policies, cfg_get(&a->plan, "plan", "policies") ?: "");
	p->vals = xmalloc(sizeof(double *) * (p->policies.n + 1));
	p->n = xmalloc(sizeof(size_t) * (p->policies.n + 1));
	for (size_t i = 0; i < p->policies.n; i++)
		p->vals[i] = xmalloc(sizeof(double) * (a->nruns + 1));
	p->plan = &a->plan;
}

static void precision_add(struct agent *a, struct precision *p, int index, bool valid, double headline)
{
	char sec[32];
	snprintf(sec, sizeof(sec), "run.%d", index);
	const char *policy = cfg_get(p->plan, sec, "policy") ?: "";
	int k = policy_index(p, policy);
	if (!valid || k < 0)
		return;
	p->vals[k][p->n[k]++] = headline;
	if (!p->unit) {
		char *rp = xasprintf("%s/runs/%03d-%s/run.json", a->results, index, policy);
		json_t *run = json_load_file(rp, 0, NULL);
		const char *u = json_string_value(json_object_get(json_object_get(run, "headline"), "unit"));
		p->unit = u ? xstrdup(u) : NULL;
		json_decref(run);
		free(rp);
	}
}

static json_t *finite_or_null(double x)
{
	return isfinite(x) ? json_real(x) : json_null();
}

static bool precision_reached(struct agent *a, struct precision *p, int index)
{
	size_t npol = p->policies.n;
	int base = policy_index(p, "cfs");
	if (p->target_pct <= 0 || base < 0 || index % npol || (long)(index / npol) < p->min_rounds ||
	    index > a->nruns)
		return false;
	enum stat_kind kind = stat_kind_of(p->unit);
	json_t *hw = json_object(), *ratios = json_object();
	bool all = true;
	for (size_t k = 0; k < npol; k++) {
		struct ratio_ci r;
		if ((int)k == base)
			continue;
		if (stat_ratio_ci(kind, p->vals[k], p->n[k], p->vals[base], p->n[base], STATS_SEED, STATS_N_RESAMPLES,
				  STATS_CONFIDENCE, &r)) {
			all = false;	/* no valid run of k or of cfs */
			json_object_set_new(ratios, p->policies.v[k], json_pack("{s:s}", "method", "no valid runs"));
			continue;
		}
		double w = ratio_halfwidth_pct(&r);
		json_object_set_new(hw, p->policies.v[k], finite_or_null(w));
		json_object_set_new(ratios, p->policies.v[k],
				    json_pack("{s:o, s:o, s:o, s:s, s:o, s:I, s:I}", "ratio", finite_or_null(r.ratio),
					      "ci_low", finite_or_null(r.lo), "ci_high", finite_or_null(r.hi), "method",
					      r.method, "halfwidth_pct", finite_or_null(w), "runs", (json_int_t)p->n[k],
					      "baseline_runs", (json_int_t)p->n[base]));
		say("precision: %s ratio %.4f half-width %.2f points (%s, %s)", p->policies.v[k], r.ratio, w,
		    stat_name(kind), r.method);
		all &= w <= p->target_pct;
	}
	say("precision after %ld rounds: %s", (long)(index / npol), all ? "reached" : "not yet");
	json_t *j = json_pack("{s:f, s:i, s:i, s:O, s:o, s:o}", "target_pct", p->target_pct, "runs_done", index,
			      "rounds", (int)(index / npol), "halfwidth_pct", hw, "ratios", ratios, "estimator",
			      precision_estimator(cfg_get(p->plan, "workload", "headline"), p->unit));
	char *path = xasprintf("%s/guest/precision.json", a->results);
	json_object_set_new(j, "reached", json_boolean(all));
	json_dump_file(j, path, JSON_INDENT(2));
	free(path);
	if (all) {
		path = xasprintf("%s/guest/stopping.json", a->results);
		json_object_set_new(j, "reason", json_string("precision reached"));
		json_dump_file(j, path, JSON_INDENT(2));
		free(path);
	}
	json_decref(j);
	json_decref(hw);
	return all;
}

/*
 * Reads every loader of the plan, and the libraries it links, once at boot. Under the virtual
 * clock (-icount, sleep=off) guest time jumps ahead while the vCPUs idle waiting for the disk,
 * so a loader's first start from a cold page cache could outlast its load timeout in guest
 * time while taking a fraction of a second on the host.
 */
static void prewarm_loaders(struct agent *a)
{
	for (long i = 1; i <= a->nruns; i++) {
		char sec[32];
		snprintf(sec, sizeof(sec), "run.%ld", i);
		const char *loader = cfg_get(&a->plan, sec, "loader");
		if (!loader || !*loader)
			continue;
		char *path = xasprintf("%s/%s", a->job_dir, loader);
		char *argv[] = { "/bin/sh", "-c",
				 "cat \"$1\" >/dev/null; ldd \"$1\" 2>/dev/null | awk '/=>/ {print $3}' | "
				 "xargs -r cat >/dev/null",
				 "prewarm", path, NULL };
		run_cmd(argv, "/dev/null", NULL, NULL, 60);
		free(path);
	}
}

/*
 * A child that prints "SCXLAB heartbeat <guest seconds since ready>" every 5 s of guest time
 * until the agent ends. The host runner compares these guest seconds with its wall clock, so
 * that its deadlines stretch when a loaded host slows the guest down, and stops a guest whose
 * heartbeats cease.
 */
static void start_heartbeat(void)
{
	double t0 = mono_now();
	pid_t parent = getpid();
	fflush(stdout);
	if (fork() != 0)
		return;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	for (;;) {
		if (getppid() != parent)
			_exit(0);
		dprintf(1, "SCXLAB heartbeat %.1f\n", mono_now() - t0);
		sleep(5);
	}
}

static void usage(FILE *f)
{
	fputs("usage: scxlab-guest --plan PLAN.ini (--results-disk DEV | --results-dir DIR)\n"
	      "Runs an scxlab experiment plan on this kernel (it must have sched_ext); normally started\n"
	      "by the host runner, as PID 1 of the guest or with TARGET=host.\n", f);
}

int main(int argc, char **argv)
{
	struct agent a = { .pid1 = getpid() == 1 };
	const char *plan_path = NULL, *results_dir = NULL;
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--plan") && i + 1 < argc)
			plan_path = argv[++i];
		else if (!strcmp(argv[i], "--results-disk") && i + 1 < argc)
			a.results_disk = argv[++i];
		else if (!strcmp(argv[i], "--results-dir") && i + 1 < argc)
			results_dir = argv[++i];
		else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else {
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (!plan_path || (!a.results_disk == !results_dir)) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (a.pid1)
		setup_pid1();
	struct err e = { 0 };
	if (plan_load(&a.plan, plan_path, &e))
		fatal(&a, "%s", e.msg);
	char *pp = realpath(plan_path, NULL);
	a.job_dir = xstrdup(dirname(pp));
	free(pp);
	a.results = xstrdup(results_dir ? results_dir : "/results");
	if (cfg_get_long(&a.plan, "plan", "runs", 0, 1, 100000, &a.nruns, &e) ||
	    cfg_get_long(&a.plan, "plan", "duration", 0, 1, 3600, &a.duration, &e) ||
	    cfg_get_long(&a.plan, "plan", "warmup", 0, 0, 600, &a.warmup, &e) ||
	    cfg_get_long(&a.plan, "plan", "load_timeout", 15, 1, 600, &a.load_timeout, &e))
		fatal(&a, "%s", e.msg);
	if (mkdir_p(a.results, 0755))
		fatal(&a, "cannot create %s: %s", a.results, strerror(errno));
	if (!is_dir(SCX_SYSFS))
		fatal(&a, "this kernel has no sched_ext (%s is missing)", SCX_SYSFS);
	char *perf_argv[] = { "perf", "stat", "-a", "-e", "task-clock", "-o", "/dev/null", "--", "true", NULL };
	a.have_perf = run_cmd(perf_argv, "/dev/null", NULL, NULL, 30) == 0;
	if (!a.have_perf)
		say("warning perf stat does not work here; runs will have no perf-stat monitor");

	struct utsname u;
	uname(&u);
	say("guest-ready %s", u.release);
	start_heartbeat();
	capture_env(&a);
	prewarm_loaders(&a);
	char *bootlog = take_dmesg(), *bp = xasprintf("%s/guest/dmesg-boot.txt", a.results);
	write_file(bp, bootlog, strlen(bootlog));
	free(bootlog);
	free(bp);
	flush_results(&a);

	int nvalid = 0, i;
	struct precision prec;
	precision_init(&a, &prec);
	for (i = 1; i <= a.nruns; i++) {
		double h = 0;
		bool ok = do_run(&a, i, &h);
		nvalid += ok;
		precision_add(&a, &prec, i, ok, h);
		if (precision_reached(&a, &prec, i))
			break;
	}
	long ran = i > a.nruns ? a.nruns : i;
	char *done = xasprintf("%s/guest/done", a.results);
	write_text(done, "%d of %ld runs valid\n", nvalid, ran);
	free(done);
	flush_results(&a);
	say("guest-done %d %ld", nvalid, ran);
	power_off(&a, nvalid == ran ? EXIT_OK : EXIT_INVALID_RUN);
	return 0;
}
