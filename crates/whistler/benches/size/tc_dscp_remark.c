// tc_dscp_remark.lisp in C: DNS queries re-marked with DSCP EF, checksum patched.
// run: prog=remark_dns data=udp53
// run: prog=remark_dns data=udp53opt
// run: prog=remark_dns data=udp_other
// run: prog=remark_dns data=tcp23
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <linux/in.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_endian.h>
#include "twins.h"

SEC("tc")
int remark_dns(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP) || ip->ihl < 5 ||
	    ip->protocol != IPPROTO_UDP)
		return TC_ACT_OK;
	struct udphdr *udp = (void *)ip + ip->ihl * 4;
	if ((void *)(udp + 1) > data_end || udp->dest != bpf_htons(53))
		return TC_ACT_OK;
	__u8 old_tos = ip->tos;
	__u8 new_tos = (old_tos & 3) | 0xb8;
	if (old_tos != new_tos) {
		bpf_l3_csum_replace(skb, ETH_HLEN + 10, bpf_htons(old_tos), bpf_htons(new_tos), 2);
		bpf_skb_store_bytes(skb, ETH_HLEN + 1, &new_tos, 1, 0);
	}
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
