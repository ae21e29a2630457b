// Several programs in one section, and programs of different types in one object.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int pass_all(struct xdp_md *ctx)
{
	return XDP_PASS;
}

SEC("xdp")
int drop_all(struct xdp_md *ctx)
{
	return XDP_DROP;
}

SEC("xdp")
int drop_short(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	return data + 60 > end ? XDP_DROP : XDP_PASS;
}

SEC("socket")
int accept_all(struct __sk_buff *skb)
{
	return skb->len;
}

char LICENSE[] SEC("license") = "GPL";
