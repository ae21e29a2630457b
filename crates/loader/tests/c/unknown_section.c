// A program in a section no table knows: loading needs an explicit program type.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("my_custom_section")
int custom(void *ctx)
{
	return 7;
}

char LICENSE[] SEC("license") = "GPL";
