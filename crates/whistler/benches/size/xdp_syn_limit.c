// xdp_syn_limit.lisp in C: SYNs per source in an LRU hash, dropped past two.
// run: prog=limit_syns data=syn_d
// run: prog=limit_syns data=tcp443
// run: prog=limit_syns data=syn_d
// run: prog=limit_syns data=syn_d
// run: prog=limit_syns data=tcp23
// run: prog=limit_syns data=syn_d
// run: prog=limit_syns data=udp53
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <linux/in.h>
#include <bpf/bpf_endian.h>
#include "twins.h"

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 4096);
} syn_counts SEC(".maps");

SEC("xdp")
int limit_syns(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP) || ip->ihl < 5 ||
	    ip->protocol != IPPROTO_TCP)
		return XDP_PASS;
	struct tcphdr *tcp = (void *)ip + ip->ihl * 4;
	if ((void *)(tcp + 1) > data_end)
		return XDP_PASS;
	if (!tcp->syn || tcp->ack)
		return XDP_PASS;
	__u32 source = ip->saddr;
	hash_incf(&syn_counts, &source, 1);
	__u64 *count = bpf_map_lookup_elem(&syn_counts, &source);
	if (count && *count > 2)
		return XDP_DROP;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
