//! What a chaos plugin acts on while it runs: one scenario's containers,
//! network and trace, and the log of faults that took effect (so the engine
//! can attribute a step's failure to the fault that caused it).

use super::composition::ComposedRun;
use super::journal::Journal;
use crate::backend::Backend;
use crate::trace::Trace;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// What a chaos plugin acts on: one scenario's containers and trace.
pub struct ScenarioCtx {
    /// Docker on a run; [`crate::backend::Replay`] when replaying (every
    /// container call is answered from the recording before it gets here).
    pub backend: Arc<dyn Backend>,
    /// Service id -> container id.
    pub containers: HashMap<String, String>,
    /// The network the run created for this scenario.
    pub network: Option<crate::backend::Network>,
    pub trace: Trace,
    /// Disruptive operations that took effect, so the engine can attribute a
    /// step's failure to the fault that caused it.
    pub faults: FaultLog,
    /// Each capability's own state for this scenario (see
    /// [`crate::capability::Spec::state`]).
    pub slots: crate::capability::Slots,
    /// Set by the engine once every step has finished (`clnrm:chaos/scenario`
    /// `steps-done`): a fault without `duration_ms` is held until then.
    pub steps_done: std::sync::atomic::AtomicBool,
    /// Holds plugins put on the steps (`clnrm:chaos/scenario`).
    pub schedule: super::schedule::Schedule,
    /// What `clnrm:chaos/compose` runs other plugins' faults with.
    pub compose: Option<Arc<dyn Compose>>,
    /// Steps that finished, in the order they ended (`scenario.finished-steps`).
    pub finished: std::sync::Mutex<Vec<FinishedStep>>,
}

/// What `clnrm:chaos/compose` runs other plugins' faults with, on this
/// scenario (implemented by [`super::compose::Composer`]; a trait, so that
/// the scenario does not name the composer that needs it).
pub trait Compose: Send + Sync {
    /// Run one composed fault to its end. Boxed: a composed plugin may
    /// compose again (the recursion goes through the linker).
    #[allow(clippy::too_many_arguments)] // one per part of the nested call
    fn run(
        self: Arc<Self>,
        sctx: Arc<ScenarioCtx>,
        composer: String,
        depth: u32,
        stream_seed: [u8; 32],
        fault_type: String,
        config_json: String,
        parent: u64,
        journal: Journal,
    ) -> Pin<Box<dyn Future<Output = ComposedRun> + Send>>;

    /// The scenario's services whose `depends_on` names `service`.
    fn dependents(&self, service: &str) -> Vec<String>;
}

/// A step that finished, as the engine tells plugins (`scenario.finished-steps`).
#[derive(Clone, Debug, PartialEq)]
pub struct FinishedStep {
    /// Its index in the scenario.
    pub index: u32,
    pub name: String,
    pub service: String,
    pub passed: bool,
    pub exit_code: Option<i64>,
    /// When it ended, on the clock plugins read (`clock.now-ms`).
    pub ended_ms: u64,
}

/// Which disruptive host operation hit which service, and when it was asked
/// for (run clock, ns): logged as the call starts (the fault can act before
/// Docker answers), withdrawn if the call fails.
#[derive(Default)]
pub struct FaultLog(
    std::sync::Mutex<Vec<(String, FaultKind, u64)>>,
    /// Pressure noted by plugins: (service, resource, at ns).
    std::sync::Mutex<Vec<(String, String, u64)>>,
);

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    Signal,
    Pause,
    NetworkCut,
    /// `net.impair`: traffic cut (partition), slowed, thinned or limited.
    NetworkImpaired,
    /// `net.impair` refusing new connections to a port.
    ConnectionRefused,
    /// `net.impair` swallowing new connections to a port.
    ConnectionTimeout,
    /// Resource pressure a plugin observed in the cgroup or /proc
    /// (`cgroup.note-pressure`): a step that passes through it is degraded.
    Pressure,
    /// Not a fault (e.g. unpause, reconnect).
    None,
}

impl FaultKind {
    fn is_network(self) -> bool {
        matches!(
            self,
            FaultKind::NetworkCut
                | FaultKind::NetworkImpaired
                | FaultKind::ConnectionRefused
                | FaultKind::ConnectionTimeout
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            FaultKind::Signal => "signal",
            FaultKind::Pause => "pause",
            FaultKind::NetworkCut => "network_cut",
            FaultKind::NetworkImpaired => "network_impaired",
            FaultKind::ConnectionRefused => "connection_refused",
            FaultKind::ConnectionTimeout => "connection_timeout",
            FaultKind::Pressure => "pressure",
            FaultKind::None => "none",
        }
    }
}

impl ScenarioCtx {
    /// The container runtime the plugin host calls act on.
    pub fn backend(&self) -> Arc<dyn Backend> {
        self.backend.clone()
    }

    /// The engine's word that a step ended.
    pub fn step_finished(&self, step: FinishedStep) {
        self.finished
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(step);
    }

    /// The steps that ended so far, in order.
    pub fn finished_steps(&self) -> Vec<FinishedStep> {
        self.finished
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

impl FaultLog {
    pub fn record(&self, service: &str, kind: FaultKind, at_ns: u64) {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((service.to_string(), kind, at_ns));
    }

    /// Take back what [`FaultLog::record`] said, for a fault that did not
    /// happen after all (its operation failed).
    pub fn withdraw(&self, service: &str, kind: FaultKind, at_ns: u64) {
        let mut log = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(i) = log
            .iter()
            .rposition(|(s, k, t)| s == service && *k == kind && *t == at_ns)
        {
            log.remove(i);
        }
    }

    /// Pressure on `resource` ("memory", "cpu", "disk", "fd") observed on
    /// `service`: a fault for [`FaultLog::any_during`] too.
    pub fn record_pressure(&self, service: &str, resource: &str, at_ns: u64) {
        self.record(service, FaultKind::Pressure, at_ns);
        self.1.lock().unwrap_or_else(|e| e.into_inner()).push((
            service.to_string(),
            resource.to_string(),
            at_ns,
        ));
    }

    /// The resources under pressure on `service` between `from_ns` and `to_ns`, sorted.
    pub fn pressure_during(
        &self,
        service: &str,
        from_ns: u64,
        to_ns: u64,
    ) -> std::collections::BTreeSet<String> {
        self.1
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .filter(|(s, _, t)| s == service && (from_ns..=to_ns).contains(t))
            .map(|(_, r, _)| r.clone())
            .collect()
    }

    /// Whether any fault hit `service` between `from_ns` and `to_ns`.
    pub fn any_during(&self, service: &str, from_ns: u64, to_ns: u64) -> bool {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .any(|(s, k, t)| s == service && *k != FaultKind::None && (from_ns..=to_ns).contains(t))
    }

    /// The last network fault (cut or impairment) that hit `service` before
    /// `before_ns`, if any.
    pub fn last_network(&self, service: &str, before_ns: u64) -> Option<FaultKind> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .filter(|(s, k, t)| s == service && k.is_network() && *t <= before_ns)
            .max_by_key(|(_, _, t)| *t)
            .map(|(_, k, _)| *k)
    }

    /// Whether `kind` hit `service` before `before_ns`.
    pub fn hit(&self, service: &str, kind: FaultKind, before_ns: u64) -> bool {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .any(|(s, k, t)| s == service && *k == kind && *t <= before_ns)
    }
}

#[cfg(test)]
mod tests {
    use super::FaultKind;

    #[test]
    fn fault_kind_wire_names_are_its_str() {
        for k in [
            FaultKind::Signal,
            FaultKind::Pause,
            FaultKind::NetworkCut,
            FaultKind::NetworkImpaired,
            FaultKind::ConnectionRefused,
            FaultKind::ConnectionTimeout,
            FaultKind::Pressure,
            FaultKind::None,
        ] {
            assert_eq!(
                serde_json::to_value(k).ok(),
                Some(serde_json::Value::from(k.as_str()))
            );
        }
    }
}
