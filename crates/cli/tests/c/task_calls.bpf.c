// task_calls.bpf.c: getpid calls by process, command name and whether the caller leads its
// process, in a hash map whose key and value are structs, for `whistler serve` to decode through the object's BTF (tests/serve.rs).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

enum task_role {
	ROLE_LEADER = 1,
	ROLE_THREAD = 2,
};

struct task_key {
	__u32 pid;
	char comm[16];
	enum task_role role;
};

struct task_stats {
	__u64 calls;
	__s64 minus_calls;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct task_key);
	__type(value, struct task_stats);
} task_calls SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_getpid")
int count_getpid(void *ctx)
{
	struct task_key key = {};
	struct task_stats first = { .calls = 1, .minus_calls = -1 };
	struct task_stats *stats;

	__u64 id = bpf_get_current_pid_tgid();

	key.pid = id >> 32;
	key.role = key.pid == (__u32)id ? ROLE_LEADER : ROLE_THREAD;
	bpf_get_current_comm(key.comm, sizeof(key.comm));
	stats = bpf_map_lookup_elem(&task_calls, &key);
	if (!stats) {
		bpf_map_update_elem(&task_calls, &key, &first, BPF_NOEXIST);
		return 0;
	}
	__sync_fetch_and_add(&stats->calls, 1);
	__sync_fetch_and_add(&stats->minus_calls, -1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
