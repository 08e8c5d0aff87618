/* Can /dev/kvm run a plain x86 guest here? (kvmprobe.c) */
#ifndef SCXLAB_KVMPROBE_H
#define SCXLAB_KVMPROBE_H
#include <stdbool.h>
#include <stddef.h>

/* true when /dev/kvm ran a tiny real-mode guest to its halt; why (n bytes) says what worked
 * or what failed, as a sentence for the user */
bool kvm_probe(char *why, size_t n);

/* false (why says so) when the modules under sysmodule (/sys/module) show a /dev/kvm that cannot
 * run a standard kernel: kvm_pvm without kvm_intel or kvm_amd; kvm_probe() asks this first */
bool kvm_modules_usable(const char *sysmodule, char *why, size_t n);

#endif
