// Global data: a .rodata constant the loader may override, a .data counter and a .bss value.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

const volatile int factor = 2;
const volatile char greeting[8] = "hello";
int calls = 100;
long last_result;

SEC("syscall")
int scaled(void *ctx)
{
	int result = factor * 21;
	__sync_fetch_and_add(&calls, 1);
	last_result = result + greeting[0];
	return result;
}

char LICENSE[] SEC("license") = "GPL";
