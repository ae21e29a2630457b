// A trampoline program: loads where the kernel allows trampolines, else EPERM (this host).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("fentry/do_unlinkat")
int on_unlink(unsigned long long *ctx)
{
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
