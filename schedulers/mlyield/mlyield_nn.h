/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mlyield_nn.h - the yield predictor's input features and its fixed-point inference, in one
 * header that compiles both as BPF (after vmlinux.h) and as plain C (the loader, tools/mltrain
 * and tests/unit/test_mlyield_nn.c). BPF has no floating point, so everything the kernel side
 * computes is integer arithmetic, and the C side runs the very same functions: the kernel and
 * the reference agree bit for bit by construction, and the loader checks that they really do
 * (BPF_PROG_TEST_RUN at load, see mlyield.c).
 *
 * Features: a decaying count of the task's recent system calls
 * ------------------------------------------------------------
 * The proposal says "a decaying count of 64 syscalls". scxlab reads that as 64 counters, one
 * per syscall (63 named x86_64 syscalls, listed below in MLY_SYSCALLS, plus one "other"
 * bucket for every syscall not in the list), each decayed by 7/8 at every syscall the task
 * makes:
 *
 *	on syscall s:   c[b] <- c[b] * 7/8  for every bucket b;   c[bucket(s)] <- c[bucket(s)] + 1
 *
 * So c[b] is a count of how many of the task's last few syscalls were b, the most recent
 * weighing 1, the one before 7/8, and so on: the 64 counters sum to at most 8 (1/(1 - 7/8)),
 * and a syscall 64 calls back weighs (7/8)^64 = 0.0002, which the Q8 features below round to 0.
 * Why named syscalls and not a hash of the syscall number: x86_64 numbers modulo 64 put
 * epoll_wait (232) and sendfile (40) in the same bucket, the two syscalls that most separate a
 * server that is about to sleep from one that is busy; a list keeps each feature meaningful
 * (the model file names them). The list favours calls that block or hand work to another task
 * (waits, sleeps, socket and pipe I/O, futex), then the common file and memory calls.
 *
 * Decaying 64 counters at every syscall would cost 64 multiplications in the syscall path, so
 * the decay is lazy: each bucket keeps its value at its last update and the syscall count at
 * that time; a bucket untouched for k syscalls is worth value * (7/8)^k, read from a table.
 * Values are Q16 fixed point (65536 = one syscall); features handed to the network are Q8
 * (256 = one syscall, at most 8 * 256 = 2048). The table (mly_decay_q16) holds
 * round(65536 * (7/8)^k); the unit test checks it against pow().
 *
 * Network: 64 inputs -> 16 ReLU units -> 1 logit, as in the proposal (one hidden layer of 16)
 * ------------------------------------------------------------------------------------------
 * Float model (tools/mltrain): h_j = relu(b1_j + sum_i W1_ij x_i / 256), logit = b2 + sum_j
 * W2_j h_j, "the task yields soon" iff logit > 0 (probability > 1/2).
 * Fixed point: W1 is stored as round(W1 * 2^s1) in int16 range and W2 as round(W2 * 2^s2);
 * the hidden accumulators are exact integers at scale 2^(s1 + 8) (no intermediate rounding,
 * ReLU commutes with a positive scale), b1 is stored at that scale, b2 and the threshold at
 * the logit's scale 2^(s1 + 8 + s2). The only error against the float model is the rounding
 * of weights and biases; tests/unit/test_mlyield_nn.c states and checks the bound. Overflow:
 * |x| <= 2^11, |W| < 2^15, |b1| < 2^40 keep every hidden sum below 2^41 and the logit below
 * 2^61; mly_nn_check() refuses a model outside those ranges.
 * Inputs are sparse (a task uses a handful of distinct syscalls in its last 64), so the
 * hidden layer is accumulated over non-zero features only: skipping exact zeros changes no
 * bit of the result but cuts the in-kernel cost from 1024 multiply-adds to about 16 per
 * non-zero feature, which matters at placement time.
 */
#ifndef SCXLAB_MLYIELD_NN_H
#define SCXLAB_MLYIELD_NN_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif
#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif
/*
 * Loops over the 64 features. In BPF they are open-coded iterators (libbpf's bpf_for): the
 * verifier checks the body until its state converges instead of walking all 64 iterations.
 * With plain bounded loops it processed about 31000 instructions for feature extraction plus
 * inference, with bpf_for about 1500 (bpftool on the host's kernel); the guest verifies at
 * emulated speed, and the plain-loop build did not get in charge within the agent's load
 * timeout (then 20 s) in our runs. The short 16-unit loops stay plain loops, kept rolled so
 * that their spills fit BPF's 512-byte stack.
 */
#ifdef __VMLINUX_H__
#define MLY_FOR_FEATURES(i) bpf_for(i, 0, MLY_NR_FEATURES)
#else
#define MLY_FOR_FEATURES(i) for ((i) = 0; (i) < MLY_NR_FEATURES; (i)++)
#endif
#ifdef __clang__
#define MLY_NO_UNROLL _Pragma("clang loop unroll(disable)")
#else
#define MLY_NO_UNROLL
#endif

#define MLY_NR_FEATURES		64
#define MLY_NR_HIDDEN		16
#define MLY_X_SHIFT		8	/* features are Q8 */
#define MLY_VAL_SHIFT		16	/* bucket values are Q16 */
#define MLY_DECAY_WINDOW	64	/* a bucket untouched this many syscalls reads 0 */
#define MLY_X_MAX		(8 << MLY_X_SHIFT)
#define MLY_W_MAX		32767		/* |quantized weight| bound (int16 range) */
#define MLY_B1_MAX		(1LL << 40)	/* |quantized hidden bias| bound */
#define MLY_SHIFT_MAX		24

/* Names the feature definition; a model trained on other features is refused. */
#define MLY_FEATURE_ID "syscalls63+other/decay7of8/q8/x86_64/v1"

/*
 * X(bucket, x86_64 syscall number, name). Bucket 63 is "other". Numbers are the x86_64 ABI's
 * (asm/unistd_64.h); the guest is x86_64, and vmlinux.h carries no __NR_ constants.
 */
#define MLY_SYSCALLS(X)								\
	X(0, 0, read)		X(1, 1, write)		X(2, 19, readv)		\
	X(3, 20, writev)	X(4, 17, pread64)	X(5, 18, pwrite64)	\
	X(6, 40, sendfile)	X(7, 275, splice)	X(8, 44, sendto)	\
	X(9, 45, recvfrom)	X(10, 46, sendmsg)	X(11, 47, recvmsg)	\
	X(12, 307, sendmmsg)	X(13, 299, recvmmsg)	X(14, 43, accept)	\
	X(15, 288, accept4)	X(16, 42, connect)	X(17, 48, shutdown)	\
	X(18, 41, socket)	X(19, 54, setsockopt)	X(20, 55, getsockopt)	\
	X(21, 51, getsockname)	X(22, 52, getpeername)	X(23, 7, poll)		\
	X(24, 271, ppoll)	X(25, 23, select)	X(26, 270, pselect6)	\
	X(27, 232, epoll_wait)	X(28, 281, epoll_pwait)	X(29, 441, epoll_pwait2) \
	X(30, 233, epoll_ctl)	X(31, 202, futex)	X(32, 35, nanosleep)	\
	X(33, 230, clock_nanosleep) X(34, 24, sched_yield) X(35, 34, pause)	\
	X(36, 130, rt_sigsuspend) X(37, 128, rt_sigtimedwait) X(38, 61, wait4)	\
	X(39, 247, waitid)	X(40, 208, io_getevents) X(41, 426, io_uring_enter) \
	X(42, 2, open)		X(43, 257, openat)	X(44, 3, close)		\
	X(45, 4, stat)		X(46, 5, fstat)		X(47, 262, newfstatat)	\
	X(48, 332, statx)	X(49, 8, lseek)		X(50, 217, getdents64)	\
	X(51, 72, fcntl)	X(52, 16, ioctl)	X(53, 74, fsync)	\
	X(54, 21, access)	X(55, 9, mmap)		X(56, 11, munmap)	\
	X(57, 10, mprotect)	X(58, 12, brk)		X(59, 28, madvise)	\
	X(60, 14, rt_sigprocmask) X(61, 56, clone)	X(62, 231, exit_group)

#define MLY_BUCKET_OTHER	63
#define MLY_SYSCALL_TABLE_LEN	448	/* above the largest number listed (441) */

/* bucket + 1 per syscall number; 0 (unlisted) means "other". */
#define MLY_BUCKET_ENTRY(bucket, nr, name) [nr] = (bucket) + 1,
static const __u8 mly_bucket_of_nr[MLY_SYSCALL_TABLE_LEN] = { MLY_SYSCALLS(MLY_BUCKET_ENTRY) };
#undef MLY_BUCKET_ENTRY

/* round(65536 * (7/8)^k), k = 0..63 */
static const __u32 mly_decay_q16[MLY_DECAY_WINDOW] = {
	65536, 57344, 50176, 43904, 38416, 33614, 29412, 25736, 22519, 19704, 17241, 15086,
	13200, 11550, 10106, 8843, 7738, 6770, 5924, 5184, 4536, 3969, 3473, 3039, 2659, 2326,
	2036, 1781, 1558, 1364, 1193, 1044, 914, 799, 699, 612, 536, 469, 410, 359, 314, 275,
	240, 210, 184, 161, 141, 123, 108, 94, 83, 72, 63, 55, 48, 42, 37, 32, 28, 25, 22, 19,
	17, 15,
};

/* One task's syscall history (lives in BPF task storage). */
struct mly_syscall_hist {
	__u32 nr_syscalls;			/* syscalls seen so far (wraps; only differences matter) */
	__u32 last[MLY_NR_FEATURES];		/* nr_syscalls when the bucket was last bumped */
	__u32 val[MLY_NR_FEATURES];		/* Q16 value right after that bump */
};

static __always_inline __u32 mly_syscall_bucket(long nr)
{
	if (nr < 0 || nr >= MLY_SYSCALL_TABLE_LEN)
		return MLY_BUCKET_OTHER;
	__u32 b = mly_bucket_of_nr[nr];

	return b ? b - 1 : MLY_BUCKET_OTHER;
}

/* value * (7/8)^age in Q16; 0 once the bucket is MLY_DECAY_WINDOW syscalls old */
static __always_inline __u64 mly_decayed(__u32 val, __u32 age)
{
	if (age >= MLY_DECAY_WINDOW)
		return 0;
	return ((__u64)val * mly_decay_q16[age & (MLY_DECAY_WINDOW - 1)]) >> MLY_VAL_SHIFT;
}

/* The syscall path: one bucket updated, the other 63 decay lazily. */
static __always_inline void mly_hist_add(struct mly_syscall_hist *h, long nr)
{
	__u32 b = mly_syscall_bucket(nr) & (MLY_NR_FEATURES - 1);
	__u32 n = h->nr_syscalls + 1;

	h->val[b] = (__u32)mly_decayed(h->val[b], n - h->last[b]) + (1u << MLY_VAL_SHIFT);
	h->last[b] = n;
	h->nr_syscalls = n;
}

/*
 * The 64 Q8 features as of now. Values never exceed MLY_X_MAX when mly_hist_add is the only
 * writer, but a history read while its task updates it may be torn: the clamp keeps the
 * network's inputs inside the range its overflow bounds assume.
 */
static __always_inline void mly_hist_features(const struct mly_syscall_hist *h,
					      __u16 x[MLY_NR_FEATURES])
{
	__u32 n = h->nr_syscalls;
	int i;

	MLY_FOR_FEATURES(i) {
		__u64 v = mly_decayed(h->val[i], n - h->last[i]) >> (MLY_VAL_SHIFT - MLY_X_SHIFT);

		x[i] = v > MLY_X_MAX ? MLY_X_MAX : (__u16)v;
	}
}

/*
 * The fixed-point network. w1 is stored feature-major ([feature][hidden]) so that one
 * non-zero feature touches one contiguous row.
 */
struct mly_nn_fixed {
	__s32 w1[MLY_NR_FEATURES][MLY_NR_HIDDEN];	/* round(W1 * 2^w1_shift) */
	__s64 b1[MLY_NR_HIDDEN];			/* round(b1 * 2^(w1_shift + 8)) */
	__s32 w2[MLY_NR_HIDDEN];			/* round(W2 * 2^w2_shift) */
	__s64 b2;					/* round(b2 * 2^logit_shift) */
	__s64 threshold;				/* predict "yields" iff logit > threshold */
	__u32 w1_shift;
	__u32 w2_shift;
};

/* The logit's scale: logit_real = logit / 2^mly_logit_shift(m). */
static __always_inline __u32 mly_logit_shift(const volatile struct mly_nn_fixed *m)
{
	return m->w1_shift + MLY_X_SHIFT + m->w2_shift;
}

static __always_inline __s64 mly_nn_logit(const volatile struct mly_nn_fixed *m,
					  const __u16 x[MLY_NR_FEATURES])
{
	__s64 acc[MLY_NR_HIDDEN];
	__s64 out = m->b2;
	int i, j;

	MLY_NO_UNROLL
	for (j = 0; j < MLY_NR_HIDDEN; j++)
		acc[j] = m->b1[j];
	MLY_FOR_FEATURES(i) {
		__s64 xi = x[i];

		if (!xi)
			continue;
		MLY_NO_UNROLL
		for (j = 0; j < MLY_NR_HIDDEN; j++)
			acc[j] += (__s64)m->w1[i][j] * xi;
	}
	MLY_NO_UNROLL
	for (j = 0; j < MLY_NR_HIDDEN; j++)
		if (acc[j] > 0)
			out += (__s64)m->w2[j] * acc[j];
	return out;
}

/* 0 if every weight is inside the ranges that make overflow impossible, else -1. */
static inline int mly_nn_check(const struct mly_nn_fixed *m)
{
	int i, j;

	if (m->w1_shift > MLY_SHIFT_MAX || m->w2_shift > MLY_SHIFT_MAX)
		return -1;
	for (i = 0; i < MLY_NR_FEATURES; i++)
		for (j = 0; j < MLY_NR_HIDDEN; j++)
			if (m->w1[i][j] > MLY_W_MAX || m->w1[i][j] < -MLY_W_MAX)
				return -1;
	for (j = 0; j < MLY_NR_HIDDEN; j++)
		if (m->w2[j] > MLY_W_MAX || m->w2[j] < -MLY_W_MAX ||
		    m->b1[j] > MLY_B1_MAX || m->b1[j] < -MLY_B1_MAX)
			return -1;
	if (m->b2 > (1LL << 60) || m->b2 < -(1LL << 60) ||
	    m->threshold > (1LL << 60) || m->threshold < -(1LL << 60))
		return -1;
	return 0;
}

/*
 * FNV-1a over every quantized parameter, in a fixed order: names a fixed-point model in
 * traces and logs (a trace records which model computed its logit column). An identity
 * check, not a security hash.
 */
static inline __u64 mly_nn_fingerprint(const struct mly_nn_fixed *m)
{
	__u64 h = 0xcbf29ce484222325ULL;
	int i, j;
#define MLY_FNV(v) do { __u64 _v = (__u64)(v); int _k;				\
		for (_k = 0; _k < 8; _k++) { h ^= (_v >> (8 * _k)) & 0xff; h *= 0x100000001b3ULL; } \
	} while (0)
	for (i = 0; i < MLY_NR_FEATURES; i++)
		for (j = 0; j < MLY_NR_HIDDEN; j++)
			MLY_FNV(m->w1[i][j]);
	for (j = 0; j < MLY_NR_HIDDEN; j++) {
		MLY_FNV(m->b1[j]);
		MLY_FNV(m->w2[j]);
	}
	MLY_FNV(m->b2);
	MLY_FNV(m->threshold);
	MLY_FNV(m->w1_shift);
	MLY_FNV(m->w2_shift);
#undef MLY_FNV
	return h;
}

#endif /* SCXLAB_MLYIELD_NN_H */
