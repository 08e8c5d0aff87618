/*
 * The host's fingerprint: what about the machine can move a result (CPU model and flags,
 * microcode, frequency governor, SMT, transparent huge pages, scheduler sysctls, the kernel
 * command line, isolated CPUs) and how busy it was (load average, other runnable processes at
 * the start and at the end). Recorded in manifest.json "host" (runners/host/manifest.c); the
 * analysis refuses to pool results whose fingerprints differ (analysis/compare.py).
 *
 * The parsers take file text and touch nothing; the collectors read files in C (no shell)
 * under a root folder ("" for the real machine, a scratch folder in the unit tests).
 */
#ifndef SCXLAB_FINGERPRINT_H
#define SCXLAB_FINGERPRINT_H
#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

/* The value of the first "key<spaces>: value" line of /proc/cpuinfo text, trimmed; NULL when no
 * line has that key. Caller frees. */
char *fp_cpuinfo_field(const char *cpuinfo, const char *key);
/* The whitespace-separated words of text as a JSON array of strings, in their order. */
json_t *fp_words(const char *text);
/* sha256 (hex) of the words of a flags list joined by single spaces, into out[65]. */
void fp_words_sha256(json_t *words, char out[65]);
/* The bracketed choice of a sysfs choice file ("always [madvise] never" -> "madvise"); NULL when
 * there is none. Caller frees. */
char *fp_bracketed(const char *text);
/* /proc/loadavg text -> its 1, 5 and 15 minute averages; -1 when malformed. */
int fp_loadavg(const char *text, double avg[3]);
/* /proc/PID/stat text -> the process's state letter (the field after the last ')'); 0 when
 * malformed (a command name may hold spaces and parentheses). */
char fp_stat_state(const char *text);
/* Adds value to a sorted set of distinct strings (a JSON array), for per-CPU values such as the
 * frequency governor. */
void fp_set_add(json_t *set, const char *value);

/* How busy the machine was at one moment. */
struct fp_sample {
	bool have_loadavg;
	double loadavg[3];	/* /proc/loadavg: 1, 5, 15 minutes */
	long busy;		/* processes in state R other than exclude_pid; -1 when /proc is unreadable */
};
void fp_sample_take(const char *root, pid_t exclude_pid, struct fp_sample *s);
/* A sample as JSON: {"loadavg": [1, 5, 15] or null, "busy_processes": N or null}. */
json_t *fp_sample_json(const struct fp_sample *s);

/* Adds the machine's fingerprint fields to host (manifest.json "host"; the schema's rows). */
void fp_host(const char *root, json_t *host);
#endif
