//! The WASM plugin runtime: every fault type and every validator is a
//! sandboxed component. The host compiles (and caches) components, resolves
//! them by name, grants each only the capabilities it declares, and runs each
//! call under a wall-clock deadline and a memory cap.

pub(crate) mod bindings;
mod cache;
mod call;
mod compat;
pub mod compose;
mod compose_check;
mod composition;
pub(crate) mod host;
pub mod journal;
mod plugin;
mod registry;
mod sandbox;
pub(crate) mod scenario;
pub mod schedule;
mod validator_trace;

pub use call::{ChaosCall, ChaosReturn, PluginError, ValidateCall};
pub use compose::Composer;
pub use compose_check::composed_types;
pub use registry::{
    ConfigKeys, Found, LoadedPlugin, Origin, PluginInfo, Registry, RegistryError, ResolvedPlugins,
    ValidatorJob,
};
pub use sandbox::Limits;
pub use scenario::{FaultKind, FaultLog, FinishedStep, ScenarioCtx};
pub use validator_trace::{pack, ValidatorTrace};

pub use bindings::chaos::clnrm::chaos::types::Attribute as WitAttribute;
pub use bindings::chaos::exports::clnrm::chaos::chaos::{Injection, Outcome};
pub use bindings::validator::exports::clnrm::chaos::validator::{Finding, SpanEvent, SpanRecord};
