//! The `clnrm:chaos/spans` capability.

mod host;

/// Registered in [`super::SPECS`].
pub const SPEC: super::Spec = super::Spec::named("spans");
