// xdp_tail_dispatch.lisp in C: dispatch by IP protocol through a program array.
// slot: handlers 6 on_tcp
// slot: handlers 17 on_udp
// run: prog=dispatch data=tcp23
// run: prog=dispatch data=udp53
// run: prog=dispatch data=icmp
// run: prog=dispatch data=arp
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_endian.h>
#include "twins.h"

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__type(key, __u32);
	__type(value, __u32);
	__uint(max_entries, 32);
} handlers SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 3);
} handled SEC(".maps");

static __always_inline void count(__u32 slot)
{
	array_incf(&handled, &slot, 1);
}

SEC("xdp")
int dispatch(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > data_end)
		return XDP_PASS;
	if (eth->h_proto == bpf_htons(ETH_P_IP) && ip->ihl >= 5)
		bpf_tail_call(ctx, &handlers, ip->protocol);
	count(0);
	return XDP_PASS;
}

SEC("xdp")
int on_tcp(struct xdp_md *ctx)
{
	count(1);
	return XDP_DROP;
}

SEC("xdp")
int on_udp(struct xdp_md *ctx)
{
	count(2);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
