// A program array whose slot 1 the loader fills with `target` by name, and a pinned-by-name map.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} shared_counts SEC(".maps");

SEC("xdp")
int target(struct xdp_md *ctx)
{
	__u32 key = 1;
	__u64 one = 1, *v = bpf_map_lookup_elem(&shared_counts, &key);
	if (v)
		__sync_fetch_and_add(v, 1);
	else
		bpf_map_update_elem(&shared_counts, &key, &one, BPF_ANY);
	return XDP_TX;
}

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__array(values, int (void *));
} jump_table SEC(".maps") = {
	.values = { [1] = (void *)&target },
};

SEC("xdp")
int entry(struct xdp_md *ctx)
{
	bpf_tail_call(ctx, &jump_table, 1);
	return XDP_ABORTED;
}

char LICENSE[] SEC("license") = "GPL";
