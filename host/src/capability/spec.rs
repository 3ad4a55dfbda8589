//! What a capability registers about itself ([`Spec`]), and the per-scenario
//! state slots built from those registrations ([`Slots`]).

use crate::runtime::host::Capability;
use crate::runtime::FaultKind;
use std::any::Any;
use std::collections::HashMap;

/// A host capability's registration, declared in its folder's `mod.rs` and
/// listed once in [`super::SPECS`].
pub struct Spec {
    /// Its WIT interface (`clnrm:chaos/<name>`); also the key of its state slot.
    pub name: &'static str,
    /// What a plugin must declare to call it; None: granted to every plugin.
    pub grant: Option<Capability>,
    /// Attribute keys of the spans it feeds whose values vary run to run:
    /// the trace digest drops them.
    pub volatile_keys: &'static [&'static str],
    /// Suffixes of such keys.
    pub volatile_suffixes: &'static [&'static str],
    /// The fault kinds its calls log (see [`crate::runtime::FaultLog`]).
    pub fault_kinds: &'static [FaultKind],
    /// Its per-scenario state, made fresh for every scenario; None: it keeps none.
    pub state: Option<fn() -> Box<dyn Any + Send + Sync>>,
}

impl Spec {
    /// A capability with nothing to declare but its name.
    pub const fn named(name: &'static str) -> Spec {
        Spec {
            name,
            grant: None,
            volatile_keys: &[],
            volatile_suffixes: &[],
            fault_kinds: &[],
            state: None,
        }
    }
}

/// One scenario's capability state, one slot per capability that keeps some.
pub struct Slots(HashMap<&'static str, Box<dyn Any + Send + Sync>>);

impl Slots {
    /// Fresh state for every capability of `specs` that keeps some.
    pub fn of(specs: &[&Spec]) -> Slots {
        Slots(
            specs
                .iter()
                .filter_map(|s| Some((s.name, (s.state?)())))
                .collect(),
        )
    }

    /// The state of capability `name`. Its type is its own `Spec::state`'s:
    /// asking for another one, or for a capability without state, is a bug
    /// of that capability (the tests of [`super::SPECS`] ask for each).
    pub fn get<T: Any>(&self, name: &str) -> &T {
        self.0
            .get(name)
            .and_then(|b| b.downcast_ref())
            .unwrap_or_else(|| {
                panic!(
                    "capability `{name}` has no state slot of type {}",
                    std::any::type_name::<T>()
                )
            })
    }
}

impl Default for Slots {
    fn default() -> Slots {
        Slots::of(super::SPECS)
    }
}
