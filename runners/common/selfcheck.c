#include "selfcheck.h"

#include <stdio.h>
#include <string.h>


int selfcheck_plan_check(const struct cfg *p, struct err *e)
{
	long n, v;
	const char *s;
	if (cfg_get_long(p, "selfcheck", "checks", 0, 1, 20, &n, e))
		return -1;
	for (long k = 1; k <= n; k++) {
		char sec[32];
		snprintf(sec, sizeof(sec), "check.%ld", k);
		if (cfg_require(p, sec, "policies", &s, e) || cfg_require(p, sec, "workload", &s, e) ||
		    cfg_get_long(p, sec, "duration", 0, 1, 3600, &v, e) || cfg_get_long(p, sec, "repeats", 1, 1, 100, &v, e) ||
		    cfg_get_choice(p, sec, "expect", NULL, SELFCHECK_EXPECT, &s, e) ||
		    cfg_get_long(p, sec, "interrupt_after_s", 0, 0, 3600, &v, e))
			return -1;
		if (!strcmp(s, "interrupted") != (v > 0))
			return errf(e, "%s: [%s] interrupt_after_s must be given (and above 0) exactly when expect = "
				    "interrupted", p->path, sec);
	}
	return 0;
}

void selfcheck_argv(const struct cfg *p, long k, const char *repo, const char *results, struct strv *argv)
{
	char sec[32];
	snprintf(sec, sizeof(sec), "check.%ld", k);
	strv_push(argv, "run");
	strv_push(argv, "--target");
	strv_push(argv, "host");
	static const char *const keys[] = { "policies", "workload", "duration", "repeats", "cgroups" };
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const char *v = cfg_get(p, sec, keys[i]);
		if (!v || !*v)
			continue;
		strv_pushf(argv, "--%s", keys[i]);
		strv_push(argv, v);
	}
	strv_push(argv, "--repo");
	strv_push(argv, repo);
	strv_push(argv, "--results");
	strv_push(argv, results);
	strv_push(argv, "--command");
	strv_pushf(argv, "selfcheck-host check %ld", k);
}

int selfcheck_expected_exit(const char *expect)
{
	return !strcmp(expect, "valid") ? EXIT_OK : EXIT_INVALID_RUN;
}
