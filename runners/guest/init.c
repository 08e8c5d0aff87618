/*
 * The agent's footing: PID 1 set-up in the guest (mounts, loopback, environment), the record
 * of this boot's environment (guest/env/, guest/guest.json), the kernel log, the results disk,
 * console events, and how the agent ends (power-off in the guest, exit on a host).
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/klog.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/random.h>

#include "guest.h"
#include "hostcheck.h"
#include "schedext.h"
#include "sha256.h"
#include "snapshot.h"

volatile sig_atomic_t agent_stop;

/* One console event (runners/common/protocol.h): fmt starts with its PROTO_ name. */
void say(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	proto_vemit(stdout, fmt, ap);
	va_end(ap);
}

void power_off(struct agent *a, int code)
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

void fatal(struct agent *a, const char *fmt, ...)
{
	char msg[ERRLEN];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	say(PROTO_FATAL " %s", msg);
	power_off(a, EXIT_INFRA);
	exit(EXIT_INFRA);
}

/* The whole results tree, as a tar on the raw results disk; read back by the host runner. */
void flush_results(struct agent *a)
{
	if (!a->results_disk)
		return;
	char *argv[] = { "tar", "-cf", (char *)a->results_disk, "-C", a->results, ".", NULL };
	int rc = run_cmd(argv, NULL, NULL, NULL, 120);
	sync();
	if (rc != 0)
		say(PROTO_WARNING " could not write results to %s (tar exit %d)", a->results_disk, rc);
}

void reap_orphans(void)
{
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
}

void setup_pid1(void)
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
			say(PROTO_WARNING " mount %s: %s", mounts[i].dst, strerror(errno));
	}
	/* Loopback up: the workloads' servers and clients talk over 127.0.0.1. */
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct ifreq ifr = { 0 };
	strcpy(ifr.ifr_name, "lo");
	if (fd < 0 || ioctl(fd, SIOCGIFFLAGS, &ifr) ||
	    (ifr.ifr_flags |= IFF_UP | IFF_RUNNING, ioctl(fd, SIOCSIFFLAGS, &ifr)))
		say(PROTO_WARNING " could not bring up lo: %s", strerror(errno));
	if (fd >= 0)
		close(fd);
	sethostname("scxlab-guest", 12);
	setenv("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", 1);
	setenv("HOME", "/root", 1);
	setenv("LANG", "C.UTF-8", 1);
}

/*
 * The host's clock and fresh random bytes (the job's boot-fresh.txt, written just before QEMU
 * started), taken before anything records a time or starts a process whose layout should be
 * random. A guest restored from a snapshot wakes with the snapshot's wall clock and the
 * kernel's random state of that moment, the same in every restore: without this, restored
 * guests would share ASLR layouts, hash seeds and TCP sequence numbers, and differences
 * between boots that cold boots sample would vanish from the runs' spread. The bytes are
 * mixed in and credited (they are the host's getrandom()), then the kernel reseeds its CRNG
 * at once instead of at its next scheduled reseed.
 */
void apply_boot_fresh(struct agent *a)
{
	char *p = xasprintf("%s/%s", a->job_dir, BOOT_FRESH_FILE), *text = read_file(p, NULL);
	struct {
		struct rand_pool_info info;
		unsigned char buf[BOOT_FRESH_BYTES];
	} pool = { 0 };
	struct timespec now;
	size_t n = 0;
	struct err e = { 0 };
	if (!text)
		fatal(a, "the job has no %s (%s): the guest's clock and randomness would be the boot's", BOOT_FRESH_FILE,
		      strerror(errno));
	if (boot_fresh_parse(text, &now, pool.buf, sizeof(pool.buf), &n, &e))
		fatal(a, "%s", e.msg);
	if (clock_settime(CLOCK_REALTIME, &now))
		fatal(a, "cannot set the guest's clock to the host's: %s", strerror(errno));
	pool.info.entropy_count = (int)(8 * n);
	pool.info.buf_size = (int)n;
	int fd = open("/dev/urandom", O_WRONLY);
	if (fd < 0 || ioctl(fd, RNDADDENTROPY, &pool.info) || ioctl(fd, RNDRESEEDCRNG))
		fatal(a, "cannot mix the job's random bytes into the kernel's pool: %s", strerror(errno));
	close(fd);
	free(text);
	free(p);
}

static void save_cmd_output(const char *out, const char *cmd)
{
	char *argv[] = { "/bin/sh", "-c", (char *)cmd, NULL };
	unlink(out);
	run_cmd(argv, out, NULL, NULL, 30);
}

/* The environment of this boot, recorded once: guest/env/ and guest/guest.json. */
void capture_env(struct agent *a)
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

/*
 * dmesg since the last call. As PID 1 of the guest the kernel log is cleared after each read;
 * on a host (not PID 1) it is the host's and stays as it was: the part after the last line the
 * previous read ended with is this call's (runners/common/hostcheck.h).
 */
char *take_dmesg(struct agent *a)
{
	int size = klogctl(10 /* SYSLOG_ACTION_SIZE_BUFFER */, NULL, 0);
	if (size <= 0)
		return xstrdup("");
	char *buf = xmalloc(size + 1);
	int n = klogctl(3 /* SYSLOG_ACTION_READ_ALL */, buf, size);
	buf[n > 0 ? n : 0] = '\0';
	if (a->pid1) {
		klogctl(5 /* SYSLOG_ACTION_CLEAR */, NULL, 0);
		return buf;
	}
	char *fresh = xstrdup(kmsg_since(buf, a->kmsg_last));
	free(a->kmsg_last);
	a->kmsg_last = kmsg_last_line(buf);
	free(buf);
	return fresh;
}

