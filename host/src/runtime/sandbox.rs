//! The sandbox every plugin runs in: a shared engine with epoch interruption
//! (wall-clock deadlines), a memory cap per store, and WASI with nothing
//! granted (no preopened dirs, no env, no args, no sockets, no name lookup),
//! frozen clocks and seeded randomness so WASI cannot leak nondeterminism.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use wasmtime::{
    Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, StoreLimits,
    StoreLimitsBuilder,
};
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder};

/// How often the epoch advances; a looping plugin yields this often so the
/// host's deadline can fire.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// Per-call limits.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Wall-clock bound on one call, including the plugin's sleeps.
    pub deadline: Duration,
    /// Linear memory cap, bytes.
    pub memory_bytes: usize,
}

impl Limits {
    pub const VALIDATOR: Limits = Limits {
        deadline: Duration::from_secs(30),
        memory_bytes: 256 << 20,
    };
    pub const fn chaos(deadline: Duration) -> Limits {
        Limits {
            deadline,
            memory_bytes: 64 << 20,
        }
    }
}

/// How an engine allocates plugin instances. Compiled code is the same for
/// both (the precompiled cache serves either).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Instances {
    /// Fresh memory per instance, nothing reserved up front: for commands that
    /// only load and describe plugins (`validate`, `plugins`), where the
    /// pool's set-up and its zeroing of every released slot cost more than
    /// they save (`clnrm validate` of the kill suite: 7.5 ms vs 8.9 ms).
    OnDemand,
    /// wasmtime's pooling allocator ([`pool`]) with this many instance slots:
    /// runs and replays, where validators read large traces.
    Pooled(u32),
}

/// The engine configuration used for compiling, precompiling and loading
/// (epoch settings are baked into compiled code, so it must be one config).
pub fn engine_config(instances: Instances) -> Config {
    let mut config = Config::new();
    config.wasm_component_model(true);
    config.epoch_interruption(true);
    if let Instances::Pooled(slots) = instances {
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool(slots)));
    }
    config
}

/// How much of a linear memory a pool slot keeps mapped once its instance is
/// gone: a validator of a 100 000-span trace uses about 80 MiB.
const KEEP_RESIDENT: usize = 128 << 20;

/// Plugin instances alive at once in a pooled engine (one per call in
/// flight: `-j` scenarios, their faults, the faults those compose, the
/// suite's validators), unless `CLNRM_PLUGIN_INSTANCES` says otherwise. Each
/// costs address space reserved at engine start (a memory slot, a fiber
/// stack and its guard page): wasmtime's default of 1000 takes 1.1 ms to set
/// up, 128 takes 0.15 ms. A call that finds the pool full waits for a slot
/// ([`wait_for_slot`]).
pub const INSTANCES: u32 = 128;

/// [`INSTANCES`], or `$CLNRM_PLUGIN_INSTANCES` when it is a number from 1.
pub fn pool_slots() -> u32 {
    std::env::var("CLNRM_PLUGIN_INSTANCES")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .filter(|n| *n >= 1)
        .unwrap_or(INSTANCES)
}

/// Instances from wasmtime's pooling allocator. Every call runs in a fresh
/// instance; allocated on demand, each starts on fresh pages, and a validator
/// decoding a 100 000-span trace spent a third of its time in page faults.
/// A pool slot keeps up to [`KEEP_RESIDENT`] bytes of its memory mapped,
/// zeroed on release (only the pages the guest wrote), so the next instance
/// in it starts on warm pages. No idle slot is kept for a particular plugin
/// (`max_unused_warm_slots(0)`): slots are reused least recently used first,
/// so the slots ever used, and the memory they keep, are bounded by how many
/// instances run at once. Per component the totals allow 8 core instances,
/// 2 memories and 4 tables on average (a first-party plugin has 1 memory).
fn pool(slots: u32) -> PoolingAllocationConfig {
    let mut pool = PoolingAllocationConfig::new();
    pool.linear_memory_keep_resident(KEEP_RESIDENT)
        .max_unused_warm_slots(0)
        .total_component_instances(slots)
        .total_stacks(slots)
        .total_core_instances(slots.saturating_mul(8))
        .total_memories(slots.saturating_mul(2))
        .total_tables(slots.saturating_mul(4));
    pool
}

/// Whether `e` says the instance pool is full (every slot of some kind in
/// use), which passes once calls in flight end.
pub fn pool_full(e: &wasmtime::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<wasmtime::PoolConcurrencyLimitError>()
            .is_some()
    })
}

/// How long a call waits before it tries a full pool again.
pub async fn wait_for_slot() {
    tokio::time::sleep(Duration::from_millis(5)).await;
}

/// Advances an engine's epoch every [`EPOCH_TICK`] until dropped.
pub struct EpochTicker {
    stop: Arc<AtomicBool>,
}

impl EpochTicker {
    pub fn start(engine: &Engine) -> EpochTicker {
        let stop = Arc::new(AtomicBool::new(false));
        let (flag, engine) = (stop.clone(), engine.clone());
        // If the thread cannot be spawned, deadlines still hold for plugins that
        // call the host (tokio's timer fires at their next await).
        let _ = std::thread::Builder::new()
            .name("clnrm-epoch".into())
            .spawn(move || {
                while !flag.load(Ordering::Relaxed) {
                    std::thread::sleep(EPOCH_TICK);
                    engine.increment_epoch();
                }
            });
        EpochTicker { stop }
    }
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

pub fn store_limits(limits: &Limits) -> StoreLimits {
    StoreLimitsBuilder::new()
        .memory_size(limits.memory_bytes)
        .instances(32)
        .tables(64)
        .memories(16)
        // Without this the guest allocator sees a failed grow and aborts with a
        // bare `unreachable`; with it we can say "memory limit".
        .trap_on_grow_failure(true)
        .build()
}

/// WASI with no authority, clocks pinned to `epoch_ns`, randomness from `seed`.
///
/// `stderr` captures what the plugin prints there (a panic's message), so a
/// trap can say why.
pub fn wasi_ctx(
    seed: u64,
    epoch_ns: u64,
    stderr: wasmtime_wasi::p2::pipe::MemoryOutputPipe,
) -> WasiCtx {
    use rand_core::SeedableRng;
    let mut b = WasiCtxBuilder::new();
    b.stderr(stderr);
    b.allow_tcp(false)
        .allow_udp(false)
        .allow_ip_name_lookup(false)
        .socket_addr_check(|_, _| Box::pin(async { false }))
        .secure_random(rand_chacha::ChaCha12Rng::seed_from_u64(seed ^ 0x005E_C04E))
        .insecure_random(rand_chacha::ChaCha12Rng::seed_from_u64(seed ^ 0x001A_5EC0))
        .insecure_random_seed(seed as u128)
        .wall_clock(FrozenWall(epoch_ns))
        .monotonic_clock(FrozenMonotonic);
    b.build()
}

/// WASI's wall clock reads the run epoch: plugins use `clnrm:chaos/clock`.
struct FrozenWall(u64);
impl wasmtime_wasi::HostWallClock for FrozenWall {
    fn resolution(&self) -> Duration {
        Duration::from_millis(1)
    }
    fn now(&self) -> Duration {
        Duration::from_nanos(self.0)
    }
}

struct FrozenMonotonic;
impl wasmtime_wasi::HostMonotonicClock for FrozenMonotonic {
    fn resolution(&self) -> u64 {
        1_000_000
    }
    fn now(&self) -> u64 {
        0
    }
}
