// xdp_ringbuf_flows.lisp in C: a ring-buffer record per IPv4 packet.
// run: prog=report_flows data=tcp23
// run: prog=report_flows data=arp
// run: prog=report_flows data=udp53opt
// run: prog=report_flows data=icmp
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_endian.h>
#include "twins.h"

struct flow_event {
	__u32 source;
	__u32 destination;
	__u8 protocol;
	__u8 ttl;
	__u16 total_length;
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} flows SEC(".maps");

SEC("xdp")
int report_flows(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP) || ip->ihl < 5)
		return XDP_PASS;
	struct flow_event *event = bpf_ringbuf_reserve(&flows, sizeof(*event), 0);
	if (!event)
		return XDP_PASS;
	event->source = ip->saddr;
	event->destination = ip->daddr;
	event->protocol = ip->protocol;
	event->ttl = ip->ttl;
	event->total_length = bpf_ntohs(ip->tot_len);
	bpf_ringbuf_submit(event, 0);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
