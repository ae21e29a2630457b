// bpf-to-bpf calls: a static function in the program's section, global and static functions in
// .text called from two programs, one calling another, and a callback passed to bpf_loop.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

static __attribute__((noinline)) int twice(int x)
{
	return x * 2;
}

__attribute__((noinline)) int add_three(int x)
{
	return twice(x) - x + 3;
}

static int sum_step(__u32 index, void *ctx)
{
	*(long *)ctx += index;
	return 0;
}

static __attribute__((noinline)) int local_helper(int x)
{
	return x + 1000;
}

SEC("syscall")
int first(void *ctx)
{
	long sum = 0;
	bpf_loop(5, sum_step, &sum, 0);
	return add_three(10) + (int)sum + local_helper(0);
}

SEC("syscall")
int second(void *ctx)
{
	return twice(21) + add_three(0);
}

char LICENSE[] SEC("license") = "GPL";
