//! [`FaultSpan`]: a fault's span that ends OK only on observed evidence.

use crate::chaos::clnrm::chaos::types::{AttrValue, SpanKind, SpanStatus};
use crate::host::spans;

/// A fault's span (the id the host gave it). Start it with [`FaultSpan::start`] once the
/// target is known; end it with exactly one of [`FaultSpan::observed`] (the effect was
/// seen) or [`FaultSpan::fail`] (anything else).
pub struct FaultSpan(pub u64);

impl FaultSpan {
    /// Starts span `name` (e.g. `clnrm.chaos.kill`) under `parent` (the injection's
    /// `parent`), with attributes `chaos.type = fault_type`, `target.service = target`
    /// and `delay_ms`, in that order.
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

    /// Sets a string attribute.
    pub fn str(&self, k: &str, v: &str) {
        spans::set_attribute(self.0, k, &AttrValue::Str(v.to_string()));
    }

    /// Sets an integer attribute.
    pub fn int(&self, k: &str, v: i64) {
        spans::set_attribute(self.0, k, &AttrValue::Int(v));
    }

    /// Sets a float attribute.
    pub fn float(&self, k: &str, v: f64) {
        spans::set_attribute(self.0, k, &AttrValue::Float(v));
    }

    /// Sets a boolean attribute.
    pub fn bool(&self, k: &str, v: bool) {
        spans::set_attribute(self.0, k, &AttrValue::Boolean(v));
    }

    /// Adds an event (no attributes) at the current time.
    pub fn event(&self, name: &str) {
        spans::add_event(self.0, name, &[]);
    }

    /// Ends the span ERROR with `chaos.observed = false` and `msg` as its status message,
    /// and returns `Err(msg)`: `return span.fail(...)` from `inject`.
    pub fn fail<T>(&self, msg: String) -> Result<T, String> {
        self.bool("chaos.observed", false);
        spans::end(self.0, SpanStatus::Error, Some(&msg));
        Err(msg)
    }

    /// Ends the span OK with `chaos.observed = true`. Call it only after the effect was
    /// seen from the outside (Docker's state), never on intent alone.
    pub fn observed(&self) {
        self.bool("chaos.observed", true);
        spans::end(self.0, SpanStatus::Ok, None);
    }
}
