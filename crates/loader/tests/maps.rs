//! Maps against the running kernel: every map type this kernel creates, byte and typed access,
//! per-CPU values, queues and stacks, batch lookup, pinning and reuse.

mod common;

use whistler_bpf::MapType;
use whistler_loader::cpus::possible_cpu_count;
use whistler_loader::{Map, MapDefinition, MapError, PerCpuMap, TypedMap, UpdateFlags};

fn def(name: &str, map_type: MapType, key: u32, value: u32, max: u32) -> MapDefinition {
    MapDefinition {
        name: name.into(),
        map_type: map_type as u32,
        key_size: key,
        value_size: value,
        max_entries: max,
        ..Default::default()
    }
}

fn u32_key(k: u32) -> [u8; 4] {
    k.to_ne_bytes()
}

#[test]
fn hash_like_maps_update_lookup_delete_iterate() {
    if !common::kernel("hash_like_maps_update_lookup_delete_iterate") {
        return;
    }
    for map_type in [MapType::HASH, MapType::LRU_HASH] {
        let map = Map::create(&def("t-hash", map_type, 4, 8, 64)).unwrap();
        assert_eq!(map.info().name, "t_hash");
        assert_eq!(map.info().kind(), Some(map_type));
        assert_eq!(map.lookup(&u32_key(1)).unwrap(), None);
        for k in 0..10u32 {
            let v = u64::from(k) * 100;
            map.update(&u32_key(k), &v.to_ne_bytes(), UpdateFlags::Any)
                .unwrap();
        }
        let got = map.lookup(&u32_key(7)).unwrap().unwrap();
        assert_eq!(u64::from_ne_bytes(got.try_into().unwrap()), 700);
        let err = map.update(&u32_key(7), &[0; 8], UpdateFlags::NoExist);
        assert!(
            matches!(err, Err(MapError::AlreadyExists { .. })),
            "{err:?}"
        );
        assert!(map
            .update(&u32_key(99), &[0; 8], UpdateFlags::Exist)
            .is_err());
        assert!(map.delete(&u32_key(7)).unwrap());
        assert!(!map.delete(&u32_key(7)).unwrap());
        let mut keys: Vec<u32> = map
            .keys()
            .map(|k| u32::from_ne_bytes(k.unwrap().try_into().unwrap()))
            .collect();
        keys.sort();
        assert_eq!(keys, vec![0, 1, 2, 3, 4, 5, 6, 8, 9]);
        let sum: u64 = map
            .iter()
            .map(|e| u64::from_ne_bytes(e.unwrap().1.try_into().unwrap()))
            .sum();
        assert_eq!(sum, (0..10).sum::<u64>() * 100 - 700);
        let wrong = map.lookup(&[0u8; 3]);
        assert!(matches!(wrong, Err(MapError::WrongSize { .. })));
    }
}

#[test]
fn typed_access_and_batch_lookup_on_a_large_map() {
    if !common::kernel("typed_access_and_batch_lookup_on_a_large_map") {
        return;
    }
    for map_type in [MapType::HASH, MapType::ARRAY] {
        let map = Map::create(&def("big", map_type, 4, 8, 5000)).unwrap();
        let typed = TypedMap::<u32, u64>::new(map).unwrap();
        for k in 0..5000u32 {
            typed.set(&k, &(u64::from(k) * 3)).unwrap();
        }
        assert_eq!(typed.get(&4321).unwrap(), Some(12963));
        let mut all = typed.lookup_batch(256).unwrap();
        all.sort();
        assert_eq!(all.len(), 5000);
        assert!(all.iter().all(|&(k, v)| v == u64::from(k) * 3));
        assert_eq!(typed.iter().count(), 5000);
        assert!(TypedMap::<u64, u64, _>::new(typed.map()).is_err());
    }
}

#[test]
fn per_cpu_values_one_per_possible_cpu() {
    if !common::kernel("per_cpu_values_one_per_possible_cpu") {
        return;
    }
    let cpus = possible_cpu_count().unwrap();
    for map_type in [
        MapType::PERCPU_HASH,
        MapType::PERCPU_ARRAY,
        MapType::LRU_PERCPU_HASH,
    ] {
        // A 4-byte value is padded to 8 per CPU in the syscall buffers.
        let map = Map::create(&def("pcpu", map_type, 4, 4, 16)).unwrap();
        let typed = PerCpuMap::<u32, u32, _>::new(&map).unwrap();
        let values: Vec<u32> = (0..cpus as u32).map(|c| 10 + c).collect();
        typed.set(&3, &values).unwrap();
        assert_eq!(typed.get(&3).unwrap().unwrap(), values);
        let raw = map.lookup_per_cpu(&u32_key(3)).unwrap().unwrap();
        assert_eq!(raw.len(), cpus);
        assert_eq!(raw[0], 10u32.to_ne_bytes());
        assert!(typed.iter().any(|e| e.unwrap() == (3, values.clone())));
        assert!(TypedMap::<u32, u32, _>::new(&map).is_err());
    }
}

#[test]
fn queue_and_stack_push_pop_peek() {
    if !common::kernel("queue_and_stack_push_pop_peek") {
        return;
    }
    let queue = Map::create(&def("q", MapType::QUEUE, 0, 4, 8)).unwrap();
    let stack = Map::create(&def("s", MapType::STACK, 0, 4, 8)).unwrap();
    for v in 1..=3u32 {
        queue.push(&v.to_ne_bytes(), UpdateFlags::Any).unwrap();
        stack.push(&v.to_ne_bytes(), UpdateFlags::Any).unwrap();
    }
    let q = TypedMap::<(), u32, _>::new(&queue).unwrap();
    let s = TypedMap::<(), u32, _>::new(&stack).unwrap();
    assert_eq!(q.peek().unwrap(), Some(1));
    assert_eq!(s.peek().unwrap(), Some(3));
    assert_eq!((q.pop().unwrap(), q.pop().unwrap()), (Some(1), Some(2)));
    assert_eq!((s.pop().unwrap(), s.pop().unwrap()), (Some(3), Some(2)));
    assert_eq!(q.pop().unwrap(), Some(3));
    assert_eq!(q.pop().unwrap(), None);
    let hash = Map::create(&def("h", MapType::HASH, 4, 4, 8)).unwrap();
    assert!(matches!(hash.pop(), Err(MapError::Unsupported { .. })));
}

#[test]
fn lpm_trie_longest_prefix_match() {
    if !common::kernel("lpm_trie_longest_prefix_match") {
        return;
    }
    // key: u32 prefix length + 4 address bytes; created with BPF_F_NO_PREALLOC automatically.
    let map = Map::create(&def("lpm", MapType::LPM_TRIE, 8, 4, 16)).unwrap();
    let key = |len: u32, addr: [u8; 4]| {
        let mut k = len.to_ne_bytes().to_vec();
        k.extend_from_slice(&addr);
        k
    };
    map.update(
        &key(8, [10, 0, 0, 0]),
        &1u32.to_ne_bytes(),
        UpdateFlags::Any,
    )
    .unwrap();
    map.update(
        &key(24, [10, 1, 2, 0]),
        &2u32.to_ne_bytes(),
        UpdateFlags::Any,
    )
    .unwrap();
    let hit = |addr| map.lookup(&key(32, addr)).unwrap().map(|v| v[0]);
    assert_eq!(hit([10, 1, 2, 3]), Some(2));
    assert_eq!(hit([10, 9, 9, 9]), Some(1));
    assert_eq!(hit([11, 0, 0, 1]), None);
}

#[test]
fn bloom_filter_membership() {
    if !common::kernel("bloom_filter_membership") {
        return;
    }
    let map = Map::create(&def("bloom", MapType::BLOOM_FILTER, 0, 4, 100)).unwrap();
    map.push(&42u32.to_ne_bytes(), UpdateFlags::Any).unwrap();
    assert!(map.contains(&42u32.to_ne_bytes()).unwrap());
}

#[test]
fn every_other_map_type_creates() {
    if !common::kernel("every_other_map_type_creates") {
        return;
    }
    let cpus = possible_cpu_count().unwrap() as u32;
    let perf = Map::create(&def("perf", MapType::PERF_EVENT_ARRAY, 4, 4, 0)).unwrap();
    assert_eq!(perf.info().max_entries, cpus);
    let mmapable = MapDefinition {
        map_flags: whistler_loader::maps::BPF_F_MMAPABLE,
        ..def("mm", MapType::ARRAY, 4, 8, 4)
    };
    Map::create(&mmapable).unwrap();
    for (map_type, key, value, max) in [
        (MapType::PROG_ARRAY, 4, 4, 4),
        (MapType::STACK_TRACE, 4, 8 * 127, 16),
        (MapType::RINGBUF, 0, 0, 4096 * 4),
        (MapType::USER_RINGBUF, 0, 0, 4096 * 4),
        (MapType::DEVMAP, 4, 4, 4),
        (MapType::SOCKMAP, 4, 4, 4),
        (MapType::SOCKHASH, 4, 4, 4),
        (MapType::CGROUP_ARRAY, 4, 4, 4),
    ] {
        let map = Map::create(&def("any", map_type, key, value, max))
            .unwrap_or_else(|e| panic!("{map_type:?}: {e}"));
        assert_eq!(map.info().kind(), Some(map_type));
    }
}

#[test]
fn pin_and_reuse_from_bpffs() {
    if !common::kernel("pin_and_reuse_from_bpffs") {
        return;
    }
    let dir = common::bpffs_dir("maps");
    let mut map = Map::create(&def("pinned", MapType::ARRAY, 4, 4, 2)).unwrap();
    map.update(&u32_key(1), &77u32.to_ne_bytes(), UpdateFlags::Any)
        .unwrap();
    let path = dir.join("pinned");
    map.pin(&path).unwrap();
    let id = map.info().id;
    drop(map);
    let reopened = Map::from_pin(&path).unwrap();
    assert_eq!(reopened.info().id, id);
    assert_eq!(
        reopened.lookup(&u32_key(1)).unwrap().unwrap(),
        77u32.to_ne_bytes()
    );
    std::fs::remove_file(&path).unwrap();
    std::fs::remove_dir(&dir).unwrap();
}

#[test]
fn frozen_map_refuses_user_writes() {
    if !common::kernel("frozen_map_refuses_user_writes") {
        return;
    }
    let map = Map::create(&def("frozen", MapType::ARRAY, 4, 4, 1)).unwrap();
    map.update(&u32_key(0), &5u32.to_ne_bytes(), UpdateFlags::Any)
        .unwrap();
    map.freeze().unwrap();
    assert!(map
        .update(&u32_key(0), &6u32.to_ne_bytes(), UpdateFlags::Any)
        .is_err());
    assert_eq!(
        map.lookup(&u32_key(0)).unwrap().unwrap(),
        5u32.to_ne_bytes()
    );
}

#[test]
fn creation_errors_are_explained() {
    if !common::kernel("creation_errors_are_explained") {
        return;
    }
    // A ring buffer's size must be a power-of-two multiple of the page size.
    let err = Map::create(&def("badring", MapType::RINGBUF, 0, 0, 1000)).unwrap_err();
    assert!(matches!(err, MapError::Create { .. }), "{err}");
    assert!(err.to_string().contains("rejected the definition"), "{err}");
}
