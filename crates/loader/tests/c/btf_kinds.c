// BTF kinds that older kernels lack: DECL_TAG, TYPE_TAG, FLOAT (and ENUM64 with newer clang).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define __tag(x) __attribute__((btf_decl_tag(x)))
#define __user_ptr __attribute__((btf_type_tag("user")))

struct tagged {
	int plain __tag("field_tag");
	int __user_ptr *user_pointer;
	float ratio;
	double precise;
} __tag("struct_tag");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tagged);
} tagged_values SEC(".maps");

__attribute__((noinline)) int __tag("func_tag") helper(int x __tag("param_tag"))
{
	return x + 1;
}

SEC("syscall")
int uses_tags(void *ctx)
{
	__u32 zero = 0;
	struct tagged *t = bpf_map_lookup_elem(&tagged_values, &zero);
	return t ? helper(t->plain) : 0;
}

char LICENSE[] SEC("license") = "GPL";
