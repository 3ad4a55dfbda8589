//! `clnrm:chaos/container`: faults on the scenario's containers, named by
//! service id. Needs [`Capability::CONTAINER`]. Every call is answered from
//! the recording in replay.

use crate::backend::{Backend, BackendError, Network};
use crate::runtime::bindings::chaos::clnrm::chaos::container;
use crate::runtime::host::{Capability, HostCall, PluginState, NO_NETWORK};
use crate::runtime::scenario::{FaultKind, ScenarioCtx};
use serde_json::json;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// The calls of `clnrm:chaos/container`, as recordings name them.
impl HostCall {
    pub const CONTAINER_KILL: HostCall = HostCall("container.kill");
    pub const CONTAINER_INSPECT: HostCall = HostCall("container.inspect");
    pub const CONTAINER_PAUSE: HostCall = HostCall("container.pause");
    pub const CONTAINER_UNPAUSE: HostCall = HostCall("container.unpause");
    pub const CONTAINER_NETWORK_DISCONNECT: HostCall = HostCall("container.network-disconnect");
    pub const CONTAINER_NETWORK_CONNECT: HostCall = HostCall("container.network-connect");
    pub const CONTAINER_NETWORK_ATTACHED: HostCall = HostCall("container.network-attached");
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// A service's container: the scenario and the container id, or the answer
/// the plugin gets for a service that does not exist.
type Target = Result<(Arc<ScenarioCtx>, String), String>;

impl PluginState {
    pub(crate) fn container_of(&self, service: &str) -> wasmtime::Result<Target> {
        let ctx = self.scenario()?.clone();
        Ok(match ctx.containers.get(service) {
            Some(id) => Ok((ctx.clone(), id.clone())),
            None => Err(format!(
                "no service `{service}` in this scenario (services: {})",
                ctx.containers
                    .keys()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        })
    }
}

/// Run one container operation on a service's container and, when it is a
/// fault and took effect, note it in the fault log. `op` gets the container
/// runtime, the container id and the scenario's network (checked present
/// when `needs_network`). The only place this interface reaches the runtime.
async fn live<T, F>(
    target: wasmtime::Result<Target>,
    service: String,
    kind: FaultKind,
    needs_network: bool,
    op: F,
) -> wasmtime::Result<Result<T, String>>
where
    F: FnOnce(Arc<dyn Backend>, String, Option<Network>) -> BoxFuture<Result<T, BackendError>>,
{
    let (ctx, id) = match target? {
        Ok(v) => v,
        Err(e) => return Ok(Err(e)),
    };
    if needs_network && ctx.network.is_none() {
        return Ok(Err(NO_NETWORK.into()));
    }
    // Recorded before Docker answers: the fault can take effect, and the
    // step it hits can fail and be classified, while the call is in flight.
    let at = ctx.trace.clock().elapsed_ns();
    let faulty = kind != FaultKind::None;
    if faulty {
        ctx.faults.record(&service, kind, at);
    }
    let r = op(ctx.backend(), id, ctx.network.clone())
        .await
        .map_err(|e| e.to_string());
    if r.is_err() && faulty {
        ctx.faults.withdraw(&service, kind, at);
    }
    Ok(r)
}

impl container::Host for PluginState {
    async fn kill(
        &mut self,
        service: String,
        signal: String,
    ) -> wasmtime::Result<Result<(), String>> {
        self.require(Capability::CONTAINER)?;
        let args = json!([service, signal]);
        self.answered(HostCall::CONTAINER_KILL, args, |s| {
            let target = s.container_of(&service);
            live(target, service, FaultKind::Signal, false, |d, id, _| {
                Box::pin(async move { d.kill(&id, &signal).await })
            })
        })
        .await
    }

    async fn pause(&mut self, service: String) -> wasmtime::Result<Result<(), String>> {
        self.require(Capability::CONTAINER)?;
        let args = json!([service]);
        self.answered(HostCall::CONTAINER_PAUSE, args, |s| {
            let target = s.container_of(&service);
            live(target, service, FaultKind::Pause, false, |d, id, _| {
                Box::pin(async move { d.pause(&id).await })
            })
        })
        .await
    }

    async fn unpause(&mut self, service: String) -> wasmtime::Result<Result<(), String>> {
        self.require(Capability::CONTAINER)?;
        let args = json!([service]);
        self.answered(HostCall::CONTAINER_UNPAUSE, args, |s| {
            let target = s.container_of(&service);
            live(target, service, FaultKind::None, false, |d, id, _| {
                Box::pin(async move { d.unpause(&id).await })
            })
        })
        .await
    }

    async fn network_disconnect(
        &mut self,
        service: String,
    ) -> wasmtime::Result<Result<String, String>> {
        self.require(Capability::CONTAINER)?;
        let args = json!([service]);
        self.answered(HostCall::CONTAINER_NETWORK_DISCONNECT, args, |s| {
            let target = s.container_of(&service);
            live(
                target,
                service,
                FaultKind::NetworkCut,
                true,
                |d, id, net| {
                    Box::pin(async move {
                        let net = net.unwrap_or_default();
                        d.network_disconnect(&net.id, &id).await.map(|_| net.name)
                    })
                },
            )
        })
        .await
    }

    async fn network_connect(&mut self, service: String) -> wasmtime::Result<Result<(), String>> {
        self.require(Capability::CONTAINER)?;
        let args = json!([service]);
        self.answered(HostCall::CONTAINER_NETWORK_CONNECT, args, |s| {
            let target = s.container_of(&service);
            let alias = service.clone();
            live(target, service, FaultKind::None, true, |d, id, net| {
                Box::pin(async move {
                    let net = net.unwrap_or_default();
                    d.network_connect(&net.id, &id, &alias).await
                })
            })
        })
        .await
    }

    async fn network_attached(
        &mut self,
        service: String,
    ) -> wasmtime::Result<Result<bool, String>> {
        self.require(Capability::CONTAINER)?;
        let args = json!([service]);
        self.answered(HostCall::CONTAINER_NETWORK_ATTACHED, args, |s| {
            let target = s.container_of(&service);
            live(target, service, FaultKind::None, true, |d, id, net| {
                Box::pin(async move {
                    let net = net.unwrap_or_default();
                    d.network_attached(&net.name, &id).await
                })
            })
        })
        .await
    }

    async fn inspect(
        &mut self,
        service: String,
    ) -> wasmtime::Result<Result<container::ContainerState, String>> {
        self.require(Capability::CONTAINER)?;
        let args = json!([service]);
        self.answered(HostCall::CONTAINER_INSPECT, args, |s| {
            let target = s.container_of(&service);
            live(target, service, FaultKind::None, false, |d, id, _| {
                Box::pin(async move {
                    d.inspect(&id).await.map(|s| container::ContainerState {
                        status: s.status,
                        running: s.running,
                        exit_code: s.exit_code.map(|c| c as i32),
                        oom_killed: s.oom_killed,
                    })
                })
            })
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::scenario::FaultLog;
    use crate::trace::{RunClock, Trace};
    use std::time::Duration;

    fn scenario() -> Arc<ScenarioCtx> {
        Arc::new(ScenarioCtx {
            backend: Arc::new(crate::backend::Fake::new()),
            containers: Default::default(),
            network: None,
            trace: Trace::new(RunClock::new(None)),
            faults: FaultLog::default(),
            slots: Default::default(),
            steps_done: Default::default(),
            schedule: Default::default(),
            compose: None,
            finished: Default::default(),
        })
    }

    /// Docker can cut a container off (and the step in it fail and be
    /// classified) before its API call answers: the fault is in the log for
    /// the whole call, and taken back when the call fails.
    #[tokio::test]
    async fn a_fault_is_logged_while_its_call_is_in_flight_and_withdrawn_if_it_fails() {
        let ctx = scenario();
        let slow = |ok: bool| {
            move |_: Arc<dyn Backend>,
                  _: String,
                  _: Option<Network>|
                  -> BoxFuture<Result<(), BackendError>> {
                Box::pin(async move {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    match ok {
                        true => Ok(()),
                        false => Err(BackendError::Conflict("refused".into())),
                    }
                })
            }
        };
        let now = |ctx: &ScenarioCtx| ctx.trace.clock().elapsed_ns();
        for (service, ok) in [("cut", true), ("failed", false)] {
            let call = tokio::spawn(live(
                Ok(Ok((ctx.clone(), format!("id-{service}")))),
                service.to_string(),
                FaultKind::NetworkCut,
                false,
                slow(ok),
            ));
            tokio::time::sleep(Duration::from_millis(50)).await;
            assert_eq!(
                ctx.faults.last_network(service, now(&ctx)),
                Some(FaultKind::NetworkCut),
                "`{service}`: logged while Docker has not answered"
            );
            assert_eq!(call.await.unwrap().unwrap().is_ok(), ok);
        }
        assert_eq!(
            ctx.faults.last_network("cut", now(&ctx)),
            Some(FaultKind::NetworkCut)
        );
        assert_eq!(
            ctx.faults.last_network("failed", now(&ctx)),
            None,
            "a failed call did not cut anything"
        );
    }
}
