//! The `clnrm:chaos/net` capability: faults and probes on a scenario's
//! traffic, inside the containers' own network namespaces.

pub mod dnsfault;
mod dnswire;
mod faults;
mod host;
mod impairment;
mod kernel;
pub mod netfault;
pub mod netns;
mod nfqueue;

pub use faults::{Impairments, NetFaults, NoNetFaults};
pub use kernel::Kernel;

use crate::runtime::FaultKind;

/// Registered in [`super::SPECS`]: what the probes and the NFQUEUE consumers
/// measured varies run to run; its state is the scenario's [`Impairments`].
pub const SPEC: super::Spec = super::Spec {
    // `dns.resolver`: the engine's resolver, not the run's doing (Docker's
    // 127.0.0.11, Podman's aardvark-dns on whichever subnet it allocated).
    volatile_keys: &["packets.seen", "packets.dropped", "dns.resolver"],
    volatile_suffixes: &["measured_ms", "measured_percent", "measured_kbit"],
    fault_kinds: &[
        FaultKind::NetworkImpaired,
        FaultKind::ConnectionRefused,
        FaultKind::ConnectionTimeout,
    ],
    state: Some(|| Box::new(Impairments::default())),
    grant: Some(crate::runtime::host::Capability::NET),
    ..super::Spec::named("net")
};

impl crate::runtime::host::Capability {
    pub const NET: Self = Self::new("net");
}
