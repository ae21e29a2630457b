//! Serving a session's maps to Prometheus (feature `metrics`).
//!
//! The metrics a session's Lisp declares with `defmetric` (compiled into its object) are served
//! as declared; every other keyed map as `whistler_map_entry{map, key}` gauges, keys and values
//! read as the object's BTF describes them (integers by their size without it). Maps are read at each scrape, through handles of their own
//! (duplicated file descriptors), so a collector may outlive the session's borrow.
//!
//! ```ignore
//! let stop = whistler::stop_on_ctrl_c()?;
//! let s = Counter::load()?;
//! // Serve the session alone...
//! whistler::metrics::exporter(&s, "127.0.0.1:9435".parse()?)?.serve_until(&stop)?;
//! // ...or add it to your own registry.
//! let mut registry = whistler::metrics::prometheus_client::registry::Registry::default();
//! whistler::metrics::register(&s, &mut registry)?;
//! ```

use crate::{Result, Session};
use std::net::SocketAddr;
use std::os::fd::AsFd;
use whistler_metrics::{Layout, ServedMap};

pub use prometheus_client;
pub use whistler_metrics::{DeclarationError, Exporter, MapCollector, MetricSpec};

/// A collector of `session`'s maps, read at each scrape.
pub fn collector<S: Session>(session: &S) -> Result<MapCollector> {
    let declared = whistler_object::read_metrics(S::OBJECT)?;
    let mut layouts = whistler_metrics::object_layouts(S::OBJECT);
    let maps = session.keyed_maps().into_iter().map(|(name, map)| {
        let own = whistler_loader::Map::from_fd(map.as_fd().try_clone_to_owned()?, map.name())?;
        let (key_size, value_size) = (own.info().key_size, own.info().value_size);
        let (key, value) = layouts
            .remove(&whistler_object::symbol_name(name))
            .unwrap_or((
                Layout::from_size(key_size as usize),
                Layout::from_size(value_size as usize),
            ));
        Ok(ServedMap {
            name: name.to_string(),
            map: own,
            key,
            value,
        })
    });
    let maps = maps.collect::<Result<Vec<_>>>()?;
    Ok(MapCollector::with_metrics(maps, declared)?)
}

/// Adds `session`'s metrics to `registry`, beside the application's own.
pub fn register<S: Session>(
    session: &S,
    registry: &mut prometheus_client::registry::Registry,
) -> Result<()> {
    registry.register_collector(Box::new(collector(session)?));
    Ok(())
}

/// An endpoint serving `session`'s metrics at `http://ADDRESS/metrics` once
/// [`Exporter::serve_until`] runs (port 0 picks a free port: [`Exporter::local_addr`]).
pub fn exporter<S: Session>(session: &S, address: SocketAddr) -> Result<Exporter> {
    Ok(Exporter::bind(
        address,
        collector(session)?.into_registry(),
    )?)
}
