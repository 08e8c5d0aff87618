/* The console protocol (see protocol.h): the one table of events, the emitter, the parser. */
#include "protocol.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/*
 * Per event, its fields after the name, one letter each:
 *   r  the run index (an integer >= 1), kept in m->run
 *   i  an integer          f  a number          w  a word
 *   t  free text to the end of the line (last), kept in m->text; may be empty
 */
static const struct {
	const char *name;
	const char *fields;
} events[EV_COUNT] = {
	[EV_GUEST_READY] = { PROTO_GUEST_READY, "t" },
	[EV_RUN_BEGIN] = { PROTO_RUN_BEGIN, "riw" },
	[EV_PHASE] = { PROTO_PHASE, "rwi" },
	[EV_RUN_PROBLEM] = { PROTO_RUN_PROBLEM, "rt" },
	[EV_RUN_NOTE] = { PROTO_RUN_NOTE, "rt" },
	[EV_RUN_END] = { PROTO_RUN_END, "rw" },
	[EV_GUEST_DONE] = { PROTO_GUEST_DONE, "ii" },
	[EV_FATAL] = { PROTO_FATAL, "t" },
	[EV_BOOT_ERROR] = { PROTO_BOOT_ERROR, "t" },
	[EV_WARNING] = { PROTO_WARNING, "t" },
	[EV_HEARTBEAT] = { PROTO_HEARTBEAT, "f" },
	[EV_PRECISION] = { PROTO_PRECISION, "t" },
	[EV_SNAPSHOT_READY] = { PROTO_SNAPSHOT_READY, "" },
};

const char *proto_name(enum proto_event ev)
{
	return ev < EV_COUNT ? events[ev].name : "?";
}

void proto_vemit(FILE *f, const char *fmt, va_list ap)
{
	fputs(PROTO_PREFIX, f);
	vfprintf(f, fmt, ap);
	fputc('\n', f);
	fflush(f);
}

void proto_emit(FILE *f, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	proto_vemit(f, fmt, ap);
	va_end(ap);
}

/* The next space-separated word of *p, NUL-terminated in place; NULL when none is left. */
static char *next_word(char **p)
{
	char *s = *p;
	while (*s == ' ')
		s++;
	if (!*s)
		return NULL;
	char *end = strchr(s, ' ');
	if (end) {
		*end = '\0';
		*p = end + 1;
	} else {
		*p = s + strlen(s);
	}
	return s;
}

int proto_parse(const char *line, struct proto_msg *m)
{
	memset(m, 0, sizeof(*m));
	m->text = m->args = "";
	if (strncmp(line, PROTO_PREFIX, strlen(PROTO_PREFIX)))
		return -1;
	snprintf(m->buf, sizeof(m->buf), "%s", line + strlen(PROTO_PREFIX));
	m->buf[strcspn(m->buf, "\r\n")] = '\0';
	char *p = m->buf;
	char *name = next_word(&p);
	if (!name)
		return -1;
	size_t ev;
	for (ev = 0; ev < EV_COUNT && strcmp(events[ev].name, name); ev++)
		;
	if (ev == EV_COUNT)
		return -1;
	m->ev = (enum proto_event)ev;
	m->name = events[ev].name;
	snprintf(m->argsbuf, sizeof(m->argsbuf), "%s", p);	/* before the fields are split */
	m->args = m->argsbuf;
	for (const char *f = events[ev].fields; *f; f++) {
		if (*f == 't') {
			while (*p == ' ')
				p++;
			m->text = p;
			break;
		}
		char *w = next_word(&p), *end;
		if (!w)
			return -1;
		if (*f == 'w') {
			m->word[m->nfields++] = w;
			continue;
		}
		double v = *f == 'f' ? strtod(w, &end) : (double)strtol(w, &end, 10);
		if (*end)
			return -1;
		if (*f == 'r') {
			if (v < 1)
				return -1;
			m->run = (int)v;
			continue;
		}
		m->word[m->nfields] = w;
		m->num[m->nfields++] = v;
	}
	return 0;
}

const char *const phase_names[PHASE_COUNT] = { "policy", "server", "warmup", "measure", "teardown" };

int phase_index(const char *name)
{
	for (int i = 0; i < PHASE_COUNT; i++)
		if (!strcmp(name, phase_names[i]))
			return i;
	return -1;
}
