// Maps of maps: an array of arrays whose slots the loader fills by map name, and a hash of maps.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct inner {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
};

struct inner inner_a SEC(".maps");
struct inner inner_b SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 2);
	__type(key, __u32);
	__array(values, struct inner);
} outer SEC(".maps") = {
	.values = { [0] = &inner_a, [1] = &inner_b },
};

SEC("syscall")
int read_both(void *ctx)
{
	__u32 zero = 0, one = 1;
	__u32 *a, *b;
	void *m = bpf_map_lookup_elem(&outer, &zero);
	if (!m)
		return -1;
	a = bpf_map_lookup_elem(m, &zero);
	m = bpf_map_lookup_elem(&outer, &one);
	if (!m || !a)
		return -2;
	b = bpf_map_lookup_elem(m, &zero);
	if (!b)
		return -3;
	return *a * 10 + *b;
}

char LICENSE[] SEC("license") = "GPL";
