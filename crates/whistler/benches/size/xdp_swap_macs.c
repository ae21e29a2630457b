// xdp_swap_macs.lisp in C: every Ethernet frame sent back with its MACs swapped.
// run: prog=swap_macs data=tcp23
// run: prog=swap_macs data=arp
// run: prog=swap_macs data=short
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int swap_macs(struct xdp_md *ctx)
{
	unsigned char *data = (void *)(long)ctx->data;
	unsigned char *data_end = (void *)(long)ctx->data_end;
	if (data + 14 > data_end)
		return XDP_PASS;
	__u32 dst_hi = *(__u32 *)data;
	__u16 dst_lo = *(__u16 *)(data + 4);
	*(__u32 *)data = *(__u32 *)(data + 6);
	*(__u16 *)(data + 4) = *(__u16 *)(data + 10);
	*(__u32 *)(data + 6) = dst_hi;
	*(__u16 *)(data + 10) = dst_lo;
	return XDP_TX;
}

char LICENSE[] SEC("license") = "GPL";
