//! The `clnrm:chaos/container` capability.

mod host;

use crate::runtime::FaultKind;

/// Registered in [`super::SPECS`].
pub const SPEC: super::Spec = super::Spec {
    volatile_keys: &["container.id", "network.name"],
    fault_kinds: &[FaultKind::Signal, FaultKind::Pause, FaultKind::NetworkCut],
    grant: Some(crate::runtime::host::Capability::CONTAINER),
    ..super::Spec::named("container")
};

impl crate::runtime::host::Capability {
    pub const CONTAINER: Self = Self::new("container");
}
