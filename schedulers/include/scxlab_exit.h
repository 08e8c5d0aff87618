/* SPDX-License-Identifier: GPL-2.0 */
/*
 * scxlab_exit.h - how a policy tells its loader why the kernel stopped it.
 *
 * When sched_ext disables a BPF scheduler, for whatever reason, the kernel calls the
 * policy's ops.exit() with a struct scx_exit_info. That struct lives in kernel memory and
 * is gone once the callback returns, so every scxlab policy copies the parts a user needs
 * (kind, exit code, reason, message) into one global, struct scxlab_exit_info, which user
 * space reads through the skeleton's memory-mapped .bss. The loader polls ->kind: it is
 * written last, so a non-zero kind means the rest is complete.
 *
 * This header is included by BPF programs (after vmlinux.h) and by the C loaders (with no
 * vmlinux.h), so it only uses fixed-width kernel UAPI types and plain macros. The numeric
 * exit kinds are copied from the kernel's enum scx_exit_kind; scxlab.bpf.h checks each one
 * against the kernel's BTF with _Static_assert, so a kernel that renumbers them fails the
 * build instead of mislabelling an ejection as a clean exit.
 */
#ifndef SCXLAB_EXIT_H
#define SCXLAB_EXIT_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define SCXLAB_EXIT_REASON_LEN	128
#define SCXLAB_EXIT_MSG_LEN	1024	/* the kernel's SCX_EXIT_MSG_LEN */
#define SCXLAB_EXIT_DUMP_LEN	16384	/* kept of the kernel's state dump (up to 32 KiB) */

/*
 * Every exit kind the 7.3 kernel knows, as X(NAME, value, ejected). NAME is the kernel's
 * name without the SCX_EXIT_ prefix. "ejected" says whether the scheduler stopped without
 * its loader (or its own BPF code) asking for it:
 *   NONE/DONE        no exit recorded / the kernel's "already disabled" marker
 *   UNREG            the loader detached it (link destroyed or the loader died)
 *   UNREG_BPF        the policy itself called scx_bpf_exit()
 *   UNREG_KERN       the kernel unregistered it (e.g. CPU hotplug): counted as ejected,
 *                    because the policy stopped being in charge mid-run
 *   SYSRQ            an operator pressed SysRq-S: ejected
 *   PARENT[_KILL]    a sub-scheduler whose parent went away: ejected
 *   ERROR...         runtime error, scx_bpf_error(), watchdog stall, re-enqueue and rescue
 *                    failures: ejected
 */
#define SCXLAB_EXIT_KINDS(X)			\
	X(NONE,		0,	0)		\
	X(DONE,		1,	0)		\
	X(UNREG,	64,	0)		\
	X(UNREG_BPF,	65,	0)		\
	X(UNREG_KERN,	66,	1)		\
	X(SYSRQ,	67,	1)		\
	X(PARENT,	68,	1)		\
	X(PARENT_KILL,	69,	1)		\
	X(ERROR,	1024,	1)		\
	X(ERROR_BPF,	1025,	1)		\
	X(ERROR_STALL,	1026,	1)		\
	X(ERROR_REENQ,	1027,	1)		\
	X(ERROR_RESCUE,	1028,	1)

#define SCXLAB_EXIT_KIND_ENUM(name, value, ejected) SCXLAB_EXIT_##name = value,
enum scxlab_exit_kind {
	SCXLAB_EXIT_KINDS(SCXLAB_EXIT_KIND_ENUM)
};
#undef SCXLAB_EXIT_KIND_ENUM

/* Kinds at or above this are the kernel's error family (SCX_EXIT_ERROR). */
#define SCXLAB_EXIT_ERROR_FAMILY	1024

struct scxlab_exit_info {
	__s32 kind;		/* enum scxlab_exit_kind; 0 until the kernel disables us */
	__s32 exit_cpu;		/* CPU that triggered the exit, as the kernel reports it */
	__s64 exit_code;	/* scx_bpf_exit() code or the kernel's SCX_ECODE_* bits */
	char reason[SCXLAB_EXIT_REASON_LEN];	/* the kernel's one-line reason */
	char msg[SCXLAB_EXIT_MSG_LEN];		/* the detailed message (e.g. the error text) */
	/* The kernel's dump of its state at an error exit (every CPU, the runnable tasks
	 * and their DSQs, the policy's own ops.dump() lines); empty on a clean exit. */
	char dump[SCXLAB_EXIT_DUMP_LEN];
};

/* Name of an exit kind without the SCX_EXIT_ prefix; "UNKNOWN" for kinds newer than us. */
static inline const char *scxlab_exit_kind_name(int kind)
{
#define SCXLAB_EXIT_KIND_NAME(name, value, ejected) if (kind == value) return #name;
	SCXLAB_EXIT_KINDS(SCXLAB_EXIT_KIND_NAME)
#undef SCXLAB_EXIT_KIND_NAME
	return "UNKNOWN";
}

/* Did the scheduler stop without being asked? Unknown kinds count as ejected. */
static inline int scxlab_exit_kind_ejected(int kind)
{
#define SCXLAB_EXIT_KIND_EJECTED(name, value, ejected) if (kind == value) return ejected;
	SCXLAB_EXIT_KINDS(SCXLAB_EXIT_KIND_EJECTED)
#undef SCXLAB_EXIT_KIND_EJECTED
	return 1;
}

#endif /* SCXLAB_EXIT_H */
