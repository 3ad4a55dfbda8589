//! The `clnrm:chaos/scenario` capability.

mod host;

/// Registered in [`super::SPECS`]. Its state (holds, `steps-done`) is built by
/// the engine with the scenario's injections, so it is not a slot.
pub const SPEC: super::Spec = super::Spec::named("scenario");
