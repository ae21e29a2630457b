// Global data: a .rodata constant the loader may override, a .data counter and a .bss value.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

const volatile int factor = 2;
const volatile char greeting[8] = "hello";
int calls = 100;
long last_result;
static int hidden_total;
static char scratch[16] = "abc";

SEC("syscall")
int scaled(void *ctx)
{
	int result = factor * 21;
	__sync_fetch_and_add(&calls, 1);
	last_result = result + greeting[0];
	hidden_total += result;
	scratch[3] = 'd';
	bpf_printk("scaled %d %s", result, scratch);
	return result;
}

char LICENSE[] SEC("license") = "GPL";
