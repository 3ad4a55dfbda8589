//! The `clnrm:chaos/compose` capability.

mod host;

/// Registered in [`super::SPECS`].
pub const SPEC: super::Spec = super::Spec {
    grant: Some(crate::runtime::host::Capability::COMPOSE),
    ..super::Spec::named("compose")
};

impl crate::runtime::host::Capability {
    pub const COMPOSE: Self = Self::new("compose");
}
