// uprobe_size_log2.lisp in C: a log2 histogram of the first argument.
#include <asm/ptrace.h>
#include "twins.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 64);
} size_buckets SEC(".maps");

static __always_inline __u32 log2_u64(__u64 v)
{
	__u32 r = 0;
	if (v >= 1ULL << 32) { v >>= 32; r += 32; }
	if (v >= 1ULL << 16) { v >>= 16; r += 16; }
	if (v >= 1ULL << 8) { v >>= 8; r += 8; }
	if (v >= 1ULL << 4) { v >>= 4; r += 4; }
	if (v >= 1ULL << 2) { v >>= 2; r += 2; }
	if (v >= 1ULL << 1) { r += 1; }
	return r;
}

SEC("uprobe")
int size_hist(struct pt_regs *ctx)
{
	__u32 bucket = log2_u64(ctx->rdi);
	array_incf(&size_buckets, &bucket, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
