// socket_tcp_only.lisp in C: a socket filter keeping TCP packets only.
// run: prog=tcp_only data=tcp23
// run: prog=tcp_only data=udp53
// run: prog=tcp_only data=tcp80opt
#include <linux/in.h>
#include "twins.h"

SEC("socket")
int tcp_only(struct __sk_buff *skb)
{
	__u8 protocol = 0;
	if (bpf_skb_load_bytes(skb, 9, &protocol, 1) == 0 && protocol == IPPROTO_TCP)
		return skb->len;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
