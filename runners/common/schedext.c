#include "schedext.h"
#include "scxlab_exit.h"
#include "util.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void scx_read(const char *root, struct scx_status *s)
{
	memset(s, 0, sizeof(*s));
	s->present = is_dir(root);
	char *p = xasprintf("%s/state", root), *v = read_line_file(p);
	snprintf(s->state, sizeof(s->state), "%s", v);
	free(p);
	free(v);
	p = xasprintf("%s/root/ops", root);
	v = read_line_file(p);
	snprintf(s->ops, sizeof(s->ops), "%s", v);
	free(p);
	free(v);
}

bool scx_in_charge(const struct scx_status *s, const char *expected)
{
	if (!expected || !*expected)
		return !s->present || (!strcmp(s->state, "disabled") && !s->ops[0]);
	if (!strcmp(expected, SCX_ANY_OPS))
		return s->present && !strcmp(s->state, "enabled") && s->ops[0];
	return s->present && !strcmp(s->state, "enabled") && !strcmp(s->ops, expected);
}

const char *scx_describe(const struct scx_status *s, char *buf, int len)
{
	if (!s->present)
		snprintf(buf, len, "no sched_ext in this kernel");
	else
		snprintf(buf, len, "state=%s ops=%s", s->state[0] ? s->state : "?", s->ops[0] ? s->ops : "(none)");
	return buf;
}

static int snapshot_dir(const char *dir, const char *prefix, const char *out_dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		char *src = xasprintf("%s/%s", dir, de->d_name);
		if (is_dir(src)) {
			if (!prefix[0]) {
				char *pre = xasprintf("%s_", de->d_name);
				n += snapshot_dir(src, pre, out_dir);
				free(pre);
			}
		} else {
			char *dst = xasprintf("%s/%s%s", out_dir, prefix, de->d_name);
			if (copy_file(src, dst, 0) == 0)
				n++;
			free(dst);
		}
		free(src);
	}
	if (d)
		closedir(d);
	return n;
}

int scx_snapshot(const char *root, const char *out_dir)
{
	if (mkdir_p(out_dir, 0755))
		return 0;
	return snapshot_dir(root, "", out_dir);
}

/* scx_exit_reason() of the 7.3 kernel: the text in "disabled (...)" for each exit kind */
static const struct { const char *reason; int kind; } exit_reasons[] = {
	{ "unregistered from user space", SCXLAB_EXIT_UNREG },
	{ "unregistered from BPF", SCXLAB_EXIT_UNREG_BPF },
	{ "unregistered from the main kernel", SCXLAB_EXIT_UNREG_KERN },
	{ "disabled by sysrq-S", SCXLAB_EXIT_SYSRQ },
	{ "parent exiting", SCXLAB_EXIT_PARENT },
	{ "runtime error", SCXLAB_EXIT_ERROR },
	{ "scx_bpf_error", SCXLAB_EXIT_ERROR_BPF },
	{ "runnable task stall", SCXLAB_EXIT_ERROR_STALL },
};

int scx_kind_of_reason(const char *reason)
{
	for (size_t i = 0; i < sizeof(exit_reasons) / sizeof(exit_reasons[0]); i++)
		if (!strcmp(reason, exit_reasons[i].reason))
			return exit_reasons[i].kind;
	return -1;
}

bool scx_parse_disable(const char *line, struct scx_disable *d)
{
	static const char head[] = "sched_ext: BPF scheduler \"", mid[] = "\" disabled (";
	const char *h = strstr(line, head), *m = h ? strstr(h + strlen(head), mid) : NULL;
	const char *close = m ? strrchr(m, ')') : NULL;
	if (!close)
		return false;
	memset(d, 0, sizeof(*d));
	h += strlen(head);
	snprintf(d->ops, sizeof(d->ops), "%.*s", (int)(m - h), h);
	m += strlen(mid);
	snprintf(d->reason, sizeof(d->reason), "%.*s", (int)(close - m), m);
	d->kind = scx_kind_of_reason(d->reason);
	d->kind_name = d->kind < 0 ? "UNKNOWN" : scxlab_exit_kind_name(d->kind);
	d->ejected = d->kind < 0 || scxlab_exit_kind_ejected(d->kind);
	return true;
}
