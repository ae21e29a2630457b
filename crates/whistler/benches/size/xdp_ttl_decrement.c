// xdp_ttl_decrement.lisp in C: TTL decremented with an incremental checksum patch.
// run: prog=ttl_step data=tcp23
// run: prog=ttl_step data=tcp80opt
// run: prog=ttl_step data=ttl1
// run: prog=ttl_step data=ipv6
// run: prog=ttl_step data=badihl
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_endian.h>
#include "twins.h"

SEC("xdp")
int ttl_step(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP) || ip->ihl < 5)
		return XDP_PASS;
	if (ip->ttl <= 1)
		return XDP_DROP;
	ip->ttl--;
	__u32 check = ip->check + bpf_htons(0x0100);
	ip->check = check + (check >= 0xffff);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
