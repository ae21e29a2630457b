// cgroup_skb_big_drop.lisp in C: packets over 60 bytes refused and counted.
// run: prog=refuse_big data=udp53
// run: prog=refuse_big data=tcp23
// run: prog=refuse_big data=udp53
#include "twins.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 1);
} refused_bytes SEC(".maps");

SEC("cgroup_skb/ingress")
int refuse_big(struct __sk_buff *skb)
{
	__u32 length = skb->len;
	if (length > 60) {
		__u32 key = 0;
		array_incf(&refused_bytes, &key, length);
		return 0;
	}
	return 1;
}

char LICENSE[] SEC("license") = "GPL";
