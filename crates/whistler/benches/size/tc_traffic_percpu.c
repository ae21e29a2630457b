// tc_traffic_percpu.lisp in C: packets and bytes per CPU in a struct value.
// run: prog=count_traffic data=tcp23
// run: prog=count_traffic data=udp53
// run: prog=count_traffic data=arp
#include <linux/pkt_cls.h>
#include "twins.h"

struct traffic {
	__u64 packets;
	__u64 bytes;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct traffic);
	__uint(max_entries, 1);
} traffic_totals SEC(".maps");

SEC("tc")
int count_traffic(struct __sk_buff *skb)
{
	__u32 key = 0;
	struct traffic *totals = bpf_map_lookup_elem(&traffic_totals, &key);
	if (totals) {
		totals->packets++;
		totals->bytes += skb->len;
	}
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
