/*
 * The progress display: timestamped lines on stderr, the time left, the guest's SCXLAB
 * console lines (run k of n, phases, problems) and the problems that make a result invalid.
 */
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "host.h"
#include "outcome.h"
#include "progress_estimate.h"
#include "protocol.h"
#include "util.h"

void progress(struct ctx *c, const char *fmt, ...)
{
	va_list ap;
	long el = (long)(mono_now() - c->t0);
	fprintf(stderr, "[scxlab %2ld:%02ld] ", el / 60, el % 60);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/*
 * The time left in wall seconds (runners/common/progress_estimate.h), as the progress line's
 * words: the guest seconds left at the guest's observed pace (its heartbeats; 1.0 and "estimate"
 * before the first), plus the per-run overhead learnt from finished runs. The current run's
 * guest progress is its wall time at that pace. The text lives until the next call.
 */
static const char *time_left(struct ctx *c)
{
	static char buf[128];
	double now = mono_now();
	const struct pace *p = &c->run_pace;
	bool measured = p->started && p->wall_last > p->wall0;
	double rate = measured ? pace_rate(p, now - c->t0) : 1;
	struct runs_progress rp = {
		.nruns = c->nruns, .done = c->runs_done, .run_guest_s = (double)(c->x.warmup + c->x.duration),
		.done_wall_s = c->run_total_s, .in_run_guest_s = c->run_current ? (now - c->run_started) * rate : 0,
		.rate = rate, .measured = measured, .overhead_guess_s = 8,
	};
	struct time_left t = runs_left_wall(&rp);
	time_left_text(&t, buf, sizeof(buf));
	return buf;
}

/* The phase under way (if any) ends now: its wall time goes to its bucket. */
void phase_close(struct ctx *c)
{
	if (c->phase_cur > 0 && c->phase_cur <= PHASE_COUNT)
		c->phase_wall[c->phase_cur - 1] += mono_now() - c->phase_since;
	c->phase_cur = 0;
}

void on_guest_line(struct ctx *c, char *line)
{
	struct proto_msg m;
	bool kvm_guest = c->x.target && !strcmp(c->x.target, "vm") && c->x.accel_kind && !strcmp(c->x.accel_kind, "kvm");
	if (kvm_guest && !c->emulator_fatal[0] && kvm_fatal_line(line))
		snprintf(c->emulator_fatal, sizeof(c->emulator_fatal), "%s", line);
	if (proto_parse(line, &m))	/* not an agent's event (kernel output), or malformed */
		return;
	switch (m.ev) {
	case EV_HEARTBEAT:
		pace_note(&c->run_pace, mono_now() - c->t0, m.num[0]);
		break;
	case EV_GUEST_READY:
		c->boot_s = mono_now() - c->t0;
		pace_start(&c->run_pace, c->boot_s, 0);
		progress(c, "guest up after %.0f s (kernel %s); %zu run(s), %s", c->boot_s, m.text, c->nruns,
			 time_left(c));
		break;
	case EV_RUN_BEGIN:
		phase_close(c);
		c->run_current = m.run;
		c->run_started = mono_now();
		progress(c, "run %d/%ld: %s on %s", m.run, (long)m.num[0], m.word[1], c->x.wl.name);
		break;
	case EV_PHASE:
		phase_close(c);
		c->phase_cur = phase_index(m.word[0]) + 1;
		c->phase_since = mono_now();
		if (m.num[1] > 0)
			progress(c, "run %d/%zu: %s %ld s (%s)", m.run, c->nruns, m.word[0], (long)m.num[1],
				 time_left(c));
		break;
	case EV_RUN_END:
		phase_close(c);
		c->runs_done++;
		c->run_total_s += mono_now() - c->run_started;
		c->run_current = 0;
		progress(c, "run %d/%zu %s", m.run, c->nruns, m.word[0]);
		break;
	case EV_RUN_PROBLEM:
		progress(c, "problem: %s", m.args);
		break;
	case EV_RUN_NOTE:
		progress(c, "note: %s", m.args);
		break;
	case EV_GUEST_DONE:
		c->guest_done = true;
		break;
	case EV_FATAL:
	case EV_BOOT_ERROR:
	case EV_WARNING:
		progress(c, "guest %s %s", m.name, m.args);
		break;
	default:
		break;
	}
}

void problem(struct ctx *c, const char *fmt, ...)
{
	char msg[ERRLEN];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_array_append_new(c->problems, json_string(msg));
	progress(c, "problem: %s", msg);
}
