#include "outcome.h"
#include "stats.h"
#include "util.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

static bool crash_signal(int sig)
{
	return sig == SIGSEGV || sig == SIGBUS || sig == SIGILL || sig == SIGFPE || sig == SIGABRT || sig == SIGTRAP ||
	       sig == SIGSYS;
}

enum loader_end loader_end_of(int status, int *code, char *sig_name, size_t sig_len, char *msg, size_t msg_len)
{
	*code = exit_code_of(status);
	snprintf(sig_name, sig_len, "%s", "");
	if (status < 0 || (!WIFEXITED(status) && !WIFSIGNALED(status))) {
		snprintf(msg, msg_len, "ended in an unknown way (no exit status)");
		return LOADER_UNKNOWN;
	}
	int sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
	/* a shell exits 128+N when its command was killed by signal N */
	bool shell_code = !sig && *code > 128 && *code < 128 + 32 && crash_signal(*code - 128);
	if (shell_code)
		sig = *code - 128;
	if (sig)
		snprintf(sig_name, sig_len, "SIG%s", sigabbrev_np(sig) ?: "?");
	if (*code == 0 || *code == 128 + SIGINT) {
		snprintf(msg, msg_len, "exited cleanly (code %d)", *code);
		return LOADER_CLEAN;
	}
	if (sig && crash_signal(sig)) {
		snprintf(msg, msg_len, "crashed with %s (exit %d)", sig_name, *code);
		return LOADER_CRASHED;
	}
	if (sig)
		snprintf(msg, msg_len, "was killed by %s (exit %d)", sig_name, *code);
	else
		snprintf(msg, msg_len, "exited with code %d", *code);
	return LOADER_FAILED;
}

/* The headline's unit: the first run entry that carries one ("headline_unit") */
static const char *runs_unit(json_t *runs)
{
	size_t k;
	json_t *r;
	json_array_foreach(runs, k, r) {
		const char *u = json_string_value(json_object_get(r, "headline_unit"));
		if (u)
			return u;
	}
	return NULL;
}

json_t *summary_of_runs(json_t *runs, const char *const *names, size_t npol, const char *metric)
{
	json_t *out = json_object();
	const char *unit = runs_unit(runs);
	enum stat_kind kind = stat_kind_of(unit);
	for (size_t i = 0; i < npol; i++) {
		double *v = xmalloc(sizeof(double) * (json_array_size(runs) + 1));
		size_t n = 0, nbad = 0, k;
		json_t *r;
		json_array_foreach(runs, k, r) {
			if (strcmp(json_string_value(json_object_get(r, "policy")) ?: "", names[i]))
				continue;
			json_t *h = json_object_get(r, "headline_value");
			if (json_is_true(json_object_get(r, "valid")) && json_is_number(h))
				v[n++] = json_number_value(h);
			else
				nbad++;
		}
		struct summary s = summarize(v, n);
		double center = n ? stat_center(kind, v, n) : 0;
		free(v);
		json_t *p = json_pack("{s:s, s:s*, s:s, s:I, s:I}", "metric", metric, "unit", unit, "statistic",
				      stat_name(kind), "valid_runs", (json_int_t)n, "invalid_runs", (json_int_t)nbad);
		const char *keys[] = { "center", "mean", "sd", "cv", "min", "max" };
		double vals[] = { center, s.mean, s.sd, s.cv, s.min, s.max };
		for (size_t j = 0; j < sizeof(keys) / sizeof(*keys); j++)
			json_object_set_new(p, keys[j], n ? json_real(vals[j]) : json_null());
		json_object_set_new(out, names[i], p);
	}
	return out;
}

bool summary_vs_cfs(json_t *summary, const char *name, double *ratio)
{
	json_t *m = json_object_get(json_object_get(summary, name), "center");
	json_t *c = json_object_get(json_object_get(summary, "cfs"), "center");
	if (!strcmp(name, "cfs") || !json_is_number(m) || !json_is_number(c) || json_number_value(c) == 0)
		return false;
	*ratio = json_number_value(m) / json_number_value(c) - 1;
	return true;
}

json_t *precision_estimator(const char *metric, const char *unit)
{
	enum stat_kind kind = stat_kind_of(unit);
	return json_pack("{s:s?, s:s?, s:s, s:s, s:s, s:s, s:s, s:f, s:I, s:I, s:s}", "metric", metric, "unit", unit,
			 "kind", stat_kind_name(kind), "statistic", stat_name(kind), "interval", STATS_INTERVAL, "fallback",
			 STATS_INTERVAL_FALLBACK, "design",
			 "paired by round where the policy and cfs ran validly in the same rounds, else independent",
			 "confidence", STATS_CONFIDENCE, "resamples", (json_int_t)STATS_N_RESAMPLES, "seed",
			 (json_int_t)STATS_SEED, "halfwidth",
			 "percentage points of the ratio: 100 * (ci_high - ci_low) / 2, as analysis' ratio_halfwidth_pct");
}

void pace_start(struct pace *p, double wall, double prog)
{
	p->wall0 = p->wall_last = wall;
	p->prog0 = p->prog_last = p->prog_now = prog;
	p->started = true;
}

void pace_note(struct pace *p, double wall, double prog)
{
	if (!p->started) {
		pace_start(p, wall, prog);
		return;
	}
	if (prog > p->prog_last) {
		p->prog_last = prog;
		p->wall_last = wall;
	}
	p->prog_now = prog;
}

double pace_elapsed(const struct pace *p, double wall_now)
{
	double wall = wall_now - p->wall0, prog = p->prog_last - p->prog0;
	return prog < wall ? prog : wall;
}

double pace_rate(const struct pace *p, double wall_now)
{
	double wall = p->wall_last - p->wall0;
	return wall > 0 ? (p->prog_last - p->prog0) / wall : 1;
}

enum pace_verdict pace_check(const struct pace *p, double wall_now, double budget_s, double silence_s)
{
	if (!p->started)
		return PACE_OK;
	if (wall_now - p->wall_last > silence_s)
		return PACE_SILENT;
	if (pace_elapsed(p, wall_now) > budget_s)
		return PACE_OVER_BUDGET;
	return PACE_OK;
}

bool kvm_fatal_line(const char *line)
{
	static const char *const prefixes[] = { "KVM internal error", "KVM: entry failed" };
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(*prefixes); i++)
		if (!strncmp(line, prefixes[i], strlen(prefixes[i])))
			return true;
	return false;
}
