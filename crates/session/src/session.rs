//! A loaded object as a session: its programs and maps by name, ring consumers, and closing in
//! order.

use crate::{LinkId, Program, StopFlag};
use std::os::fd::AsFd;
use std::time::{Duration, Instant};
use whistler_bpf::MapType;
use whistler_loader::link::Link;
use whistler_loader::object::Object;
use whistler_loader::ringbuf::{RingBufferError, RingBufferSet};
use whistler_loader::{LoadError, LoadOptions, Map};

/// The longest single wait while draining, so that a stop request is noticed quickly.
const WAIT_SLICE: Duration = Duration::from_millis(100);

/// Everything a session must close. Dropping it closes ring consumers, then links, then
/// programs, then maps.
pub struct Session {
    rings: Option<RingBufferSet<'static>>,
    programs: Vec<Program>,
    maps: Vec<Map>,
}

impl Session {
    /// Creates the maps and loads the programs of an ELF object.
    pub fn load(elf: &[u8], options: &LoadOptions) -> Result<Session, LoadError> {
        Ok(Session::from_object(Object::load(elf, options)?))
    }

    pub fn from_object(object: Object) -> Session {
        let (programs, maps) = object.into_parts();
        Session {
            rings: None,
            programs: programs.into_iter().map(Program::new).collect(),
            maps,
        }
    }

    pub fn programs(&self) -> &[Program] {
        &self.programs
    }

    pub fn programs_mut(&mut self) -> &mut [Program] {
        &mut self.programs
    }

    pub fn maps(&self) -> &[Map] {
        &self.maps
    }

    /// A program by its name in the object (the ELF symbol).
    pub fn program(&self, name: &str) -> Option<&Program> {
        self.programs.iter().find(|p| p.name() == name)
    }

    pub fn program_mut(&mut self, name: &str) -> Option<&mut Program> {
        self.programs.iter_mut().find(|p| p.name() == name)
    }

    pub fn map(&self, name: &str) -> Option<&Map> {
        self.maps.iter().find(|m| m.name() == name)
    }

    /// Hands a program over (with its attachments): the caller closes it.
    pub fn take_program(&mut self, name: &str) -> Option<Program> {
        let i = self.programs.iter().position(|p| p.name() == name)?;
        Some(self.programs.remove(i))
    }

    /// Hands a map over: the caller closes it.
    pub fn take_map(&mut self, name: &str) -> Option<Map> {
        let i = self.maps.iter().position(|m| m.name() == name)?;
        Some(self.maps.remove(i))
    }

    /// Ends one attachment of any program; false when it had already ended.
    pub fn detach(&mut self, id: LinkId) -> bool {
        self.programs.iter_mut().any(|p| p.detach(id))
    }

    /// Consumes every ring buffer map of the session: `on_record(map name, record)` gets each
    /// record as [`Session::drain_until`] reads it.
    pub fn consume_rings(
        &mut self,
        on_record: impl Fn(&str, &[u8]) + Clone + 'static,
    ) -> Result<(), RingBufferError> {
        let mut rings = RingBufferSet::new()?;
        for map in &self.maps {
            if map.info().kind() != Some(MapType::RINGBUF) {
                continue;
            }
            let (name, on_record) = (map.name().to_string(), on_record.clone());
            rings.add(
                map.as_fd(),
                map.info().max_entries,
                move |record: &[u8]| on_record(&name, record),
            )?;
        }
        self.rings = Some(rings);
        Ok(())
    }

    /// Hands ring records over until `stop` is set or `deadline` passes, then drains what is
    /// left.
    pub fn drain_until(
        &mut self,
        stop: &StopFlag,
        deadline: Option<Instant>,
    ) -> Result<(), RingBufferError> {
        self.poll_rings(stop, deadline, false).map(drop)
    }

    /// Hands ring records over as soon as there are some, waiting for the first until `stop`
    /// is set or `deadline` passes; returns how many were handed over (a caller watching for
    /// one record, such as an exit request, sees it without waiting out a poll interval).
    pub fn wait_for_records(
        &mut self,
        stop: &StopFlag,
        deadline: Option<Instant>,
    ) -> Result<usize, RingBufferError> {
        self.poll_rings(stop, deadline, true)
    }

    fn poll_rings(
        &mut self,
        stop: &StopFlag,
        deadline: Option<Instant>,
        until_first: bool,
    ) -> Result<usize, RingBufferError> {
        let mut records = 0;
        loop {
            if stop.is_set() || (until_first && records > 0) {
                break;
            }
            let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
            if left == Some(Duration::ZERO) {
                break;
            }
            let wait = left.unwrap_or(Duration::MAX).min(WAIT_SLICE);
            match self.rings.as_mut().filter(|r| !r.is_empty()) {
                Some(rings) => records += rings.poll(Some(wait))?,
                None => std::thread::sleep(wait),
            }
        }
        if let Some(rings) = &mut self.rings {
            records += rings.consume();
        }
        Ok(records)
    }

    /// Takes every attachment of every program, leaving the programs loaded: the caller ends
    /// them by dropping the links (on other threads, say: closing a tracepoint's link waits
    /// for RCU grace periods).
    pub fn take_links(&mut self) -> Vec<Link> {
        self.programs
            .iter_mut()
            .flat_map(|p| p.take_links())
            .collect()
    }

    /// Stops the ring consumers and detaches every program, keeping programs and maps (to read
    /// the maps after the run).
    pub fn stop(&mut self) {
        self.rings = None;
        for program in &mut self.programs {
            program.detach_all();
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        self.stop();
        self.programs.clear();
        self.maps.clear();
    }
}
