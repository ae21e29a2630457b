//! Dynamic perf PMUs (kprobe, uprobe): their type number and retprobe bit, read from sysfs
//! because both differ between kernels.

use std::path::Path;

/// A probe PMU as `/sys/bus/event_source/devices/<name>/` describes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct ProbePmu {
    pub type_: u32,
    /// The bit of `config` that makes a return probe (`format/retprobe` says `config:N`).
    pub retprobe_bit: u32,
}

impl ProbePmu {
    /// The PMU called `name`, or None when this kernel lacks it.
    pub fn find(name: &str) -> Option<ProbePmu> {
        let dir = Path::new("/sys/bus/event_source/devices").join(name);
        let type_ = std::fs::read_to_string(dir.join("type"))
            .ok()?
            .trim()
            .parse()
            .ok()?;
        let format = std::fs::read_to_string(dir.join("format/retprobe")).unwrap_or_default();
        Some(ProbePmu {
            type_,
            retprobe_bit: retprobe_bit(&format).unwrap_or(0),
        })
    }

    /// The `config` value for an entry or return probe.
    pub fn config(self, retprobe: bool) -> u64 {
        if retprobe {
            1 << self.retprobe_bit
        } else {
            0
        }
    }
}

fn retprobe_bit(format: &str) -> Option<u32> {
    format.trim().strip_prefix("config:")?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_retprobe_format() {
        assert_eq!(retprobe_bit("config:0\n"), Some(0));
        assert_eq!(retprobe_bit("config:3"), Some(3));
        assert_eq!(retprobe_bit(""), None);
        let pmu = ProbePmu {
            type_: 8,
            retprobe_bit: 0,
        };
        assert_eq!((pmu.config(false), pmu.config(true)), (0, 1));
    }

    #[test]
    fn this_machine_has_a_uprobe_pmu() {
        if Path::new("/sys/bus/event_source/devices/uprobe").exists() {
            assert!(ProbePmu::find("uprobe").is_some());
        }
    }
}
