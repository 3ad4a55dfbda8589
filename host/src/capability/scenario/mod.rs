//! The `clnrm:chaos/scenario` capability.

mod host;

/// Registered in [`super::SPECS`]. Its state (holds, `steps-done`) is built by
/// the engine with the scenario's injections, so it is not a slot.
pub const SPEC: super::Spec = super::Spec {
    grant: Some(crate::runtime::host::Capability::SCENARIO),
    ..super::Spec::named("scenario")
};

impl crate::runtime::host::Capability {
    pub const SCENARIO: Self = Self::new("scenario");
}
