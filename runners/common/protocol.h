/*
 * The console protocol between the guest agent and the host runner, defined once.
 *
 * The agent (runners/guest) prints one line per event on its stdout, the serial console:
 *     SCXLAB <event> <fields...>
 * and the host runner (runners/host/scxlab.c, on_guest_line) reads them back with
 * proto_parse() to show progress and to pace its deadlines. kernel/guest-init, a shell
 * script, and the initramfs' /init (kernel/initramfs/init.c) print the one event they can
 * (boot-error; the initramfs also snapshot-ready) by hand. The events and their fields:
 *
 *   guest-ready  RELEASE...              the agent is up (kernel release)
 *   run-begin    RUN TOTAL POLICY        run RUN of TOTAL starts
 *   phase        RUN NAME SECONDS        run RUN enters phase NAME (policy, server, warmup,
 *                                        measure, teardown) expected to last SECONDS
 *   run-problem  RUN TEXT...             something made (or will make) run RUN invalid
 *   run-note     RUN TEXT...             a remark about run RUN
 *   run-end      RUN VERDICT             valid | invalid
 *   guest-done   NVALID NRAN             all runs done
 *   fatal        TEXT...                 the agent gives up (the guest powers off)
 *   boot-error   TEXT...                 the initramfs or kernel/guest-init could not start the agent
 *   warning      TEXT...                 the agent carries on
 *   heartbeat    GUEST_SECONDS           every 5 s of guest time since guest-ready
 *   precision    TEXT...                 the stopping rule's verdict after a round
 *   snapshot-ready                       the initramfs' /init of a boot made to be saved
 *                                        (scxlab.snapshot=1) waits for a job on /dev/vdb:
 *                                        the host may save the guest now (runners/host/snapshot.c)
 *
 * Emit with proto_emit(stdout, PROTO_X " fmt", ...): the event name is its macro.
 */
#ifndef SCXLAB_PROTOCOL_H
#define SCXLAB_PROTOCOL_H
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#define PROTO_PREFIX "SCXLAB "
#define PROTO_GUEST_READY "guest-ready"
#define PROTO_RUN_BEGIN "run-begin"
#define PROTO_PHASE "phase"
/* the phases of a run, in order, as the agent names them in its phase events */
#define PHASE_COUNT 5
extern const char *const phase_names[PHASE_COUNT];
/* index of name in phase_names, -1 when it is none of them */
int phase_index(const char *name);
#define PROTO_RUN_PROBLEM "run-problem"
#define PROTO_RUN_NOTE "run-note"
#define PROTO_RUN_END "run-end"
#define PROTO_GUEST_DONE "guest-done"
#define PROTO_FATAL "fatal"
#define PROTO_BOOT_ERROR "boot-error"
#define PROTO_WARNING "warning"
#define PROTO_HEARTBEAT "heartbeat"
#define PROTO_PRECISION "precision"
#define PROTO_SNAPSHOT_READY "snapshot-ready"

enum proto_event {
	EV_GUEST_READY,
	EV_RUN_BEGIN,
	EV_PHASE,
	EV_RUN_PROBLEM,
	EV_RUN_NOTE,
	EV_RUN_END,
	EV_GUEST_DONE,
	EV_FATAL,
	EV_BOOT_ERROR,
	EV_WARNING,
	EV_HEARTBEAT,
	EV_PRECISION,
	EV_SNAPSHOT_READY,
	EV_COUNT
};

#define PROTO_MAX_FIELDS 4
#define PROTO_LINE_MAX 1024

/* One parsed line. Numbers are parsed and checked; words point into buf. */
struct proto_msg {
	enum proto_event ev;
	const char *name;		/* the event's name */
	int run;			/* the run index for per-run events, else 0 */
	const char *args;		/* everything after "SCXLAB <event> " ("" when nothing) */
	const char *word[PROTO_MAX_FIELDS];	/* fields after the run index, in order */
	double num[PROTO_MAX_FIELDS];	/* the same fields as numbers where the event has numbers */
	size_t nfields;
	const char *text;		/* the free text of text events (after the run index), else "" */
	char buf[PROTO_LINE_MAX], argsbuf[PROTO_LINE_MAX];
};

/* The name of an event (EV_RUN_END -> "run-end"). */
const char *proto_name(enum proto_event ev);
/* Writes "SCXLAB " + the formatted text + "\n" to f and flushes it; fmt starts with PROTO_X. */
void proto_emit(FILE *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void proto_vemit(FILE *f, const char *fmt, va_list ap);
/* Parses one console line (its trailing newline optional). 0 when it is a well-formed
 * event; -1 when it is not a protocol line, names no known event, or its fields do not fit
 * the event (a number that is none, a field missing). */
int proto_parse(const char *line, struct proto_msg *m);

#endif
