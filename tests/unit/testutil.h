/* Helpers for the cmocka unit tests: scratch folders and small files. */
#ifndef SCXLAB_TESTUTIL_H
#define SCXLAB_TESTUTIL_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "util.h"

static inline char *scratch_dir(void)
{
	char *t = xstrdup("/tmp/scxlab-test-XXXXXX");
	if (!mkdtemp(t))
		abort();
	return t;
}

static inline void put_file(const char *dir, const char *name, const char *text)
{
	char *p = xasprintf("%s/%s", dir, name);
	char *slash = strrchr(p, '/');
	*slash = '\0';
	mkdir_p(p, 0755);
	*slash = '/';
	if (write_file(p, text, strlen(text)))
		abort();
	free(p);
}

static inline void remove_tree(const char *dir)
{
	char *argv[] = { "rm", "-rf", (char *)dir, NULL };
	run_cmd(argv, NULL, NULL, NULL, 30);
}
#endif
