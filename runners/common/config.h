/*
 * scxlab's one config reader. Every file under configs/ and the plan the host hands to the
 * guest are INI files, parsed with inih. Typed getters check each value and, on error, say
 * which file, section and key were wrong and what would be right.
 */
#ifndef SCXLAB_CONFIG_H
#define SCXLAB_CONFIG_H

#include <stdbool.h>
#include <stdio.h>
#include "util.h"

struct cfg_entry {
	char *section, *key, *value;
};

struct cfg {
	char *path;
	struct cfg_entry *v;
	size_t n, cap;
};

/* Parse path; duplicate keys in one section and syntax errors are errors. */
int cfg_load(struct cfg *c, const char *path, struct err *e);
void cfg_free(struct cfg *c);
void cfg_set(struct cfg *c, const char *section, const char *key, const char *value);
/* NULL when absent. */
const char *cfg_get(const struct cfg *c, const char *section, const char *key);
/* Required string: error names the missing key. */
int cfg_require(const struct cfg *c, const char *section, const char *key, const char **out, struct err *e);
/* Whole number within [min, max]; def is used when the key is absent. */
int cfg_get_long(const struct cfg *c, const char *section, const char *key, long def, long min, long max,
		 long *out, struct err *e);
/* Value must be one of the '|'-separated choices, e.g. "scx|cfs|external". */
int cfg_get_choice(const struct cfg *c, const char *section, const char *key, const char *def,
		   const char *choices, const char **out, struct err *e);
/* Whether a section exists. */
bool cfg_has_section(const struct cfg *c, const char *section);
/* Write as INI (sections in first-seen order). */
int cfg_write(const struct cfg *c, FILE *f);

/* Parse a decimal whole number in [min, max]; what names the value in the error. */
int parse_long(const char *s, long min, long max, const char *what, long *out, struct err *e);

/* Names of the configs in dir (files NAME.ini), sorted, space-separated; caller frees. */
char *config_names(const char *dir);

#endif
