// CO-RE the way most libbpf programs are written: vmlinux.h generated from the kernel's BTF
// (`bpftool btf dump file /sys/kernel/btf/vmlinux format c`), BPF_CORE_READ chains and strings.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

struct snapshot {
	int pid;
	int tgid;
	int parent_tgid;
	int sid_type;
	unsigned int task_flags_bit_exists;
	char comm[16];
	char parent_comm[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct snapshot);
} snapshots SEC(".maps");

SEC("raw_tp/sys_enter")
int snapshot_task(void *ctx)
{
	struct task_struct *task = (void *)bpf_get_current_task();
	u32 zero = 0;
	struct snapshot *s = bpf_map_lookup_elem(&snapshots, &zero);
	if (!s)
		return 1;
	s->pid = BPF_CORE_READ(task, pid);
	s->tgid = BPF_CORE_READ(task, tgid);
	s->parent_tgid = BPF_CORE_READ(task, real_parent, tgid);
	s->sid_type = bpf_core_enum_value(enum pid_type, PIDTYPE_SID);
	s->task_flags_bit_exists = bpf_core_field_exists(task->flags);
	BPF_CORE_READ_STR_INTO(&s->comm, task, comm);
	BPF_CORE_READ_STR_INTO(&s->parent_comm, task, real_parent, comm);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
