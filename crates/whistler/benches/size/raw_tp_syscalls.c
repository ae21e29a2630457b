// raw_tp_syscalls.lisp in C: system calls per number in an array.
// run: prog=raw_syscalls ctx=args_getpid
// run: prog=raw_syscalls ctx=args_execve
// run: prog=raw_syscalls ctx=args_getpid
// run: prog=raw_syscalls ctx=args_out_of_range
#include "twins.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 512);
} syscall_counts SEC(".maps");

SEC("raw_tracepoint/sys_enter")
int raw_syscalls(struct bpf_raw_tracepoint_args *ctx)
{
	__u64 id = ctx->args[1];
	if (id < 512) {
		__u32 key = id;
		array_incf(&syscall_counts, &key, 1);
	}
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
