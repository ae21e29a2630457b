//! What this kernel offers for attaching probes, found the way attaching finds it: the kprobe
//! and uprobe PMUs or their tracefs files, and the multi links (probed by creating one,
//! [`super::multi`]). For reports such as `whistler doctor`; attaching needs none of it.

use super::multi::{kernel_has_kprobe_multi, kernel_has_uprobe_multi};
use super::pmu::ProbePmu;
use super::tracefs;

/// How kprobes or uprobes are created here.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProbeMechanism {
    /// A perf event on the `kprobe`/`uprobe` PMU of this type number.
    Pmu(u32),
    /// A probe written to tracefs `kprobe_events`/`uprobe_events`.
    Tracefs,
    /// Neither: this kind cannot attach.
    None,
}

/// The probe attach kinds of this kernel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProbeSupport {
    /// How this kernel attaches single kprobes.
    pub kprobe: ProbeMechanism,
    /// How this kernel attaches single uprobes.
    pub uprobe: ProbeMechanism,
    /// kprobe_multi links (5.18+ with fprobe); without them a kprobe set is one probe each.
    pub kprobe_multi: bool,
    /// uprobe_multi links (6.6+); without them a uprobe set is one probe each.
    pub uprobe_multi: bool,
}

/// Probes this kernel (the multi links once per process).
pub fn probe_support() -> ProbeSupport {
    ProbeSupport {
        kprobe: mechanism("kprobe", "kprobe_events"),
        uprobe: mechanism("uprobe", "uprobe_events"),
        kprobe_multi: kernel_has_kprobe_multi(),
        uprobe_multi: kernel_has_uprobe_multi(),
    }
}

/// The PMU called `pmu`, else the tracefs file `events_file`, else nothing.
fn mechanism(pmu: &str, events_file: &str) -> ProbeMechanism {
    if let Some(pmu) = ProbePmu::find(pmu) {
        return ProbeMechanism::Pmu(pmu.type_);
    }
    match tracefs::has_events_file(events_file) {
        true => ProbeMechanism::Tracefs,
        false => ProbeMechanism::None,
    }
}
