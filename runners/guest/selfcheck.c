/*
 * A selfcheck job (`make selfcheck-host`; runners/common/selfcheck.h): the agent, PID 1 of the
 * guest, runs scxlab's own host runner from the job's copy of the checkout, once per [check.K]
 * of the plan, with TARGET=host, as a user runs it on a machine whose kernel has sched_ext. The
 * inner results land in /results/inner/ and leave with the results disk like any run's. Around
 * each inner run the agent takes the machine's state (runners/common/hostcheck.h: sched_ext
 * state, the scxlab cgroup, the root's subtree_control, sysctls, leftover servers and clients)
 * and records what the run left behind. guest/selfcheck.json says, per check, the inner
 * runner's exit code against the expected one, its result folder and the leftovers; the host
 * runner and `python3 -m analysis selfcheck` judge it.
 *
 * A check with target = vm (`make selfcheck-kvm`) runs the inner runner with TARGET=vm instead: it
 * boots a nested sched_ext guest (L2) from this guest (L1) under the check's accel (kvm: L1's
 * /dev/kvm, from kvm_amd or kvm_intel loaded here). Its image is the job's image/ folder (the
 * kernel, initrds and the image's records) with the root filesystem linked in from the fourth
 * disk, /dev/vdd, which the host runner attaches for such a job (snapshot=on there too).
 */
#include <dirent.h>
#include <errno.h>
#include <glob.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guest.h"
#include "hostcheck.h"
#include "schedext.h"
#include "selfcheck.h"

/* The sysctls a run could change: every kernel.sched_*, and the few others scxlab's tools touch. */
static char *sysctl_lines(void)
{
	static const char *const patterns[] = { "/proc/sys/kernel/sched_*", "/proc/sys/kernel/sysrq",
						"/proc/sys/kernel/perf_event_paranoid", "/proc/sys/kernel/printk",
						"/proc/sys/kernel/bpf_stats_enabled" };
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	for (size_t i = 0; i < sizeof(patterns) / sizeof(patterns[0]); i++) {
		glob_t g;
		if (glob(patterns[i], 0, NULL, &g))
			continue;
		for (size_t k = 0; k < g.gl_pathc; k++) {
			char *v = read_file(g.gl_pathv[k], NULL);
			if (!v)
				continue;	/* write-only or not readable */
			for (char *p = v; *p; p++)
				if (*p == '\n' || *p == '\t')
					*p = ' ';
			fprintf(f, "%s=%s\n", g.gl_pathv[k] + strlen("/proc/sys/"), trim(v));
			free(v);
		}
		globfree(&g);
	}
	fclose(f);
	return text;
}

/* "name[pid] ..." of the processes whose name is one of HOST_PROCESS_NAMES (zombies, which run
 * nothing and wait for their parent, are not counted). */
static char *leftover_processes(void)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	DIR *d = opendir("/proc");
	struct dirent *de;
	while (d && (de = readdir(d))) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		char *p = xasprintf("/proc/%s/comm", de->d_name), *comm = read_line_file(p);
		char *sp = xasprintf("/proc/%s/stat", de->d_name), *stat = read_line_file(sp);
		const char *rp = strrchr(stat, ')');
		bool zombie = rp && rp[1] == ' ' && rp[2] == 'Z';
		free(stat);
		free(sp);
		if (*comm && !zombie && has_word(HOST_PROCESS_NAMES, comm))
			fprintf(f, "%s%s[%s]", ftell(f) > 0 ? " " : "", comm, de->d_name);
		free(comm);
		free(p);
	}
	if (d)
		closedir(d);
	fclose(f);
	return text;
}

static void host_state_take(struct host_state *s)
{
	s->scx_state = read_line_file(SCX_SYSFS "/state");
	s->scxlab_cgroup = is_dir("/sys/fs/cgroup/" CGROUP_ROOT);
	s->subtree_control = read_line_file("/sys/fs/cgroup/cgroup.subtree_control");
	s->sysctls = sysctl_lines();
	s->processes = leftover_processes();
}

/* Has a run of the inner runner (results under inner) begun its measurement? The snapshots
 * monitor writes schedstat-before.txt into the run's raw/ just before the measured clients. */
static bool inner_measuring(const char *inner)
{
	char *pattern = xasprintf("%s/.staging-*/runs/*/raw/schedstat-before.txt", inner);
	glob_t g;
	bool yes = glob(pattern, 0, NULL, &g) == 0;
	if (yes)
		globfree(&g);
	free(pattern);
	return yes;
}

/*
 * Runs the inner runner (argv) with its stdout into out_path (its last line: the result folder)
 * and its progress (stderr) on the console. With interrupt_after_s, sends it SIGINT that many
 * seconds into its first run's measurement, as Ctrl-C would. Returns its exit code;
 * *interrupted_at: when it was sent, seconds after the runner started (-1: not sent).
 */
static int run_inner(char *const argv[], const char *out_path, const char *inner, long interrupt_after_s,
		     double *interrupted_at)
{
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		FILE *o = freopen(out_path, "w", stdout);
		if (!o)
			_exit(127);
		execv(argv[0], argv);
		fprintf(stderr, "selfcheck: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	*interrupted_at = -1;
	if (pid < 0)
		return -1;
	double t0 = mono_now(), measuring_since = -1;
	int status;
	for (;;) {
		pid_t w = waitpid(pid, &status, WNOHANG);
		if (w == pid)
			break;
		double el = mono_now() - t0;
		if (interrupt_after_s > 0 && measuring_since < 0 && inner_measuring(inner))
			measuring_since = el;
		if (measuring_since >= 0 && *interrupted_at < 0 && el - measuring_since >= interrupt_after_s) {
			kill(pid, SIGINT);
			*interrupted_at = el;
			say(PROTO_WARNING " selfcheck: sent SIGINT to the inner runner %.1f s into its measurement (%.1f s "
			    "after it started)", el - measuring_since, el);
		}
		if (el > 3600) {	/* the inner runner has its own deadlines; this is the last resort */
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			break;
		}
		usleep(200000);
	}
	return exit_code_of(status);
}

/* The image a target = vm check boots: job/image/ with rootfs.ext4 linked to the fourth disk. Loads
 * KVM's module when /dev/kvm is absent (the inner runner's probe decides whether it is usable).
 * NULL, with why, when the disk or the folder is not there. */
static char *nested_image(struct agent *a, char *why, size_t len)
{
	static const char *const disk = "/dev/vdd";
	char *image = xasprintf("%s/image", a->job_dir), *rootfs = xasprintf("%s/rootfs.ext4", image);
	struct stat st;
	if (!is_dir(image) || stat(disk, &st) || !S_ISBLK(st.st_mode)) {
		snprintf(why, len, "a target = vm check needs the job's image/ folder and the root filesystem as %s, "
			 "which the host runner attaches for selfcheck-kvm", disk);
		free(image);
		free(rootfs);
		return NULL;
	}
	if (!path_exists(rootfs) && symlink(disk, rootfs)) {
		snprintf(why, len, "cannot link %s to %s: %s", rootfs, disk, strerror(errno));
		free(image);
		free(rootfs);
		return NULL;
	}
	free(rootfs);
	if (!path_exists("/dev/kvm")) {
		static const char *const modules[] = { "kvm_amd", "kvm_intel" };
		for (size_t i = 0; i < 2 && !path_exists("/dev/kvm"); i++) {
			char *argv[] = { "modprobe", (char *)modules[i], NULL };
			char *log = xasprintf("%s/guest/modprobe-%s.log", a->results, modules[i]);
			int rc = run_cmd(argv, log, NULL, NULL, 60);
			say(PROTO_WARNING " selfcheck: modprobe %s: exit %d, /dev/kvm %s", modules[i], rc,
			    path_exists("/dev/kvm") ? "present" : "absent");
			free(log);
		}
	}
	return image;
}

void selfcheck_main(struct agent *a)
{
	long n = atol(cfg_get(&a->plan, "selfcheck", "checks"));
	char *repo = xasprintf("%s/repo", a->job_dir), *runner = xasprintf("%s/build/runners/scxlab", repo);
	char *inner = xasprintf("%s/inner", a->results);
	mkdir_p(inner, 0755);
	/* the host runner reads the image's kernel-release for TARGET=vm only; it runs from the checkout */
	if (chdir(repo))
		fatal(a, "cannot enter the job's checkout %s: %s", repo, strerror(errno));
	json_t *checks = json_array();
	long passed = 0;
	char *image = NULL;
	for (long k = 1; k <= n; k++) {
		char sec[32];
		snprintf(sec, sizeof(sec), "check.%ld", k);
		const char *expect = cfg_get(&a->plan, sec, "expect"), *target = cfg_get(&a->plan, sec, "target");
		char why[512] = "";
		if (target && !strcmp(target, "vm") && !image && !(image = nested_image(a, why, sizeof(why))))
			say(PROTO_WARNING " selfcheck: check %ld: %s", k, why);
		long interrupt_after = atol(cfg_get(&a->plan, sec, "interrupt_after_s") ?: "0");
		struct strv argv = { 0 };
		strv_push(&argv, runner);
		selfcheck_argv(&a->plan, k, repo, inner, target && !strcmp(target, "vm") ? image : NULL, &argv);
		char *line = strv_join(&argv, " ");
		say(PROTO_WARNING " selfcheck: check %ld of %ld (expect %s): %s", k, n, expect, line);
		struct host_state before = { 0 }, after = { 0 };
		host_state_take(&before);
		char *out = xasprintf("%s/guest/check-%ld.stdout", a->results, k);
		double interrupted_at;
		double t0 = mono_now();
		int code = run_inner(argv.v, out, inner, interrupt_after, &interrupted_at);
		double took = mono_now() - t0;
		reap_orphans();	/* as PID 1, daemons the inner run stopped are this agent's to reap */
		host_state_take(&after);
		json_t *left = host_leftovers(&before, &after);
		char *stdout_text = read_file(out, NULL);
		char *last = kmsg_last_line(stdout_text ? stdout_text : "");	/* the runner's last line */
		const char *result = NULL;
		if (*last && !strncmp(last, inner, strlen(inner)) && is_dir(last))
			result = last + strlen(inner) + 1;
		int want = selfcheck_expected_exit(expect);
		bool ok = code == want && result && json_array_size(left) == 0 &&
			  (interrupt_after == 0 || interrupted_at >= 0);
		passed += ok;
		json_t *args = json_array();
		for (size_t i = 1; i < argv.n; i++)
			json_array_append_new(args, json_string(argv.v[i]));
		json_t *entry = json_pack("{s:I, s:s, s:o, s:i, s:i, s:o, s:f, s:o, s:b, s:b}", "check", (json_int_t)k,
					  "expect", expect, "args", args, "exit_code", code, "expected_exit_code", want,
					  "result", result ? json_string(result) : json_null(), "wall_s", took,
					  "leftovers", left, "host_clean", json_array_size(left) == 0, "passed", ok);
		json_object_set_new(entry, "interrupted_at_s", interrupted_at >= 0 ? json_real(interrupted_at) : json_null());
		json_object_set_new(entry, "sched_ext_state_after", json_string(after.scx_state));
		if (*why)
			json_object_set_new(entry, "problem", json_string(why));
		json_array_append_new(checks, entry);
		say(PROTO_WARNING " selfcheck: check %ld %s: exit %d (expected %d), result %s, host %s", k,
		    ok ? "passed" : "FAILED", code, want, result ? result : "(none)",
		    json_array_size(left) ? "NOT clean" : "clean");
		host_state_free(&before);
		host_state_free(&after);
		free(last);
		free(stdout_text);
		free(out);
		free(line);
		strv_free(&argv);
		json_t *doc = json_pack("{s:i, s:I, s:I, s:O}", "format", 1, "checks_total", (json_int_t)n,
					"checks_passed", (json_int_t)passed, "checks", checks);
		char *path = xasprintf("%s/selfcheck.json", a->results);
		json_dump_file(doc, path, JSON_INDENT(2));
		json_decref(doc);
		free(path);
		flush_results(a);
	}
	char *done = xasprintf("%s/guest/done", a->results);
	write_text(done, "%ld of %ld selfchecks passed\n", passed, n);
	free(done);
	flush_results(a);
	say(PROTO_GUEST_DONE " %ld %ld", passed, n);
	json_decref(checks);
	free(image);
	power_off(a, passed == n ? EXIT_OK : EXIT_INVALID_RUN);
}
