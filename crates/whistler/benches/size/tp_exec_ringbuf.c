// tp_exec_ringbuf.lisp in C: a ring-buffer record per exec.
#include "twins.h"

struct exec_event {
	__u32 pid;
	__u32 uid;
	char comm[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} execs SEC(".maps");

SEC("tracepoint/sched/sched_process_exec")
int report_execs(void *ctx)
{
	struct exec_event *event = bpf_ringbuf_reserve(&execs, sizeof(*event), 0);
	if (!event)
		return 0;
	event->pid = bpf_get_current_pid_tgid() >> 32;
	event->uid = bpf_get_current_uid_gid();
	bpf_get_current_comm(event->comm, 16);
	bpf_ringbuf_submit(event, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
