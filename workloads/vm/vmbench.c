/*
 * vmbench: the whole nested guest of the `vm` workload. QEMU boots this file directly
 * (-kernel vmbench, through the PVH entry that its Xen ELF note names); no Linux runs in the
 * nested guest. It stands in for what runs inside a virtual machine: every vCPU spins on a
 * CPU-bound loop and counts its iterations, so the work a vCPU gets done is the CPU time that
 * the outer (scxlab) guest's scheduler gave the QEMU thread backing it.
 *
 * Why no Linux inside: the image's own kernel, booted under TCG inside TCG, had not reached
 * userspace after several minutes of wall time under scxlab's virtual clock: every
 * instruction of a boot is new code for the nested QEMU to translate, and that translation
 * is new code for the outer QEMU to translate. This guest executes a few hundred distinct
 * instructions, so it reports soon after QEMU starts (each run records how soon as
 * nested_boot_s), and in steady state only the loop below runs.
 *
 * Boot: PVH enters in 32-bit protected mode on the boot vCPU with the hvm_start_info in
 * %ebx. The code below identity-maps the first 4 GiB with 2 MiB pages (RAM, the HPET and
 * the local APIC), enters long mode and calls C. The boot vCPU copies a real-mode
 * trampoline to TRAMPOLINE and wakes the other vCPUs with INIT and two STARTUP IPIs to all
 * but itself; each takes the next index and stack, enters long mode the same way and runs
 * its worker.
 *
 * Output, on the first serial port (what the outer side's vmprogress stamps and parses):
 *     VMB start cpus=<n> threads=<n> period_ms=<p> iters_per_count=<k>
 *     VMB <seq> <t_ns> <count_0> ... <count_n-1>      every period_ms of nested time
 * The time (from the emulated HPET) and the counts are read together, so a line delivered
 * late still describes the right instant. The boot vCPU is a worker too and also writes the
 * lines: about 60 bytes per period, a small and fixed cost the same under every policy.
 *
 * Kernel command line (from QEMU -append): vmb.cpus=N (vCPUs to expect, default 1),
 * vmb.period_ms=N (default 100).
 *
 * build.mk links this as a static Linux program (that is how workload helpers are built);
 * run as one, it only says what it is. Everything the guest path calls is in this file:
 * glibc is never initialised there, so no library call, and no loop gcc could turn into one.
 */
#include <stdint.h>
#include <unistd.h>

#define MAX_CPUS 16
#define STACK_SHIFT 14			/* 16 KiB per vCPU */
#define ITERS_PER_COUNT 1024		/* xorshift steps between two counter updates */
#define TRAMPOLINE 0x8000		/* real-mode start of the other vCPUs: STARTUP vector 0x08 */
#define HPET_BASE 0xFED00000UL
#define LAPIC_BASE 0xFEE00000UL
#define COM1 0x3F8
#define HVM_START_MAGIC 0x336ec578

struct vcpu_count {
	volatile uint64_t count;
	char pad[56];			/* one cache line each */
};

/* Used by the boot code below, hence global and marked used. */
uint64_t vmb_pml4[512] __attribute__((aligned(4096), used));
uint64_t vmb_pdpt[512] __attribute__((aligned(4096), used));
uint64_t vmb_pd[4 * 512] __attribute__((aligned(4096), used));
uint8_t vmb_stacks[MAX_CPUS][1 << STACK_SHIFT] __attribute__((aligned(16), used));
volatile uint32_t vmb_next_cpu __attribute__((used)) = 1;
struct vcpu_count vmb_counts[MAX_CPUS] __attribute__((aligned(64)));
static volatile uint32_t vmb_go;

void vmb_bsp_main(uint32_t start_info);
void vmb_ap_main(uint32_t cpu);

__asm__(
	/* The PVH entry point, as Linux declares its own: name "Xen", XEN_ELFNOTE_PHYS32_ENTRY
	 * (18), the entry's physical address as a 64-bit value. */
	"	.pushsection .note.Xen, \"a\", @note\n"
	"	.balign 4\n"
	"	.long 4, 8, 18\n"
	"	.asciz \"Xen\"\n"
	"	.balign 4\n"
	"	.quad vmb_pvh_entry\n"
	"	.popsection\n"

	"	.pushsection .rodata.vmb_gdt, \"a\", @progbits\n"
	"	.balign 16\n"
	"vmb_gdt:\n"
	"	.quad 0\n"
	"	.quad 0x00AF9B000000FFFF\n"	/* 0x08: 64-bit code */
	"	.quad 0x00CF93000000FFFF\n"	/* 0x10: flat data */
	"	.quad 0x00CF9B000000FFFF\n"	/* 0x18: flat 32-bit code */
	"vmb_gdt_end:\n"
	"vmb_gdt_desc:\n"
	"	.word vmb_gdt_end - vmb_gdt - 1\n"
	"	.long vmb_gdt\n"
	"	.popsection\n"

	"	.pushsection .text.vmb_boot, \"ax\", @progbits\n"
	"	.code32\n"
	"	.globl vmb_pvh_entry\n"
	"vmb_pvh_entry:\n"
	"	cli\n"
	"	movl %ebx, %esi\n"			/* hvm_start_info, for vmb_bsp_main */
	"	movl $(vmb_stacks + (1 << 14)), %esp\n"
	/* PML4[0] -> PDPT, PDPT[0..3] -> four page directories of 2 MiB pages */
	"	movl $vmb_pdpt, %eax\n"
	"	orl $3, %eax\n"
	"	movl %eax, vmb_pml4\n"
	"	movl $vmb_pd, %eax\n"
	"	orl $3, %eax\n"
	"	xorl %ecx, %ecx\n"
	"1:	movl %eax, vmb_pdpt(,%ecx,8)\n"
	"	addl $4096, %eax\n"
	"	incl %ecx\n"
	"	cmpl $4, %ecx\n"
	"	jb 1b\n"
	"	xorl %ecx, %ecx\n"
	"2:	movl %ecx, %eax\n"
	"	shll $21, %eax\n"
	"	orl $0x83, %eax\n"			/* present, writable, 2 MiB */
	"	movl %eax, vmb_pd(,%ecx,8)\n"
	"	incl %ecx\n"
	"	cmpl $2048, %ecx\n"
	"	jb 2b\n"
	"	xorl %edi, %edi\n"			/* vCPU index 0 */
	"	jmp vmb_enter_long\n"

	/* the other vCPUs arrive here from the trampoline, in 32-bit protected mode */
	"vmb_ap32:\n"
	"	movw $0x10, %ax\n"
	"	movw %ax, %ds\n"
	"	movw %ax, %es\n"
	"	movw %ax, %ss\n"
	"	movl $1, %edi\n"
	"	lock xaddl %edi, vmb_next_cpu\n"
	"	cmpl $16, %edi\n"			/* MAX_CPUS */
	"	jae vmb_halt32\n"
	"	movl %edi, %eax\n"
	"	incl %eax\n"
	"	shll $14, %eax\n"
	"	addl $vmb_stacks, %eax\n"
	"	movl %eax, %esp\n"

	/* %edi = vCPU index, %esp = its stack, %esi = start info (boot vCPU only) */
	"vmb_enter_long:\n"
	"	movl %cr4, %eax\n"
	"	orl $0x620, %eax\n"			/* PAE, OSFXSR, OSXMMEXCPT */
	"	movl %eax, %cr4\n"
	"	movl $vmb_pml4, %eax\n"
	"	movl %eax, %cr3\n"
	"	movl $0xC0000080, %ecx\n"		/* EFER.LME */
	"	rdmsr\n"
	"	orl $0x100, %eax\n"
	"	wrmsr\n"
	"	lgdt vmb_gdt_desc\n"
	"	movl %cr0, %eax\n"
	"	andl $0xFFFFFFFB, %eax\n"		/* no x87 emulation (EM) */
	"	orl $0x80000003, %eax\n"		/* paging, monitor coprocessor, protection */
	"	movl %eax, %cr0\n"
	"	ljmp $0x08, $vmb_long64\n"
	"vmb_halt32:\n"
	"	cli\n"
	"	hlt\n"
	"	jmp vmb_halt32\n"

	"	.code64\n"
	"vmb_long64:\n"
	"	movw $0x10, %ax\n"
	"	movw %ax, %ds\n"
	"	movw %ax, %es\n"
	"	movw %ax, %ss\n"
	"	movw %ax, %fs\n"
	"	movw %ax, %gs\n"
	"	movl %esp, %esp\n"			/* zero-extend the 32-bit values */
	"	movl %esi, %esi\n"
	"	movl %edi, %edi\n"
	"	testl %edi, %edi\n"
	"	jnz 3f\n"
	"	movl %esi, %edi\n"
	"	call vmb_bsp_main\n"
	"	jmp vmb_halt64\n"
	"3:	call vmb_ap_main\n"
	"vmb_halt64:\n"
	"	cli\n"
	"	hlt\n"
	"	jmp vmb_halt64\n"

	/* copied to TRAMPOLINE; a STARTUP IPI starts a vCPU here in real mode, CS = 0x0800 */
	"	.code16\n"
	"	.globl vmb_tramp_start, vmb_tramp_end\n"
	"vmb_tramp_start:\n"
	"	cli\n"
	"	movw %cs, %ax\n"
	"	movw %ax, %ds\n"
	"	lgdtl vmb_tramp_gdt_desc - vmb_tramp_start\n"
	"	movl %cr0, %eax\n"
	"	orl $1, %eax\n"
	"	movl %eax, %cr0\n"
	"	ljmpl $0x18, $vmb_ap32\n"
	"	.balign 4\n"
	"vmb_tramp_gdt_desc:\n"
	"	.word vmb_gdt_end - vmb_gdt - 1\n"
	"	.long vmb_gdt\n"
	"vmb_tramp_end:\n"
	"	.code64\n"
	"	.popsection\n");

extern const uint8_t vmb_tramp_start[], vmb_tramp_end[];

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;
	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline volatile uint32_t *mmio32(uintptr_t addr)
{
	return (volatile uint32_t *)addr;
}

static inline volatile uint64_t *mmio64(uintptr_t addr)
{
	return (volatile uint64_t *)addr;
}

static void serial_putc(char c)
{
	for (int i = 0; i < 100000 && !(inb(COM1 + 5) & 0x20); i++)
		;
	outb(COM1, (uint8_t)c);
}

static void serial_puts(const char *s)
{
	while (*s)
		serial_putc(*s++);
}

static void serial_putu(uint64_t v)
{
	char buf[24];
	int n = 0;
	do {
		buf[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		serial_putc(buf[--n]);
}

static uint64_t hpet_period_fs;

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

static uint64_t hpet_ns(void)
{
	return *mmio64(HPET_BASE + 0xF0) * hpet_period_fs / 1000000;
}

static void delay_ns(uint64_t ns)
{
	uint64_t end = hpet_ns() + ns;
	while (hpet_ns() < end)
		;
}

/* Value of "name=" on the kernel command line, or dflt. */
static uint64_t cmdline_knob(const volatile char *cmdline, const char *name, uint64_t dflt)
{
	if (!cmdline)
		return dflt;
	for (const volatile char *p = cmdline; *p; p++) {
		if (p != cmdline && p[-1] != ' ')
			continue;
		const char *n = name;
		const volatile char *q = p;
		while (*n && *q == *n)
			n++, q++;
		if (*n || *q != '=')
			continue;
		uint64_t v = 0;
		int digits = 0;
		for (q++; *q >= '0' && *q <= '9'; q++, digits++)
			v = v * 10 + (uint64_t)(*q - '0');
		return digits ? v : dflt;
	}
	return dflt;
}

static uint64_t spin(uint64_t x, volatile uint64_t *count)
{
	for (int i = 0; i < ITERS_PER_COUNT; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
	}
	__asm__ volatile("" : "+r"(x));	/* keeps the loop from being removed */
	*count = *count + 1;		/* only this vCPU writes it */
	return x;
}

void vmb_ap_main(uint32_t cpu)
{
	uint64_t x = 88172645463325252ull + cpu;
	while (!vmb_go)
		;
	for (;;)
		x = spin(x, &vmb_counts[cpu].count);
}

void vmb_bsp_main(uint32_t start_info)
{
	const volatile char *cmdline = 0;
	if (start_info && *mmio32(start_info) == HVM_START_MAGIC)
		cmdline = (const volatile char *)(uintptr_t)*mmio64(start_info + 24);
	uint64_t ncpu = cmdline_knob(cmdline, "vmb.cpus", 1);
	uint64_t period_ms = cmdline_knob(cmdline, "vmb.period_ms", 100);
	if (ncpu < 1 || ncpu > MAX_CPUS || period_ms < 10 || period_ms > 10000) {
		serial_puts("VMB error: vmb.cpus must be 1..16 and vmb.period_ms 10..10000\n");
		return;
	}

	hpet_period_fs = *mmio64(HPET_BASE) >> 32;
	if (hpet_period_fs == 0 || hpet_period_fs > 100000000) {
		serial_puts("VMB error: no HPET at 0xFED00000\n");
		return;
	}
	*mmio64(HPET_BASE + 0x10) |= 1;		/* start the main counter */

	if (ncpu > 1) {
		volatile uint8_t *dst = (volatile uint8_t *)TRAMPOLINE;
		for (const uint8_t *s = vmb_tramp_start; s < vmb_tramp_end; s++)
			*dst++ = *s;
		*mmio32(LAPIC_BASE + 0xF0) |= 0x100;	/* software-enable the local APIC */
		/* INIT, then two STARTUP IPIs, to all vCPUs but this one */
		*mmio32(LAPIC_BASE + 0x300) = 0x000C4500;
		delay_ns(10000000);
		for (int i = 0; i < 2; i++) {
			*mmio32(LAPIC_BASE + 0x300) = 0x000C4600 | (TRAMPOLINE >> 12);
			delay_ns(1000000);
		}
		uint64_t deadline = hpet_ns() + 5000000000ull;
		while (vmb_next_cpu < ncpu && hpet_ns() < deadline)
			;
		if (vmb_next_cpu != ncpu) {
			serial_puts("VMB error: ");
			serial_putu(vmb_next_cpu);
			serial_puts(" of vmb.cpus=");
			serial_putu(ncpu);
			serial_puts(" vCPUs started\n");
			return;
		}
	}
	serial_puts("VMB start cpus=");
	serial_putu(ncpu);
	serial_puts(" threads=");
	serial_putu(ncpu);
	serial_puts(" period_ms=");
	serial_putu(period_ms);
	serial_puts(" iters_per_count=");
	serial_putu(ITERS_PER_COUNT);
	serial_putc('\n');

	/* Reading the emulated HPET is an exit to QEMU's device model, far dearer than the
	 * TSC; the TSC, calibrated against it, says when the next sample is due, and the HPET
	 * gives the sample its time. The calibration only moves when samples are taken. */
	uint64_t h0 = hpet_ns(), c0 = rdtsc();
	delay_ns(20000000);
	uint64_t ticks_per_us = (rdtsc() - c0) * 1000 / (hpet_ns() - h0 + 1);

	vmb_go = 1;
	uint64_t x = 88172645463325252ull, period_ns = period_ms * 1000000, next = hpet_ns() + period_ns;
	uint64_t next_tsc = 0;
	for (uint64_t seq = 0;;) {
		x = spin(x, &vmb_counts[0].count);
		if (rdtsc() < next_tsc)
			continue;
		uint64_t now = hpet_ns();
		if (now < next) {
			next_tsc = rdtsc() + (next - now) / 1000 * ticks_per_us;
			continue;
		}
		uint64_t counts[MAX_CPUS];
		for (uint64_t c = 0; c < ncpu; c++)
			counts[c] = vmb_counts[c].count;
		serial_puts("VMB ");
		serial_putu(seq++);
		serial_putc(' ');
		serial_putu(now);
		for (uint64_t c = 0; c < ncpu; c++) {
			serial_putc(' ');
			serial_putu(counts[c]);
		}
		serial_putc('\n');
		next += period_ns;
		if (next <= now)	/* this vCPU was descheduled for more than a period */
			next = now + period_ns;
		now = hpet_ns();
		next_tsc = next > now ? rdtsc() + (next - now) / 1000 * ticks_per_us : 0;
	}
}

int main(void)
{
	static const char msg[] =
		"vmbench is the nested guest of scxlab's vm workload, not a program to run here:\n"
		"  qemu-system-x86_64 -kernel vmbench -append 'vmb.cpus=2 vmb.period_ms=100' -smp 2 ...\n";
	if (write(2, msg, sizeof(msg) - 1) < 0)
		return 1;
	return 2;
}
