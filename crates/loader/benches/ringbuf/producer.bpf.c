// The ring buffer benchmark's producer, loaded by both consumers (libbpf's and ours): one XDP
// program per record size, run with BPF_PROG_TEST_RUN. Each run reserves a record, writes a
// sequence number into its first 8 bytes and submits it; a failed reserve (the ring is full) is
// counted in `drops`.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 24);
} records SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} drops SEC(".maps");

__u64 next_seq;

#define PRODUCER(SIZE)                                                        \
	SEC("xdp")                                                            \
	int produce_##SIZE(struct xdp_md *ctx)                                \
	{                                                                     \
		__u64 *record = bpf_ringbuf_reserve(&records, SIZE, 0);       \
		if (!record) {                                                \
			__u32 key = 0;                                        \
			__u64 *dropped = bpf_map_lookup_elem(&drops, &key);   \
			if (dropped)                                          \
				__sync_fetch_and_add(dropped, 1);             \
			return XDP_PASS;                                      \
		}                                                             \
		*record = __sync_fetch_and_add(&next_seq, 1);                 \
		bpf_ringbuf_submit(record, 0);                                \
		return XDP_PASS;                                              \
	}

PRODUCER(8)
PRODUCER(64)
PRODUCER(512)

char LICENSE[] SEC("license") = "GPL";
