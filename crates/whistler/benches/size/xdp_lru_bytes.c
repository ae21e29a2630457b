// xdp_lru_bytes.lisp in C: bytes per source address in an LRU hash.
// run: prog=count_bytes data=tcp23
// run: prog=count_bytes data=udp53
// run: prog=count_bytes data=tcp80opt
// run: prog=count_bytes data=tcp23
// run: prog=count_bytes data=ipv6
// run: prog=count_bytes data=badihl
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_endian.h>
#include "twins.h"

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 4096);
} bytes_by_source SEC(".maps");

SEC("xdp")
int count_bytes(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP) || ip->ihl < 5)
		return XDP_PASS;
	__u32 source = ip->saddr;
	hash_incf(&bytes_by_source, &source, bpf_ntohs(ip->tot_len));
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
