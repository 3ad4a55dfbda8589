//! Seeds: the per-plugin random streams and the run id.

use sha2::{Digest, Sha256};

/// The 32-byte ChaCha seed of one plugin instance: derived from (seed,
/// scenario, plugin, injection index) so adding a scenario or an injection
/// never shifts another's draws.
pub fn stream_seed(seed: u64, scenario: &str, plugin: &str, index: usize) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"clnrm-stream\0");
    h.update(seed.to_le_bytes());
    h.update(scenario.as_bytes());
    h.update([0]);
    h.update(plugin.as_bytes());
    h.update([0]);
    h.update((index as u64).to_le_bytes());
    h.finalize().into()
}

/// A fresh run id: unique per invocation (it labels Docker resources, so it
/// must not repeat across runs), never part of the trace digest.
pub fn new_run_id() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let mut h = Sha256::new();
    h.update(now.to_le_bytes());
    h.update(std::process::id().to_le_bytes());
    h.update(format!("{:?}", std::thread::current().id()).as_bytes());
    hex::encode(&h.finalize()[..8])
}

/// A seed for suites that set none (reported, so the run can be repeated).
pub fn random_seed() -> u64 {
    let id = new_run_id();
    u64::from_str_radix(&id[..15], 16).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_independent_of_each_other() {
        let a = stream_seed(666, "kill", "chaos-container", 0);
        assert_eq!(a, stream_seed(666, "kill", "chaos-container", 0));
        assert_ne!(a, stream_seed(667, "kill", "chaos-container", 0));
        assert_ne!(a, stream_seed(666, "other", "chaos-container", 0));
        assert_ne!(a, stream_seed(666, "kill", "chaos-container", 1));
    }
}
