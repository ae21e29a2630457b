// cgroup_connect4_dns.lisp in C: connections to 10.0.0.1:53 sent to 127.0.0.53.
#include <bpf/bpf_endian.h>
#include "twins.h"

SEC("cgroup/connect4")
int local_dns(struct bpf_sock_addr *ctx)
{
	if (ctx->user_ip4 == bpf_htonl(0x0a000001) && ctx->user_port == bpf_htons(53))
		ctx->user_ip4 = bpf_htonl(0x7f000035);
	return 1;
}

char LICENSE[] SEC("license") = "GPL";
