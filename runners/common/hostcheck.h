/*
 * What TARGET=host needs from a machine and what it must leave behind: the pure parts, under unit
 * tests (tests/unit/test_hostcheck.c). The host runner checks the needs before anything runs
 * (runners/host/scxlab.c); the agent reads the kernel log without clearing it and, in a selfcheck,
 * compares the machine's state before and after each inner run (runners/guest/selfcheck.c).
 */
#ifndef SCXLAB_HOSTCHECK_H
#define SCXLAB_HOSTCHECK_H
#include <jansson.h>
#include <stdbool.h>

#include "util.h"

/* Each word of programs that is not an executable file in a folder of path (a PATH value),
 * pushed onto missing in the order given. Returns how many are missing. */
size_t programs_missing(const char *programs, const char *path, struct strv *missing);

/*
 * The part of the kernel log now that is newer than what an earlier read saw (its last line,
 * last_line; NULL or "" on the first read: all of it). The log is never cleared on a host, so a
 * run's messages are those after the line the previous read ended with; when that line has
 * rotated out of the ring buffer, all of now is new. Returns a pointer into now.
 */
const char *kmsg_since(const char *now, const char *last_line);
/* The last non-empty line of a kernel log (for kmsg_since), a new string; "" when none. */
char *kmsg_last_line(const char *log);

/*
 * The state of a machine that an scxlab run may touch and must give back, taken before and after
 * a run: /sys/kernel/sched_ext/state, whether /sys/fs/cgroup/scxlab exists, the root cgroup's
 * subtree_control, "name=value" lines of the sysctls the runs could change (kernel.sched_*,
 * kernel.sysrq, kernel.perf_event_paranoid, kernel.printk, kernel.bpf_stats_enabled), and the processes scxlab starts that still run
 * (names from HOST_PROCESS_NAMES).
 */
struct host_state {
	char *scx_state;
	bool scxlab_cgroup;
	char *subtree_control;
	char *sysctls;
	char *processes;	/* "name[pid] ..." of leftover processes, "" when none */
};
/* The programs a run starts that must not outlive it (servers, clients, loads; the vm workload's and
 * TARGET=vm's QEMU, whose name the kernel cuts to 15 characters). */
#define HOST_PROCESS_NAMES "nginx apache2 wrk cyclictest stress-ng hackbench perf qemu-system-x86"
void host_state_free(struct host_state *s);
/* What after shows that a run left behind compared with before, one sentence each, as a JSON array
 * (empty: the machine is as it was): a sched_ext scheduler attached, the scxlab cgroup, a changed
 * root subtree_control or sysctl, leftover processes. */
json_t *host_leftovers(const struct host_state *before, const struct host_state *after);

#endif
