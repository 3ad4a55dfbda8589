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

/// The engine configuration used for compiling, precompiling and loading
/// (epoch settings are baked into compiled code, so it must be one config).
pub fn engine_config() -> Config {
    let mut config = Config::new();
    config.wasm_component_model(true);
    config.epoch_interruption(true);
    config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool()));
    config
}

/// How much of a linear memory a pool slot keeps mapped once its instance is
/// gone: a validator of a 100 000-span trace uses about 80 MiB.
const KEEP_RESIDENT: usize = 128 << 20;

/// Instances from wasmtime's pooling allocator. Every call runs in a fresh
/// instance; allocated on demand, each starts on fresh pages, and a validator
/// decoding a 100 000-span trace spent a third of its time in page faults.
/// A pool slot keeps up to [`KEEP_RESIDENT`] bytes of its memory mapped,
/// zeroed on release (only the pages the guest wrote), so the next instance
/// in it starts on warm pages. No idle slot is kept for a particular plugin
/// (`max_unused_warm_slots(0)`): slots are reused least recently used first,
/// so the slots ever used, and the memory they keep, are bounded by how many
/// instances run at once. The default totals (1000 instances, memories,
/// stacks) are reserved as address space up front, not as memory.
fn pool() -> PoolingAllocationConfig {
    let mut pool = PoolingAllocationConfig::new();
    pool.linear_memory_keep_resident(KEEP_RESIDENT)
        .max_unused_warm_slots(0);
    pool
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
