// Global data: .data, .rodata, .bss and a string in .rodata.str1.1.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

int counter = 5;                   // .data
const volatile int limit = 40;     // .rodata
static volatile int hits;          // .bss (static: relocated through the section symbol)
long long zeroes[4];               // .bss

SEC("xdp")
int use_globals(struct xdp_md *ctx)
{
	hits++;
	counter++;
	zeroes[2] = hits;
	if (counter > limit)
		bpf_printk("over the limit %d", counter);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
