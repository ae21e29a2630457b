// xdp_icmp_types.lisp in C: ICMP messages per type; pings dropped.
// run: prog=icmp_guard data=icmp
// run: prog=icmp_guard data=tcp23
// run: prog=icmp_guard data=icmp
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/in.h>
#include <bpf/bpf_endian.h>
#include "twins.h"

// The ICMP header's first 8 bytes (linux/icmp.h pulls in libc headers).
struct icmp_head {
	__u8 type;
	__u8 code;
	__u16 checksum;
	__u32 rest;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 256);
} icmp_types SEC(".maps");

SEC("xdp")
int icmp_guard(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP) || ip->ihl < 5 ||
	    ip->protocol != IPPROTO_ICMP)
		return XDP_PASS;
	struct icmp_head *icmp = (void *)ip + ip->ihl * 4;
	if ((void *)(icmp + 1) > data_end)
		return XDP_PASS;
	__u32 type = icmp->type;
	array_incf(&icmp_types, &type, 1);
	return type == 8 ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
