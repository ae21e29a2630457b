// The verifier must refuse this: the map value is used without a NULL check.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} values SEC(".maps");

SEC("syscall")
int unchecked(void *ctx)
{
	__u32 key = 0;
	__u64 *value = bpf_map_lookup_elem(&values, &key);
	return *value + 1; /* no NULL check */
}

char LICENSE[] SEC("license") = "GPL";
