//! The `clnrm:chaos/container` capability.

mod host;

use crate::runtime::FaultKind;

/// Registered in [`super::SPECS`].
pub const SPEC: super::Spec = super::Spec {
    volatile_keys: &["container.id", "network.name"],
    fault_kinds: &[FaultKind::Signal, FaultKind::Pause, FaultKind::NetworkCut],
    ..super::Spec::named("container")
};
