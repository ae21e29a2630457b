// BTF-defined maps of several kinds, with flags, pinning and a prog array with initial values.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct value {
	long long packets;
	int last;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, int);
	__type(value, struct value);
	__uint(max_entries, 64);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_BLOOM_FILTER);
	__type(value, long long);
	__uint(max_entries, 128);
	__uint(map_extra, 3);
} seen SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(int));
	__uint(value_size, sizeof(int));
} perf SEC(".maps");

SEC("xdp")
int tail(struct xdp_md *ctx)
{
	return XDP_DROP;
}

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 4);
	__type(key, int);
	__array(values, int (void *));
} jumps SEC(".maps") = {
	.values = { [2] = (void *)&tail },
};

struct inner_def {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, int);
	__type(value, long long);
} inner_a SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 2);
	__type(key, int);
	__array(values, struct inner_def);
} outer SEC(".maps") = {
	.values = { [1] = &inner_a },
};

SEC("xdp")
int count(struct xdp_md *ctx)
{
	int key = 0;
	struct value *v = bpf_map_lookup_elem(&stats, &key);
	if (v)
		v->packets++;
	bpf_ringbuf_output(&events, &key, sizeof(key), 0);
	bpf_tail_call(ctx, &jumps, 2);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
