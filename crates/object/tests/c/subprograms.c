// A static subprogram in the program's section and a global subprogram in .text.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

static __attribute__((noinline)) int twice(int x)
{
	return x * 2;
}

__attribute__((noinline)) int add_one(int x)
{
	return x + 1;
}

SEC("xdp")
int calls(struct xdp_md *ctx)
{
	int len = ctx->data_end - ctx->data;
	return twice(len) + add_one(len) > 0 ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
