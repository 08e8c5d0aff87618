/* SPDX-License-Identifier: GPL-2.0 */
/*
 * scxlab_compat.bpf.h - the sched_ext kfuncs whose names moved, for the ones scxlab's policies
 * call. Included by scxlab.bpf.h; a policy keeps calling the current (7.3) names.
 *
 * sched_ext renamed its dispatch kfuncs in 6.13: scx_bpf_dispatch() became
 * scx_bpf_dsq_insert(), scx_bpf_consume() scx_bpf_dsq_move_to_local(),
 * scx_bpf_dispatch_from_dsq[_set_slice]() scx_bpf_dsq_move[_set_slice](); scx_bpf_now()
 * arrived in 6.14. Each wrapper below calls whichever of the two the running kernel has:
 * bpf_ksym_exists() on a __weak kfunc is a constant that libbpf fills in at load (0 when the
 * kernel lacks it), and the verifier drops the branch that is not taken, so the program calls
 * only kfuncs the kernel has. The function-like macros have the kfuncs' own names: inside a
 * macro its name is not expanded again, so the calls below reach the real kfuncs.
 *
 * A kernel with neither name still fails to load; the loader says so first, by name
 * (scxlab_check_kfuncs() in schedulers/lib, whose table of pairs mirrors this file), instead
 * of the verifier's "invalid kernel function call".
 *
 * The old names are declared here because a new kernel's vmlinux.h no longer has them; the
 * declarations match the 6.12 prototypes.
 */
#ifndef SCXLAB_COMPAT_BPF_H
#define SCXLAB_COMPAT_BPF_H

void scx_bpf_dispatch(struct task_struct *p, u64 dsq_id, u64 slice, u64 enq_flags) __ksym __weak;
bool scx_bpf_consume(u64 dsq_id) __ksym __weak;
bool scx_bpf_dispatch_from_dsq(struct bpf_iter_scx_dsq *it__iter, struct task_struct *p,
			       u64 dsq_id, u64 enq_flags) __ksym __weak;
void scx_bpf_dispatch_from_dsq_set_slice(struct bpf_iter_scx_dsq *it__iter, u64 slice) __ksym __weak;

#define scx_bpf_dsq_insert(p, dsq_id, slice, enq_flags)					\
	(bpf_ksym_exists(scx_bpf_dsq_insert) ?						\
		scx_bpf_dsq_insert((p), (dsq_id), (slice), (enq_flags)) :		\
		scx_bpf_dispatch((p), (dsq_id), (slice), (enq_flags)))

#define scx_bpf_dsq_move_to_local(dsq_id)						\
	(bpf_ksym_exists(scx_bpf_dsq_move_to_local) ?					\
		scx_bpf_dsq_move_to_local(dsq_id) : scx_bpf_consume(dsq_id))

#define scx_bpf_dsq_move(it, p, dsq_id, enq_flags)					\
	(bpf_ksym_exists(scx_bpf_dsq_move) ?						\
		scx_bpf_dsq_move((it), (p), (dsq_id), (enq_flags)) :			\
		scx_bpf_dispatch_from_dsq((it), (p), (dsq_id), (enq_flags)))

#define scx_bpf_dsq_move_set_slice(it, slice)						\
	(bpf_ksym_exists(scx_bpf_dsq_move_set_slice) ?					\
		scx_bpf_dsq_move_set_slice((it), (slice)) :				\
		scx_bpf_dispatch_from_dsq_set_slice((it), (slice)))

/* Before 6.14: the plain clock (scx_bpf_now() adds a per-rq cache, same time base). */
#define scx_bpf_now()									\
	(bpf_ksym_exists(scx_bpf_now) ? scx_bpf_now() : bpf_ktime_get_ns())

#endif /* SCXLAB_COMPAT_BPF_H */
