// xdp_dns_hash.lisp in C: DNS queries per source address in a hash map.
// run: prog=count_dns data=udp53
// run: prog=count_dns data=udp53opt
// run: prog=count_dns data=udp53
// run: prog=count_dns data=udp_other
// run: prog=count_dns data=tcp23
// run: prog=count_dns data=badihl
// run: prog=count_dns data=short
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <linux/in.h>
#include <bpf/bpf_endian.h>
#include "twins.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 1024);
} dns_queries SEC(".maps");

SEC("xdp")
int count_dns(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	if ((void *)(eth + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	struct iphdr *ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > data_end || ip->ihl < 5 || ip->protocol != IPPROTO_UDP)
		return XDP_PASS;
	struct udphdr *udp = (void *)ip + ip->ihl * 4;
	if ((void *)(udp + 1) > data_end)
		return XDP_PASS;
	if (udp->dest == bpf_htons(53)) {
		__u32 source = ip->saddr;
		hash_incf(&dns_queries, &source, 1);
	}
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
