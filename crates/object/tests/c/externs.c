// Externs: a kconfig value and a kernel variable, resolved by the loader, not the object.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

extern unsigned int LINUX_KERNEL_VERSION __kconfig;
extern const int bpf_prog_active __ksym;

SEC("tp_btf/sys_enter")
int use_externs(void *ctx)
{
	const int *active = bpf_this_cpu_ptr(&bpf_prog_active);
	return LINUX_KERNEL_VERSION > 0x050000 && *active >= 0;
}

char LICENSE[] SEC("license") = "GPL";
