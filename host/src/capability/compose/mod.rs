//! The `clnrm:chaos/compose` capability.

mod host;

/// Registered in [`super::SPECS`].
pub const SPEC: super::Spec = super::Spec::named("compose");
