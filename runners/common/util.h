/* Small helpers shared by the host runner and the guest agent: errors, files, processes. */
#ifndef SCXLAB_UTIL_H
#define SCXLAB_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Exit codes of every scxlab program: a script can tell bad input from a bad run. */
enum scxlab_exit {
	EXIT_OK = 0,
	EXIT_INVALID_RUN = 1,	/* ran, but a run is invalid (policy ejected, workload failed, ...) */
	EXIT_USAGE = 2,		/* bad input: nothing was run, no result was touched */
	EXIT_INFRA = 3,		/* the target could not be prepared or booted */
};

/* An error message buffer that functions fill when they return -1. */
#define ERRLEN 1024
struct err { char msg[ERRLEN]; };
int errf(struct err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

void die(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));
/* Called once by die() with its code and message before the program exits: the place to leave
 * nothing half-made behind (e.g. a staging folder). */
void set_die_hook(void (*hook)(int code, const char *msg));
/* strerror, except that a full disk or quota is called "disk full". */
const char *errno_text(int err);
void *xmalloc(size_t n);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *xvasprintf(const char *fmt, va_list ap);

double mono_now(void);		/* seconds, CLOCK_MONOTONIC */
char *iso_time_now(void);	/* UTC, ISO 8601, caller frees */

/* Whole-file I/O. read_file returns NULL (errno set) on failure; the buffer is NUL-terminated. */
char *read_file(const char *path, size_t *len);
/* First line of a small file, trimmed; "" when the file does not exist. Caller frees. */
char *read_line_file(const char *path);
int write_file(const char *path, const char *data, size_t len);
int write_text(const char *path, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int copy_file(const char *from, const char *to, mode_t mode);
int mkdir_p(const char *path, mode_t mode);
bool path_exists(const char *path);
bool is_dir(const char *path);
char *trim(char *s);

/* Rename that refuses to replace an existing target (RENAME_NOREPLACE). */
int rename_noreplace(const char *from, const char *to);

/*
 * Processes. spawn() starts argv[0] (searched in PATH) with stdin from /dev/null and
 * stdout+stderr appended to out_path (or inherited when out_path is NULL). env_extra is a
 * NULL-terminated list of "NAME=value" added to the environment, may be NULL.
 */
pid_t spawn(char *const argv[], const char *out_path, char *const env_extra[], const char *cwd);
/* The same, with the child first moved into the cgroup v2 folder cgroup_dir (NULL: stay). */
pid_t spawn_in(char *const argv[], const char *out_path, char *const env_extra[], const char *cwd,
	       const char *cgroup_dir);
/* Waits up to timeout_s (<=0: forever); kills the process group on timeout. Returns the
 * exit status as from waitpid, or -1 on timeout (then *timed_out is set). */
int wait_timeout(pid_t pid, double timeout_s, bool *timed_out);
/* spawn + wait; returns the exit code (128+signal when killed, -1 on timeout/spawn error). */
int run_cmd(char *const argv[], const char *out_path, char *const env_extra[], const char *cwd,
	    double timeout_s);
int run_cmd_in(char *const argv[], const char *out_path, char *const env_extra[], const char *cwd,
	       double timeout_s, const char *cgroup_dir);
int exit_code_of(int status);
/* stdout of a program run with argv (no shell; stderr discarded), trailing newlines removed;
 * "" on failure. Caller frees. */
char *argv_output(char *const argv[]);

/* A growable NULL-terminated string vector, for argv and env lists. */
struct strv { char **v; size_t n, cap; };
void strv_push(struct strv *s, const char *str);
void strv_pushf(struct strv *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void strv_split_push(struct strv *s, const char *words);	/* whitespace-separated words */
bool has_word(const char *words, const char *word);	/* word is one of those words (NULL: none) */
void strv_free(struct strv *s);
char *strv_join(const struct strv *s, const char *sep);
/* Shell-quote one word (for reproduce.sh and logs). Caller frees. */
char *shell_quote(const char *s);

#endif
