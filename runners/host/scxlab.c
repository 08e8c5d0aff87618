/*
 * scxlab: the host-side experiment runner (what `make experiment` and `make compare` call).
 *
 *   scxlab run --policies "cfs fifo" --workload nginx [--duration S] [--repeats N]
 *              [--clock virtual|real] [--target vm|host]
 *
 * 1. Reads configs/ (runners/common/experiment.c) and refuses bad input before touching
 *    anything: the error names the problem and the valid choices; exit code 2.
 * 2. Assembles a job: the plan (one section per run, policies interleaved), the guest agent,
 *    the policies' loaders and the workload's folder, as a tar.
 * 3. TARGET=vm: boots the pinned sched_ext guest under QEMU TCG (the clock decides
 *    -accel/-icount), the job tar as the second disk and an empty results disk as the third,
 *    and follows the serial console: every line goes to raw/console.log, "SCXLAB ..." lines
 *    drive the progress display (phase, run k of n, time left). TARGET=host runs the agent
 *    directly, only on a kernel that has sched_ext.
 * 4. Unpacks what the guest wrote, adds manifest.json (every factor of the setup), summary.json,
 *    reproduce.sh and raw/ host-side records, and renames the staging folder to
 *    results/<id>/ (or results/<id>-INVALID/ if any run is invalid). Prints a summary and, as
 *    its last line, the result directory. Exit code 0 when every run is valid, 1 otherwise.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "experiment.h"
#include "metrics.h"
#include "outcome.h"
#include "protocol.h"
#include "results.h"
#include "schedext.h"
#include "sha256.h"
#include "sweep.h"
#include "util.h"

struct opts {
	struct request req;
	const char *repo, *configs, *results, *build, *image, *command;
};

struct ctx {
	struct opts *o;
	struct experiment x;
	char *id, *staging, *raw, *jobdir;
	json_t *problems;	/* reasons the whole result is invalid, beyond per-run ones */
	double t0, boot_s;
	bool guest_done;
	bool target_started;	/* the guest (or the agent on the host) was started: raw data may exist */
	/* progress */
	size_t nruns, run_current, runs_done;
	double run_started, run_total_s;
	const char *phase;
	/* deadlines follow the guest's pace (runners/common/outcome.h): while it boots, by the
	 * emulator's CPU time; once the agent runs, by the guest seconds on its heartbeats */
	struct pace boot_pace, run_pace;
};

static volatile sig_atomic_t interrupted;
static void on_signal(int sig)
{
	interrupted = sig;
}

static void progress(struct ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void progress(struct ctx *c, const char *fmt, ...)
{
	va_list ap;
	long el = (long)(mono_now() - c->t0);
	fprintf(stderr, "[scxlab %2ld:%02ld] ", el / 60, el % 60);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Seconds left: the runs not finished, at the measured per-run time once one finished. */
static long time_left(struct ctx *c)
{
	double per_run = c->runs_done ? c->run_total_s / c->runs_done
				      : (double)(c->x.warmup + c->x.duration + 8);
	double in_run = c->run_current ? mono_now() - c->run_started : 0;
	double left = per_run * (c->nruns - c->runs_done) - in_run;
	return left > 0 ? (long)left : 0;
}

static void on_guest_line(struct ctx *c, char *line)
{
	struct proto_msg m;
	if (proto_parse(line, &m))	/* not an agent's event (kernel output), or malformed */
		return;
	switch (m.ev) {
	case EV_HEARTBEAT:
		pace_note(&c->run_pace, mono_now() - c->t0, m.num[0]);
		break;
	case EV_GUEST_READY:
		c->boot_s = mono_now() - c->t0;
		pace_start(&c->run_pace, c->boot_s, 0);
		progress(c, "guest up after %.0f s (kernel %s); %zu run(s), about %ld s to go", c->boot_s, m.text,
			 c->nruns, time_left(c));
		break;
	case EV_RUN_BEGIN:
		c->run_current = m.run;
		c->run_started = mono_now();
		progress(c, "run %d/%ld: %s on %s", m.run, (long)m.num[0], m.word[1], c->x.wl.name);
		break;
	case EV_PHASE:
		if (m.num[1] > 0)
			progress(c, "run %d/%zu: %s %ld s (about %ld s left in all)", m.run, c->nruns, m.word[0],
				 (long)m.num[1], time_left(c));
		break;
	case EV_RUN_END:
		c->runs_done++;
		c->run_total_s += mono_now() - c->run_started;
		c->run_current = 0;
		progress(c, "run %d/%zu %s", m.run, c->nruns, m.word[0]);
		break;
	case EV_RUN_PROBLEM:
		progress(c, "problem: %s", m.args);
		break;
	case EV_RUN_NOTE:
		progress(c, "note: %s", m.args);
		break;
	case EV_GUEST_DONE:
		c->guest_done = true;
		break;
	case EV_FATAL:
	case EV_BOOT_ERROR:
	case EV_WARNING:
		progress(c, "guest %s %s", m.name, m.args);
		break;
	default:
		break;
	}
}

static void remove_tree(const char *path)
{
	char *argv[] = { "rm", "-rf", "--", (char *)path, NULL };
	run_cmd(argv, NULL, NULL, NULL, 120);
}

/*
 * die() once the staging folder exists: nothing half-made may stay behind. Before the target was
 * started there is nothing worth keeping, and the folder goes (on a full disk that frees the
 * space). Afterwards the raw data is kept, under the -INVALID name with the reason in INVALID.
 */
static struct ctx *dying;
static void abandon_staging(int code, const char *msg)
{
	struct ctx *c = dying;
	if (!c || !c->staging || !is_dir(c->staging))
		return;
	static const char *const scratch[] = { ".job", ".job.tar", ".results.img", ".copy.log", ".tar.log" };
	for (size_t i = 0; i < sizeof(scratch) / sizeof(scratch[0]); i++) {
		char *p = xasprintf("%s/%s", c->staging, scratch[i]);
		remove_tree(p);
		free(p);
	}
	if (!c->target_started) {
		remove_tree(c->staging);
		fprintf(stderr, "scxlab: nothing ran; removed the staging folder %s\n", c->staging);
		return;
	}
	char *ip = xasprintf("%s/INVALID", c->staging);
	write_text(ip, "This result is invalid; do not use its numbers. The runner stopped (exit code %d): %s\n", code,
		   msg);
	free(ip);
	struct err e;
	char *final = results_finalize(c->o->results, c->id, false, &e);
	if (final) {
		fprintf(stderr, "scxlab: what the runs left is kept as %s (INVALID)\n", final);
		printf("%s\n", final);
		free(final);
	} else {
		fprintf(stderr, "scxlab: %s\n", e.msg);
	}
}

static void problem(struct ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void problem(struct ctx *c, const char *fmt, ...)
{
	char msg[ERRLEN];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_array_append_new(c->problems, json_string(msg));
	progress(c, "problem: %s", msg);
}

/* CPU seconds a process (all its threads) has used, from /proc/PID/stat; -1 if unreadable. */
static double proc_cpu_s(pid_t pid)
{
	char *p = xasprintf("/proc/%d/stat", (int)pid), *st = read_file(p, NULL);
	free(p);
	const char *rp = st ? strrchr(st, ')') : NULL;
	unsigned long long ut = 0, stime = 0;
	double v = -1;
	/* after "PID (comm)": state and 10 more fields, then utime and stime (fields 14 and 15) */
	if (rp && sscanf(rp + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &stime) == 2)
		v = (double)(ut + stime) / sysconf(_SC_CLK_TCK);
	free(st);
	return v;
}

/*
 * Why the child must be stopped now, as a message (in why, with its length), or NULL. The
 * boot must end within boot_budget seconds and the runs within run_budget seconds after it,
 * both counted at the guest's pace (see struct pace): a guest slowed down by a loaded host
 * gets more wall time, and one that shows no progress at all for silence_s is stopped.
 */
static const char *deadline_passed(struct ctx *c, pid_t pid, double el, double boot_budget, double run_budget,
				   double silence_s, char *why, size_t len)
{
	if (!c->boot_s) {
		pace_note(&c->boot_pace, el, proc_cpu_s(pid));
		switch (pace_check(&c->boot_pace, el, boot_budget, silence_s)) {
		case PACE_OK:
			return NULL;
		case PACE_OVER_BUDGET:
			snprintf(why, len, "timeout (boot): the guest did not come up within its VM config's boot_timeout "
				 "of %.0f s, counted as the emulator's CPU time (%.0f s wall; the emulator ran at %.2f CPU "
				 "s per wall s)", boot_budget, el, pace_rate(&c->boot_pace, el));
			return why;
		case PACE_SILENT:
			snprintf(why, len, "timeout (boot, no progress): the emulator used no CPU time for %.0f s while "
				 "the guest booted", silence_s);
			return why;
		}
	}
	switch (pace_check(&c->run_pace, el, run_budget, silence_s)) {
	case PACE_OK:
		return NULL;
	case PACE_OVER_BUDGET:
		snprintf(why, len, "timeout (runs): the guest ran past the time its runs should take: %.0f s of its own "
			 "time since it came up, budget %.0f s ((warm-up + duration) x 3 + 180 per run); %.0f s wall, "
			 "the guest at %.2fx wall-clock speed", c->run_pace.prog_last, run_budget, el - c->boot_s,
			 pace_rate(&c->run_pace, el));
		return why;
	case PACE_SILENT:
		snprintf(why, len, "timeout (no progress): no heartbeat from the guest for %.0f s of wall time (the "
			 "last at %.0f s of its own time since it came up)", el - c->run_pace.wall_last,
			 c->run_pace.prog_last);
		return why;
	}
	return NULL;
}

/*
 * Runs argv with stdout+stderr piped back; every line goes to raw/console.log with the host's
 * elapsed time and through the progress parser. Stops the child when a deadline passes
 * (deadline_passed), or when the user interrupts. Returns the child's exit code.
 */
static int follow(struct ctx *c, char *const argv[], double boot_budget, double run_budget, double silence_s)
{
	int fds[2];
	if (pipe(fds))
		die(EXIT_INFRA, "pipe: %s", strerror(errno));
	pid_t pid = fork();
	if (pid < 0)
		die(EXIT_INFRA, "fork: %s", strerror(errno));
	if (pid == 0) {
		setpgid(0, 0);
		close(fds[0]);
		dup2(fds[1], 1);
		dup2(fds[1], 2);
		int in = open("/dev/null", 0);
		dup2(in, 0);
		execvp(argv[0], argv);
		fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(fds[1]);
	char *logp = xasprintf("%s/console.log", c->raw);
	FILE *log = fopen(logp, "w");
	free(logp);
	char buf[8192];
	size_t have = 0;
	bool eof = false, stopped = false;
	while (!eof) {
		struct pollfd p = { .fd = fds[0], .events = POLLIN };
		int r = poll(&p, 1, 500);
		if (r > 0) {
			ssize_t n = read(fds[0], buf + have, sizeof(buf) - 1 - have);
			if (n <= 0) {
				eof = true;
				n = 0;
				if (have)
					buf[have++] = '\n';
			}
			have += n;
			char *start = buf, *nl;
			while ((nl = memchr(start, '\n', have - (start - buf))) || (have == sizeof(buf) - 1 && start == buf)) {
				if (!nl)
					nl = buf + have - 1;
				*nl = '\0';
				for (char *q = start; *q; q++)
					if (*q == '\r')
						*q = ' ';
				if (log)
					fprintf(log, "[%9.3f] %s\n", mono_now() - c->t0, start);
				on_guest_line(c, trim(start));
				start = nl + 1;
			}
			have -= start - buf;
			memmove(buf, start, have);
			if (log)
				fflush(log);
		}
		if (stopped)
			continue;
		double el = mono_now() - c->t0;
		char whybuf[ERRLEN];
		const char *why = NULL;
		if (interrupted)
			why = "interrupted by the user";
		else
			why = deadline_passed(c, pid, el, boot_budget, run_budget, silence_s, whybuf, sizeof(whybuf));
		if (why) {
			problem(c, "%s (after %.0f s); stopped it", why, el);
			kill(-pid, SIGTERM);
			usleep(500000);
			kill(-pid, SIGKILL);
			stopped = true;
		}
	}
	close(fds[0]);
	if (log)
		fclose(log);
	int status;
	waitpid(pid, &status, 0);
	return exit_code_of(status);
}

/* What to tell the user when the job could not be assembled: a missing file means an incomplete build. */
static const char *copy_hint(int err)
{
	return err == ENOENT ? " (run 'make build')" : "";
}

static void copy_tree(struct ctx *c, const char *from, const char *to)
{
	char *argv[] = { "cp", "-a", "--", (char *)from, (char *)to, NULL };
	char *log = xasprintf("%s/.copy.log", c->staging);
	if (run_cmd(argv, log, NULL, NULL, 120)) {
		/* cp's own first line says why; a full disk is called that */
		char *why = read_line_file(log);
		die(EXIT_INFRA, "cannot copy %s to %s: %s", from, to,
		    strstr(why, "No space left") ? errno_text(ENOSPC) : *why ? why : "cp failed");
	}
	unlink(log);
	free(log);
}

/* The job: plan.ini, bin/scxlab-guest, bin/<loader> for each policy, workloads/<name>/. */
static void build_job(struct ctx *c)
{
	struct opts *o = c->o;
	c->jobdir = xasprintf("%s/.job", c->staging);
	char *bin = xasprintf("%s/bin", c->jobdir), *wl = xasprintf("%s/workloads", c->jobdir);
	if (mkdir_p(bin, 0755) || mkdir_p(wl, 0755))
		die(EXIT_INFRA, "cannot create %s: %s", c->jobdir, errno_text(errno));
	char *agent = xasprintf("%s/runners/scxlab-guest", o->build), *dst = xasprintf("%s/scxlab-guest", bin);
	if (copy_file(agent, dst, 0755))
		die(EXIT_INFRA, "cannot copy the guest agent %s: %s%s", agent, errno_text(errno), copy_hint(errno));
	free(agent);
	free(dst);
	for (size_t i = 0; i < c->x.npol; i++) {
		const char *l = c->x.pol[i].loader;
		if (!*l)
			continue;
		char *src = c->x.pol[i].external ? xstrdup(l) : xasprintf("%s/schedulers/%s/%s", o->build, l, l);
		dst = xasprintf("%s/%s", bin, c->x.pol[i].external ? c->x.pol[i].name : l);
		if (copy_file(src, dst, 0755))
			die(EXIT_INFRA, "cannot copy loader %s of policy %s: %s%s", src, c->x.pol[i].name,
			    errno_text(errno), copy_hint(errno));
		/* an external binary runs as the one hashed when the request was read, or not at all */
		const char *want = cfg_get(&c->x.pol[i].cfg, "policy", "sha256");
		char got[65] = "";
		if (c->x.pol[i].external && (sha256_file(dst, got) || strcmp(got, want)))
			die(EXIT_INFRA, "external policy %s: %s changed while the job was assembled (sha256 %s, now %s); "
			    "run again once it is stable", c->x.pol[i].name, src, want, got);
		free(src);
		free(dst);
	}
	/* the sched-trace monitor checks its trace in the guest with tools/pair-check */
	if (has_word(c->x.monitors, "sched-trace")) {
		char *tool = xasprintf("%s/tools/pair-check", o->build), *tdst = xasprintf("%s/pair-check", bin);
		if (copy_file(tool, tdst, 0755))
			die(EXIT_INFRA, "cannot copy %s for the sched-trace monitor: %s%s", tool, errno_text(errno),
			    copy_hint(errno));
		free(tool);
		free(tdst);
	}
	char *wsrc = xasprintf("%s/%s", o->repo, c->x.wl.dir);
	copy_tree(c, wsrc, wl);
	free(wsrc);
	/* code the workloads share (workloads/lib/) travels with every job */
	char *wlib = xasprintf("%s/workloads/lib", o->repo);
	if (is_dir(wlib))
		copy_tree(c, wlib, wl);
	free(wlib);
	/* the folder keeps the workload's name in the job, whatever its source path */
	char *copied = xasprintf("%s/%s", wl, strrchr(c->x.wl.dir, '/') ? strrchr(c->x.wl.dir, '/') + 1 : c->x.wl.dir);
	char *named = xasprintf("%s/%s", wl, c->x.wl.name);
	if (strcmp(copied, named) && rename(copied, named))
		die(EXIT_INFRA, "cannot rename %s: %s", copied, errno_text(errno));
	/* C helpers of the workload, built by build.mk, go to workloads/<name>/bin/ */
	char *wbuild = xasprintf("%s/workloads/%s", o->build, strrchr(c->x.wl.dir, '/') ? strrchr(c->x.wl.dir, '/') + 1 : c->x.wl.dir);
	if (is_dir(wbuild)) {
		char *wbin = xasprintf("%s/bin", named);
		copy_tree(c, wbuild, wbin);
		free(wbin);
	}
	free(wbuild);
	free(copied);
	free(named);

	struct cfg plan;
	experiment_plan(&c->x, &plan);
	char *pp = xasprintf("%s/plan.ini", c->jobdir);
	FILE *f = fopen(pp, "w");
	if (!f || cfg_write(&plan, f) || fclose(f))
		die(EXIT_INFRA, "cannot write %s: %s", pp, errno_text(errno));
	char *rawplan = xasprintf("%s/plan.ini", c->raw);
	copy_file(pp, rawplan, 0);
	free(rawplan);
	free(pp);
	cfg_free(&plan);
	free(bin);
	free(wl);
}

static void run_vm(struct ctx *c)
{
	struct opts *o = c->o;
	struct experiment *x = &c->x;
	char *jobtar = xasprintf("%s/.job.tar", c->staging), *resdisk = xasprintf("%s/.results.img", c->staging);
	char *tar_argv[] = { "tar", "-cf", jobtar, "-C", c->jobdir, ".", NULL };
	char *tarlog = xasprintf("%s/.tar.log", c->staging);
	if (run_cmd(tar_argv, tarlog, NULL, NULL, 120)) {
		char *why = read_line_file(tarlog);
		die(EXIT_INFRA, "cannot pack the job into %s: %s", jobtar,
		    strstr(why, "No space left") ? errno_text(ENOSPC) : *why ? why : "tar failed");
	}
	unlink(tarlog);
	free(tarlog);
	FILE *rf = fopen(resdisk, "w");
	if (!rf || ftruncate(fileno(rf), (off_t)x->results_disk_mb << 20) || fclose(rf))
		die(EXIT_INFRA, "cannot create the results disk %s: %s", resdisk, errno_text(errno));

	struct strv a = { 0 };
	strv_push(&a, x->qemu);
	strv_split_push(&a, "-name scxlab -display none -serial stdio -monitor none -no-reboot -nic none");
	strv_push(&a, "-accel");
	strv_push(&a, x->accel);
	if (*x->icount) {
		strv_push(&a, "-icount");
		strv_push(&a, x->icount);
	}
	strv_push(&a, "-cpu");
	strv_push(&a, x->cpu);
	strv_push(&a, "-smp");
	strv_pushf(&a, "%ld,sockets=1,cores=%ld,threads=%ld", x->vcpus, x->vcpus / x->threads_per_core,
		   x->threads_per_core);
	strv_push(&a, "-m");
	strv_pushf(&a, "%ld", x->memory_mb);
	strv_push(&a, "-kernel");
	strv_pushf(&a, "%s/vmlinuz", o->image);
	strv_push(&a, "-initrd");
	strv_pushf(&a, "%s/initrd.img", o->image);
	strv_push(&a, "-append");
	strv_push(&a, x->cmdline);
	strv_push(&a, "-drive");
	strv_pushf(&a, "file=%s/rootfs.ext4,if=virtio,format=raw,snapshot=on", o->image);
	strv_push(&a, "-drive");
	strv_pushf(&a, "file=%s,if=virtio,format=raw,readonly=on", jobtar);
	strv_push(&a, "-drive");
	strv_pushf(&a, "file=%s,if=virtio,format=raw", resdisk);
	char *line = strv_join(&a, " ");
	char *qp = xasprintf("%s/qemu-command.txt", c->raw);
	write_text(qp, "%s\n", line);
	free(qp);
	free(line);

	c->target_started = true;
	double per_run = (x->warmup + x->duration) * 3.0 + 180;
	progress(c, "booting the guest: %ld vCPU, %ld MiB, clock=%s (%s%s%s)", x->vcpus, x->memory_mb, x->clock,
		 x->accel, *x->icount ? ", icount " : "", x->icount);
	/* budgets at the guest's pace; a guest silent for longer than a boot may take is stuck */
	double silence = x->boot_timeout > 300 ? x->boot_timeout : 300;
	int rc = follow(c, a.v, x->boot_timeout, per_run * c->nruns, silence);
	strv_free(&a);
	if (rc != 0 && !interrupted)
		problem(c, "QEMU exited with code %d; see raw/console.log", rc);

	char *x_argv[] = { "tar", "-xf", resdisk, "-C", c->staging, NULL };
	char *xlog = xasprintf("%s/results-unpack.log", c->raw);
	if (run_cmd(x_argv, xlog, NULL, NULL, 300))
		problem(c, "the results disk could not be unpacked completely; see raw/results-unpack.log");
	free(xlog);
	unlink(jobtar);
	unlink(resdisk);
	free(jobtar);
	free(resdisk);
}

static void run_host(struct ctx *c)
{
	char *agent = xasprintf("%s/bin/scxlab-guest", c->jobdir), *plan = xasprintf("%s/plan.ini", c->jobdir);
	char *argv[] = { agent, "--plan", plan, "--results-dir", c->staging, NULL };
	progress(c, "running on this host's kernel (TARGET=host)");
	c->target_started = true;
	c->boot_s = 0.001;
	int rc = follow(c, argv, 1e9, 1e9, 1e9);
	if (rc != 0 && rc != EXIT_INVALID_RUN)
		problem(c, "the agent exited with code %d; see raw/console.log", rc);
	free(agent);
	free(plan);
}

/* The host's CPU model, from /proc/cpuinfo ("" if it says none). Caller frees. */
static char *cpu_model(void)
{
	char *info = read_file("/proc/cpuinfo", NULL), *save = NULL, *model = NULL;
	for (char *l = info ? strtok_r(info, "\n", &save) : NULL; l && !model; l = strtok_r(NULL, "\n", &save))
		if (!strncmp(l, "model name", 10) && strchr(l, ':'))
			model = xstrdup(trim(strchr(l, ':') + 1));
	free(info);
	return model ? model : xstrdup("");
}

static json_t *load_json(const char *path)
{
	json_error_t e;
	return json_load_file(path, 0, &e);
}

/* Versions of the packages that shape the results, from a dpkg-query listing. */
static json_t *package_versions(const char *listing, const char *const *prefixes)
{
	json_t *o = json_object();
	char *s = read_file(listing, NULL), *save = NULL;
	for (char *l = s ? strtok_r(s, "\n", &save) : NULL; l; l = strtok_r(NULL, "\n", &save)) {
		char *tab = strchr(l, '\t');
		if (!tab)
			continue;
		*tab = '\0';
		for (const char *const *p = prefixes; *p; p++)
			if (!strncmp(l, *p, strlen(*p)))
				json_object_set_new(o, l, json_string(tab + 1));
	}
	free(s);
	return o;
}

/* lock-deviations.txt of a cached root (kernel/setup.sh): one line per locked package it does not
 * have at its locked version. null when the root predates the locks (nothing was recorded). */
static json_t *lock_deviations(const char *root_dir)
{
	char *path = xasprintf("%s/lock-deviations.txt", root_dir);
	char *text = read_file(path, NULL), *save = NULL;
	free(path);
	if (!text)
		return json_null();
	json_t *a = json_array();
	for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
		if (*trim(l))
			json_array_append_new(a, json_string(trim(l)));
	free(text);
	return a;
}

static json_t *policy_factors(struct experiment *x)
{
	json_t *o = json_object();
	for (size_t i = 0; i < x->npol; i++) {
		json_t *p = json_object();
		for (size_t k = 0; k < x->pol[i].cfg.n; k++)
			json_object_set_new(p, x->pol[i].cfg.v[k].key, json_string(x->pol[i].cfg.v[k].value));
		json_object_set_new(o, x->pol[i].name, p);
	}
	return o;
}

static json_t *section_object(const struct cfg *c, const char *section)
{
	json_t *o = json_object();
	for (size_t k = 0; k < c->n; k++)
		if (!strcmp(c->v[k].section, section))
			json_object_set_new(o, c->v[k].key, json_string(c->v[k].value));
	return o;
}

/* s on one line (for a comment in a script): line breaks and other control characters as '?' */
static char *one_line(const char *s)
{
	char *t = xstrdup(s);
	for (char *p = t; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return t;
}

/*
 * reproduce.sh: the make command that reruns this experiment with every factor spelled out. It
 * runs from any place the result folder is moved to: it looks for the checkout in SCXLAB_REPO,
 * then above its own folder, then above the current folder. VAR=value arguments override the
 * recorded values (`./reproduce.sh DURATION=2 REPEATS=1 RESULTS=/tmp/r`: make takes the last).
 */
static void write_reproduce(struct ctx *c, const char *commit)
{
	struct experiment *x = &c->x;
	struct strv pols = { 0 };
	bool any_external = false;
	for (size_t i = 0; i < x->npol; i++) {
		any_external |= x->pol[i].external;
		strv_push(&pols, x->pol[i].external ? cfg_get(&x->pol[i].cfg, "policy", "spec") : x->pol[i].name);
	}
	/* with an external policy, ';' separates policies (its arguments have spaces); a trailing ';'
	 * keeps a single external policy with arguments in one piece */
	char *pj = strv_join(&pols, any_external ? ";" : " ");
	if (any_external) {
		char *t = xasprintf("%s;", pj);
		free(pj);
		pj = t;
	}
	char *qp = shell_quote(pj), *qm = shell_quote(x->monitors), *qa = shell_quote(c->o->req.params ?: "");
	char *qc = shell_quote(x->has_tree ? x->tree.name : "");
	char *qcmd = one_line(c->o->command ? c->o->command : "(not given)");
	char *reps = x->precision_pct > 0 ? xasprintf("PRECISION=%g MAX_REPEATS=%ld", x->precision_pct, x->repeats)
					  : xasprintf("REPEATS=%ld", x->repeats);
	char *path = xasprintf("%s/reproduce.sh", c->staging);
	write_text(path,
		   "#!/bin/sh\n"
		   "# Reruns the experiment behind this result directory (%s).\n"
		   "# It was made by scxlab commit %s; run it with a checkout of that commit.\n"
		   "# Original command: %s\n"
		   "# VAR=value arguments override the values below, e.g. DURATION=2 REPEATS=1 RESULTS=/tmp/r.\n"
		   "set -e\n"
		   "is_checkout() { [ -f \"$1/Makefile\" ] && [ -f \"$1/runners/host/scxlab.c\" ]; }\n"
		   "find_checkout() {\n"
		   "    d=$1\n"
		   "    while [ -n \"$d\" ] && [ \"$d\" != / ]; do is_checkout \"$d\" && { echo \"$d\"; return 0; }; "
		   "d=$(dirname \"$d\"); done\n"
		   "    return 1\n"
		   "}\n"
		   "here=$(cd \"$(dirname \"$0\")\" && pwd)\n"
		   "repo=${SCXLAB_REPO:-$(find_checkout \"$here\" || find_checkout \"$(pwd)\" || true)}\n"
		   "is_checkout \"$repo\" || { echo \"reproduce.sh: no scxlab checkout found above $here or $(pwd); set "
		   "SCXLAB_REPO=/path/to/scxlab\" >&2; exit 2; }\n"
		   "cd \"$repo\"\n"
		   "[ \"$(git rev-parse HEAD 2>/dev/null)\" = %s ] || echo \"reproduce.sh: note: $repo is not at commit "
		   "%s\" >&2\n"
		   "exec make compare POLICIES=%s WORKLOAD=%s DURATION=%ld %s CLOCK=%s TARGET=%s VM=%s MONITORS=%s CGROUPS=%s "
		   "PARAMS=%s \"$@\"\n",
		   c->id, commit, qcmd, commit, commit, qp, x->wl.name, x->duration, reps, x->clock, x->target,
		   x->vm_name, qm, qc, qa);
	free(qa);
	free(qc);
	free(qcmd);
	free(reps);
	chmod(path, 0755);
	free(path);
	free(qp);
	free(qm);
	free(pj);
	strv_free(&pols);
}

/* Per policy: the headline metric over valid runs. Printed, and kept as summary.json. */
static json_t *summarize_runs(struct ctx *c, json_t *runs)
{
	struct experiment *x = &c->x;
	const char **names = xmalloc(x->npol * sizeof(char *));
	for (size_t i = 0; i < x->npol; i++)
		names[i] = x->pol[i].name;
	json_t *out = summary_of_runs(runs, names, x->npol, x->wl.headline);
	free(names);
	fprintf(stderr, "\n%-10s %5s %14s %8s %14s %14s  %s\n", "policy", "runs", "mean", "CV", "min", "max",
		"vs cfs");
	for (size_t i = 0; i < x->npol; i++) {
		json_t *s = json_object_get(out, x->pol[i].name);
		size_t n = json_integer_value(json_object_get(s, "valid_runs"));
		size_t nbad = json_integer_value(json_object_get(s, "invalid_runs"));
		char ratio[32] = "";
		double q;
		if (summary_vs_cfs(out, x->pol[i].name, &q))
			snprintf(ratio, sizeof(ratio), "%+.1f%%", q * 100);
		if (n)
			fprintf(stderr, "%-10s %5zu %14.2f %7.1f%% %14.2f %14.2f  %s%s\n", x->pol[i].name, n,
				json_number_value(json_object_get(s, "mean")), json_number_value(json_object_get(s, "cv")) * 100,
				json_number_value(json_object_get(s, "min")), json_number_value(json_object_get(s, "max")), ratio,
				nbad ? " (some runs invalid)" : "");
		else
			fprintf(stderr, "%-10s %5zu %14s %8s %14s %14s  (%zu invalid)\n", x->pol[i].name, n, "-", "-", "-",
				"-", nbad);
	}
	fprintf(stderr, "(%s, %s; clock=%s, emulated guest: compare only within one result. "
		"Confidence intervals: analysis/.)\n", x->wl.headline, x->wl.name, x->clock);
	return out;
}

static bool assemble(struct ctx *c, const char *started)
{
	struct opts *o = c->o;
	struct experiment *x = &c->x;
	json_t *runs = json_array();
	size_t nvalid = 0;
	/* with PRECISION=, the guest may stop before the plan's last run: those were never due */
	char *stp = xasprintf("%s/guest/stopping.json", c->staging);
	json_t *stopping = load_json(stp);
	free(stp);
	size_t due = c->nruns;
	if (stopping && json_integer_value(json_object_get(stopping, "runs_done")) > 0)
		due = (size_t)json_integer_value(json_object_get(stopping, "runs_done"));
	for (size_t k = 0; k < due; k++) {
		const struct policy_def *p = &x->pol[experiment_run_policy(x, k)];
		char *dir = xasprintf("runs/%03zu-%s", k + 1, p->name);
		char *rj = xasprintf("%s/%s/run.json", c->staging, dir);
		json_t *run = load_json(rj);
		json_t *entry = json_pack("{s:I, s:s, s:s}", "index", (json_int_t)(k + 1), "policy", p->name, "dir", dir);
		if (!run) {
			json_object_set_new(entry, "valid", json_false());
			json_object_set_new(entry, "invalid_reasons",
					    json_pack("[s]", "the guest did not finish this run (no run.json)"));
		} else {
			json_object_set(entry, "valid", json_object_get(run, "valid"));
			json_object_set(entry, "invalid_reasons", json_object_get(run, "invalid_reasons"));
			json_object_set(entry, "ejected", json_object_get(run, "ejected"));
			json_object_set(entry, "ops_seen", json_object_get(run, "ops_seen"));
			json_t *h = json_object_get(json_object_get(run, "headline"), "value");
			if (h)
				json_object_set(entry, "headline_value", h);
			nvalid += json_is_true(json_object_get(run, "valid"));
			json_decref(run);
		}
		json_array_append_new(runs, entry);
		free(dir);
		free(rj);
	}
	if (!c->guest_done && !strcmp(x->target, "vm"))
		problem(c, "the guest stopped before it finished its plan; see raw/console.log");
	bool valid = nvalid == due && json_array_size(c->problems) == 0;

	char *gj = xasprintf("%s/guest/guest.json", c->staging);
	json_t *guest = load_json(gj);
	free(gj);
	if (!guest)
		guest = json_object();
	char *kver = xasprintf("%s/kernel-release", o->image), *krel = read_line_file(kver);
	const char *guest_rel = json_string_value(json_object_get(guest, "kernel_release"));
	if (!strcmp(x->target, "vm") && guest_rel && strcmp(guest_rel, krel))
		problem(c, "the guest ran kernel %s, not the image's %s", guest_rel, krel);

	char *git_head[] = { "git", "-c", "safe.directory=*", "-C", ".", "rev-parse", "HEAD", NULL };
	char *git_status[] = { "git", "-c", "safe.directory=*", "-C", ".", "status", "--porcelain",
			       "--untracked-files=no", NULL };
	char *commit = argv_output(git_head), *dirty = argv_output(git_status);
	struct utsname u;
	uname(&u);
	char *cpu = cpu_model();
	char *qemu_argv[] = { (char *)x->qemu, "-version", NULL };
	char *qemu_ver = argv_output(qemu_argv);
	qemu_ver[strcspn(qemu_ver, "\n")] = '\0';
	char *finished = iso_time_now();

	static const char *const image_pkgs[] = { "linux-image-", "linux-perf", "nginx", "wrk", "apache2", "rt-tests",
						  "stress-ng", "libbpf1", "bpftool", "libc6", NULL };
	static const char *const tool_pkgs[] = { "qemu-system-x86", "clang-", "libbpf-dev", "bpftool", "gcc-1", NULL };
	char *iv = xasprintf("%s/versions.txt", o->image);
	char *tv = xasprintf("%s/../versions.txt", getenv("TOOLS_ROOT") ? getenv("TOOLS_ROOT") : "/nonexistent");
	char *ivc = xasprintf("%s/image-versions.txt", c->raw), *tvc = xasprintf("%s/tools-versions.txt", c->raw);
	copy_file(iv, ivc, 0);
	copy_file(tv, tvc, 0);
	char *kcfg = xasprintf("%s/kconfig", o->image), kcfg_sha[65] = "";
	sha256_file(kcfg, kcfg_sha);

	json_t *vm = json_object();
	json_object_set_new(vm, "name", json_string(x->vm_name));
	json_object_set_new(vm, "vcpus", json_integer(x->vcpus));
	json_object_set_new(vm, "threads_per_core", json_integer(x->threads_per_core));
	json_object_set_new(vm, "memory_mb", json_integer(x->memory_mb));
	json_object_set_new(vm, "qemu", json_string(x->qemu));
	json_object_set_new(vm, "qemu_version", json_string(qemu_ver));
	json_object_set_new(vm, "cpu", json_string(x->cpu));
	json_object_set_new(vm, "kernel_cmdline", json_string(x->cmdline));
	json_object_set_new(vm, "image", json_string(o->image ? o->image : ""));

	json_t *factors = json_object(), *pl = json_array(), *order = json_array();
	for (size_t i = 0; i < x->npol; i++)
		json_array_append_new(pl, json_string(x->pol[i].name));
	for (size_t k = 0; k < c->nruns; k++)
		json_array_append_new(order, json_string(x->pol[experiment_run_policy(x, k)].name));
	const char *ksha = json_string_value(json_object_get(guest, "kconfig_sha256"));
	json_object_set_new(factors, "workload", json_string(x->wl.name));
	json_object_set_new(factors, "workload_params", section_object(&x->wl.cfg, "params"));
	json_object_set_new(factors, "headline_metric", json_string(x->wl.headline));
	json_object_set_new(factors, "policies", pl);
	json_object_set_new(factors, "policy_configs", policy_factors(x));
	json_object_set_new(factors, "run_order", order);
	json_object_set_new(factors, "duration_s", json_integer(x->duration));
	json_object_set_new(factors, "warmup_s", json_integer(x->warmup));
	json_object_set_new(factors, "repeats", json_integer(x->repeats));
	json_object_set_new(factors, "clock", json_string(x->clock));
	json_object_set_new(factors, "clock_qemu", json_pack("{s:s, s:s}", "accel", x->accel, "icount", x->icount));
	json_object_set_new(factors, "target", json_string(x->target));
	json_object_set_new(factors, "vm", vm);
	json_object_set_new(factors, "kernel_release", json_string(guest_rel ? guest_rel : krel));
	json_object_set_new(factors, "kconfig_sha256", json_string(ksha && *ksha ? ksha : kcfg_sha));
	json_t *mons = json_pack("[ssss]", "perf stat -a (software events)", "/proc/schedstat before/after",
				 "/sys/kernel/sched_ext before/after", "dmesg");
	struct strv extra = { 0 };
	strv_split_push(&extra, x->monitors);
	for (size_t i = 0; i < extra.n; i++)
		json_array_append_new(mons, json_string(extra.v[i]));
	strv_free(&extra);
	json_object_set_new(factors, "monitors", mons);
	if (x->has_tree) {
		json_t *tree = json_object(), *inst = json_array();
		json_object_set_new(tree, "name", json_string(x->tree.name));
		json_object_set_new(tree, "cpu_controller", json_boolean(x->tree.cpu_controller));
		json_t *nodes = json_object();
		for (size_t i = 0; i < x->tree.nnodes; i++)
			json_object_set_new(nodes, x->tree.nodes[i].path, json_integer(x->tree.nodes[i].weight));
		json_object_set_new(tree, "weights", nodes);
		for (size_t i = 0; i < x->tree.ninst; i++)
			json_array_append_new(inst, json_pack("{s:s, s:s, s:f}", "cgroup", x->tree.inst[i].cgroup, "params",
							      x->tree.inst[i].params, "entitled_share",
							      cgtree_entitled(&x->tree, i)));
		json_object_set_new(tree, "instances", inst);
		json_object_set_new(factors, "cgroups", tree);
	} else {
		json_object_set_new(factors, "cgroups", json_null());
	}

	json_t *reasons = json_array();
	json_array_extend(reasons, c->problems);
	size_t k;
	json_t *r;
	json_array_foreach(runs, k, r) {
		if (json_is_true(json_object_get(r, "valid")))
			continue;
		size_t j;
		json_t *why;
		json_array_foreach(json_object_get(r, "invalid_reasons"), j, why)
			json_array_append_new(reasons, json_sprintf("run %zu (%s): %s", k + 1,
				json_string_value(json_object_get(r, "policy")), json_string_value(why)));
	}
	json_t *summary = summarize_runs(c, runs);
	json_t *software = json_object();
	json_object_set_new(software, "git_commit", json_string(commit));
	json_object_set_new(software, "git_dirty", json_boolean(dirty[0] != '\0'));
	json_object_set_new(software, "image_packages", package_versions(iv, image_pkgs));
	json_object_set_new(software, "tools_packages", package_versions(tv, tool_pkgs));
	char *tools_dir = xasprintf("%s/..", getenv("TOOLS_ROOT") ? getenv("TOOLS_ROOT") : "/nonexistent");
	json_object_set_new(software, "lock_deviations", json_pack("{s:o, s:o}", "image", lock_deviations(o->image),
								   "tools", lock_deviations(tools_dir)));
	free(tools_dir);
	json_t *host = json_object();
	json_object_set_new(host, "kernel", json_string(u.release));
	json_object_set_new(host, "machine", json_string(u.machine));
	json_object_set_new(host, "cpu_model", json_string(cpu));
	json_object_set_new(host, "nproc", json_integer(sysconf(_SC_NPROCESSORS_ONLN)));
	json_t *times = json_object();
	json_object_set_new(times, "started", json_string(started));
	json_object_set_new(times, "finished", json_string(finished));
	json_object_set_new(times, "wall_s", json_real(mono_now() - c->t0));
	json_object_set_new(times, "boot_s", json_real(c->boot_s));

	json_t *m = json_object();
	json_object_set_new(m, "format", json_integer(1));
	json_object_set_new(m, "run_id", json_string(c->id));
	json_object_set_new(m, "valid", json_boolean(valid));
	json_object_set_new(m, "invalid_reasons", reasons);
	json_object_set_new(m, "command", json_string(o->command ? o->command : ""));
	json_object_set_new(m, "emulated", json_string(strcmp(x->target, "vm")
		? "no: ran on the host's own kernel"
		: "yes: QEMU TCG guest; absolute numbers are not those of real hardware"));
	json_object_set_new(m, "factors", factors);
	json_object_set_new(m, "guest", guest);
	json_object_set_new(m, "software", software);
	json_object_set_new(m, "host", host);
	json_object_set_new(m, "times", times);
	json_object_set(m, "summary", summary);
	json_object_set_new(m, "runs", runs);
	if (x->precision_pct > 0) {
		json_t *prec = json_pack("{s:f, s:I, s:I, s:I}", "target_halfwidth_pct", x->precision_pct, "min_repeats",
					 (json_int_t)x->min_repeats, "max_repeats", (json_int_t)x->repeats, "runs_done",
					 (json_int_t)due);
		json_object_set_new(prec, "stopped_because",
				    json_string(stopping ? "precision reached"
							 : "cap reached: MAX_REPEATS runs per policy without reaching the precision"));
		json_object_set_new(prec, "reached", json_boolean(stopping != NULL));
		if (stopping)
			json_object_set(prec, "halfwidth_pct", json_object_get(stopping, "halfwidth_pct"));
		json_object_set_new(m, "precision", prec);
		progress(c, "precision %s after %zu runs (target +-%g%% on each ratio to cfs)",
			 stopping ? "reached" : "NOT reached (cap hit)", due, x->precision_pct);
	}
	json_decref(stopping);
	char *mp = xasprintf("%s/manifest.json", c->staging), *sp = xasprintf("%s/summary.json", c->staging);
	if (json_dump_file(m, mp, JSON_INDENT(2)) || json_dump_file(summary, sp, JSON_INDENT(2)))
		die(EXIT_INFRA, "cannot write %s: %s", mp, errno_text(errno));
	write_reproduce(c, commit);
	if (!valid) {
		char *ip = xasprintf("%s/INVALID", c->staging);
		char *txt = json_dumps(reasons, JSON_INDENT(2));
		write_text(ip, "This result is invalid; do not use its numbers. Reasons:\n%s\n", txt);
		free(txt);
		free(ip);
	}
	json_decref(summary);
	json_decref(m);
	free(mp);
	free(sp);
	free(kcfg);
	free(iv);
	free(tv);
	free(ivc);
	free(tvc);
	free(finished);
	free(qemu_ver);
	free(cpu);
	free(commit);
	free(dirty);
	free(kver);
	free(krel);
	return valid;
}

static void usage(FILE *f)
{
	fputs("usage: scxlab run --policies \"P1 P2...\" --workload W [options]\n"
	      "       scxlab sweep --sweep NAME [--duration S] [--repeats N] [--clock C]\n"
	      "Runs each policy against the workload in one boot of the sched_ext guest, interleaved,\n"
	      "and writes one self-describing result directory (printed as the last line).\n\n"
	      "  --policies LIST   policies (configs/policies/NAME.ini), e.g. \"cfs fifo\"; separate with ';'\n"
	      "                    when one is external:/path/to/scheduler-binary [args]\n"
	      "  --policy P        one policy, taken whole (e.g. \"external:/usr/bin/scx_simple -v\")\n"
	      "  --monitors LIST   extra monitors, off by default: " EXTRA_MONITORS "\n"
	      "  --workload W      workload (configs/workloads/W.ini), e.g. nginx\n"
	      "  --duration S      seconds per measured run (default: the workload's config)\n"
	      "  --repeats N       runs per policy (default 1)\n"
	      "  --clock C         virtual (default; deterministic, QEMU -icount) or real (MTTCG)\n"
	      "  --target T        vm (default; boots the guest) or host (needs sched_ext here)\n"
	      "  --vm NAME         VM shape (configs/vms/NAME.ini, default: default)\n"
	      "  --precision PCT   add interleaved rounds until each ratio-to-cfs 95%% CI half-width is\n"
	      "                    within PCT percent (from 3 rounds on), at most --max-repeats (default 30)\n"
	      "  --params \"K=V..\" override the workload's [params] (recorded in the manifest)\n"
	      "  --cgroups TREE    run the workload's instances in a cgroup tree: configs/cgroups/TREE.ini,\n"
	      "                    or pair:DEPTH:RATIO (two instances, siblings at DEPTH, weights RATIO:1)\n"
	      "  --repo DIR --configs DIR --results DIR --build DIR --image DIR   locations\n"
	      "  --command STR     the user's command, recorded in the manifest as given\n"
	      "  --invoked-as CMD  instead of --command: record CMD (e.g. \"make experiment\") followed by the\n"
	      "                    values given, as VAR=value words quoted for a shell\n\n"
	      "Exit codes: 0 all runs valid; 1 some run invalid (e.g. the policy was ejected);\n"
	      "2 bad input (nothing ran, no result touched); 3 the target could not be prepared.\n",
	      f);
}

static int sweep_command(int argc, char **argv)
{
	struct sweep_opts o = { .repo = ".", .image = getenv("IMAGE_DIR") };
	static const struct option longopts[] = {
		{ "sweep", 1, 0, 's' },   { "repo", 1, 0, 'R' },    { "configs", 1, 0, 'C' },
		{ "results", 1, 0, 'r' }, { "image", 1, 0, 'i' },   { "command", 1, 0, 'm' },
		{ "duration", 1, 0, 'd' }, { "repeats", 1, 0, 'n' }, { "clock", 1, 0, 'c' },
		{ 0 } };
	int ch;
	optind = 2;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 's': o.name = optarg; break;
		case 'R': o.repo = optarg; break;
		case 'C': o.configs = optarg; break;
		case 'r': o.results = optarg; break;
		case 'i': o.image = optarg; break;
		case 'm': o.command = optarg; break;
		case 'd': o.duration = optarg; break;
		case 'n': o.repeats = optarg; break;
		case 'c': o.clock = optarg; break;
		default: die(EXIT_USAGE, "usage: scxlab sweep --sweep NAME [--duration S] [--repeats N] [--clock C] "
			     "[--results DIR] [--repo DIR]");
		}
	}
	if (!o.name || !*o.name) {
		char *names = config_names(xasprintf("%s/configs/sweeps", o.repo));
		die(EXIT_USAGE, "no sweep given (SWEEP=); choose from: %s", names);
	}
	if (!o.configs)
		o.configs = xasprintf("%s/configs", o.repo);
	if (!o.results)
		o.results = xasprintf("%s/results", o.repo);
	return sweep_main(&o);
}

int main(int argc, char **argv)
{
	struct opts o = { .repo = ".", .image = getenv("IMAGE_DIR") };
	static const struct option longopts[] = {
		{ "policies", 1, 0, 'p' }, { "workload", 1, 0, 'w' }, { "duration", 1, 0, 'd' },
		{ "repeats", 1, 0, 'n' },  { "clock", 1, 0, 'c' },    { "target", 1, 0, 't' },
		{ "vm", 1, 0, 'v' },       { "policy", 1, 0, 'P' },   { "monitors", 1, 0, 'M' },
		{ "cgroups", 1, 0, 'G' },  { "precision", 1, 0, 'X' }, { "max-repeats", 1, 0, 'Y' },
		{ "params", 1, 0, 'A' },
		{ "repo", 1, 0, 'R' },     { "configs", 1, 0, 'C' },  { "results", 1, 0, 'r' },
		{ "build", 1, 0, 'b' },    { "image", 1, 0, 'i' },    { "command", 1, 0, 'm' },
		{ "invoked-as", 1, 0, 'I' }, { "help", 0, 0, 'h' },   { 0 } };
	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : 0;
	}
	if (!strcmp(argv[1], "sweep"))
		return sweep_command(argc, argv);
	if (strcmp(argv[1], "run")) {
		usage(stderr);
		die(EXIT_USAGE, "unknown command '%s' (commands: run, sweep)", argv[1]);
	}
	int ch;
	const char *invoked_as = NULL;
	optind = 2;
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'p': o.req.policies = optarg; break;
		case 'w': o.req.workload = optarg; break;
		case 'd': o.req.duration = optarg; break;
		case 'n': o.req.repeats = optarg; break;
		case 'c': o.req.clock = optarg; break;
		case 't': o.req.target = optarg; break;
		case 'v': o.req.vm = optarg; break;
		case 'P': o.req.policy = optarg; break;
		case 'M': o.req.monitors = optarg; break;
		case 'G': o.req.cgroups = optarg; break;
		case 'A': o.req.params = optarg; break;
		case 'X': o.req.precision = optarg; break;
		case 'Y': o.req.max_repeats = optarg; break;
		case 'R': o.repo = optarg; break;
		case 'C': o.configs = optarg; break;
		case 'r': o.results = optarg; break;
		case 'b': o.build = optarg; break;
		case 'i': o.image = optarg; break;
		case 'm': o.command = optarg; break;
		case 'I': invoked_as = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind < argc)
		die(EXIT_USAGE, "unexpected argument '%s'", argv[optind]);
	if (invoked_as)
		o.command = request_command(invoked_as, &o.req);
	if (!o.configs)
		o.configs = xasprintf("%s/configs", o.repo);
	if (!o.results)
		o.results = xasprintf("%s/results", o.repo);
	if (!o.build)
		o.build = xasprintf("%s/build", o.repo);

	struct ctx c = { .o = &o, .t0 = mono_now(), .problems = json_array() };
	struct err e = { 0 };
	if (experiment_load(&c.x, o.configs, &o.req, &e))
		die(EXIT_USAGE, "%s", e.msg);
	c.nruns = experiment_nruns(&c.x);
	if (!strcmp(c.x.target, "host")) {
		struct utsname u;
		uname(&u);
		if (!is_dir(SCX_SYSFS))
			die(EXIT_USAGE, "TARGET=host needs a kernel with sched_ext, but this host's kernel %s has no %s "
			    "(CONFIG_SCHED_CLASS_EXT is off). Use TARGET=vm, the default, to run in the pinned guest.",
			    u.release, SCX_SYSFS);
	} else {
		static const char *const need[] = { "rootfs.ext4", "vmlinuz", "initrd.img", "kernel-release" };
		if (!o.image || !*o.image)
			die(EXIT_INFRA, "no guest image given (IMAGE_DIR or --image); run 'make setup'");
		for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++) {
			char *p = xasprintf("%s/%s", o.image, need[i]);
			if (!path_exists(p))
				die(EXIT_INFRA, "the guest image is missing %s; run 'make setup' to build it", p);
			free(p);
		}
	}
	char *wdir = xasprintf("%s/%s", o.repo, c.x.wl.dir);
	if (!is_dir(wdir))
		die(EXIT_USAGE, "workload %s: folder %s does not exist", c.x.wl.name, wdir);
	free(wdir);

	if (mkdir_p(o.results, 0755))
		die(EXIT_INFRA, "cannot create %s: %s", o.results, strerror(errno));
	const char **names = xmalloc(c.x.npol * sizeof(char *));
	for (size_t i = 0; i < c.x.npol; i++)
		names[i] = c.x.pol[i].name;
	c.id = results_new_id(o.results, c.x.wl.name, names, c.x.npol, (long long)time(NULL));
	free(names);
	c.staging = results_staging_path(o.results, c.id);
	c.raw = xasprintf("%s/raw", c.staging);
	if (mkdir(c.staging, 0755))
		die(EXIT_INFRA, "cannot create %s: %s", c.staging, errno_text(errno));
	dying = &c;
	set_die_hook(abandon_staging);
	if (mkdir_p(c.raw, 0755))
		die(EXIT_INFRA, "cannot create %s: %s", c.raw, errno_text(errno));

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);
	char *started = iso_time_now();
	progress(&c, "%s: %zu policies x %ld repeats on %s, %ld s each (+%ld s warm-up), target=%s, clock=%s",
		 c.id, c.x.npol, c.x.repeats, c.x.wl.name, c.x.duration, c.x.warmup, c.x.target, c.x.clock);
	build_job(&c);
	if (!strcmp(c.x.target, "vm"))
		run_vm(&c);
	else
		run_host(&c);
	if (interrupted)
		problem(&c, "interrupted by signal %d", (int)interrupted);
	/* A guest that never came up (QEMU failed to start, the boot deadline fired) is the
	 * infrastructure's failure, not the policy's: exit 3 (EXIT_INFRA), its INVALID result kept. */
	bool never_up = !c.boot_s && !interrupted;
	if (never_up)
		problem(&c, "the guest never came up: the target could not be booted (exit code 3)");

	remove_tree(c.jobdir);
	bool valid = assemble(&c, started);
	char *final = results_finalize(o.results, c.id, valid, &e);
	if (!final)
		die(EXIT_INFRA, "%s", e.msg);
	progress(&c, "%s after %.0f s", valid ? "done" : "done, but the result is INVALID", mono_now() - c.t0);
	printf("%s\n", final);
	free(final);
	free(started);
	experiment_free(&c.x);
	return valid ? EXIT_OK : never_up ? EXIT_INFRA : EXIT_INVALID_RUN;
}
