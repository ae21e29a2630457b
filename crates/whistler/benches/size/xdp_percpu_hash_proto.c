// xdp_percpu_hash_proto.lisp in C: packets per IP protocol in a per-CPU hash.
// run: prog=count_protocols data=tcp23
// run: prog=count_protocols data=udp53
// run: prog=count_protocols data=icmp
// run: prog=count_protocols data=tcp80opt
// run: prog=count_protocols data=arp
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_endian.h>
#include "twins.h"

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 256);
} protocols SEC(".maps");

SEC("xdp")
int count_protocols(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP) || ip->ihl < 5)
		return XDP_PASS;
	__u32 protocol = ip->protocol;
	hash_incf(&protocols, &protocol, 1);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
