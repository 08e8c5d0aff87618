/* SPDX-License-Identifier: GPL-2.0 */
/*
 * scxlab.bpf.h - what every scxlab BPF policy includes first.
 *
 * A policy is one BPF compilation unit (schedulers/<name>/<name>.bpf.c) that fills one
 * struct sched_ext_ops. This header gives it the things below, so the policy file holds only
 * scheduling decisions; through scxlab_compat.bpf.h it also gets the kfuncs whose names
 * moved between kernels, under their current names:
 *
 *  - BPF_STRUCT_OPS(name, args...) and BPF_STRUCT_OPS_SLEEPABLE(...): define an ops
 *    callback as a struct_ops program. The arguments arrive as a u64 context array;
 *    BPF_PROG() unpacks them into typed parameters. Callbacks that may sleep (ops.init,
 *    ops.init_task, cgroup init) must be sleepable to call kfuncs such as
 *    scx_bpf_create_dsq() that allocate memory.
 *
 *  - scxlab_error(fmt, args...): eject the scheduler with a formatted message. On this
 *    kernel the kfunc is scx_bpf_error_bstr(fmt, u64 data[], data_size): the arguments
 *    travel as an array of u64 and the kernel formats them with the bstr printf rules
 *    (%d %u %llu %s %p ...; up to 12 arguments). The format string must live in writable
 *    memory (.data), hence `static char`, not `static const char`.
 *
 *  - SCXLAB_STATS(nr) + stat_inc(idx): a per-CPU array of u64 counters named "stats",
 *    one slot per value of the policy's stat enum. Per-CPU slots need no atomics on the
 *    hot path; the loader sums the CPUs when it prints.
 *
 *  - scxlab_exit and scxlab_record_exit(ei): the global exit record (scxlab_exit.h) that
 *    the loader reads through the skeleton's .bss, and the copy a policy makes from its
 *    ops.exit(), the kernel's state dump included. The kind is stored last, after a compiler barrier, because the loader
 *    takes a non-zero kind to mean the record is complete (x86 keeps stores in order).
 *
 * The _Static_asserts below pin scxlab's numeric exit kinds to the kernel's enum
 * scx_exit_kind as seen in vmlinux.h: renumbered kinds break the build, not the labels.
 */
#ifndef SCXLAB_BPF_H
#define SCXLAB_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "scxlab_exit.h"
#include "scxlab_compat.bpf.h"

char _license[] SEC("license") = "GPL";

#define BPF_STRUCT_OPS(name, args...) \
	SEC("struct_ops/" #name) BPF_PROG(name, ##args)
#define BPF_STRUCT_OPS_SLEEPABLE(name, args...) \
	SEC("struct_ops.s/" #name) BPF_PROG(name, ##args)

#define scxlab_error(fmt, args...)						\
({										\
	static char ___scxlab_fmt[] = fmt;					\
	unsigned long long ___scxlab_data[___bpf_narg(args)];			\
										\
	_Pragma("GCC diagnostic push")						\
	_Pragma("GCC diagnostic ignored \"-Wint-conversion\"")			\
	___bpf_fill(___scxlab_data, args);					\
	_Pragma("GCC diagnostic pop")						\
	scx_bpf_error_bstr(___scxlab_fmt, ___scxlab_data,			\
			   sizeof(___scxlab_data));				\
})

#define SCXLAB_STATS(nr)							\
struct {									\
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);				\
	__uint(key_size, sizeof(u32));						\
	__uint(value_size, sizeof(u64));					\
	__uint(max_entries, (nr));						\
} stats SEC(".maps");								\
										\
static __always_inline void stat_inc(u32 idx)					\
{										\
	u64 *count = bpf_map_lookup_elem(&stats, &idx);				\
										\
	if (count)								\
		(*count)++;							\
}

/*
 * Every policy is a single BPF compilation unit, so the one exit record can be defined
 * here; the loader library finds it as skel->bss->scxlab_exit.
 */
struct scxlab_exit_info scxlab_exit SEC(".bss");

#define scxlab_record_exit(ei)							\
({										\
	scxlab_exit.exit_cpu = (ei)->exit_cpu;					\
	scxlab_exit.exit_code = (ei)->exit_code;				\
	bpf_probe_read_kernel_str(scxlab_exit.reason,				\
				  sizeof(scxlab_exit.reason), (ei)->reason);	\
	bpf_probe_read_kernel_str(scxlab_exit.msg,				\
				  sizeof(scxlab_exit.msg), (ei)->msg);		\
	if ((ei)->dump)								\
		bpf_probe_read_kernel_str(scxlab_exit.dump,			\
					  sizeof(scxlab_exit.dump), (ei)->dump);\
	barrier();								\
	scxlab_exit.kind = (ei)->kind;						\
})

#define SCXLAB_CHECK_EXIT_KIND(name, value, ejected)				\
	_Static_assert((long)SCXLAB_EXIT_##name == (long)SCX_EXIT_##name,			\
		       "scxlab_exit.h: SCXLAB_EXIT_" #name " differs from the kernel's SCX_EXIT_" #name);
SCXLAB_EXIT_KINDS(SCXLAB_CHECK_EXIT_KIND)
#undef SCXLAB_CHECK_EXIT_KIND
_Static_assert((long)SCXLAB_EXIT_ERROR_FAMILY == (long)SCX_EXIT_ERROR,
	       "scxlab_exit.h: the error family no longer starts at SCX_EXIT_ERROR");

#endif /* SCXLAB_BPF_H */
