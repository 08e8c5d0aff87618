/* The bpf-stats monitor's arithmetic: BPF program run counts and times during a measurement. */
#ifndef SCXLAB_BPFSTATS_H
#define SCXLAB_BPFSTATS_H
#include <jansson.h>

/*
 * before and after are `bpftool --json prog show` arrays taken around the measurement with
 * kernel.bpf_stats_enabled=1. Per struct_ops program of after (by name): {"run_cnt",
 * "run_time_ns"} minus the same program's (same id) values in before, and "ns_per_run"
 * (0 when it never ran). A program absent from before counts from zero; missing counters
 * (bpftool omits them for programs that never ran) are 0. Other program types are left out.
 */
json_t *bpf_stats_delta(json_t *before, json_t *after);

#endif
