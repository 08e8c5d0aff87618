/*
 * The perf-stat monitor (always on where perf works): `perf stat -a` with software events
 * only (the emulated guest has no PMU) across the measurement; summarised by
 * runners/common/perfstat.c.
 */
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>

#include "guest.h"
#include "perfstat.h"

static bool perf_stat_start(struct run *r, void **state)
{
	if (!r->a->have_perf)
		return false;
	struct strv argv = { 0 };
	char *out = raw_path(r, "perf-stat.csv"), *log = raw_path(r, "perf-stat.log");
	strv_push(&argv, "perf");
	strv_split_push(&argv, "stat -a -x , -e task-clock,context-switches,cpu-migrations -o");
	strv_push(&argv, out);
	pid_t perf = spawn(argv.v, log, NULL, NULL);
	strv_free(&argv);
	free(log);
	free(out);
	*state = (void *)(intptr_t)perf;
	return perf > 0;
}

static json_t *perf_stat_stop(struct run *r, void *state)
{
	pid_t perf = (pid_t)(intptr_t)state;
	kill(perf, SIGINT);
	wait_timeout(perf, 10, NULL);
	char *out = raw_path(r, "perf-stat.csv"), *text = read_file(out, NULL);
	json_t *summary = perf_stat_parse(text);
	free(text);
	free(out);
	return summary;
}

const struct monitor perf_stat_monitor = {
	.name = "perf-stat",
	.optional = false,
	.raw = "perf-stat.csv perf-stat.log",
	.summary = "perf_stat",
	.start = perf_stat_start,
	.stop = perf_stat_stop,
};
