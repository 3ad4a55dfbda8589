//! Helpers for chaos plugins: the pieces every fault needs, so that a new fault is its
//! effect and its evidence, and nothing else.
//!
//! - [`FaultSpan`]: the fault's span. It carries `chaos.type` and `target.service` from
//!   the start, and ends OK with `chaos.observed = true` only through
//!   [`FaultSpan::observed`], i.e. once the plugin has seen the effect; every failure
//!   path ([`FaultSpan::fail`]) ends it ERROR with `chaos.observed = false`. So every
//!   plugin built with it shows up in `[expect.chaos]` (`injections_observed`,
//!   `min_injections`) with no extra work.
//! - [`target`]: which service to act on (the configured one, a seeded `"random"` pick,
//!   or the scenario's main service).
//! - [`Signal`]: a signal name or number, checked when the config is parsed.
//! - [`wait_state`], [`wait_attached`], [`require_running`]: polling Docker's own state
//!   (through the host) until the effect shows, or a timeout says it did not.
//!
//! Every helper is a fixed sequence of host calls: the same config and seed give the
//! same calls, which is what makes runs replayable and their trace digests stable.

mod observe;
mod signal;
mod span;
mod target;

pub use observe::{expect_state, require_running, wait_attached, wait_state, POLL_MS};
pub use signal::{signal_number, Signal};
pub use span::FaultSpan;
pub use target::target;

pub use crate::chaos::clnrm::chaos::container::ContainerState;

/// The injection's config decoded as `T` (see [`crate::config::parse`]), for `inject`.
/// The host ran `check` on the same table before the run, so an error here is not
/// expected; if it happens it reads `chaos_injection.<path>: ...`.
pub fn injection_config<T: serde::de::DeserializeOwned>(
    injection: &crate::chaos::exports::clnrm::chaos::chaos::Injection,
) -> Result<T, String> {
    crate::config::parse(&injection.config_json).map_err(|e| e.at("chaos_injection").to_string())
}
