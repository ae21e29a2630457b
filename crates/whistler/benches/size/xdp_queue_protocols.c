// xdp_queue_protocols.lisp in C: the last IP protocols in a queue map.
// run: prog=queue_protocols data=tcp23
// run: prog=queue_protocols data=udp53
// run: prog=queue_protocols data=arp
// run: prog=queue_protocols data=icmp
// run: prog=queue_protocols data=tcp80opt
// run: prog=queue_protocols data=udp_other
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_endian.h>
#include "twins.h"

struct {
	__uint(type, BPF_MAP_TYPE_QUEUE);
	__type(value, __u8);
	__uint(max_entries, 4);
} recent_protocols SEC(".maps");

SEC("xdp")
int queue_protocols(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP) || ip->ihl < 5)
		return XDP_PASS;
	__u8 protocol = ip->protocol;
	bpf_map_push_elem(&recent_protocols, &protocol, BPF_EXIST);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
