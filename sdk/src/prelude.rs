//! What a plugin author imports: `use clnrm_sdk::prelude::*;`.
//!
//! - chaos plugins: [`ChaosPlugin`], [`Injection`], [`Outcome`], [`PluginInfo`],
//!   [`plugin_info`], the host interfaces ([`cgroup`] and [`net`] (0.3.1), [`scenario`] and
//!   [`compose`] (0.3.2), [`clock`],
//!   [`container`], [`rng`], [`spans`]),
//!   the [`fault`](crate::fault) helpers ([`FaultSpan`], [`target`], [`Signal`],
//!   [`wait_state`], [`expect_state`], [`wait_attached`], [`require_running`],
//!   [`injection_config`]);
//! - configuration: [`config`](crate::config), [`ConfigError`];
//! - validator plugins: the span model their checkers take ([`Trace`], [`Span`],
//!   [`Finding`], from [`expect`](crate::expect)); the WIT types stay in
//!   [`validator`](crate::validator), `validator_plugin!` converts;
//! - the export macros: `clnrm_sdk::chaos_fault!` (a whole chaos plugin from its typed
//!   configs), `clnrm_sdk::chaos_plugin!`, `clnrm_sdk::validator_plugin!` (and
//!   the raw `export_chaos_plugin!` / `export_validator_plugin!` for a hand-written
//!   WIT `Guest`).

pub use crate::chaos::clnrm::chaos::types::PluginInfo;
// Through the switch: the WIT imports in a plugin, the fake host in its native tests.
pub use crate::chaos::exports::clnrm::chaos::chaos::{Injection, Outcome};
pub use crate::chaos_support::{plugin_info, unhandled, ChaosPlugin};
pub use crate::config::{self, ConfigError};
pub use crate::expect::{Finding, Span, Trace};
pub use crate::fault::{
    expect_state, injection_config, require_running, target, wait_attached, wait_state, FaultSpan,
    Signal,
};
pub use crate::host::{cgroup, clock, compose, container, net, rng, scenario, spans};
pub use crate::{
    chaos_fault, chaos_plugin, export_chaos_plugin, export_validator_plugin, validator_plugin,
};
