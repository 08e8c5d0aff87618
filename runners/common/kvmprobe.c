/*
 * Can this machine's /dev/kvm run a guest? Opening it is not enough: some machines here offer
 * a "kvm-pvm" /dev/kvm on which a standard kernel crashes early (it runs only PVM-aware
 * guests), and a device node may exist without the module behind it. So the probe runs a
 * real, tiny guest: one vCPU in 16-bit real mode executes `out 0x42 to port 0x10; hlt` from
 * one page of memory, and KVM must report exactly that I/O exit and then the halt. A plain
 * x86 guest that gets that far runs the first instructions of a kernel's boot the same way.
 * It takes milliseconds; every failure is turned into a sentence for the user. Newer kvm-pvm
 * devices run that probe (they emulate real mode) and only crash a real kernel later, on
 * instructions their emulator lacks (seen here: "KVM internal error", a VEX-coded BMI2
 * instruction, 4 s into the boot), so the modules behind /dev/kvm are checked first: kvm_pvm
 * without kvm_intel or kvm_amd is refused.
 *
 * Used by the host runner (ACCEL=, `scxlab kvm-check`) and, linked statically into
 * workloads/vm/kvmcheck, by the vm workload inside the guest (its nested VM under KVM).
 * No other scxlab code here: it must build alone.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <unistd.h>

#include "kvmprobe.h"

#define PROBE_ADDR 0x1000
#define PROBE_PORT 0x10
#define PROBE_BYTE 0x42

static void on_alarm(int sig)
{
	(void)sig;	/* only interrupts KVM_RUN (EINTR) if the guest never halts */
}

static bool fail(char *why, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static bool fail(char *why, size_t n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, n, fmt, ap);
	va_end(ap);
	return false;
}

/* The guest: mov dx, 0x10; mov al, 0x42; out dx, al; hlt */
static const unsigned char probe_code[] = { 0xba, PROBE_PORT, 0x00, 0xb0, PROBE_BYTE, 0xee, 0xf4 };

static bool run_probe(int kvm, char *why, size_t n)
{
	int api = ioctl(kvm, KVM_GET_API_VERSION, 0);
	if (api != KVM_API_VERSION)
		return fail(why, n, "/dev/kvm speaks KVM API version %d, not 12", api);
	int vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0)
		return fail(why, n, "/dev/kvm refused to create a VM (%s)", strerror(errno));
	bool ok = false;
	int vcpu = -1;
	size_t runsz = 0;
	struct kvm_run *run = MAP_FAILED;
	void *mem = mmap(NULL, 0x1000, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED) {
		fail(why, n, "cannot map the probe guest's memory (%s)", strerror(errno));
		goto out;
	}
	memcpy(mem, probe_code, sizeof(probe_code));
	struct kvm_userspace_memory_region region = {
		.slot = 0, .guest_phys_addr = PROBE_ADDR, .memory_size = 0x1000, .userspace_addr = (unsigned long)mem,
	};
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0) {
		fail(why, n, "KVM_SET_USER_MEMORY_REGION failed (%s)", strerror(errno));
		goto out;
	}
	vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	int mmsz = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (vcpu < 0 || mmsz <= 0) {
		fail(why, n, "/dev/kvm refused to create a vCPU (%s)", strerror(errno));
		goto out;
	}
	runsz = (size_t)mmsz;
	run = mmap(NULL, runsz, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	struct kvm_sregs sregs;
	struct kvm_regs regs = { .rip = PROBE_ADDR, .rflags = 0x2 };
	if (run == MAP_FAILED || ioctl(vcpu, KVM_GET_SREGS, &sregs) < 0) {
		fail(why, n, "cannot set up the probe vCPU (%s)", strerror(errno));
		goto out;
	}
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	if (ioctl(vcpu, KVM_SET_SREGS, &sregs) < 0 || ioctl(vcpu, KVM_SET_REGS, &regs) < 0) {
		fail(why, n, "cannot set the probe vCPU's registers (%s)", strerror(errno));
		goto out;
	}
	struct sigaction sa = { .sa_handler = on_alarm }, old;
	sigaction(SIGALRM, &sa, &old);
	struct itimerval two_s = { .it_value = { .tv_sec = 2 } }, off = { 0 };
	setitimer(ITIMER_REAL, &two_s, NULL);
	bool saw_out = false;
	for (int step = 0; step < 4 && !ok; step++) {
		if (ioctl(vcpu, KVM_RUN, 0) < 0) {
			if (errno == EINTR)
				fail(why, n, "a plain x86 guest did not halt within 2 s under /dev/kvm");
			else
				fail(why, n, "KVM_RUN failed (%s)", strerror(errno));
			break;
		}
		if (run->exit_reason == KVM_EXIT_IO && run->io.direction == KVM_EXIT_IO_OUT &&
		    run->io.port == PROBE_PORT && run->io.size == 1 &&
		    *((unsigned char *)run + run->io.data_offset) == PROBE_BYTE) {
			saw_out = true;
		} else if (run->exit_reason == KVM_EXIT_HLT && saw_out) {
			ok = true;
		} else {
			fail(why, n, "/dev/kvm cannot run a plain x86 guest: its first instructions ended in KVM exit "
				     "reason %u (a kvm-pvm device, for PVM-aware guests only, does this)", run->exit_reason);
			break;
		}
	}
	setitimer(ITIMER_REAL, &off, NULL);
	sigaction(SIGALRM, &old, NULL);
	if (ok)
		snprintf(why, n, "/dev/kvm ran a plain x86 guest");
	else if (!*why)
		fail(why, n, "a plain x86 guest under /dev/kvm never halted");
out:
	if (run != MAP_FAILED)
		munmap(run, runsz);
	if (mem != MAP_FAILED)
		munmap(mem, 0x1000);
	if (vcpu >= 0)
		close(vcpu);
	close(vm);
	return ok;
}

static bool module_present(const char *sysmodule, const char *name)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", sysmodule, name);
	return access(p, F_OK) == 0;
}

bool kvm_modules_usable(const char *sysmodule, char *why, size_t n)
{
	why[0] = '\0';
	if (module_present(sysmodule, "kvm_pvm") && !module_present(sysmodule, "kvm_intel") &&
	    !module_present(sysmodule, "kvm_amd"))
		return fail(why, n, "/dev/kvm is kvm-pvm's (module kvm_pvm, neither kvm_intel nor kvm_amd): it runs "
				    "only PVM-aware guest kernels, and a standard kernel crashes early under it");
	return true;
}

bool kvm_probe(char *why, size_t n)
{
	if (!kvm_modules_usable("/sys/module", why, n))
		return false;
	why[0] = '\0';
	int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0 && errno == ENOENT)
		return fail(why, n, "there is no /dev/kvm (no KVM module loaded, or no hardware virtualization)");
	if (kvm < 0)
		return fail(why, n, "/dev/kvm cannot be opened (%s)", strerror(errno));
	bool ok = run_probe(kvm, why, n);
	close(kvm);
	return ok;
}
