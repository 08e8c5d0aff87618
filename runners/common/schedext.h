/* Reading what the kernel says about sched_ext (/sys/kernel/sched_ext). The root is a
 * parameter so that tests can point it at a fake tree. */
#ifndef SCXLAB_SCHEDEXT_H
#define SCXLAB_SCHEDEXT_H
#include <stdbool.h>

#define SCX_SYSFS "/sys/kernel/sched_ext"

struct scx_status {
	bool present;		/* the kernel has sched_ext at all */
	char state[32];		/* "enabled", "disabled", "enabling", "disabling", ... */
	char ops[128];		/* root/ops: the ops name in charge, "" when none */
};

void scx_read(const char *root, struct scx_status *s);
/* expected == NULL or "": in charge means no sched_ext scheduler (the fair class rules);
 * SCX_ANY_OPS: any enabled sched_ext scheduler (an external one whose name is not known). */
#define SCX_ANY_OPS "*"
bool scx_in_charge(const struct scx_status *s, const char *expected);
/* One line describing s, for messages. */
const char *scx_describe(const struct scx_status *s, char *buf, int len);
/* Copy every readable file of the sched_ext tree (state, root/ops, root/events, ...) into
 * out_dir as NAME or root_NAME. Returns the number copied. */
int scx_snapshot(const char *root, const char *out_dir);

/*
 * The kernel's verdict when it disables a scheduler, from its log line
 *   sched_ext: BPF scheduler "NAME" disabled (REASON)
 * (kernel/sched/ext.c, scx_disable_workfn; REASON is scx_exit_reason(kind)). This is what is
 * known about an external scheduler's exit: it writes no scxlab exit-info. kind is the
 * kernel's enum scx_exit_kind (schedulers/include/scxlab_exit.h), -1 when the reason text is
 * not one this kernel version is known to print; kind_name "UNKNOWN" then.
 */
struct scx_disable {
	char ops[128];
	char reason[128];
	int kind;
	const char *kind_name;
	bool ejected;		/* the kernel stopped it without its loader asking (unknown: true) */
};
/* Parses one log line; false when it is not such a line. */
bool scx_parse_disable(const char *line, struct scx_disable *d);
/* The exit kind the kernel prints REASON for, -1 if unknown. */
int scx_kind_of_reason(const char *reason);

#endif
