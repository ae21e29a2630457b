// kprobe_opens_lru_percpu.lisp in C: opens per process in an LRU per-CPU hash.
#include "twins.h"

struct {
	__uint(type, BPF_MAP_TYPE_LRU_PERCPU_HASH);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 1024);
} opens SEC(".maps");

SEC("kprobe/do_sys_openat2")
int count_opens(void *ctx)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	hash_incf(&opens, &tgid, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
