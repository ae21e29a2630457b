// A legacy `maps` section definition (struct bpf_map_def layout), and a prog array filled
// by name through BTF-defined map values.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct legacy_map_def {
	unsigned int type;
	unsigned int key_size;
	unsigned int value_size;
	unsigned int max_entries;
	unsigned int map_flags;
};

struct legacy_map_def SEC("maps") hits = {
	.type = BPF_MAP_TYPE_HASH,
	.key_size = sizeof(__u32),
	.value_size = sizeof(__u64),
	.max_entries = 16,
};

SEC("syscall")
int count_hit(void *ctx)
{
	__u32 key = 7;
	__u64 one = 1, *v = bpf_map_lookup_elem(&hits, &key);
	if (v)
		__sync_fetch_and_add(v, 1);
	else
		bpf_map_update_elem(&hits, &key, &one, BPF_ANY);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
