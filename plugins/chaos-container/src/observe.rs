//! Helpers every fault shares: a span that ends OK only on observed evidence,
//! and polling Docker until a condition holds.

use clnrm_sdk::chaos::clnrm::chaos::container::{self, ContainerState};
use clnrm_sdk::chaos::clnrm::chaos::types::{AttrValue, SpanKind, SpanStatus};
use clnrm_sdk::chaos::clnrm::chaos::{clock, spans};

pub const POLL_MS: u64 = 20;

/// A fault's span. `fail` ends it as ERROR with `chaos.observed = false`;
/// `observed` ends it OK with `chaos.observed = true`.
pub struct FaultSpan(pub u64);

impl FaultSpan {
    pub fn start(
        name: &str,
        parent: u64,
        fault_type: &str,
        target: &str,
        delay_ms: u64,
    ) -> FaultSpan {
        let s = FaultSpan(spans::start(name, parent, SpanKind::Internal));
        s.str("chaos.type", fault_type);
        s.str("target.service", target);
        s.int("delay_ms", delay_ms as i64);
        s
    }

    pub fn str(&self, k: &str, v: &str) {
        spans::set_attribute(self.0, k, &AttrValue::Str(v.to_string()));
    }

    pub fn int(&self, k: &str, v: i64) {
        spans::set_attribute(self.0, k, &AttrValue::Int(v));
    }

    pub fn bool(&self, k: &str, v: bool) {
        spans::set_attribute(self.0, k, &AttrValue::Boolean(v));
    }

    pub fn event(&self, name: &str) {
        spans::add_event(self.0, name, &[]);
    }

    pub fn fail<T>(&self, msg: String) -> Result<T, String> {
        self.bool("chaos.observed", false);
        spans::end(self.0, SpanStatus::Error, Some(&msg));
        Err(msg)
    }

    pub fn observed(&self) {
        self.bool("chaos.observed", true);
        spans::end(self.0, SpanStatus::Ok, None);
    }
}

/// Poll `inspect` until `done(state)` or `timeout_ms`; the last state and
/// how long it took, or None on timeout.
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

/// Poll `network-attached` until it equals `want`.
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

/// Fail unless the target is running right now (a fault on a dead container
/// proves nothing).
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
