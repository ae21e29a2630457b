// Legacy map definitions in the "maps" section, and a kernel version.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct bpf_map_def {
	unsigned int type;
	unsigned int key_size;
	unsigned int value_size;
	unsigned int max_entries;
	unsigned int map_flags;
};

struct bpf_map_def SEC("maps") first = {
	.type = BPF_MAP_TYPE_ARRAY,
	.key_size = 4,
	.value_size = 8,
	.max_entries = 2,
};

struct bpf_map_def SEC("maps") second = {
	.type = BPF_MAP_TYPE_HASH,
	.key_size = 8,
	.value_size = 16,
	.max_entries = 32,
	.map_flags = 1,
};

SEC("socket")
int filter(struct __sk_buff *skb)
{
	int key = 1;
	long long *v = bpf_map_lookup_elem(&first, &key);
	if (v)
		(*v)++;
	long long k2 = 7;
	bpf_map_lookup_elem(&second, &k2);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
unsigned int VERSION SEC("version") = 0x060100;
