#include "perfstat.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

json_t *perf_stat_parse(const char *text)
{
	json_t *o = json_object();
	char *s = text ? xstrdup(text) : NULL, *save = NULL;
	for (char *line = s ? strtok_r(s, "\n", &save) : NULL; line; line = strtok_r(NULL, "\n", &save)) {
		if (line[0] == '#' || !strchr(line, ','))
			continue;
		char *f[4] = { 0 }, *p = line;
		for (int i = 0; i < 4 && p; i++) {
			f[i] = p;
			p = strchr(p, ',');
			if (p)
				*p++ = '\0';
		}
		if (f[2] && *f[2]) {
			char *end;
			double v = strtod(f[0], &end);
			json_object_set_new(o, f[2], *end ? json_null() : json_real(v));
		}
	}
	free(s);
	return o;
}
