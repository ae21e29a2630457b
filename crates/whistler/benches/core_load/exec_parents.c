// The exec_parents example's BPF side in C: task_struct read through CO-RE (a local
// declaration with preserve_access_index, relocated by the loader for the running kernel).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

struct task_struct {
	int tgid;
	struct task_struct *real_parent;
	char comm[16];
} __attribute__((preserve_access_index));

struct exec_event {
	__u32 pid;
	__u32 ppid;
	char comm[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16384);
} events SEC(".maps");

SEC("tracepoint/sched/sched_process_exec")
int on_exec(void *ctx)
{
	struct task_struct *task = (void *)bpf_get_current_task();
	struct exec_event *ev = bpf_ringbuf_reserve(&events, sizeof(*ev), 0);
	if (!ev)
		return 0;
	ev->pid = BPF_CORE_READ(task, tgid);
	ev->ppid = BPF_CORE_READ(task, real_parent, tgid);
	BPF_CORE_READ_INTO(&ev->comm, task, comm);
	bpf_ringbuf_submit(ev, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
