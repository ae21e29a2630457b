// The xdp_count example's BPF side in C, for timing clang against the session macro.
// run: prog=count_packets data=tcp23
// run: prog=count_packets data=udp53
// run: prog=count_packets data=arp
// run: prog=count_packets data=short
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 256);
} by_proto SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 1);
} total SEC(".maps");

static void bump(void *map, __u32 key)
{
	__u64 *count = bpf_map_lookup_elem(map, &key);
	if (count)
		__sync_fetch_and_add(count, 1);
}

SEC("xdp")
int count_packets(struct xdp_md *ctx)
{
	unsigned char *data = (void *)(long)ctx->data;
	unsigned char *data_end = (void *)(long)ctx->data_end;
	bump(&total, 0);
	if (data + 34 <= data_end && bpf_ntohs(*(__u16 *)(data + 12)) == ETH_P_IP)
		bump(&by_proto, data[23]);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
