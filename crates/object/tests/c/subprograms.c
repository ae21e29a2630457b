// Subprograms: static ones in .text and in the program's section, a global one in .text.
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

// Static, in the program's own section: a subprogram, not a program. (libbpf 1.1 refuses such
// objects; the format allows them, and `parse` must not mistake `half` for a program.)
static __attribute__((noinline)) __attribute__((section("xdp"))) int half(int x)
{
	return x >> 1;
}

SEC("xdp")
int calls(struct xdp_md *ctx)
{
	int len = ctx->data_end - ctx->data;
	return twice(len) + add_one(len) + half(len) > 0 ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
