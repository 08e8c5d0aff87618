#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <ini.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

struct load_ctx {
	struct cfg *c;
	struct err *e;
	int failed;
};

static int on_entry(void *user, const char *section, const char *key, const char *value)
{
	struct load_ctx *ctx = user;
	if (cfg_get(ctx->c, section, key)) {
		errf(ctx->e, "%s: [%s] %s is given twice", ctx->c->path, section, key);
		ctx->failed = 1;
		return 0;
	}
	cfg_set(ctx->c, section, key, value);
	return 1;
}

int cfg_load(struct cfg *c, const char *path, struct err *e)
{
	struct load_ctx ctx = { .c = c, .e = e };
	memset(c, 0, sizeof(*c));
	c->path = xstrdup(path);
	int rc = ini_parse(path, on_entry, &ctx);
	if (rc == -1)
		return errf(e, "cannot read config %s: %s", path, strerror(errno));
	if (ctx.failed)
		return -1;
	if (rc > 0)
		return errf(e, "%s:%d: not a valid INI line (expected 'key = value' or '[section]')", path, rc);
	if (rc < 0)
		return errf(e, "cannot parse config %s", path);
	return 0;
}

void cfg_free(struct cfg *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->v[i].section);
		free(c->v[i].key);
		free(c->v[i].value);
	}
	free(c->v);
	free(c->path);
	memset(c, 0, sizeof(*c));
}

void cfg_set(struct cfg *c, const char *section, const char *key, const char *value)
{
	for (size_t i = 0; i < c->n; i++) {
		if (!strcmp(c->v[i].section, section) && !strcmp(c->v[i].key, key)) {
			free(c->v[i].value);
			c->v[i].value = xstrdup(value);
			return;
		}
	}
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 32;
		c->v = xrealloc(c->v, c->cap * sizeof(*c->v));
	}
	c->v[c->n].section = xstrdup(section);
	c->v[c->n].key = xstrdup(key);
	c->v[c->n].value = xstrdup(value);
	c->n++;
}

const char *cfg_get(const struct cfg *c, const char *section, const char *key)
{
	for (size_t i = 0; i < c->n; i++)
		if (!strcmp(c->v[i].section, section) && !strcmp(c->v[i].key, key))
			return c->v[i].value;
	return NULL;
}

bool cfg_has_section(const struct cfg *c, const char *section)
{
	for (size_t i = 0; i < c->n; i++)
		if (!strcmp(c->v[i].section, section))
			return true;
	return false;
}

int cfg_require(const struct cfg *c, const char *section, const char *key, const char **out, struct err *e)
{
	const char *v = cfg_get(c, section, key);
	if (!v || !*v)
		return errf(e, "%s: [%s] %s is required", c->path ? c->path : "config", section, key);
	*out = v;
	return 0;
}

int parse_long(const char *s, long min, long max, const char *what, long *out, struct err *e)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (!*s || *end || errno)
		return errf(e, "%s = '%s' is not a whole number (expected %ld to %ld)", what, s, min, max);
	if (v < min || v > max)
		return errf(e, "%s = %ld is out of range (expected %ld to %ld)", what, v, min, max);
	*out = v;
	return 0;
}

int cfg_get_long(const struct cfg *c, const char *section, const char *key, long def, long min, long max,
		 long *out, struct err *e)
{
	const char *v = cfg_get(c, section, key);
	if (!v || !*v) {
		*out = def;
		return 0;
	}
	char what[256];
	snprintf(what, sizeof(what), "%s: [%s] %s", c->path ? c->path : "config", section, key);
	return parse_long(v, min, max, what, out, e);
}

int cfg_get_choice(const struct cfg *c, const char *section, const char *key, const char *def,
		   const char *choices, const char **out, struct err *e)
{
	const char *v = cfg_get(c, section, key);
	if (!v || !*v)
		v = def;
	size_t n = strlen(v);
	for (const char *p = choices; p && *p;) {
		const char *bar = strchr(p, '|');
		size_t len = bar ? (size_t)(bar - p) : strlen(p);
		if (len == n && !strncmp(p, v, n)) {
			*out = v;
			return 0;
		}
		p = bar ? bar + 1 : NULL;
	}
	return errf(e, "%s: [%s] %s = '%s' is not one of: %s", c->path ? c->path : "config", section, key, v,
		    choices);
}

int cfg_write(const struct cfg *c, FILE *f)
{
	/* Group by section, keeping first-seen order of sections and keys. */
	for (size_t i = 0; i < c->n; i++) {
		bool seen = false;
		for (size_t j = 0; j < i; j++)
			if (!strcmp(c->v[j].section, c->v[i].section))
				seen = true;
		if (seen)
			continue;
		fprintf(f, "[%s]\n", c->v[i].section);
		for (size_t j = i; j < c->n; j++)
			if (!strcmp(c->v[j].section, c->v[i].section))
				fprintf(f, "%s = %s\n", c->v[j].key, c->v[j].value);
		fputc('\n', f);
	}
	return ferror(f) ? -1 : 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

char *config_names(const char *dir)
{
	struct strv names = { 0 };
	DIR *d = opendir(dir);
	struct dirent *de;
	while (d && (de = readdir(d))) {
		size_t n = strlen(de->d_name);
		if (n > 4 && !strcmp(de->d_name + n - 4, ".ini") && de->d_name[0] != '.') {
			char *name = xstrdup(de->d_name);
			name[n - 4] = '\0';
			strv_push(&names, name);
			free(name);
		}
	}
	if (d)
		closedir(d);
	if (names.n)
		qsort(names.v, names.n, sizeof(char *), cmp_str);
	char *s = strv_join(&names, " ");
	strv_free(&names);
	return s;
}
