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
	int line;		/* where it was read; 0 when set in memory */
};

struct cfg_section {
	char *name;
	int line;		/* of its first [name] header */
};

struct cfg {
	char *path;
	struct cfg_entry *v;
	size_t n, cap;
	struct cfg_section *secs;	/* the [sections] read, with or without keys */
	size_t nsecs;
};

/*
 * What one kind of config accepts: one row per key (a newcomer adding a key adds one row, in
 * runners/common/schema.c). section is a name, or "prefix<what>" for a family of sections
 * (e.g. "cgroup.<path>" accepts [cgroup.a/b]); key is a name, or "*" for free names. type is
 * NULL (the loader checks the value) or a value type for cfg_check_type().
 */
struct cfg_key {
	const char *section, *key, *type;
};
struct cfg_schema {
	const char *kind;	/* for messages: "VM", "policy", ... */
	const struct cfg_key *keys;
	size_t n;
};
extern const struct cfg_schema CFG_VM, CFG_POLICY, CFG_WORKLOAD, CFG_CGROUPS, CFG_SWEEP, CFG_PLAN;

/* inih's limits (Debian's build: 49-character section names; 50 with the NUL). Longer lines
 * are refused with their line number rather than cut; the line limit is inih's buffer less 3. */
#define CFG_MAX_NAME 49
#define CFG_MAX_LINE 197	/* INI_MAX_LINE (200) less "\r\n" and the NUL */

/*
 * Parse path and check it against schema (NULL: any section and key). Errors name the file
 * and line: syntax, duplicate keys, lines or names beyond inih's limits, indented lines (inih
 * would join them to the previous value), and sections or keys the schema does not have (with
 * the accepted names and the nearest one).
 */
int cfg_load(struct cfg *c, const char *path, const struct cfg_schema *schema, struct err *e);
/* The same for text in memory; name stands for the file in messages. */
int cfg_parse_text(struct cfg *c, const char *name, const char *text, const struct cfg_schema *schema,
		   struct err *e);
/* Check a loaded config against a schema (also the rows' value types). */
int cfg_check(const struct cfg *c, const struct cfg_schema *schema, struct err *e);
/*
 * Value types, for workload [types] and schema rows. The whole grammar:
 *   int MIN MAX        a whole number in [MIN, MAX]
 *   choice A|B|...     one of the words listed
 *   word               letters, digits, '.', '_', '-' (a safe token for a shell)
 * cfg_check_type_spec checks a type itself; cfg_check_type a value (what names it).
 */
int cfg_check_type_spec(const char *type, const char *what, struct err *e);
int cfg_check_type(const char *type, const char *value, const char *what, struct err *e);
/* The nearest of names to word by edit distance, or NULL when none is near enough. */
const char *cfg_nearest(const char *word, const char *const *names, size_t n);
void cfg_free(struct cfg *c);
void cfg_set(struct cfg *c, const char *section, const char *key, const char *value);
/* NULL when absent. */
const char *cfg_get(const struct cfg *c, const char *section, const char *key);
/* Required string: error names the missing key. */
int cfg_require(const struct cfg *c, const char *section, const char *key, const char **out, struct err *e);
/* Whole number within [min, max]; def is used when the key is absent. */
int cfg_get_long(const struct cfg *c, const char *section, const char *key, long def, long min, long max,
		 long *out, struct err *e);
/* Value must be one of the '|'-separated choices, e.g. "scx|cfs|external"; def (may be NULL: then
 * the key is required) is used when the key is absent or empty. */
int cfg_get_choice(const struct cfg *c, const char *section, const char *key, const char *def,
		   const char *choices, const char **out, struct err *e);
/* Whether a section exists. */
bool cfg_has_section(const struct cfg *c, const char *section);
/* Write as INI (sections in first-seen order). */
int cfg_write(const struct cfg *c, FILE *f);

/* Parse a decimal whole number in [min, max]; what names the value in the error. The whole
 * string must be the number: "2x", " 2" or "3 junk" are errors. */
int parse_long(const char *s, long min, long max, const char *what, long *out, struct err *e);
/* The same for a decimal fraction ("2", "0.5", "1e-1"); NaN and infinities are refused. */
int parse_double(const char *s, double min, double max, const char *what, double *out, struct err *e);

/* Names of the configs in dir (files NAME.ini), sorted, space-separated; caller frees. */
char *config_names(const char *dir);

#endif
