/*
 * The bpf-stats monitor (MONITORS=bpf-stats): the kernel's run count and run time of every
 * struct_ops program during the measured window, summarised per program by
 * runners/common/bpfstats.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bpfstats.h"
#include "guest.h"

/*
 * The bpf-stats monitor: kernel.bpf_stats_enabled makes the kernel time every BPF program
 * run (two clock reads per call, so it is off unless asked for). before=true enables it and
 * returns a snapshot; before=false snapshots, sets it back to what it was (a host may keep it
 * on), and keeps bpftool's JSON in raw/.
 */
static json_t *bpf_prog_stats(struct run *r, bool before)
{
	static char *was;
	if (before) {
		free(was);
		was = read_line_file("/proc/sys/kernel/bpf_stats_enabled");
		write_text("/proc/sys/kernel/bpf_stats_enabled", "1\n");
	}
	char *out = raw_path(r, before ? "bpf-progs-before.json" : "bpf-progs-after.json");
	char *argv[] = { "bpftool", "--json", "prog", "show", NULL };
	unlink(out);
	char *tmp = xasprintf("%s.tmp", out);
	int fd_ok = run_cmd(argv, tmp, NULL, NULL, 30) == 0;
	rename(tmp, out);
	free(tmp);
	if (!before)
		write_text("/proc/sys/kernel/bpf_stats_enabled", "%s\n", was && *was ? was : "0");
	json_error_t jerr;
	json_t *doc = fd_ok ? json_load_file(out, 0, &jerr) : NULL;
	free(out);
	return doc ? doc : json_array();
}


/* The snapshots at the window's start and end (NULL until taken). */
struct bpf_samples {
	json_t *before, *after;
};

static bool bpf_stats_start(struct run *r, void **state)
{
	*state = xmalloc(sizeof(struct bpf_samples));
	memset(*state, 0, sizeof(struct bpf_samples));
	return true;
}

static void bpf_stats_window_start(struct run *r, void *state)
{
	((struct bpf_samples *)state)->before = bpf_prog_stats(r, true);
}

static void bpf_stats_window_end(struct run *r, void *state)
{
	((struct bpf_samples *)state)->after = bpf_prog_stats(r, false);
}

static json_t *bpf_stats_stop(struct run *r, void *state)
{
	struct bpf_samples *s = state;
	json_t *summary = NULL;
	if (s->before && !s->after)	/* the window never closed: still put kernel.bpf_stats_enabled back */
		s->after = bpf_prog_stats(r, false);
	else if (s->before)
		summary = bpf_stats_delta(s->before, s->after);
	json_decref(s->before);
	json_decref(s->after);
	free(s);
	return summary;
}

const struct monitor bpf_stats_monitor = {
	.name = "bpf-stats",
	.optional = true,
	.raw = "bpf-progs-before.json bpf-progs-after.json",
	.summary = "bpf_prog_stats",
	.start = bpf_stats_start,
	.stop = bpf_stats_stop,
	.window_start = bpf_stats_window_start,
	.window_end = bpf_stats_window_end,
};
