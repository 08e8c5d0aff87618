/* The console protocol: every event survives emit -> parse with its fields; what is not an
 * event, or is malformed, is refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "protocol.h"

/* What proto_emit writes for fmt, as one line without its newline (static buffer). */
static const char *emitted(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static const char *emitted(const char *fmt, ...)
{
	static char line[PROTO_LINE_MAX];
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	va_list ap;
	va_start(ap, fmt);
	proto_vemit(f, fmt, ap);
	va_end(ap);
	fclose(f);
	assert_true(len > 0);
	assert_ptr_equal(memchr(buf, '\n', len), buf + len - 1);	/* one line, ended */
	snprintf(line, sizeof line, "%.*s", (int)len - 1, buf);
	free(buf);
	return line;
}

static bool seen[EV_COUNT];	/* events parse_ok() has seen */

static void parse_ok(const char *line, struct proto_msg *m, enum proto_event ev)
{
	seen[ev] = true;
	if (proto_parse(line, m))
		fail_msg("'%s' did not parse", line);
	assert_int_equal(m->ev, ev);
	assert_string_equal(m->name, proto_name(ev));
}

static void test_round_trip_every_event(void **state)
{
	struct proto_msg m;
	const char *l = emitted(PROTO_GUEST_READY " %s", "7.3.4+deb13-cloud-amd64");
	assert_string_equal(l, "SCXLAB guest-ready 7.3.4+deb13-cloud-amd64");
	parse_ok(l, &m, EV_GUEST_READY);
	assert_string_equal(m.text, "7.3.4+deb13-cloud-amd64");
	assert_int_equal(m.run, 0);

	parse_ok(emitted(PROTO_RUN_BEGIN " %d %ld %s", 3, 12L, "mlyield-never-migrate"), &m, EV_RUN_BEGIN);
	assert_int_equal(m.run, 3);
	assert_int_equal(m.nfields, 2);
	assert_true(m.num[0] == 12);
	assert_string_equal(m.word[1], "mlyield-never-migrate");

	parse_ok(emitted(PROTO_PHASE " %d %s %ld", 2, "measure", 30L), &m, EV_PHASE);
	assert_int_equal(m.run, 2);
	assert_string_equal(m.word[0], "measure");
	assert_true(m.num[1] == 30);

	parse_ok(emitted(PROTO_RUN_PROBLEM " %d %s", 4, "policy fifo was ejected: kind=ERROR reason=\"x y\""), &m,
		 EV_RUN_PROBLEM);
	assert_int_equal(m.run, 4);
	assert_string_equal(m.text, "policy fifo was ejected: kind=ERROR reason=\"x y\"");
	assert_string_equal(m.args, "4 policy fifo was ejected: kind=ERROR reason=\"x y\"");

	parse_ok(emitted(PROTO_RUN_NOTE " %d sched-trace: %.3f s", 5, 1.5), &m, EV_RUN_NOTE);
	assert_int_equal(m.run, 5);
	assert_string_equal(m.text, "sched-trace: 1.500 s");

	parse_ok(emitted(PROTO_RUN_END " %d %s", 6, "invalid"), &m, EV_RUN_END);
	assert_int_equal(m.run, 6);
	assert_string_equal(m.word[0], "invalid");

	parse_ok(emitted(PROTO_GUEST_DONE " %d %ld", 7, 8L), &m, EV_GUEST_DONE);
	assert_true(m.num[0] == 7 && m.num[1] == 8);

	parse_ok(emitted(PROTO_FATAL " %s", "plan section [run.2] is incomplete"), &m, EV_FATAL);
	assert_string_equal(m.text, "plan section [run.2] is incomplete");
	parse_ok(emitted(PROTO_BOOT_ERROR " %s", "no job disk"), &m, EV_BOOT_ERROR);
	assert_string_equal(m.text, "no job disk");
	parse_ok(emitted(PROTO_WARNING " %s", "mount /dev/pts: busy"), &m, EV_WARNING);
	assert_string_equal(m.args, "mount /dev/pts: busy");

	parse_ok(emitted(PROTO_HEARTBEAT " %.1f", 125.25), &m, EV_HEARTBEAT);
	assert_true(m.num[0] > 125.19 && m.num[0] < 125.31);

	parse_ok(emitted("precision after %ld rounds: %s", 3L, "reached"), &m, EV_PRECISION);
	assert_string_equal(m.text, "after 3 rounds: reached");

	/* the initramfs prints it by hand, as PROTO_PREFIX PROTO_SNAPSHOT_READY */
	parse_ok(PROTO_PREFIX PROTO_SNAPSHOT_READY "\r\n", &m, EV_SNAPSHOT_READY);
	assert_int_equal(m.nfields, 0);

	for (int ev = 0; ev < EV_COUNT; ev++)	/* a new event needs its round trip here */
		if (!seen[ev])
			fail_msg("no round trip of event %s", proto_name(ev));
}

static void test_names_are_distinct_and_parse(void **state)
{
	for (int i = 0; i < EV_COUNT; i++) {
		assert_string_not_equal(proto_name(i), "?");
		for (int j = 0; j < i; j++)
			assert_string_not_equal(proto_name(i), proto_name(j));
	}
	/* boot-error is printed by kernel/guest-init by hand, with or without text */
	struct proto_msg m;
	parse_ok("SCXLAB boot-error", &m, EV_BOOT_ERROR);
	assert_string_equal(m.text, "");
	parse_ok("SCXLAB guest-done 2 2\r\n", &m, EV_GUEST_DONE);	/* a serial line's CR LF */
	assert_true(m.num[1] == 2);
}

static void test_refused(void **state)
{
	struct proto_msg m;
	static const char *const bad[] = {
		"",
		"[   12.0] sched_ext: BPF scheduler \"fifo\" enabled",	/* kernel output */
		"SCXLAB",
		"SCXLAB ",
		"scxlab run-end 1 valid",			/* the prefix is case-sensitive */
		"SCXLAB run-started 1",				/* no such event */
		"SCXLAB run-begin 1 2",				/* policy missing */
		"SCXLAB run-begin x 2 fifo",			/* run index not a number */
		"SCXLAB run-begin 0 2 fifo",			/* run indexes start at 1 */
		"SCXLAB phase 1 measure 3x",			/* seconds not a number */
		"SCXLAB heartbeat",				/* no guest seconds */
		"SCXLAB heartbeat soon",
		"SCXLAB run-end",				/* no run */
		"SCXLAB guest-done 1",
		"SCXLAB run-problem",				/* no run index */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		if (!proto_parse(bad[i], &m))
			fail_msg("'%s' parsed as %s", bad[i], m.name);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip_every_event),
		cmocka_unit_test(test_names_are_distinct_and_parse),
		cmocka_unit_test(test_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
