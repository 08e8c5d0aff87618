#include "hostcheck.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

size_t programs_missing(const char *programs, const char *path, struct strv *missing)
{
	struct strv words = { 0 }, dirs = { 0 };
	strv_split_push(&words, programs ? programs : "");
	char *p = xstrdup(path ? path : ""), *save = NULL;
	for (char *d = strtok_r(p, ":", &save); d; d = strtok_r(NULL, ":", &save))
		strv_push(&dirs, d);
	free(p);
	size_t n = 0;
	for (size_t i = 0; i < words.n; i++) {
		bool found = false;
		for (size_t k = 0; k < dirs.n && !found; k++) {
			char *f = xasprintf("%s/%s", dirs.v[k], words.v[i]);
			struct stat st;
			found = !stat(f, &st) && S_ISREG(st.st_mode) && !access(f, X_OK);
			free(f);
		}
		if (!found) {
			strv_push(missing, words.v[i]);
			n++;
		}
	}
	strv_free(&words);
	strv_free(&dirs);
	return n;
}

const char *kmsg_since(const char *now, const char *last_line)
{
	if (!now)
		return "";
	if (!last_line || !*last_line)
		return now;
	size_t len = strlen(last_line);
	const char *found = NULL;
	/* the last whole line equal to last_line: the log's lines carry timestamps, so it is the one read */
	for (const char *l = now; *l;) {
		const char *nl = strchr(l, '\n');
		size_t n = nl ? (size_t)(nl - l) : strlen(l);
		if (n == len && !strncmp(l, last_line, len))
			found = nl ? nl + 1 : l + n;
		if (!nl)
			break;
		l = nl + 1;
	}
	return found ? found : now;
}

char *kmsg_last_line(const char *log)
{
	const char *best = NULL;
	size_t best_n = 0;
	for (const char *l = log ? log : ""; *l;) {
		const char *nl = strchr(l, '\n');
		size_t n = nl ? (size_t)(nl - l) : strlen(l);
		if (n) {
			best = l;
			best_n = n;
		}
		if (!nl)
			break;
		l = nl + 1;
	}
	return best ? xasprintf("%.*s", (int)best_n, best) : xstrdup("");
}

void host_state_free(struct host_state *s)
{
	free(s->scx_state);
	free(s->subtree_control);
	free(s->sysctls);
	free(s->processes);
	memset(s, 0, sizeof(*s));
}

/* "name=value" lines of a that are absent from b, or differ there: appended to out as sentences. */
static void sysctl_changes(const char *before, const char *after, json_t *out)
{
	char *a = xstrdup(after ? after : ""), *save = NULL;
	for (char *l = strtok_r(a, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char *eq = strchr(l, '=');
		if (!eq)
			continue;
		size_t klen = (size_t)(eq - l) + 1;
		const char *b = before ? before : "";
		const char *was = NULL;
		for (const char *q = b; *q;) {
			const char *nl = strchr(q, '\n');
			if (!strncmp(q, l, klen))
				was = q;
			if (!nl)
				break;
			q = nl + 1;
		}
		size_t wlen = was ? strcspn(was, "\n") : 0;
		if (!was || wlen != strlen(l) || strncmp(was, l, wlen))
			json_array_append_new(out, json_sprintf("sysctl %.*s is %s, was %.*s", (int)(klen - 1), l, eq + 1,
								was ? (int)(wlen - klen) : 9, was ? was + klen : "(not set)"));
	}
	free(a);
}

json_t *host_leftovers(const struct host_state *before, const struct host_state *after)
{
	json_t *out = json_array();
	if (strcmp(after->scx_state ? after->scx_state : "", "disabled"))
		json_array_append_new(out, json_sprintf("/sys/kernel/sched_ext/state is '%s', not 'disabled': a "
							"sched_ext scheduler is still attached", after->scx_state ?: ""));
	if (after->scxlab_cgroup && !before->scxlab_cgroup)
		json_array_append_new(out, json_string("the cgroup /sys/fs/cgroup/scxlab is left behind"));
	if (strcmp(before->subtree_control ?: "", after->subtree_control ?: ""))
		json_array_append_new(out, json_sprintf("the root cgroup's subtree_control is '%s', was '%s'",
							after->subtree_control ?: "", before->subtree_control ?: ""));
	sysctl_changes(before->sysctls, after->sysctls, out);
	if (after->processes && *after->processes)
		json_array_append_new(out, json_sprintf("processes still running: %s", after->processes));
	return out;
}
