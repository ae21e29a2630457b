// Extern variables: __kconfig values (kernel version, CONFIG_* options of several types, one the
// kernel lacks) and a typed __ksym kernel variable.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

extern unsigned int LINUX_KERNEL_VERSION __kconfig;
extern _Bool CONFIG_BPF __kconfig __weak;
extern int CONFIG_HZ __kconfig __weak;
extern _Bool CONFIG_NO_SUCH_OPTION_HERE __kconfig __weak;

struct kconfig_seen {
	unsigned int version;
	int bpf;
	int hz;
	int missing;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct kconfig_seen);
} seen SEC(".maps");

SEC("syscall")
int read_kconfig(void *ctx)
{
	__u32 zero = 0;
	struct kconfig_seen *s = bpf_map_lookup_elem(&seen, &zero);
	if (!s)
		return 1;
	s->version = LINUX_KERNEL_VERSION;
	s->bpf = CONFIG_BPF;
	s->hz = CONFIG_HZ;
	s->missing = CONFIG_NO_SUCH_OPTION_HERE;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
