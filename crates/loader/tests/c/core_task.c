// CO-RE reads of the running kernel's task_struct through local, flavored declarations.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

struct task_struct___mine {
	int pid;
	int tgid;
	struct task_struct___mine *real_parent;
	int no_such_field_here;
	unsigned int in_execve:1;
} __attribute__((preserve_access_index));

enum pid_type___mine {
	PIDTYPE_TGID___mine = 1,
	PIDTYPE_SID = 7,
	PIDTYPE_NOT_THERE = 9,
};

struct result {
	int pid;
	int tgid;
	int parent_tgid;
	int missing_exists;
	int pid_exists;
	int task_size_positive;
	int sid_value;
	int not_there_exists;
	int in_execve;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct result);
} results SEC(".maps");

SEC("raw_tracepoint/sys_enter")
int read_task(void *ctx)
{
	struct task_struct___mine *task = (void *)bpf_get_current_task();
	__u32 zero = 0;
	struct result *r = bpf_map_lookup_elem(&results, &zero);
	if (!r)
		return 1;
	r->pid = BPF_CORE_READ(task, pid);
	r->tgid = BPF_CORE_READ(task, tgid);
	r->parent_tgid = BPF_CORE_READ(task, real_parent, tgid);
	r->missing_exists = bpf_core_field_exists(task->no_such_field_here);
	r->pid_exists = bpf_core_field_exists(task->pid);
	r->task_size_positive = bpf_core_type_size(struct task_struct___mine) > 64;
	r->sid_value = bpf_core_enum_value(enum pid_type___mine, PIDTYPE_SID);
	r->not_there_exists = bpf_core_enum_value_exists(enum pid_type___mine, PIDTYPE_NOT_THERE);
	r->in_execve = BPF_CORE_READ_BITFIELD_PROBED(task, in_execve) + 10;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
