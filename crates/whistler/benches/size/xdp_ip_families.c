// xdp_ip_families.lisp in C: frames per network family in a per-CPU array.
// run: prog=count_families data=tcp23
// run: prog=count_families data=ipv6
// run: prog=count_families data=arp
// run: prog=count_families data=udp53
#include <linux/if_ether.h>
#include <bpf/bpf_endian.h>
#include "twins.h"

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 3);
} families SEC(".maps");

SEC("xdp")
int count_families(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	if ((void *)(eth + 1) > data_end)
		return XDP_PASS;
	__u32 family = eth->h_proto == bpf_htons(ETH_P_IP)     ? 0
		     : eth->h_proto == bpf_htons(ETH_P_IPV6) ? 1
							     : 2;
	array_incf(&families, &family, 1);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
