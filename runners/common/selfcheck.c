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
		const char *target, *accel, *clock = cfg_get(p, sec, "clock"), *vm = cfg_get(p, sec, "vm");
		if (cfg_get_choice(p, sec, "target", "host", "host|vm", &target, e) ||
		    cfg_get_choice(p, sec, "accel", "auto", "auto|kvm|tcg", &accel, e) ||
		    (clock && *clock && cfg_get_choice(p, sec, "clock", NULL, "virtual|real", &clock, e)))
			return -1;
		/* the VM shape is a config's name: configs/vms/<vm>.ini of the job's checkout */
		if (vm && (!*vm || strspn(vm, "abcdefghijklmnopqrstuvwxyz0123456789-_") != strlen(vm)))
			return errf(e, "%s: [%s] vm = '%s' is not a VM config's name (lower-case letters, digits, - and _)",
				    p->path, sec, vm);
		if (!strcmp(target, "host") && ((vm && *vm) || strcmp(accel, "auto") || (clock && *clock)))
			return errf(e, "%s: [%s] vm, accel and clock describe the guest of a target = vm check; "
				    "target = host has none", p->path, sec);
		if (!strcmp(s, "interrupted") != (v > 0))
			return errf(e, "%s: [%s] interrupt_after_s must be given (and above 0) exactly when expect = "
				    "interrupted", p->path, sec);
	}
	return 0;
}

void selfcheck_argv(const struct cfg *p, long k, const char *repo, const char *results, const char *image,
		    struct strv *argv)
{
	char sec[32];
	snprintf(sec, sizeof(sec), "check.%ld", k);
	const char *target = cfg_get(p, sec, "target");
	strv_push(argv, "run");
	strv_push(argv, "--target");
	strv_push(argv, target && *target ? target : "host");
	static const char *const keys[] = { "policies", "workload", "duration", "repeats", "cgroups",
					    "vm", "accel", "clock" };
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
	if (image) {
		strv_push(argv, "--image");
		strv_push(argv, image);
	}
	strv_push(argv, "--command");
	strv_pushf(argv, "selfcheck-%s check %ld", target && !strcmp(target, "vm") ? "kvm" : "host", k);
}

int selfcheck_expected_exit(const char *expect)
{
	return !strcmp(expect, "valid") ? EXIT_OK : EXIT_INVALID_RUN;
}
