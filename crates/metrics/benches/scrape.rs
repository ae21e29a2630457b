//! Scrape time of a 10,000-entry hash map (issue 14's target: at most 10 ms), and the size of
//! the text served. Needs CAP_BPF; run with `cargo bench -p whistler-metrics --bench scrape`.

use std::time::{Duration, Instant};
use whistler_bpf::MapType;
use whistler_loader::{Map, MapDefinition, UpdateFlags};
use whistler_metrics::{Layout, MapCollector, ServedMap};

const ENTRIES: u32 = 10_000;
const SCRAPES: usize = 30;

fn main() {
    let definition = MapDefinition {
        name: "bench_counts".into(),
        map_type: MapType::HASH as u32,
        key_size: 4,
        value_size: 8,
        max_entries: ENTRIES,
        ..Default::default()
    };
    let map = match Map::create(&definition) {
        Ok(map) => map,
        Err(e) => {
            eprintln!("scrape bench skipped: cannot create a map ({e}); it needs CAP_BPF");
            return;
        }
    };
    for key in 0..ENTRIES {
        let value = u64::from(key) * 3;
        map.update(&key.to_le_bytes(), &value.to_le_bytes(), UpdateFlags::Any)
            .expect("the map has room for every entry");
    }
    let served = ServedMap {
        name: "bench-counts".into(),
        map,
        key: Layout::Int { signed: false },
        value: Layout::Int { signed: false },
    };
    let registry = MapCollector::new(vec![served]).into_registry();
    let mut times: Vec<Duration> = Vec::with_capacity(SCRAPES);
    let mut bytes = 0;
    for _ in 0..SCRAPES {
        let start = Instant::now();
        let mut body = String::new();
        prometheus_client::encoding::text::encode(&mut body, &registry).expect("encodes");
        times.push(start.elapsed());
        bytes = body.len();
        assert_eq!(
            body.matches("whistler_map_entry{").count(),
            ENTRIES as usize
        );
    }
    times.sort();
    let median = times[SCRAPES / 2];
    println!(
        "scrape of a {ENTRIES}-entry hash map: median {:.2} ms, min {:.2} ms, max {:.2} ms; {bytes} bytes served",
        median.as_secs_f64() * 1e3,
        times[0].as_secs_f64() * 1e3,
        times[SCRAPES - 1].as_secs_f64() * 1e3,
    );
}
