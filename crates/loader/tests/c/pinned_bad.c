// A pinned-by-name map in an object whose program the verifier refuses: the failed load must
// not leave the new pin behind.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pinned_then_failed SEC(".maps");

SEC("syscall")
int refused(void *ctx)
{
	__u32 key = 0;
	__u64 *value = bpf_map_lookup_elem(&pinned_then_failed, &key);
	return *value;
}

char LICENSE[] SEC("license") = "GPL";
