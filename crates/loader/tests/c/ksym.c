// A typed __ksym kernel variable: the per-CPU runqueues, read through bpf_this_cpu_ptr.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

struct rq {
	int cpu;
} __attribute__((preserve_access_index));

extern const struct rq runqueues __ksym;

SEC("raw_tp/sys_enter")
int this_cpu(void *ctx)
{
	struct rq *rq = bpf_this_cpu_ptr(&runqueues);
	return BPF_CORE_READ(rq, cpu) + 1000;
}

char LICENSE[] SEC("license") = "GPL";
