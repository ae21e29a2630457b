//! What the runtime needs besides the object: the probes with their programs, the maps with
//! their key and value types, and the events programs send (printf formats and their
//! argument types). Plain data, so that it can be written beside an object ahead of time.

use crate::probes::ProbeKind;
use crate::types::{MapKind, Type};

#[derive(Clone, Debug, Default)]
pub struct Plan {
    pub probes: Vec<PlannedProbe>,
    /// Sorted by bpftrace name, the order maps are printed in.
    pub maps: Vec<PlannedMap>,
    /// printf, system and cat formats, by index.
    pub printfs: Vec<Printf>,
    /// time() formats and join() delimiters, by index.
    pub texts: Vec<String>,
}

#[derive(Clone, Debug)]
pub struct PlannedProbe {
    /// The program's name in the object.
    pub object_name: String,
    pub kind: ProbeKind,
}

#[derive(Clone, Debug)]
pub struct PlannedMap {
    /// `@name` as written (`@` for the anonymous map).
    pub name: String,
    pub object_name: String,
    pub keys: Vec<Type>,
    pub kind: MapKind,
}

#[derive(Clone, Debug)]
pub struct Printf {
    pub format: String,
    pub args: Vec<Type>,
}

/// The kinds of records in the event ring; the header's low 32 bits hold one, the high 32
/// bits an index (printf format, map, time format).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum Event {
    Exit = 0,
    Printf = 1,
    Clear = 2,
    Zero = 3,
    Print = 4,
    Time = 5,
    System = 6,
    Cat = 7,
    /// `join()`: [`JOIN_ARGS`] strings of [`crate::STRING_SIZE`] bytes; the index names the
    /// delimiter among the texts.
    Join = 8,
}

/// Elements of the array `join()` prints at most (bpftrace's default).
pub const JOIN_ARGS: usize = 16;

impl Event {
    pub fn from_u32(n: u32) -> Option<Event> {
        Some(match n {
            0 => Event::Exit,
            1 => Event::Printf,
            2 => Event::Clear,
            3 => Event::Zero,
            4 => Event::Print,
            5 => Event::Time,
            6 => Event::System,
            7 => Event::Cat,
            8 => Event::Join,
            _ => return None,
        })
    }
}
