// A BTF-enabled tracepoint program: the loader must find `btf_trace_sched_switch` in the
// kernel's BTF and load the program against it.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("tp_btf/sched_switch")
int on_switch(unsigned long long *ctx)
{
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
