/* The kernel log of a run, as the agent reads it for sched_ext's messages. */
#ifndef SCXLAB_KMSG_H
#define SCXLAB_KMSG_H
#include <jansson.h>
#include <stdbool.h>

#include "schedext.h"

/*
 * Every line of dmesg that mentions sched_ext, in order (run.json's
 * kernel_sched_ext_messages), and in *d the kernel's verdict from the first
 * 'BPF scheduler "NAME" disabled (REASON)' line among them (scx_parse_disable()); *found
 * says whether there was one. dmesg is not changed.
 */
json_t *kmsg_sched_ext(const char *dmesg, struct scx_disable *d, bool *found);

#endif
