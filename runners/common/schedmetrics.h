/*
 * What the scheduler did during a measurement, from what the kernel counts (the schedstat
 * monitor, runners/guest/mon_schedstat.c, reads the texts; everything here is pure):
 *
 *   /proc/schedstat (version 15-17)   per CPU: sched_yield() calls, schedule() calls, idle
 *                                     picks, wakeups it performed (counted on the waker's CPU)
 *                                     and those that placed the task on that same CPU (local),
 *                                     time run and time waited on the runqueue (ns),
 *                                     timeslices; the same in every scheduling class
 *   /proc/stat                        per CPU: idle (+iowait) and total ticks (USER_HZ)
 *   /sys/kernel/sched_ext/root/events sched_ext's event counters ("SCX_EV_<NAME> <count>"),
 *                                     only while a sched_ext scheduler is loaded
 *   the agent's task list             per task (thread) of the workload: "tid starttime run_ns
 *                                     run_delay_ns timeslices comm", one line each, from
 *                                     /proc/PID/task/TID/{stat,schedstat}
 *
 * sm_summary() turns the texts before and after the measurement into run.json's
 * monitors.schedstat (deltas); sm_metrics() turns that summary into metrics in the metric
 * contract (name, unit, value, higher_is_better, null where a value describes but does not
 * rank); sm_jain() and sm_max_min() measure how evenly workload instances fared.
 */
#ifndef SCXLAB_SCHEDMETRICS_H
#define SCXLAB_SCHEDMETRICS_H
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "util.h"

/* PF_KTHREAD in /proc/PID/stat's flags: kernel threads are never the workload's. */
#define SM_PF_KTHREAD 0x00200000UL

/*
 * From the text of /proc/PID/stat (or /proc/PID/task/TID/stat): the command name (the text
 * between the first '(' and the last ')', copied into comm, at most len-1 bytes), flags and
 * starttime (clock ticks after boot). 0, or -1 when the text is not such a line.
 */
int sm_parse_task_stat(const char *text, char *comm, size_t len, unsigned long *flags,
		       unsigned long long *starttime);

/* From /proc/PID/schedstat's "run_ns run_delay_ns timeslices": 0, or -1 when malformed. */
int sm_parse_task_schedstat(const char *text, unsigned long long v[3]);

/*
 * run.json's monitors.schedstat from the texts before and after the measurement (events and
 * tasks may be NULL: no sched_ext scheduler loaded, no task list). NULL with e set when a
 * text is not what it should be (an unknown schedstat version, CPUs that differ, a counter that
 * went backwards). Tasks in the summary are those of the "after" list that ran at least one
 * timeslice during the measurement; a task not in the "before" list (the same tid and
 * starttime) was born during it and counts from zero.
 */
json_t *sm_summary(const char *schedstat0, const char *schedstat1, const char *procstat0, const char *procstat1,
		   const char *events0, const char *events1, const char *tasks0, const char *tasks1,
		   struct err *e);

/*
 * The metrics (a JSON array in the metric contract, names beginning "sched.") from a summary.
 * Counts are per unit of headline work when the headline is a rate ("req/s": per req, over
 * headline_value x measure_s units), else per second of the measurement.
 */
json_t *sm_metrics(json_t *summary, const char *headline_unit, double headline_value, double measure_s);

/* Jain's fairness index (sum x)^2 / (n sum x^2), in [1/n, 1]; -1 when n == 0 or every x is 0. */
double sm_jain(const double *x, size_t n);
/* max x / min x; -1 when n == 0 or min x <= 0. */
double sm_max_min(const double *x, size_t n);
/* The p-th percentile (0..100) of x[0..n), linear between closest ranks (numpy's default); x is sorted in place. */
double sm_percentile(double *x, size_t n, double p);

#endif
