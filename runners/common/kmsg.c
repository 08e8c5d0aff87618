#include "kmsg.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

json_t *kmsg_sched_ext(const char *dmesg, struct scx_disable *d, bool *found)
{
	json_t *msgs = json_array();
	char *text = xstrdup(dmesg ? dmesg : ""), *save = NULL;
	*found = false;
	for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		if (!strstr(l, "sched_ext"))
			continue;
		json_array_append_new(msgs, json_string(l));
		if (!*found && scx_parse_disable(l, d))
			*found = true;
	}
	free(text);
	return msgs;
}
