//! Watching Docker's state (through the host's `container` interface) until a fault's
//! effect shows.

use super::span::FaultSpan;
use crate::host::clock;
use crate::host::container::{self, ContainerState};

/// How often the `wait_*` helpers poll.
pub const POLL_MS: u64 = 20;

/// Polls `inspect(target)` until `done(state)` holds or `timeout_ms` pass: the state that
/// satisfied `done` and how long it took, or `None` on timeout. `Err` if the container
/// cannot be inspected.
pub fn wait_state(
    target: &str,
    timeout_ms: u64,
    done: impl Fn(&ContainerState) -> bool,
) -> Result<Option<(ContainerState, u64)>, String> {
    let start = clock::now_ms();
    loop {
        let st =
            container::inspect(target).map_err(|e| format!("cannot inspect `{target}`: {e}"))?;
        let waited = clock::now_ms().saturating_sub(start);
        if done(&st) {
            return Ok(Some((st, waited)));
        }
        if waited >= timeout_ms {
            return Ok(None);
        }
        clock::sleep_ms(POLL_MS);
    }
}

/// [`wait_state`] for `span`: the state and how long it took; on a timeout the span fails
/// with "`<target>` not reported <what> within <timeout_ms> ms", on an inspect error with
/// that error.
pub fn expect_state(
    span: &FaultSpan,
    target: &str,
    timeout_ms: u64,
    what: &str,
    done: impl Fn(&ContainerState) -> bool,
) -> Result<(ContainerState, u64), String> {
    match wait_state(target, timeout_ms, done) {
        Ok(Some(seen)) => Ok(seen),
        Ok(None) => span.fail(format!(
            "`{target}` not reported {what} within {timeout_ms} ms"
        )),
        Err(e) => span.fail(e),
    }
}

/// Polls `network-attached(target)` until it equals `want`: how long it took, or `None`
/// on timeout.
pub fn wait_attached(target: &str, want: bool, timeout_ms: u64) -> Result<Option<u64>, String> {
    let start = clock::now_ms();
    loop {
        let attached = container::network_attached(target)
            .map_err(|e| format!("cannot inspect `{target}`'s network: {e}"))?;
        let waited = clock::now_ms().saturating_sub(start);
        if attached == want {
            return Ok(Some(waited));
        }
        if waited >= timeout_ms {
            return Ok(None);
        }
        clock::sleep_ms(POLL_MS);
    }
}

/// Fails `span` unless `target` is running (and not paused) right now: a fault on a
/// container that is already down proves nothing.
pub fn require_running(span: &FaultSpan, target: &str) -> Result<(), String> {
    match container::inspect(target) {
        Ok(st) if st.running && st.status != "paused" => Ok(()),
        Ok(st) => span.fail(format!(
            "`{target}` was already {} before the fault (exit code {:?})",
            st.status, st.exit_code
        )),
        Err(e) => span.fail(format!("cannot inspect `{target}`: {e}")),
    }
}
