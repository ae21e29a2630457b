// kretprobe_open_errors.lisp in C: failed opens per error number.
#include <asm/ptrace.h>
#include "twins.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 256);
} open_errors SEC(".maps");

SEC("kretprobe/do_sys_openat2")
int count_errors(struct pt_regs *ctx)
{
	long ret = ctx->rax;
	if (ret < 0) {
		__u32 error = -ret;
		hash_incf(&open_errors, &error, 1);
	}
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
