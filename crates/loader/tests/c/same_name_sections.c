// Two programs in two sections that are both named `xdp` (as Whistler writes them): `retain`
// gives the second function a section of its own, and clang's .BTF.ext then has one part per
// section, both naming `xdp`. Each program calls a subprogram so that func_info matters.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

static __attribute__((noinline)) int verdict(int drop)
{
	return drop ? XDP_DROP : XDP_PASS;
}

SEC("xdp")
int first_pass(struct xdp_md *ctx)
{
	return verdict(ctx->data_end - ctx->data < 80);
}

SEC("xdp") __attribute__((retain))
int second_drop(struct xdp_md *ctx)
{
	return verdict(ctx->data_end - ctx->data >= 80);
}

char LICENSE[] SEC("license") = "GPL";
