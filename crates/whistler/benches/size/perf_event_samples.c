// perf_event_samples.lisp in C: samples per CPU weighted by the period.
#include <linux/bpf_perf_event.h>
#include "twins.h"

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 1);
} sampled SEC(".maps");

SEC("perf_event")
int on_sample(struct bpf_perf_event_data *ctx)
{
	__u32 key = 0;
	array_incf(&sampled, &key, ctx->sample_period);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
