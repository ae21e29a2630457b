// tc_port_mark.lisp in C: skb marks by TCP destination port; telnet dropped.
// run: prog=mark_ports data=tcp443 ctx=skb
// run: prog=mark_ports data=tcp80opt ctx=skb
// run: prog=mark_ports data=tcp23 ctx=skb
// run: prog=mark_ports data=udp53 ctx=skb
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <linux/in.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_endian.h>
#include "twins.h"

SEC("tc")
int mark_ports(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP) || ip->ihl < 5 ||
	    ip->protocol != IPPROTO_TCP)
		return TC_ACT_OK;
	struct tcphdr *tcp = (void *)ip + ip->ihl * 4;
	if ((void *)(tcp + 1) > data_end)
		return TC_ACT_OK;
	switch (bpf_ntohs(tcp->dest)) {
	case 443:
		skb->mark = 1;
		break;
	case 80:
		skb->mark = 2;
		break;
	case 23:
		return TC_ACT_SHOT;
	}
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
