//! The `clnrm:chaos/cgroup` capability: resource readings and live limits.

mod host;
pub mod kernel;

use crate::runtime::FaultKind;

/// Registered in [`super::SPECS`]. Readings vary run to run; the levels and
/// booleans plugins derive from them stay in the digest.
pub const SPEC: super::Spec = super::Spec {
    volatile_suffixes: &[
        "peak_mb",
        ".failcnt",
        "throttled.periods",
        "throttled.ms",
        "used.mb",
        "fds.peak",
        "recovery.ms",
    ],
    fault_kinds: &[FaultKind::Pressure],
    grant: Some(crate::runtime::host::Capability::CGROUP),
    ..super::Spec::named("cgroup")
};

impl crate::runtime::host::Capability {
    pub const CGROUP: Self = Self::new("cgroup");
}
