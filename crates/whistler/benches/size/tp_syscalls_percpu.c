// tp_syscalls_percpu.lisp in C: system calls per number in a per-CPU hash.
#include "twins.h"

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 512);
} syscalls SEC(".maps");

SEC("tracepoint/raw_syscalls/sys_enter")
int count_syscalls(void *ctx)
{
	__u32 id = *(__u64 *)(ctx + 8);
	hash_incf(&syscalls, &id, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
