// SPDX-License-Identifier: GPL-2.0
/* faulty.c - loader for the deliberately broken test policy (see faulty.bpf.c). */
#include <stdio.h>
#include <string.h>
#include "scxlab_loader.h"
#include "faulty.h"
#include "faulty.skel.h"

enum { OPT_FAULT, OPT_AFTER_MS, OPT_TIMEOUT_MS };

static const struct scxlab_option faulty_options[] = {
	[OPT_FAULT]	 = { "fault", "MODE", "none | error | stall | bad-cpu | hang (default: none)" },
	[OPT_AFTER_MS]	 = { "after-ms", "N", "inject the fault N ms after attach (default: 2000)" },
	[OPT_TIMEOUT_MS] = { "timeout-ms", "N", "watchdog timeout, ops.timeout_ms (default: 3000)" },
	{ NULL },
};

static const char *const fault_names[FAULTY_NR_MODES] = {
	[FAULTY_NONE]	 = "none",
	[FAULTY_ERROR]	 = "error",
	[FAULTY_STALL]	 = "stall",
	[FAULTY_BAD_CPU] = "bad-cpu",
	[FAULTY_HANG]	 = "hang",
};

static const char *const faulty_stat_names[FAULTY_NR_STATS] = {
	[FAULTY_STAT_DIRECT_IDLE]	= "direct_idle",
	[FAULTY_STAT_SHARED_INSERT]	= "shared_insert",
	[FAULTY_STAT_DISPATCH]		= "dispatch",
	[FAULTY_STAT_FAULT]		= "fault_injected",
};

static unsigned int fault_mode = FAULTY_NONE;
static unsigned long long after_ms = 2000, timeout_ms = 3000;

static int faulty_parse_option(int index, const char *arg)
{
	unsigned int m;

	switch (index) {
	case OPT_FAULT:
		for (m = 0; m < FAULTY_NR_MODES; m++) {
			if (!strcmp(arg, fault_names[m])) {
				fault_mode = m;
				return 0;
			}
		}
		fprintf(stderr, "faulty: --fault: expected none, error, stall, bad-cpu or hang, got '%s'\n",
			arg);
		return -1;
	case OPT_AFTER_MS:
		return scxlab_parse_ull("after-ms", arg, 0, 24ULL * 3600 * 1000, &after_ms);
	case OPT_TIMEOUT_MS:
		/* The kernel refuses timeouts above 30 s (SCX_WATCHDOG_MAX_TIMEOUT). */
		return scxlab_parse_ull("timeout-ms", arg, 1, 30000, &timeout_ms);
	}
	return -1;
}

SCXLAB_LIFECYCLE(faulty)

static int faulty_knobs(struct faulty *skel, struct scxlab_policy *pol)
{
	skel->rodata->fault_mode = fault_mode;
	skel->rodata->fault_after_ns = after_ms * 1000000ULL;
	skel->struct_ops.faulty_ops->timeout_ms = timeout_ms;
	return 0;
}

int main(int argc, char **argv)
{
	struct scxlab_policy pol = {
		.ops_name = "faulty",
		.summary = "TEST ONLY: fifo-like policy that gets itself ejected on request.",
		.options = faulty_options,
		.parse_option = faulty_parse_option,
		.stat_names = faulty_stat_names,
		.nr_stats = FAULTY_NR_STATS,
	};

	scxlab_parse_args(&pol, argc, argv);
	return scxlab_lifecycle_faulty(&pol, &(struct faulty_hooks){ .knobs = faulty_knobs });
}
