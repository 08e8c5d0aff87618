/*
 * kvmcheck: can the nested VM run under KVM in this guest? Prints the verdict of
 * runners/common/kvmprobe.c (a tiny real-mode guest run to its halt on /dev/kvm) and exits 0
 * when KVM works, 1 when not. start.sh asks it before choosing the nested QEMU's accelerator.
 */
#include <stdio.h>

#include "kvmprobe.h"

int main(void)
{
	char why[256];
	bool ok = kvm_probe(why, sizeof(why));
	printf("%s: %s\n", ok ? "usable" : "not usable", why);
	return ok ? 0 : 1;
}
