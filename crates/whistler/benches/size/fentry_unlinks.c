// fentry_unlinks.lisp in C: unlinks per directory descriptor.
#include "twins.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 256);
} unlinks SEC(".maps");

SEC("fentry/do_unlinkat")
int count_unlinks(__u64 *ctx)
{
	__u32 dfd = ctx[0];
	hash_incf(&unlinks, &dfd, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
