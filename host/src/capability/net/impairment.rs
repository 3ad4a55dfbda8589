//! One network impairment, as a plugin asks for it: what [`super::netfault`]
//! applies in a namespace and [`super::nfqueue`] emulates where the kernel has
//! no netem.

/// One impairment, as the plugin asked for it.
#[derive(Clone, Debug, PartialEq)]
pub enum Fault {
    Partition,
    Refuse(u16),
    Blackhole(u16),
    Latency(u32),
    /// Each packet held uniformly in latency ± jitter ms (seeded).
    Jitter {
        latency_ms: u32,
        jitter_ms: u32,
        seed: u64,
    },
    Loss {
        percent: f64,
        seed: u64,
    },
    Bandwidth(u32),
}
