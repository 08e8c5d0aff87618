#include "schedext.h"
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
