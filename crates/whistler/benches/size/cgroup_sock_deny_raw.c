// cgroup_sock_deny_raw.lisp in C: raw sockets refused and counted.
#include "twins.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 1);
} raw_refusals SEC(".maps");

SEC("cgroup/sock_create")
int deny_raw(struct bpf_sock *sock)
{
	if (sock->type == 3) {
		__u32 key = 0;
		array_incf(&raw_refusals, &key, 1);
		return 0;
	}
	return 1;
}

char LICENSE[] SEC("license") = "GPL";
