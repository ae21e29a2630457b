// xdp_lpm_block.lisp in C: drops sources in blocked prefixes, counting per rule.
// fill: blocked key=080000000a000000 value=03000000
// fill: blocked key=18000000c0a80100 value=05000000
// run: prog=block_prefixes data=tcp23
// run: prog=block_prefixes data=syn_d
// run: prog=block_prefixes data=udp_other
// run: prog=block_prefixes data=arp
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_endian.h>
#include "twins.h"

struct ipv4_prefix {
	__u32 length;
	__u32 address;
};

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__type(key, struct ipv4_prefix);
	__type(value, __u32);
	__uint(max_entries, 64);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} blocked SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 16);
} rule_hits SEC(".maps");

SEC("xdp")
int block_prefixes(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP) || ip->ihl < 5)
		return XDP_PASS;
	struct ipv4_prefix key = { .length = 32, .address = ip->saddr };
	__u32 *rule = bpf_map_lookup_elem(&blocked, &key);
	if (rule) {
		__u32 index = *rule;
		array_incf(&rule_hits, &index, 1);
		return XDP_DROP;
	}
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
