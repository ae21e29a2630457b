// xdp_stack_lengths.lisp in C: packet lengths pushed on a stack map.
// run: prog=stack_lengths data=tcp23
// run: prog=stack_lengths data=udp53
// run: prog=stack_lengths data=short
// run: prog=stack_lengths data=ipv6
// run: prog=stack_lengths data=tcp23
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_STACK);
	__type(value, __u32);
	__uint(max_entries, 4);
} lengths SEC(".maps");

SEC("xdp")
int stack_lengths(struct xdp_md *ctx)
{
	__u32 length = ctx->data_end - ctx->data;
	return bpf_map_push_elem(&lengths, &length, 0) == 0 ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
