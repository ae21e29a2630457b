// hash_count.lisp in C: executions per process, inserted on first sight.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 1024);
} execs SEC(".maps");

SEC("tracepoint/sched/sched_process_exec")
int count_execs(void *ctx)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	__u64 *count = bpf_map_lookup_elem(&execs, &tgid);
	if (count) {
		__sync_fetch_and_add(count, 1);
	} else {
		__u64 one = 1;
		if (bpf_map_update_elem(&execs, &tgid, &one, BPF_NOEXIST)) {
			count = bpf_map_lookup_elem(&execs, &tgid);
			if (count)
				__sync_fetch_and_add(count, 1);
		}
	}
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
