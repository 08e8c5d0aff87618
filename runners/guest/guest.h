/*
 * The guest agent's private header: what its modules share. The agent (build/runners/scxlab-guest)
 * is built from every runners/guest .c file and runners/common; nothing here is used by the host runner.
 *
 *   main.c       arguments, the plan loop (and the stopping rule), heartbeat, loader pre-warming
 *   selfcheck.c  a selfcheck job: scxlab's host runner run inside the guest with TARGET=host,
 *                and what each inner run left behind on the machine
 *   init.c       PID 1 set-up (mounts, loopback), the boot's environment record, dmesg,
 *                the results disk, power-off, fatal errors, console events (say)
 *   run.c        one run of the plan: its steps in order, the clients, run.json
 *   workload.c   the workload's scripts: paths, environment, instance labels
 *   policy.c     loading the policy, watching it stay in charge, stopping it, the kernel's verdict
 *   cgroups.c    the run's cgroup tree: creation, removal, CPU usage, shares
 *   metrics.c    the run's metrics.json from its instances' (runners/common/instmetrics.c)
 *   marks.c      the measured window: the clients' marks (runners/common/window.h), the
 *                counters sampled at its ends, run.json's window and measure_s
 *   monitors.c   the table of monitors, starting and stopping them around the measurement
 *   mon_*.c      one monitor each (struct monitor)
 */
#ifndef SCXLAB_GUEST_H
#define SCXLAB_GUEST_H
#include <jansson.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "cgroups.h"
#include "config.h"
#include "protocol.h"
#include "util.h"
#include "window.h"

struct agent {
	struct cfg plan;
	char *job_dir;
	char *results;
	const char *results_disk;
	bool pid1;
	bool have_perf;
	char *kmsg_last;	/* not PID 1: the kernel log's last line at the previous read (take_dmesg) */
	long nruns, duration, warmup, drain, load_timeout;
};

#define MAX_MONITORS 16

/* One workload instance: its server and its client, in its cgroup when there is a tree. */
struct inst {
	int k;			/* 1-based */
	char *out;		/* its raw folder: the run's raw/ alone, raw/i<K>/ with several */
	char *cg;		/* its cgroup folder, NULL without a tree */
	const char *params;	/* "key=value ..." overrides of the workload's params */
	pid_t pid;
	int status;
	bool done;
	long long usage0, usage1;	/* cpu.stat usage_usec at the measured window's ends */
	int mark_fd;		/* the read end of its $SCXLAB_MARK FIFO, -1 when none */
	struct markbuf mark_buf;
	struct window win;	/* its window as marked (or its lifetime), seconds since the spawn */
	double exit_s;		/* when its client exited, seconds since the spawn */
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
	pid_t perf_pid;		/* the perf-stat monitor's perf: no workload task (mon_schedstat.c) */
	int loader_status;
	bool loader_reaped;
	bool ejected;
	bool left_charge;	/* the watcher saw the policy stop being in charge */
	const char *phase;	/* "load", "server start", "warm-up", "measurement", "teardown" */
	double phase_t0;
	bool root_cpu_added;	/* tree_make enabled the cpu controller at the cgroup root; tree_remove undoes it */
	bool marks;		/* the workload's clients mark their window ([workload] window = marks) */
	char *mark_dir;		/* the FIFOs' folder (outside raw/: a FIFO is no result) */
	double spawn_t;		/* mono_now() when the measured clients were spawned */
	struct window win;	/* the window the counters cover, seconds since the spawn */
	bool win_open, win_closed;
	double win_cost[2];	/* seconds the agent spent sampling at the window's start and end */
	bool mon_started[MAX_MONITORS];	/* per row of the monitor table */
	void *mon_state[MAX_MONITORS];
};

/*
 * A monitor: something recorded around every measurement (optional ones only when the plan's
 * MONITORS= names them). start() runs just before the measured clients, in table order; stop()
 * just after, in reverse order, and only for those whose start() returned true. stop() writes
 * what it keeps into the run's raw/ and returns its summary, which goes into run.json under
 * monitors.<summary> (NULL: nothing there). Every monitor is one row of the table in monitors.c.
 * A monitor that counts (rather than traces) takes its samples in window_start() and
 * window_end(), called at the measured window's ends (marks.c), both in table order, so that
 * each monitor samples at the same delay after either end and its counts span the window's
 * length; each is called at most once, and stop() copes with neither having run (a client
 * that never marked: the run is invalid then).
 */
struct monitor {
	const char *name;	/* the name MONITORS= takes (optional ones) or describes it */
	bool optional;		/* false: every run; true: only when MONITORS= names it */
	const char *raw;	/* what it writes into the run's raw/ (for readers of the code and docs) */
	const char *summary;	/* its key under run.json's "monitors", NULL when it has none */
	bool (*start)(struct run *r, void **state);
	json_t *(*stop)(struct run *r, void *state);
	void (*window_start)(struct run *r, void *state);	/* optional */
	void (*window_end)(struct run *r, void *state);		/* optional */
};
extern const struct monitor *const monitor_table[];
extern const size_t monitor_count;
bool monitor_on(struct agent *a, const char *name);
/* 0 when every word of a plan's monitors is an optional monitor of the table; else -1 naming it. */
int monitors_check(const char *words, struct err *e);
void monitors_start(struct run *r);
void monitors_stop(struct run *r);
void monitors_window(struct run *r, bool end);

/* init.c */
void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void power_off(struct agent *a, int code) __attribute__((noreturn));
void fatal(struct agent *a, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));
void flush_results(struct agent *a);
void reap_orphans(void);
void setup_pid1(void);
/* PID 1: the guest's wall clock and entropy from the job's boot-fresh.txt (the host's) */
void apply_boot_fresh(struct agent *a);
void capture_env(struct agent *a);
char *take_dmesg(struct agent *a);
/* Not PID 1: SIGINT, SIGTERM or SIGHUP asked the agent to stop; the run in flight ends with its
 * teardown (policy stopped, servers stopped, cgroups removed) and no further run starts. */
extern volatile sig_atomic_t agent_stop;

/* selfcheck.c: runs a selfcheck job's inner experiments (plan [selfcheck]); powers off */
void selfcheck_main(struct agent *a) __attribute__((noreturn));

/* run.c */
bool do_run(struct agent *a, int index, double *headline);
void invalid(struct run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
char *raw_path(struct run *r, const char *name);
void enter_phase(struct run *r, const char *phase);

/* workload.c */
/* The environment of a workload script (SCXLAB_*, WL_<PARAM>), into *env; the caller strv_free()s it. */
/* The environment of one instance's script: SCXLAB_OUT, _DURATION, _WORKLOAD_DIR, _INSTANCE (K),
 * _INSTANCES (how many run side by side) and the WL_<PARAM> values (the instance's overrides first). */
void workload_env(struct agent *a, const struct inst *in, size_t ninst, const char *out, long duration,
		  struct strv *env);
char *script_path(struct agent *a, const char *which);
int run_script(struct run *r, struct inst *in, const char *which, long duration, double timeout, const char *log);
const char *inst_label(struct run *r, struct inst *in, char *buf, size_t len);

/* policy.c */
bool start_policy(struct run *r);
bool still_in_charge(struct run *r);
void stop_policy(struct run *r);
void kernel_messages(struct run *r, const char *dmesg);

/* cgroups.c */
bool tree_make(struct run *r);
void tree_remove(struct run *r);
void tree_usage(struct run *r, bool after);
void record_shares(struct run *r);

/* marks.c */
void sampling_priority(struct run *r, pid_t pid, bool high);
void marks_open(struct run *r);
void marks_env(struct run *r, struct inst *in, struct strv *env);
void marks_poll(struct run *r, int timeout_ms);
void window_open(struct run *r);
void window_close(struct run *r);
void marks_finish(struct run *r, long duration);

/* metrics.c */
void take_metrics(struct run *r);

#endif
