// What the C twins share: Whistler's `incf` on a map entry, written once.
#ifndef TWINS_H
#define TWINS_H
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

// (incf (getmap MAP KEY) DELTA) on a map whose entries always exist (arrays): an atomic add.
static __always_inline void array_incf(void *map, const void *key, __u64 delta)
{
	__u64 *value = bpf_map_lookup_elem(map, key);
	if (value)
		__sync_fetch_and_add(value, delta);
}

// The same on a hash map: a missing entry is inserted as DELTA; when another CPU inserted it
// first (the insert fails), DELTA is added to that CPU's entry.
static __always_inline void hash_incf(void *map, const void *key, __u64 delta)
{
	__u64 *value = bpf_map_lookup_elem(map, key);
	if (value) {
		__sync_fetch_and_add(value, delta);
	} else if (bpf_map_update_elem(map, key, &delta, BPF_NOEXIST)) {
		value = bpf_map_lookup_elem(map, key);
		if (value)
			__sync_fetch_and_add(value, delta);
	}
}

#endif
