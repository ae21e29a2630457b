// A CO-RE read of a locally declared kernel struct.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

struct task_struct {
	int pid;
	struct task_struct *parent;
} __attribute__((preserve_access_index));

SEC("tracepoint/syscalls/sys_enter_getpid")
int read_pid(void *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	int ppid = BPF_CORE_READ(task, parent, pid);
	return ppid > 0 && bpf_core_field_exists(task->pid);
}

char LICENSE[] SEC("license") = "GPL";
