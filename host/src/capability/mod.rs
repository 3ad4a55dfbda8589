//! The host capabilities a plugin reaches through the WIT: one folder each,
//! holding its host impl (`host.rs`) and whatever kernel or runtime code only
//! it uses (the network faults in [`net`], the cgroup readers in [`cgroup`]).

pub mod cgroup;
mod clock;
mod compose;
mod container;
mod log;
pub mod net;
mod resource;
mod rng;
mod scenario;
mod spans;
mod spec;

pub use spec::{Slots, Spec};

/// Every host capability, registered once: what the digest, the fault log,
/// a scenario's state slots and the capabilities plugins may declare (in this
/// order) know of them comes from here.
pub const SPECS: &[&Spec] = &[
    &container::SPEC,
    &net::SPEC,
    &cgroup::SPEC,
    &scenario::SPEC,
    &compose::SPEC,
    &clock::SPEC,
    &rng::SPEC,
    &spans::SPEC,
    &log::SPEC,
    &resource::SPEC,
];

/// Whether an attribute key some capability declared run-to-run varying.
pub fn is_volatile(key: &str) -> bool {
    SPECS.iter().any(|s| {
        s.volatile_keys.contains(&key) || s.volatile_suffixes.iter().any(|x| key.ends_with(x))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::FaultKind;

    #[test]
    fn names_are_unique_and_each_fault_kind_has_one_owner() {
        let mut names: Vec<_> = SPECS.iter().map(|s| s.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), SPECS.len());
        for kind in [
            FaultKind::Signal,
            FaultKind::Pause,
            FaultKind::NetworkCut,
            FaultKind::NetworkImpaired,
            FaultKind::ConnectionRefused,
            FaultKind::ConnectionTimeout,
            FaultKind::Pressure,
        ] {
            let owners = SPECS.iter().filter(|s| s.fault_kinds.contains(&kind));
            assert_eq!(owners.count(), 1, "{kind:?}");
        }
    }

    #[test]
    fn each_state_slot_is_fresh_per_scenario() {
        let (a, b) = (Slots::default(), Slots::default());
        let ia: &net::Impairments = a.get(net::SPEC.name);
        assert_eq!(ia.next_id(), 1);
        assert_eq!(ia.next_id(), 2);
        assert_eq!(b.get::<net::Impairments>(net::SPEC.name).next_id(), 1);
    }

    #[test]
    #[should_panic(expected = "capability `clock` has no state slot")]
    fn a_slot_that_was_not_declared_is_a_bug() {
        Slots::default().get::<net::Impairments>("clock");
    }

    #[test]
    fn volatile_keys_come_from_the_capabilities() {
        assert!(is_volatile("packets.seen"));
        assert!(is_volatile("memory.peak_mb"));
        assert!(is_volatile("container.id"));
        assert!(!is_volatile("chaos.type"));
    }
}
