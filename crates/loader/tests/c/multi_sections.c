// libbpf's multi-probe section names: uprobe.multi and uretprobe.multi on this test binary's
// `whistler_multi_probe_*` functions, each counting its hits per thread.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct hits {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u64);
};

struct hits entries SEC(".maps");
struct hits returns SEC(".maps");

static void count(void *hits)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u64 one = 1;
	__u64 *n = bpf_map_lookup_elem(hits, &tid);
	if (n)
		__sync_fetch_and_add(n, 1);
	else
		bpf_map_update_elem(hits, &tid, &one, BPF_NOEXIST);
}

SEC("uprobe.multi//proc/self/exe:whistler_multi_probe_*")
int on_entry(void *ctx)
{
	count(&entries);
	return 0;
}

SEC("uretprobe.multi//proc/self/exe:whistler_multi_probe_?")
int on_return(void *ctx)
{
	count(&returns);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
