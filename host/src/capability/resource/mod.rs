//! The `clnrm:chaos/resource` capability.

mod host;

/// Registered in [`super::SPECS`].
pub const SPEC: super::Spec = super::Spec::named("trace-resource");
