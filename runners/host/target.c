/*
 * Starting the target and following it. TARGET=vm: packs the job into a tar (the guest's second
 * disk), makes an empty results disk (the third), boots QEMU (runners/common/qemu.c builds its
 * command line, kept as raw/qemu-command.txt) and unpacks what the guest wrote. TARGET=host:
 * runs the agent directly. Either way the child's console goes line by line to raw/console.log
 * and to the progress parser, and the child is stopped when a deadline passes (counted at the
 * guest's pace, runners/common/outcome.h) or the user interrupts.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "host.h"
#include "outcome.h"
#include "qemu.h"
#include "util.h"

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
 * (deadline_passed), or when the user interrupts: SIGTERM to its process group, and SIGKILL
 * grace_s seconds later if it still runs (QEMU needs no time; the agent on a host uses it to
 * tear the run in flight down and leave the host as it found it). Returns the child's exit code.
 */
static int follow(struct ctx *c, char *const argv[], double boot_budget, double run_budget, double silence_s,
		  double grace_s)
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
	bool eof = false, stopped = false, killed = false;
	double stop_at = 0;
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
				if (!nl)	/* a full buffer and no newline: pass it on whole (buf keeps a spare byte) */
					nl = buf + have;
				*nl = '\0';
				for (char *q = start; *q; q++)
					if (*q == '\r')
						*q = ' ';
				if (log)
					fprintf(log, "[%9.3f] %s\n", mono_now() - c->t0, start);
				on_guest_line(c, trim(start));
				start = nl < buf + have ? nl + 1 : nl;
			}
			have -= start - buf;
			memmove(buf, start, have);
			if (log)
				fflush(log);
		}
		double el = mono_now() - c->t0;
		if (stopped) {
			if (!killed && el - stop_at > grace_s) {
				kill(-pid, SIGKILL);
				killed = true;
			}
			continue;
		}
		char whybuf[ERRLEN];
		const char *why = NULL;
		if (interrupted)
			why = "interrupted by the user";
		else if (c->emulator_fatal[0]) {
			snprintf(whybuf, sizeof(whybuf), "the guest crashed under the accelerator: QEMU said \"%s\" and "
				 "paused it (KVM could not run the guest's code; a kvm-pvm /dev/kvm does this with a standard "
				 "kernel); try ACCEL=tcg", c->emulator_fatal);
			why = whybuf;
		} else
			why = deadline_passed(c, pid, el, boot_budget, run_budget, silence_s, whybuf, sizeof(whybuf));
		if (why) {
			problem(c, "%s (after %.0f s); stopped it", why, el);
			kill(-pid, SIGTERM);
			stopped = true;
			stop_at = el;
		}
	}
	close(fds[0]);
	if (log)
		fclose(log);
	int status;
	waitpid(pid, &status, 0);
	return exit_code_of(status);
}

/* An empty results disk of the VM config's size (also the one a cold retry starts from). */
static void results_disk_create(struct ctx *c, const char *resdisk)
{
	FILE *rf = fopen(resdisk, "w");
	if (!rf || ftruncate(fileno(rf), (off_t)c->x.results_disk_mb << 20) || fclose(rf))
		die(EXIT_INFRA, "cannot create the results disk %s: %s", resdisk, errno_text(errno));
}

/* The job's boot-fresh.txt (runners/common/snapshot.h): the host's clock and random bytes, the
 * last thing written into the job before it is packed. */
static void job_boot_fresh(struct ctx *c)
{
	unsigned char bytes[BOOT_FRESH_BYTES];
	struct timespec now;
	if (getrandom(bytes, sizeof(bytes), 0) != (ssize_t)sizeof(bytes) || clock_gettime(CLOCK_REALTIME, &now))
		die(EXIT_INFRA, "cannot take random bytes or the time for the guest: %s", errno_text(errno));
	char *text = boot_fresh_text(&now, bytes, sizeof(bytes)), *p = xasprintf("%s/%s", c->jobdir, BOOT_FRESH_FILE);
	if (write_file(p, text, strlen(text)))
		die(EXIT_INFRA, "cannot write %s: %s", p, errno_text(errno));
	free(text);
	free(p);
}

/* One start of QEMU (cold, or restoring snap), followed to its end; its exit code. */
static int boot_once(struct ctx *c, const char *initrd, const char *jobtar, const char *resdisk,
		     const struct qemu_snap *snap)
{
	struct experiment *x = &c->x;
	struct strv a = { 0 };
	qemu_argv(x, c->o->image, initrd, jobtar, resdisk, snap, &a);
	if (c->nested_rootfs) {	/* /dev/vdd in the guest; snapshot=on: the image stays as it is */
		strv_push(&a, "-drive");
		strv_pushf(&a, "file=%s,if=virtio,format=raw,snapshot=on", c->nested_rootfs);
	}
	char *line = strv_join(&a, " ");
	char *qp = xasprintf("%s/qemu-command.txt", c->raw);
	write_text(qp, "%s\n", line);
	free(qp);
	free(line);

	c->target_started = true;
	double per_run = (x->warmup + x->duration) * 3.0 + (x->warmup > 0 ? x->wl.drain : 0) + 180;
	progress(c, "booting the guest%s%s: %ld vCPU, %ld MiB, clock=%s (%s%s%s)", snap ? " from snapshot " : "",
		 snap ? c->snapshot_key : "", x->vcpus, x->memory_mb, x->clock, x->accel, *x->icount ? ", icount " : "",
		 x->icount);
	/* budgets at the guest's pace; a guest silent for longer than a boot may take is stuck */
	double silence = x->boot_timeout > 300 ? x->boot_timeout : 300;
	int rc = follow(c, a.v, x->boot_timeout, per_run * c->nruns + c->extra_run_budget_s, silence, 0.5);
	strv_free(&a);
	return rc;
}

/* Keeps a failed restore's console and command line beside the cold boot's, as *-restore.*. */
static void keep_restore_records(struct ctx *c)
{
	static const char *const names[][2] = { { "console.log", "console-restore.log" },
						{ "qemu-command.txt", "qemu-command-restore.txt" } };
	for (size_t i = 0; i < 2; i++) {
		char *from = xasprintf("%s/%s", c->raw, names[i][0]), *to = xasprintf("%s/%s", c->raw, names[i][1]);
		rename(from, to);
		free(from);
		free(to);
	}
}

void run_vm(struct ctx *c)
{
	struct opts *o = c->o;
	struct experiment *x = &c->x;
	char *jobtar = xasprintf("%s/.job.tar", c->staging), *resdisk = xasprintf("%s/.results.img", c->staging);
	job_boot_fresh(c);
	char *tar_argv[] = { "tar", "-cf", jobtar, "-C", c->jobdir, ".", NULL };
	char *tarlog = xasprintf("%s/.tar.log", c->staging);
	if (run_cmd(tar_argv, tarlog, NULL, NULL, 120)) {
		char *why = read_line_file(tarlog);
		die(EXIT_INFRA, "cannot pack the job into %s: %s", jobtar,
		    strstr(why, "No space left") ? errno_text(ENOSPC) : *why ? why : "tar failed");
	}
	unlink(tarlog);
	free(tarlog);
	results_disk_create(c, resdisk);

	char *initrd = !strcmp(x->initrd, "image") ? xasprintf("%s/initrd.img", o->image)
						    : xasprintf("%s/kernel/initramfs.img", o->build);
	if (!path_exists(initrd))
		die(EXIT_INFRA, "the initrd %s is missing; run 'make build' (it is built from the image)", initrd);
	struct qemu_snap snap = { 0 };
	bool restoring = snapshot_prepare(c, initrd, jobtar, &snap);
	size_t problems_before = json_array_size(c->problems);
	int rc = boot_once(c, initrd, jobtar, resdisk, restoring ? &snap : NULL);
	if (restoring && !c->boot_s && !interrupted) {
		/* The restored guest never said it was up (QEMU refused the state, or it hung): boot cold,
		 * as if the snapshot had not been there. What the attempt recorded stays in raw/ as
		 * *-restore.*; its problems are not the experiment's, so they leave the list, and the
		 * manifest's times.boot_path_why says what happened. */
		char why[ERRLEN];
		snprintf(why, sizeof(why), "QEMU exited with code %d", rc);
		if (json_array_size(c->problems) > problems_before)
			snprintf(why, sizeof(why), "%s", json_string_value(json_array_get(c->problems, problems_before)));
		while (json_array_size(c->problems) > problems_before)
			json_array_remove(c->problems, problems_before);
		keep_restore_records(c);
		snapshot_abandon(c, &snap, jobtar, why);
		progress(c, "booting cold: %s", c->boot_path_why);
		memset(&c->boot_pace, 0, sizeof(c->boot_pace));
		memset(&c->run_pace, 0, sizeof(c->run_pace));
		results_disk_create(c, resdisk);
		restoring = false;
		rc = boot_once(c, initrd, jobtar, resdisk, NULL);
	}
	if (restoring) {
		unlink(snap.overlay);
		free((char *)snap.overlay);
		free((char *)snap.incoming);
	}
	free(initrd);
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

void run_host(struct ctx *c)
{
	char *agent = xasprintf("%s/bin/scxlab-guest", c->jobdir), *plan = xasprintf("%s/plan.ini", c->jobdir);
	char *argv[] = { agent, "--plan", plan, "--results-dir", c->staging, NULL };
	progress(c, "running on this host's kernel (TARGET=host)");
	c->target_started = true;
	c->boot_s = 0.001;
	/* the agent's teardown after SIGTERM: the loader's 15 s to exit, the servers' stop scripts */
	int rc = follow(c, argv, 1e9, 1e9, 1e9, 60);
	if (rc != 0 && rc != EXIT_INVALID_RUN)
		problem(c, "the agent exited with code %d; see raw/console.log", rc);
	free(agent);
	free(plan);
}
