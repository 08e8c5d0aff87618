/* The host's fingerprint (fingerprint.h): parsers of fixed text, and collectors that read the
 * machine's files under a root folder, never through a shell. */
#include <ctype.h>
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "fingerprint.h"
#include "sha256.h"
#include "util.h"

char *fp_cpuinfo_field(const char *cpuinfo, const char *key)
{
	size_t klen = strlen(key);
	for (const char *l = cpuinfo; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		size_t len = strcspn(l, "\n");
		if (strncmp(l, key, klen) || (l[klen] != ' ' && l[klen] != '\t' && l[klen] != ':'))
			continue;
		const char *colon = memchr(l, ':', len);
		if (!colon || strspn(l + klen, " \t") != (size_t)(colon - l - klen))
			continue;
		char *v = xasprintf("%.*s", (int)(len - (size_t)(colon + 1 - l)), colon + 1);
		char *t = xstrdup(trim(v));
		free(v);
		return t;
	}
	return NULL;
}

json_t *fp_words(const char *text)
{
	json_t *a = json_array();
	for (const char *p = text ? text : ""; *p;) {
		p += strspn(p, " \t\r\n");
		size_t n = strcspn(p, " \t\r\n");
		if (n)
			json_array_append_new(a, json_stringn(p, n));
		p += n;
	}
	return a;
}

void fp_words_sha256(json_t *words, char out[65])
{
	struct sha256 s;
	sha256_init(&s);
	size_t i;
	json_t *w;
	json_array_foreach(words, i, w) {
		if (i)
			sha256_update(&s, " ", 1);
		sha256_update(&s, json_string_value(w), json_string_length(w));
	}
	sha256_hex(&s, out);
}

char *fp_bracketed(const char *text)
{
	const char *open = text ? strchr(text, '[') : NULL;
	const char *close = open ? strchr(open, ']') : NULL;
	if (!close || close == open + 1)
		return NULL;
	return xasprintf("%.*s", (int)(close - open - 1), open + 1);
}

int fp_loadavg(const char *text, double avg[3])
{
	char *end;
	const char *p = text;
	for (int i = 0; i < 3; i++) {
		if (!p)
			return -1;
		avg[i] = strtod(p, &end);
		if (end == p || avg[i] < 0 || (*end != ' ' && *end != '\t' && *end != '\n' && *end))
			return -1;
		p = end;
	}
	return 0;
}

char fp_stat_state(const char *text)
{
	const char *paren = text ? strrchr(text, ')') : NULL;
	if (!paren || paren[1] != ' ' || !isalpha((unsigned char)paren[2]))
		return 0;
	return paren[2];
}

void fp_set_add(json_t *set, const char *value)
{
	size_t i;
	json_t *v;
	json_array_foreach(set, i, v) {
		int d = strcmp(json_string_value(v), value);
		if (!d)
			return;
		if (d > 0)
			break;
	}
	json_array_insert_new(set, i, json_string(value));
}

/* The trimmed text of root/path; NULL when it cannot be read. Caller frees. */
static char *read_under(const char *root, const char *path)
{
	char *full = xasprintf("%s%s", root, path);
	char *text = read_file(full, NULL);
	free(full);
	if (!text)
		return NULL;
	char *t = xstrdup(trim(text));
	free(text);
	return t;
}

static bool all_digits(const char *s)
{
	return *s && strspn(s, "0123456789") == strlen(s);
}

void fp_sample_take(const char *root, pid_t exclude_pid, struct fp_sample *s)
{
	char *la = read_under(root, "/proc/loadavg");
	s->have_loadavg = la && !fp_loadavg(la, s->loadavg);
	free(la);
	char *procdir = xasprintf("%s/proc", root);
	DIR *d = opendir(procdir);
	s->busy = d ? 0 : -1;
	for (struct dirent *e = d ? readdir(d) : NULL; e; e = readdir(d)) {
		if (!all_digits(e->d_name) || atol(e->d_name) == (long)exclude_pid)
			continue;
		char *p = xasprintf("%s/%s/stat", procdir, e->d_name);
		char *st = read_file(p, NULL);	/* a process may exit meanwhile: then it is not counted */
		s->busy += fp_stat_state(st) == 'R';
		free(st);
		free(p);
	}
	if (d)
		closedir(d);
	free(procdir);
}

json_t *fp_sample_json(const struct fp_sample *s)
{
	json_t *la = s->have_loadavg ? json_pack("[fff]", s->loadavg[0], s->loadavg[1], s->loadavg[2]) : json_null();
	return json_pack("{s:o, s:o}", "loadavg", la, "busy_processes",
			 s->busy >= 0 ? json_integer(s->busy) : json_null());
}

/* The distinct values of every CPU's scaling_governor, "none" when no CPU has one. */
static char *governors(const char *root)
{
	char *cpudir = xasprintf("%s/sys/devices/system/cpu", root);
	json_t *set = json_array();
	DIR *d = opendir(cpudir);
	for (struct dirent *e = d ? readdir(d) : NULL; e; e = readdir(d)) {
		if (strncmp(e->d_name, "cpu", 3) || !all_digits(e->d_name + 3))
			continue;
		char *p = xasprintf("/sys/devices/system/cpu/%s/cpufreq/scaling_governor", e->d_name);
		char *g = read_under(root, p);
		if (g && *g)
			fp_set_add(set, g);
		free(g);
		free(p);
	}
	if (d)
		closedir(d);
	free(cpudir);
	char *out = NULL;
	size_t i;
	json_t *v;
	json_array_foreach(set, i, v) {
		char *next = out ? xasprintf("%s,%s", out, json_string_value(v)) : xstrdup(json_string_value(v));
		free(out);
		out = next;
	}
	json_decref(set);
	if (!out)
		out = xstrdup("none");
	return out;
}

/* /proc/sys/kernel/sched_*: name -> value as text. */
static json_t *sched_sysctls(const char *root)
{
	char *dir = xasprintf("%s/proc/sys/kernel", root);
	json_t *o = json_object();
	DIR *d = opendir(dir);
	for (struct dirent *e = d ? readdir(d) : NULL; e; e = readdir(d)) {
		if (strncmp(e->d_name, "sched_", 6))
			continue;
		char *p = xasprintf("/proc/sys/kernel/%s", e->d_name);
		char *v = read_under(root, p);	/* a folder or a write-only knob reads as NULL */
		if (v)
			json_object_set_new(o, e->d_name, json_string(v));
		free(v);
		free(p);
	}
	if (d)
		closedir(d);
	free(dir);
	return o;
}

/* text as a JSON string (null for NULL), freeing text. */
static json_t *string_or_null(char *text)
{
	json_t *j = text ? json_string(text) : json_null();
	free(text);
	return j;
}

void fp_host(const char *root, json_t *host)
{
	char *info = read_under(root, "/proc/cpuinfo");
	char *flags = info ? fp_cpuinfo_field(info, "flags") : NULL;
	if (!flags && info)
		flags = fp_cpuinfo_field(info, "Features");	/* arm64's name for them */
	if (flags) {
		json_t *words = fp_words(flags);
		char hex[65];
		fp_words_sha256(words, hex);
		json_object_set_new(host, "cpu_flags_sha256", json_string(hex));
		json_object_set_new(host, "cpu_flags", words);
	} else {
		json_object_set_new(host, "cpu_flags_sha256", json_null());
		json_object_set_new(host, "cpu_flags", json_null());
	}
	json_object_set_new(host, "microcode", string_or_null(info ? fp_cpuinfo_field(info, "microcode") : NULL));
	free(flags);
	free(info);
	json_object_set_new(host, "governor", string_or_null(governors(root)));
	char *active = read_under(root, "/sys/devices/system/cpu/smt/active");
	json_object_set_new(host, "smt_active", active && (!strcmp(active, "0") || !strcmp(active, "1"))
				    ? json_integer(atoi(active)) : json_null());
	free(active);
	json_object_set_new(host, "smt_control", string_or_null(read_under(root, "/sys/devices/system/cpu/smt/control")));
	char *thp = read_under(root, "/sys/kernel/mm/transparent_hugepage/enabled");
	json_object_set_new(host, "thp", string_or_null(fp_bracketed(thp)));
	free(thp);
	json_object_set_new(host, "sched_sysctls", sched_sysctls(root));
	json_object_set_new(host, "cmdline", string_or_null(read_under(root, "/proc/cmdline")));
	json_object_set_new(host, "isolated_cpus", string_or_null(read_under(root, "/sys/devices/system/cpu/isolated")));
}
