#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <ini.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(CFG_MAX_LINE == INI_MAX_LINE - 3, "CFG_MAX_LINE follows inih's line buffer");

/* inih reads lines through read_line(), which counts them (Debian's inih gives its handler no
 * line number), refuses what inih would cut, and notes the sections it passes. */
struct load_ctx {
	struct cfg *c;
	struct err *e;
	FILE *f;
	char *buf;
	size_t cap;
	int line;
	bool indented;		/* the current line starts with blanks */
	int failed;
};

static void add_section(struct cfg *c, const char *name, int line)
{
	for (size_t i = 0; i < c->nsecs; i++)
		if (!strcmp(c->secs[i].name, name))
			return;
	c->secs = xrealloc(c->secs, (c->nsecs + 1) * sizeof(*c->secs));
	c->secs[c->nsecs++] = (struct cfg_section){ .name = xstrdup(name), .line = line };
}

static char *read_line(char *str, int num, void *stream)
{
	struct load_ctx *ctx = stream;
	if (ctx->failed)
		return NULL;
	ssize_t n = getline(&ctx->buf, &ctx->cap, ctx->f);
	if (n < 0)
		return NULL;
	ctx->line++;
	while (n > 0 && (ctx->buf[n - 1] == '\n' || ctx->buf[n - 1] == '\r'))
		ctx->buf[--n] = '\0';
	/* inih's buffer holds num bytes: the line, "\r\n" and the NUL */
	if (n > num - 3) {
		ctx->failed = 1;
		errf(ctx->e, "%s: line %d is longer than %d characters; shorten it", ctx->c->path, ctx->line, num - 3);
		return NULL;
	}
	/* inih would end the line at a NUL byte and silently drop the rest */
	if (strlen(ctx->buf) != (size_t)n) {
		ctx->failed = 1;
		errf(ctx->e, "%s:%d: the line holds a NUL byte; a config is text", ctx->c->path, ctx->line);
		return NULL;
	}
	const char *p = ctx->buf + strspn(ctx->buf, " \t");
	ctx->indented = p != ctx->buf;
	if (*p == '[' && strchr(p, ']')) {
		size_t len = (size_t)(strchr(p, ']') - p - 1);
		/* inih ignores whatever follows the ']' ("[vm] x" is [vm]); only a comment may */
		const char *after = strchr(p, ']') + 1;
		after += strspn(after, " \t");
		if (*after && *after != ';' && *after != '#') {
			ctx->failed = 1;
			errf(ctx->e, "%s:%d: '%s' follows the section header [%.*s]; put it on a line of its own "
			     "(or after ';' as a comment)", ctx->c->path, ctx->line, after, (int)len, p + 1);
			return NULL;
		}
		if (len > CFG_MAX_NAME) {
			ctx->failed = 1;
			errf(ctx->e, "%s:%d: section name '%.*s' is longer than %d characters", ctx->c->path, ctx->line,
			     (int)len, p + 1, CFG_MAX_NAME);
			return NULL;
		}
		char name[CFG_MAX_NAME + 1];
		snprintf(name, sizeof(name), "%.*s", (int)len, p + 1);
		add_section(ctx->c, name, ctx->line);
	}
	memcpy(str, ctx->buf, (size_t)n);
	str[n] = '\n';
	str[n + 1] = '\0';
	return str;
}

static int on_entry(void *user, const char *section, const char *key, const char *value)
{
	struct load_ctx *ctx = user;
	struct cfg *c = ctx->c;
	ctx->failed = 1;
	if (ctx->indented)
		return errf(ctx->e, "%s:%d: the line starts with blanks, which would continue the value above it; "
			    "write each 'key = value' on one line, unindented", c->path, ctx->line), 0;
	if (strlen(key) > CFG_MAX_NAME)
		return errf(ctx->e, "%s:%d: key name '%s' is longer than %d characters", c->path, ctx->line, key,
			    CFG_MAX_NAME), 0;
	for (size_t i = 0; i < c->n; i++)
		if (!strcmp(c->v[i].section, section) && !strcmp(c->v[i].key, key))
			return errf(ctx->e, "%s:%d: [%s] %s is given twice (first on line %d)", c->path, ctx->line,
				    section, key, c->v[i].line), 0;
	cfg_set(c, section, key, value);
	c->v[c->n - 1].line = ctx->line;
	ctx->failed = 0;
	return 1;
}

static int load_stream(struct cfg *c, FILE *f, const struct cfg_schema *schema, struct err *e)
{
	struct load_ctx ctx = { .c = c, .e = e, .f = f };
	int rc = ini_parse_stream(read_line, &ctx, on_entry, &ctx);
	free(ctx.buf);
	if (ctx.failed)
		return -1;
	if (rc > 0)
		return errf(e, "%s:%d: not a valid INI line (expected 'key = value' or '[section]')", c->path, rc);
	if (rc < 0)
		return errf(e, "cannot parse config %s", c->path);
	return schema ? cfg_check(c, schema, e) : 0;
}

int cfg_load(struct cfg *c, const char *path, const struct cfg_schema *schema, struct err *e)
{
	memset(c, 0, sizeof(*c));
	c->path = xstrdup(path);
	FILE *f = fopen(path, "r");
	if (!f)
		return errf(e, "cannot read config %s: %s", path, strerror(errno));
	int rc = load_stream(c, f, schema, e);
	fclose(f);
	return rc;
}

int cfg_parse_text(struct cfg *c, const char *name, const char *text, const struct cfg_schema *schema,
		   struct err *e)
{
	memset(c, 0, sizeof(*c));
	c->path = xstrdup(name);
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	if (!f)
		return errf(e, "cannot read %s: %s", name, strerror(errno));
	int rc = load_stream(c, f, schema, e);
	fclose(f);
	return rc;
}

/* Levenshtein distance, for "did you mean". */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), *row = xmalloc((lb + 1) * sizeof(size_t));
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j], best = diag + (a[i - 1] != b[j - 1]);
			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			diag = up;
			row[j] = best;
		}
	}
	size_t d = row[lb];
	free(row);
	return d;
}

const char *cfg_nearest(const char *word, const char *const *names, size_t n)
{
	const char *best = NULL;
	size_t best_d = (size_t)-1;
	for (size_t i = 0; i < n; i++) {
		size_t d = edit_distance(word, names[i]);
		if (d < best_d) {
			best_d = d;
			best = names[i];
		}
	}
	/* near: a typo or two, or a third of the word */
	size_t len = strlen(word);
	return best && (best_d <= 2 || best_d <= len / 3) && best_d < len ? best : NULL;
}

/* "cgroup.<path>" matches "cgroup.x"; a plain name matches itself. */
static bool section_matches(const char *pattern, const char *section)
{
	const char *lt = strchr(pattern, '<');
	if (!lt)
		return !strcmp(pattern, section);
	size_t n = (size_t)(lt - pattern);
	return !strncmp(pattern, section, n) && section[n];
}

/* What a section would be called under pattern: "instance.<K>" for "instanse.1" is "instance.1". */
static char *section_candidate(const char *pattern, const char *section)
{
	const char *lt = strchr(pattern, '<'), *dot = strchr(section, '.');
	if (!lt)
		return xstrdup(pattern);
	return xasprintf("%.*s%s", (int)(lt - pattern), pattern, dot ? dot + 1 : section);
}

static int unknown_section(const struct cfg *c, const struct cfg_schema *s, const char *name, int line,
			   struct err *e)
{
	struct strv shown = { 0 }, cand = { 0 };
	for (size_t i = 0; i < s->n; i++) {
		bool dup = false;
		for (size_t j = 0; j < i; j++)
			dup |= !strcmp(s->keys[j].section, s->keys[i].section);
		if (dup)
			continue;
		strv_pushf(&shown, "[%s]", s->keys[i].section);
		char *cn = section_candidate(s->keys[i].section, name);
		strv_push(&cand, cn);
		free(cn);
	}
	const char *near = *name ? cfg_nearest(name, (const char *const *)cand.v, cand.n) : NULL;
	char *list = strv_join(&shown, ", ");
	if (!*name)
		errf(e, "%s:%d: a key before any [section]; a %s config has the sections %s", c->path, line, s->kind,
		     list);
	else
		errf(e, "%s:%d: unknown section [%s]%s%s%s; a %s config has the sections %s", c->path, line, name,
		     near ? " (did you mean [" : "", near ? near : "", near ? "]?)" : "", s->kind, list);
	free(list);
	strv_free(&shown);
	strv_free(&cand);
	return -1;
}

static int unknown_key(const struct cfg *c, const struct cfg_schema *s, const struct cfg_entry *en, struct err *e)
{
	struct strv names = { 0 };
	const char *pattern = NULL;
	for (size_t i = 0; i < s->n; i++)
		if (section_matches(s->keys[i].section, en->section)) {
			strv_push(&names, s->keys[i].key);
			pattern = s->keys[i].section;
		}
	const char *near = cfg_nearest(en->key, (const char *const *)names.v, names.n);
	char *list = strv_join(&names, ", ");
	errf(e, "%s:%d: unknown key '%s' in [%s]%s%s%s; [%s] accepts: %s", c->path, en->line, en->key, en->section,
	     near ? " (did you mean '" : "", near ? near : "", near ? "'?)" : "", pattern, list);
	free(list);
	strv_free(&names);
	return -1;
}

int cfg_check(const struct cfg *c, const struct cfg_schema *s, struct err *e)
{
	for (size_t i = 0; i < c->nsecs + c->n; i++) {
		const char *name = i < c->nsecs ? c->secs[i].name : c->v[i - c->nsecs].section;
		int line = i < c->nsecs ? c->secs[i].line : c->v[i - c->nsecs].line;
		bool known = false;
		for (size_t k = 0; k < s->n && !known; k++)
			known = section_matches(s->keys[k].section, name);
		if (!known)
			return unknown_section(c, s, name, line, e);
	}
	for (size_t i = 0; i < c->n; i++) {
		const struct cfg_key *row = NULL;
		for (size_t k = 0; k < s->n && !row; k++)
			if (section_matches(s->keys[k].section, c->v[i].section) &&
			    (!strcmp(s->keys[k].key, "*") || !strcmp(s->keys[k].key, c->v[i].key)))
				row = &s->keys[k];
		if (!row)
			return unknown_key(c, s, &c->v[i], e);
		if (row->type) {
			char *what = xasprintf("%s:%d: [%s] %s", c->path, c->v[i].line, c->v[i].section, c->v[i].key);
			int rc = cfg_check_type(row->type, c->v[i].value, what, e);
			free(what);
			if (rc)
				return -1;
		}
	}
	return 0;
}

#define WORD_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-"

static bool is_word(const char *s, size_t n)
{
	if (!n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!s[i] || !strchr(WORD_CHARS, s[i]))
			return false;
	return true;
}

/* Splits "int 1 10" into its words; returns how many (at most max). */
static size_t type_words(const char *type, char words[][64], size_t max)
{
	size_t n = 0;
	for (const char *p = type; *p;) {
		p += strspn(p, " \t");
		size_t len = strcspn(p, " \t");
		if (!len)
			break;
		if (n < max)
			snprintf(words[n], 64, "%.*s", (int)len, p);
		n++;
		p += len;
	}
	return n;
}

int cfg_check_type_spec(const char *type, const char *what, struct err *e)
{
	char w[4][64];
	size_t n = type_words(type, w, 4);
	long lo, hi;
	struct err ignored;
	if (n == 3 && !strcmp(w[0], "int") && !parse_long(w[1], LONG_MIN, LONG_MAX, "", &lo, &ignored) &&
	    !parse_long(w[2], LONG_MIN, LONG_MAX, "", &hi, &ignored) && lo <= hi)
		return 0;
	if (n == 1 && !strcmp(w[0], "word"))
		return 0;
	if (n == 2 && !strcmp(w[0], "choice")) {
		bool ok = true;
		for (const char *p = w[1]; ok && p;) {
			const char *bar = strchr(p, '|');
			ok = is_word(p, bar ? (size_t)(bar - p) : strlen(p));
			p = bar ? bar + 1 : NULL;
		}
		if (ok)
			return 0;
	}
	return errf(e, "%s: type '%s' is not one of: 'int MIN MAX' (MIN <= MAX), 'choice A|B|...' (words), 'word'",
		    what, type);
}

int cfg_check_type(const char *type, const char *value, const char *what, struct err *e)
{
	char w[4][64];
	if (cfg_check_type_spec(type, what, e))
		return -1;
	type_words(type, w, 4);
	if (!strcmp(w[0], "int")) {
		long lo, hi, v;
		parse_long(w[1], LONG_MIN, LONG_MAX, "", &lo, e);
		parse_long(w[2], LONG_MIN, LONG_MAX, "", &hi, e);
		return parse_long(value, lo, hi, what, &v, e);
	}
	if (!strcmp(w[0], "word")) {
		if (is_word(value, strlen(value)))
			return 0;
		return errf(e, "%s = '%s' is not a word (letters, digits, '.', '_' and '-', at least one)", what, value);
	}
	size_t n = strlen(value);
	for (const char *p = w[1]; p;) {
		const char *bar = strchr(p, '|');
		size_t len = bar ? (size_t)(bar - p) : strlen(p);
		if (len == n && !strncmp(p, value, n))
			return 0;
		p = bar ? bar + 1 : NULL;
	}
	return errf(e, "%s = '%s' is not one of: %s", what, value, w[1]);
}

void cfg_free(struct cfg *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->v[i].section);
		free(c->v[i].key);
		free(c->v[i].value);
	}
	free(c->v);
	for (size_t i = 0; i < c->nsecs; i++)
		free(c->secs[i].name);
	free(c->secs);
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
	c->v[c->n].line = 0;	/* set in memory; the reader sets where it read it */
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
	for (size_t i = 0; i < c->nsecs; i++)
		if (!strcmp(c->secs[i].name, section))
			return true;
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

/* A decimal number with nothing before or after it (strtol would skip blanks and stop at junk). */
static bool whole_token(const char *s, const char *end)
{
	return *s && !strchr(" \t\n\r\f\v", *s) && end != s && !*end;
}

int parse_long(const char *s, long min, long max, const char *what, long *out, struct err *e)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (!whole_token(s, end) || errno)
		return errf(e, "%s = '%s' is not a whole number (expected %ld to %ld)", what, s, min, max);
	if (v < min || v > max)
		return errf(e, "%s = %ld is out of range (expected %ld to %ld)", what, v, min, max);
	*out = v;
	return 0;
}

int parse_double(const char *s, double min, double max, const char *what, double *out, struct err *e)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	/* decimal only: no hex, "inf" or "nan" */
	if (!whole_token(s, end) || errno || strspn(s, "0123456789.eE+-") != strlen(s))
		return errf(e, "%s = '%s' is not a number (expected %g to %g)", what, s, min, max);
	if (!(v >= min && v <= max))
		return errf(e, "%s = %g is out of range (expected %g to %g)", what, v, min, max);
	*out = v;
	return 0;
}

/* "FILE:LINE: [section] key" for a value's errors (the line where it was read, when it was read from a file). */
static void value_where(const struct cfg *c, const char *section, const char *key, char *buf, size_t len)
{
	int line = 0;
	for (size_t i = 0; i < c->n; i++)
		if (!strcmp(c->v[i].section, section) && !strcmp(c->v[i].key, key))
			line = c->v[i].line;
	if (line > 0)
		snprintf(buf, len, "%s:%d: [%s] %s", c->path ? c->path : "config", line, section, key);
	else
		snprintf(buf, len, "%s: [%s] %s", c->path ? c->path : "config", section, key);
}

int cfg_get_long(const struct cfg *c, const char *section, const char *key, long def, long min, long max,
		 long *out, struct err *e)
{
	const char *v = cfg_get(c, section, key);
	if (!v || !*v) {
		*out = def;
		return 0;
	}
	char what[512];
	value_where(c, section, key, what, sizeof(what));
	return parse_long(v, min, max, what, out, e);
}

int cfg_get_choice(const struct cfg *c, const char *section, const char *key, const char *def,
		   const char *choices, const char **out, struct err *e)
{
	const char *v = cfg_get(c, section, key);
	if (!v || !*v)
		v = def;
	if (!v)
		return errf(e, "%s: [%s] %s is missing; choose from: %s", c->path ? c->path : "config", section, key,
			    choices);
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
	char what[512];
	value_where(c, section, key, what, sizeof(what));
	return errf(e, "%s = '%s' is not one of: %s", what, v, choices);
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
