// Loaded hundreds of times by the leak test: names unique to that test, a map of every kind
// the loader treats specially (global data, BTF map) and a subprogram.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

const volatile int leak_rodata = 1;
int leak_data = 2;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u32);
} leak_probe_map SEC(".maps");

static __attribute__((noinline)) int leak_sub(int x)
{
	return x + leak_rodata + leak_data;
}

SEC("xdp")
int leak_probe_prog(struct xdp_md *ctx)
{
	__u32 k = 0, v = 1;
	bpf_map_update_elem(&leak_probe_map, &k, &v, BPF_ANY);
	return leak_sub(0) == 3 ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
