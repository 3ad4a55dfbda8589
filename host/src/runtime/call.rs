//! Running one plugin call: a fresh store (a trapped instance is dead), the
//! sandbox limits, the deadline, and errors that say what went wrong.

use super::bindings::chaos::clnrm::chaos::types::{AttrValue, Attribute};
use super::bindings::chaos::exports::clnrm::chaos::chaos::{Injection, Outcome};
use super::bindings::validator::exports::clnrm::chaos::packed_validator;
use super::bindings::validator::exports::clnrm::chaos::validator::{
    self as validator_exports, Finding,
};
use super::bindings::{v0_2, ConfigError};
use super::compat;
use super::host::{Grants, PluginState};
use super::journal::{Divergence, Journal};
use super::sandbox::{self, Limits};
use super::scenario::ScenarioCtx;
use super::validator_trace::ValidatorTrace;
use std::future::Future;
use std::sync::Arc;
use thiserror::Error;
use wasmtime::component::{Instance, InstancePre, ResourceTable};
use wasmtime::{Engine, Store};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;

/// `$instantiate.await`, waiting for a slot while the instance pool is full
/// (see [`sandbox::pool_slots`]): calls in flight end and free theirs. Within
/// the call's deadline, like the rest of the call.
macro_rules! in_pool_slot {
    ($instantiate:expr) => {
        loop {
            match $instantiate.await {
                Err(e) if sandbox::pool_full(&e) => sandbox::wait_for_slot().await,
                r => break r,
            }
        }
    };
}

/// How much of a plugin's stderr is kept (a panic message fits easily).
const STDERR_CAP: usize = 64 * 1024;

#[derive(Debug, Error, Clone, PartialEq)]
pub enum PluginError {
    #[error("plugin `{plugin}` did not finish within its deadline of {ms} ms and was stopped")]
    Deadline { plugin: String, ms: u128 },
    #[error("plugin `{plugin}` exceeded its memory limit of {mib} MiB and was stopped")]
    Memory { plugin: String, mib: usize },
    #[error("plugin `{plugin}` trapped: {message}")]
    Trap { plugin: String, message: String },
    #[error("plugin `{plugin}` failed: {message}")]
    Failed { plugin: String, message: String },
}

/// Arguments of a chaos call beyond the injection itself.
pub struct ChaosCall {
    pub stream_seed: [u8; 32],
    pub epoch_ns: u64,
    pub limits: Limits,
    pub scenario: Arc<ScenarioCtx>,
    /// Live, record, or replay (with the recorded calls).
    pub journal: Journal,
    /// Settled at the plugin's first host call, or when it returns: the
    /// scenario's steps wait for that (see [`super::schedule`]).
    pub ready: Option<super::schedule::Ready>,
    /// 0 for a scenario's injection; n for a fault composed n levels down.
    pub depth: u32,
}

/// What a chaos call returns: its result, the journal (the recorded calls),
/// and, when replaying, where the plugin first behaved differently.
pub struct ChaosReturn {
    pub result: Result<Outcome, PluginError>,
    pub journal: Journal,
    pub divergence: Option<Divergence>,
}

/// A chaos plugin ready to instantiate, with the bindings of the WIT version
/// its exports name.
pub(super) enum ChaosPre {
    Current(super::bindings::chaos::ChaosPluginPre<PluginState>),
    V0_2(v0_2::chaos::ChaosPluginPre<PluginState>),
}

/// A validator plugin ready to instantiate (see [`ChaosPre`]).
pub(super) enum ValidatorPre {
    Current(CurrentValidator),
    V0_2(v0_2::validator::ValidatorPluginPre<PluginState>),
}

/// A validator of the current track (0.3.x), driven export by export: `validator` always,
/// `packed-validator` (0.3.3) when the plugin has it. Not through the world's
/// `ValidatorPluginPre`: its indices require every export of the 0.3.3 world, so they
/// would refuse every validator built against 0.3.0-0.3.2 (docs/wit-versioning.md).
pub(super) struct CurrentValidator {
    pre: InstancePre<PluginState>,
    validator: validator_exports::GuestIndices,
    packed: Option<packed_validator::GuestIndices>,
}

impl CurrentValidator {
    /// `packed`: whether the component exports `packed-validator` (then it must be whole).
    pub(super) fn new(pre: InstancePre<PluginState>, packed: bool) -> wasmtime::Result<Self> {
        Ok(CurrentValidator {
            validator: validator_exports::GuestIndices::new(&pre)?,
            packed: match packed {
                true => Some(packed_validator::GuestIndices::new(&pre)?),
                false => None,
            },
            pre,
        })
    }

    pub(super) fn takes_packed(&self) -> bool {
        self.packed.is_some()
    }

    async fn instantiate(&self, store: &mut Store<PluginState>) -> wasmtime::Result<Instance> {
        self.pre.instantiate_async(store).await
    }
}

/// Arguments of a validator call.
pub struct ValidateCall {
    pub limits: Limits,
    /// The run's OpenTelemetry resource attributes (key, value), sorted by key: what
    /// `clnrm:chaos/trace-resource.attributes` answers (0.3.2).
    pub resource: Vec<(String, String)>,
}

#[allow(clippy::too_many_arguments)] // each is one knob of the sandbox; a struct would only rename them
fn new_store(
    engine: &Engine,
    plugin: &str,
    grants: Grants,
    limits: &Limits,
    stream_seed: [u8; 32],
    epoch_ns: u64,
    scenario: Option<Arc<ScenarioCtx>>,
    journal: Journal,
    depth: u32,
) -> Store<PluginState> {
    use rand_core::SeedableRng;
    let wasi_seed = u64::from_le_bytes(stream_seed[..8].try_into().unwrap_or_default());
    let stderr = MemoryOutputPipe::new(STDERR_CAP);
    let state = PluginState {
        wasi: sandbox::wasi_ctx(wasi_seed, epoch_ns, stderr.clone()),
        stderr,
        table: ResourceTable::new(),
        limits: sandbox::store_limits(limits),
        plugin: plugin.to_string(),
        grants,
        rng: rand_chacha::ChaCha20Rng::from_seed(stream_seed),
        stream_seed,
        composed: 0,
        depth,
        scenario,
        opened: Vec::new(),
        journal,
        ready: None,
        resource: Vec::new(),
    };
    let mut store = Store::new(engine, state);
    store.limiter(|s| &mut s.limits);
    // Yield to tokio at every epoch tick, so a plugin that never calls the
    // host still lets the deadline timer fire.
    store.set_epoch_deadline(1);
    store.epoch_deadline_async_yield_and_update(1);
    store
}

/// Run `fut` under the call's deadline and turn failures into [`PluginError`]s.
/// Bounds of the calls that only answer a question (describe, check).
const QUICK_CHAOS: Limits = Limits::chaos(std::time::Duration::from_secs(5));
const QUICK_VALIDATOR: Limits = Limits {
    deadline: std::time::Duration::from_secs(5),
    ..Limits::VALIDATOR
};

/// A store for a call that touches no scenario: no grants, no random
/// stream, nothing journaled (describe, check, validate).
fn pure_store(engine: &Engine, plugin: &str, limits: &Limits) -> Store<PluginState> {
    new_store(
        engine,
        plugin,
        Grants::default(),
        limits,
        [0; 32],
        0,
        None,
        Journal::Live,
        0,
    )
}

/// `stderr`: the plugin's captured stderr, to say why it trapped.
async fn bounded<T>(
    plugin: &str,
    limits: &Limits,
    stderr: MemoryOutputPipe,
    fut: impl Future<Output = wasmtime::Result<T>>,
) -> Result<T, PluginError> {
    match tokio::time::timeout(limits.deadline, fut).await {
        Err(_) => Err(PluginError::Deadline {
            plugin: plugin.to_string(),
            ms: limits.deadline.as_millis(),
        }),
        Ok(Err(e)) => Err(classify(
            plugin,
            limits,
            e,
            &String::from_utf8_lossy(&stderr.contents()),
        )),
        Ok(Ok(v)) => Ok(v),
    }
}

fn classify(plugin: &str, limits: &Limits, e: wasmtime::Error, stderr: &str) -> PluginError {
    let chain = format!("{e:#}");
    if chain.contains("forcing trap when growing memory")
        || chain.contains("forcing a memory growth failure")
    {
        return PluginError::Memory {
            plugin: plugin.to_string(),
            mib: limits.memory_bytes >> 20,
        };
    }
    // The wasm backtrace (function names) goes to the log; the message says
    // what trapped and, for a panic, the plugin's own last words.
    tracing::debug!(plugin, "trap: {e:?}");
    let mut message = e.root_cause().to_string();
    // A Rust panic prints "panicked at <where>:" then the message, then a
    // RUST_BACKTRACE hint: keep the first two.
    let said: Vec<&str> = stderr
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("note: run with"))
        .collect();
    if !said.is_empty() {
        let tail = &said[said.len().saturating_sub(2)..];
        message.push_str(&format!(" (plugin stderr: {})", tail.join(" ")));
    }
    PluginError::Trap {
        plugin: plugin.to_string(),
        message,
    }
}

pub(super) async fn inject(
    engine: &Engine,
    pre: &ChaosPre,
    plugin: &str,
    grants: Grants,
    injection: &Injection,
    call: ChaosCall,
) -> ChaosReturn {
    let mut store = new_store(
        engine,
        plugin,
        grants,
        &call.limits,
        call.stream_seed,
        call.epoch_ns,
        Some(call.scenario),
        call.journal,
        call.depth,
    );
    store.data_mut().ready = call.ready.clone();
    let stderr = store.data().stderr.clone();
    let result = bounded(plugin, &call.limits, stderr, async {
        match pre {
            ChaosPre::Current(pre) => {
                let instance = in_pool_slot!(pre.instantiate_async(&mut store))?;
                instance
                    .clnrm_chaos_chaos()
                    .call_inject(&mut store, injection)
                    .await
            }
            ChaosPre::V0_2(pre) => {
                let instance = in_pool_slot!(pre.instantiate_async(&mut store))?;
                let r = instance
                    .clnrm_chaos_chaos()
                    .call_inject(&mut store, &compat::injection(injection))
                    .await?;
                Ok(r.map(compat::outcome))
            }
        }
    })
    .await;
    // A plugin stopped mid-flight leaves its spans open: end them as errors
    // so the trace says what happened (ending twice keeps the first end).
    let why = match &result {
        Err(e) => e.to_string(),
        Ok(Err(m)) => format!("plugin `{plugin}` failed: {m}"),
        Ok(Ok(_)) => "span left open by its plugin".to_string(),
    };
    store.data().close_open_spans(&why);
    if let Some(r) = &call.ready {
        r.settle();
    }
    let mut journal = std::mem::take(&mut store.data_mut().journal);
    let divergence = journal.finish();
    let result = result.and_then(|r| {
        r.map_err(|message| PluginError::Failed {
            plugin: plugin.to_string(),
            message,
        })
    });
    ChaosReturn {
        result,
        journal,
        divergence,
    }
}

pub(super) async fn describe_chaos(
    engine: &Engine,
    pre: &ChaosPre,
    plugin: &str,
) -> Result<super::bindings::WitPluginInfo, PluginError> {
    let limits = QUICK_CHAOS;
    let mut store = pure_store(engine, plugin, &limits);
    let stderr = store.data().stderr.clone();
    bounded(plugin, &limits, stderr, async {
        match pre {
            ChaosPre::Current(pre) => {
                let instance = in_pool_slot!(pre.instantiate_async(&mut store))?;
                instance.clnrm_chaos_chaos().call_describe(&mut store).await
            }
            ChaosPre::V0_2(pre) => {
                let instance = in_pool_slot!(pre.instantiate_async(&mut store))?;
                instance.clnrm_chaos_chaos().call_describe(&mut store).await
            }
        }
    })
    .await
}

pub(super) async fn describe_validator(
    engine: &Engine,
    pre: &ValidatorPre,
    plugin: &str,
) -> Result<super::bindings::WitPluginInfo, PluginError> {
    let limits = QUICK_VALIDATOR;
    let mut store = pure_store(engine, plugin, &limits);
    let stderr = store.data().stderr.clone();
    bounded(plugin, &limits, stderr, async {
        match pre {
            ValidatorPre::Current(v) => {
                let instance = in_pool_slot!(v.instantiate(&mut store))?;
                let guest = v.validator.load(&mut store, &instance)?;
                // Type-check `validate-packed` now: a bad one fails the load, not a run.
                if let Some(p) = &v.packed {
                    p.load(&mut store, &instance)?;
                }
                guest.call_describe(&mut store).await
            }
            ValidatorPre::V0_2(pre) => {
                let instance = in_pool_slot!(pre.instantiate_async(&mut store))?;
                instance
                    .clnrm_chaos_validator()
                    .call_describe(&mut store)
                    .await
            }
        }
    })
    .await
}

/// One validation: `validate-packed` with the packed bytes when the plugin exports it (and
/// the trace is not records-only), else `validate` with records.
pub(super) async fn validate(
    engine: &Engine,
    pre: &ValidatorPre,
    plugin: &str,
    table: &str,
    config_json: &str,
    trace: &ValidatorTrace,
    call: ValidateCall,
) -> Result<Vec<Finding>, PluginError> {
    let packed = match pre {
        ValidatorPre::Current(v) if v.takes_packed() => trace.packed(),
        _ => None,
    };
    let records = match packed {
        Some(_) => &[][..],
        None => trace.records().map_err(|e| PluginError::Failed {
            plugin: plugin.to_string(),
            message: format!("the host cannot hand it the trace: {e}"),
        })?,
    };
    let mut store = pure_store(engine, plugin, &call.limits);
    store.data_mut().resource = call
        .resource
        .iter()
        .map(|(k, v)| Attribute {
            key: k.clone(),
            value: AttrValue::Str(v.clone()),
        })
        .collect();
    let stderr = store.data().stderr.clone();
    let result = bounded(plugin, &call.limits, stderr, async {
        match pre {
            ValidatorPre::Current(v) => {
                let instance = in_pool_slot!(v.instantiate(&mut store))?;
                match (&v.packed, packed) {
                    (Some(p), Some(bytes)) => {
                        p.load(&mut store, &instance)?
                            .call_validate_packed(&mut store, table, config_json, bytes)
                            .await
                    }
                    _ => {
                        v.validator
                            .load(&mut store, &instance)?
                            .call_validate(&mut store, table, config_json, records)
                            .await
                    }
                }
            }
            ValidatorPre::V0_2(pre) => {
                let instance = in_pool_slot!(pre.instantiate_async(&mut store))?;
                let trace: Vec<_> = records.iter().map(compat::span_record).collect();
                let r = instance
                    .clnrm_chaos_validator()
                    .call_validate(&mut store, table, config_json, &trace)
                    .await?;
                Ok(r.map(|f| f.into_iter().map(compat::finding).collect()))
            }
        }
    })
    .await?;
    result.map_err(|message| PluginError::Failed {
        plugin: plugin.to_string(),
        message,
    })
}

/// Ask a plugin whether a configuration is valid (no side effects).
pub(super) async fn check_chaos(
    engine: &Engine,
    pre: &ChaosPre,
    plugin: &str,
    fault_type: &str,
    config_json: &str,
) -> Result<Result<(), ConfigError>, PluginError> {
    let limits = QUICK_CHAOS;
    let mut store = pure_store(engine, plugin, &limits);
    let stderr = store.data().stderr.clone();
    bounded(plugin, &limits, stderr, async {
        match pre {
            ChaosPre::Current(pre) => {
                let instance = in_pool_slot!(pre.instantiate_async(&mut store))?;
                instance
                    .clnrm_chaos_chaos()
                    .call_check(&mut store, fault_type, config_json)
                    .await
            }
            ChaosPre::V0_2(pre) => {
                let instance = in_pool_slot!(pre.instantiate_async(&mut store))?;
                let r = instance
                    .clnrm_chaos_chaos()
                    .call_check(&mut store, fault_type, config_json)
                    .await?;
                Ok(r.map_err(ConfigError::Other))
            }
        }
    })
    .await
}

pub(super) async fn check_validator(
    engine: &Engine,
    pre: &ValidatorPre,
    plugin: &str,
    table: &str,
    config_json: &str,
) -> Result<Result<(), ConfigError>, PluginError> {
    let limits = QUICK_VALIDATOR;
    let mut store = pure_store(engine, plugin, &limits);
    let stderr = store.data().stderr.clone();
    bounded(plugin, &limits, stderr, async {
        match pre {
            ValidatorPre::Current(v) => {
                let instance = in_pool_slot!(v.instantiate(&mut store))?;
                v.validator
                    .load(&mut store, &instance)?
                    .call_check(&mut store, table, config_json)
                    .await
            }
            ValidatorPre::V0_2(pre) => {
                let instance = in_pool_slot!(pre.instantiate_async(&mut store))?;
                let r = instance
                    .clnrm_chaos_validator()
                    .call_check(&mut store, table, config_json)
                    .await?;
                Ok(r.map_err(ConfigError::Other))
            }
        }
    })
    .await
}
