// xdp_payload_sum.lisp in C: the byte sum of up to 32 UDP payload bytes.
// run: prog=sum_payload data=udp53
// run: prog=sum_payload data=udp53opt
// run: prog=sum_payload data=tcp23
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <linux/in.h>
#include <bpf/bpf_endian.h>
#include "twins.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 1);
} payload_sums SEC(".maps");

SEC("xdp")
int sum_payload(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP) || ip->ihl < 5 ||
	    ip->protocol != IPPROTO_UDP)
		return XDP_PASS;
	unsigned char *payload = (void *)ip + ip->ihl * 4 + sizeof(struct udphdr);
	if ((void *)payload > data_end)
		return XDP_PASS;
	__u64 sum = 0;
	for (int i = 0; i < 32; i++)
		if (payload + i + 1 <= (unsigned char *)data_end)
			sum += payload[i];
	__u32 key = 0;
	bpf_map_update_elem(&payload_sums, &key, &sum, BPF_ANY);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
