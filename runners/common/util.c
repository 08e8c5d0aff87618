#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int errf(struct err *e, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (e)
		vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return -1;
}

static void (*die_hook)(int code, const char *msg);

void set_die_hook(void (*hook)(int code, const char *msg))
{
	die_hook = hook;
}

void die(int code, const char *fmt, ...)
{
	char msg[ERRLEN];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "scxlab: error: %s\n", msg);
	/* the hook runs once: if it dies itself, the second die() just exits */
	void (*hook)(int, const char *) = die_hook;
	die_hook = NULL;
	if (hook)
		hook(code, msg);
	exit(code);
}

const char *errno_text(int err)
{
	if (err == ENOSPC || err == EDQUOT)
		return "disk full (no space left on the device)";
	return strerror(err);
}

void *xmalloc(size_t n)
{
	void *p = calloc(1, n ? n : 1);
	if (!p)
		die(EXIT_INFRA, "out of memory");
	return p;
}

void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		die(EXIT_INFRA, "out of memory");
	return p;
}

char *xstrdup(const char *s)
{
	char *p = strdup(s ? s : "");
	if (!p)
		die(EXIT_INFRA, "out of memory");
	return p;
}

char *xvasprintf(const char *fmt, va_list ap)
{
	char *p;
	if (vasprintf(&p, fmt, ap) < 0)
		die(EXIT_INFRA, "out of memory");
	return p;
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *p = xvasprintf(fmt, ap);
	va_end(ap);
	return p;
}

double mono_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

char *iso_time_now(void)
{
	time_t t = time(NULL);
	struct tm tm;
	char buf[32];
	gmtime_r(&t, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return xstrdup(buf);
}

char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	size_t cap = 4096, n = 0;
	char *buf;
	if (!f)
		return NULL;
	buf = xmalloc(cap);
	for (;;) {
		size_t r = fread(buf + n, 1, cap - n - 1, f);
		n += r;
		if (r == 0)
			break;
		if (cap - n - 1 == 0) {
			cap *= 2;
			buf = xrealloc(buf, cap);
		}
	}
	if (ferror(f)) {
		int e = errno;
		fclose(f);
		free(buf);
		errno = e;
		return NULL;
	}
	fclose(f);
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

char *read_line_file(const char *path)
{
	char *s = read_file(path, NULL);
	if (!s)
		return xstrdup("");
	char *nl = strchr(s, '\n');
	if (nl)
		*nl = '\0';
	char *t = xstrdup(trim(s));
	free(s);
	return t;
}

int write_file(const char *path, const char *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	if (!f)
		return -1;
	if (fwrite(data, 1, len, f) != len) {
		fclose(f);
		return -1;
	}
	return fclose(f);
}

int write_text(const char *path, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = xvasprintf(fmt, ap);
	va_end(ap);
	int rc = write_file(path, s, strlen(s));
	free(s);
	return rc;
}

int copy_file(const char *from, const char *to, mode_t mode)
{
	size_t len;
	char *data = read_file(from, &len);
	int rc;
	if (!data)
		return -1;
	rc = write_file(to, data, len);
	free(data);
	if (rc == 0 && mode)
		rc = chmod(to, mode);
	return rc;
}

int mkdir_p(const char *path, mode_t mode)
{
	char *p = xstrdup(path);
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, mode) && errno != EEXIST) {
			free(p);
			return -1;
		}
		*s = '/';
	}
	int rc = mkdir(p, mode);
	free(p);
	return (rc && errno != EEXIST) ? -1 : 0;
}

bool path_exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

bool is_dir(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

char *trim(char *s)
{
	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r'))
		s[--n] = '\0';
	return s;
}

int rename_noreplace(const char *from, const char *to)
{
	return (int)syscall(SYS_renameat2, AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE);
}

pid_t spawn(char *const argv[], const char *out_path, char *const env_extra[], const char *cwd)
{
	return spawn_in(argv, out_path, env_extra, cwd, NULL);
}

pid_t spawn_in(char *const argv[], const char *out_path, char *const env_extra[], const char *cwd,
	       const char *cgroup_dir)
{
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid > 0)
		return pid;
	setpgid(0, 0);
	int in = open("/dev/null", O_RDONLY);
	if (in >= 0) {
		dup2(in, 0);
		close(in);
	}
	if (out_path) {
		int fd = open(out_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (fd < 0) {
			fprintf(stderr, "scxlab: cannot open %s: %s\n", out_path, strerror(errno));
			_exit(127);
		}
		dup2(fd, 1);
		dup2(fd, 2);
		close(fd);
	}
	if (cgroup_dir) {
		/* writing "0" moves the writer itself; children (daemons too) inherit the cgroup */
		char *procs = xasprintf("%s/cgroup.procs", cgroup_dir);
		if (write_text(procs, "0\n")) {
			fprintf(stderr, "scxlab: cannot enter cgroup %s: %s\n", cgroup_dir, strerror(errno));
			_exit(126);
		}
	}
	for (size_t i = 0; env_extra && env_extra[i]; i++)
		putenv(env_extra[i]);
	if (cwd && chdir(cwd)) {
		fprintf(stderr, "scxlab: cannot enter %s: %s\n", cwd, strerror(errno));
		_exit(127);
	}
	signal(SIGPIPE, SIG_DFL);
	execvp(argv[0], argv);
	fprintf(stderr, "scxlab: cannot run %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

int wait_timeout(pid_t pid, double timeout_s, bool *timed_out)
{
	double end = mono_now() + timeout_s;
	int status;
	if (timed_out)
		*timed_out = false;
	for (;;) {
		pid_t r = waitpid(pid, &status, timeout_s > 0 ? WNOHANG : 0);
		if (r == pid)
			return status;
		if (r < 0 && errno != EINTR)
			return -1;
		if (timeout_s > 0 && mono_now() > end) {
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			if (timed_out)
				*timed_out = true;
			return -1;
		}
		if (r == 0)
			usleep(20000);
	}
}

int exit_code_of(int status)
{
	if (status < 0)
		return -1;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return -1;
}

int run_cmd(char *const argv[], const char *out_path, char *const env_extra[], const char *cwd,
	    double timeout_s)
{
	return run_cmd_in(argv, out_path, env_extra, cwd, timeout_s, NULL);
}

int run_cmd_in(char *const argv[], const char *out_path, char *const env_extra[], const char *cwd,
	       double timeout_s, const char *cgroup_dir)
{
	pid_t pid = spawn_in(argv, out_path, env_extra, cwd, cgroup_dir);
	if (pid < 0)
		return -1;
	return exit_code_of(wait_timeout(pid, timeout_s, NULL));
}

void strv_push(struct strv *s, const char *str)
{
	if (s->n + 2 > s->cap) {
		s->cap = s->cap ? s->cap * 2 : 16;
		s->v = xrealloc(s->v, s->cap * sizeof(*s->v));
	}
	s->v[s->n++] = xstrdup(str);
	s->v[s->n] = NULL;
}

void strv_pushf(struct strv *s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *p = xvasprintf(fmt, ap);
	va_end(ap);
	strv_push(s, p);
	free(p);
}

void strv_split_push(struct strv *s, const char *words)
{
	char *copy = xstrdup(words), *save = NULL;
	for (char *w = strtok_r(copy, " \t\n", &save); w; w = strtok_r(NULL, " \t\n", &save))
		strv_push(s, w);
	free(copy);
}

bool has_word(const char *words, const char *word)
{
	struct strv w = { 0 };
	bool found = false;
	strv_split_push(&w, words ? words : "");
	for (size_t i = 0; i < w.n && !found; i++)
		found = !strcmp(w.v[i], word);
	strv_free(&w);
	return found;
}

void strv_free(struct strv *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	s->v = NULL;
	s->n = s->cap = 0;
}

char *strv_join(const struct strv *s, const char *sep)
{
	size_t len = 1;
	for (size_t i = 0; i < s->n; i++)
		len += strlen(s->v[i]) + strlen(sep);
	char *out = xmalloc(len);
	for (size_t i = 0; i < s->n; i++) {
		if (i)
			strcat(out, sep);
		strcat(out, s->v[i]);
	}
	return out;
}

char *shell_quote(const char *s)
{
	if (*s && strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-+=./:,@%") == strlen(s))
		return xstrdup(s);
	size_t n = 3;
	for (const char *p = s; *p; p++)
		n += (*p == '\'') ? 4 : 1;
	char *out = xmalloc(n), *o = out;
	*o++ = '\'';
	for (const char *p = s; *p; p++) {
		if (*p == '\'') {
			memcpy(o, "'\\''", 4);
			o += 4;
		} else {
			*o++ = *p;
		}
	}
	*o++ = '\'';
	*o = '\0';
	return out;
}

char *argv_output(char *const argv[])
{
	size_t cap = 256, n = 0;
	char *out = xmalloc(cap);
	int fds[2];
	if (pipe(fds))
		return out;
	pid_t pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return out;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);
		dup2(null, 0);
		dup2(fds[1], 1);
		dup2(null, 2);
		close(fds[0]);
		close(fds[1]);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(fds[1]);
	ssize_t got;
	for (;;) {
		if (n + 257 > cap)
			out = xrealloc(out, cap *= 2);
		got = read(fds[0], out + n, cap - n - 1);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		n += (size_t)got;
	}
	close(fds[0]);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	while (n && out[n - 1] == '\n')
		n--;
	out[n] = '\0';
	return out;
}
