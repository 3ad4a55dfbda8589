//! Before the steps: the scenario's network (when it needs one) and its
//! services, each start recorded before anything can fail.

use crate::engine::cleanup::Created;
use crate::engine::RunCtx;
use crate::runtime::ResolvedPlugins;
use crate::suite::{NetworkMode, ScenarioSpec, Suite};
use crate::trace::{SpanId, Trace};
use futures_util::future::join_all;

/// What setup created and what went wrong on the way.
pub(super) struct Setup {
    pub created: Created,
    /// Why the scenario cannot run its steps.
    pub setup_error: Option<String>,
    /// Docker itself is unreachable (exit 2).
    pub environment_error: Option<String>,
    /// The scenario's OTLP receiver, when the suite needs one.
    pub receiver: Option<super::receive::ScenarioReceiver>,
}

/// Create the network (if the scenario needs one) and start the services.
pub(super) async fn run(
    ctx: &RunCtx,
    trace: &Trace,
    span: SpanId,
    sc: &ScenarioSpec,
    suite: &Suite,
    plugins: &ResolvedPlugins,
    (receive, seed): (Option<&super::receive::SuiteReceive>, u64),
) -> Setup {
    // Everything created is recorded before anything can fail, so cleanup
    // always knows it.
    let mut created = Created::default();
    let mut setup_error = None;
    let mut environment_error = None;
    let mut receiver = None;
    // The receiver listens on the network's gateway: it needs one.
    if needs_own_network(sc, plugins) || receive.is_some() {
        match ctx.backend.create_network(&ctx.run_id, &sc.name).await {
            Ok(net) => {
                if let Some(shared) = receive {
                    match super::receive::start(ctx, trace, shared, &net, suite).await {
                        Ok(r) => receiver = Some(r),
                        Err(e) => {
                            setup_error = Some(format!("cannot start the OTLP receiver: {e}"))
                        }
                    }
                }
                created.network = Some(net)
            }
            Err(e) => {
                if e.is_unreachable() {
                    environment_error = Some(e.to_string());
                }
                setup_error = Some(format!("cannot create the scenario's network: {e}"));
            }
        }
    } else {
        // Said only when there is none, so the traces of scenarios with a
        // network of their own read as they always did.
        trace.set_attr(span, "network.mode", "none");
    }
    if setup_error.is_none() {
        // Not raced with Ctrl-C: a start cut off halfway would leave a
        // container nobody knows about. Starting is short; the interrupt is
        // honoured right after.
        let starts = start_services(
            ctx,
            trace,
            span,
            (sc, suite),
            created.network.as_ref().map(|n| n.name.as_str()),
            (receiver.as_ref(), seed),
        )
        .await;
        for (sid, id, err) in starts {
            // A container that started but never got ready is still ours to remove.
            if let Some(id) = id {
                created.containers.insert(sid.clone(), id);
            }
            if let Some(e) = err {
                if let StartError::Docker(d) = &e {
                    if d.is_unreachable() {
                        environment_error.get_or_insert(d.to_string());
                    }
                }
                setup_error.get_or_insert(format!("service `{sid}` {e}"));
            }
        }
    }
    Setup {
        created,
        setup_error,
        environment_error,
        receiver,
    }
}

/// Whether the scenario gets a bridge network of its own. Isolation does not
/// need one: a container without any network (Docker's `none` mode, only
/// loopback) is as isolated as it gets, and it starts, dies and goes faster
/// (no veth pair, no iptables rules, no network to create and remove).
fn needs_own_network(sc: &ScenarioSpec, plugins: &ResolvedPlugins) -> bool {
    match sc.network {
        NetworkMode::Own => true,
        NetworkMode::None => false,
        NetworkMode::Auto => {
            sc.services.len() > 1
                || sc.injections.iter().any(|inj| {
                    plugins
                        .chaos
                        .get(&inj.fault_type)
                        .is_none_or(|p| p.uses_network())
                })
        }
    }
}

/// Why a service did not start; shown after "service `<id>` ".
#[derive(Debug, thiserror::Error)]
enum StartError {
    /// The suite does not define it (bad input, never an environment error).
    #[error("is not defined in the suite")]
    Unknown,
    /// Started without a network, but the kernel shows more than `lo`.
    #[error("has network interfaces {0} although the scenario has no network")]
    NotIsolated(String),
    #[error("did not start: {0}")]
    Docker(crate::backend::BackendError),
    /// Started, but its `ready` probe never passed (the message says why).
    #[error("{0}")]
    NotReady(String),
}

/// A service, its container when one was created, and what went wrong.
type StartResult = (String, Option<String>, Option<StartError>);

/// Start the scenario's services, one after another or all at once, each
/// after what it depends on is ready; a service with `ready` counts as
/// started once its probe passed.
async fn start_services(
    ctx: &RunCtx,
    trace: &Trace,
    span: SpanId,
    (sc, suite): (&ScenarioSpec, &Suite),
    network: Option<&str>,
    (receiver, seed): (Option<&super::receive::ScenarioReceiver>, u64),
) -> Vec<StartResult> {
    let one = |sid: String| async move {
        // Served by the OTLP receiver: nothing to start.
        if suite.services.get(&sid).is_some_and(|s| s.otel_collector) {
            return (sid, None, None);
        }
        let s = trace.start("clnrm.service.start", Some(span));
        trace.set_attr(s, "service.id", sid.as_str());
        let Some(spec) = suite.services.get(&sid) else {
            trace.end_error(s, "unknown service");
            return (sid, None, Some(StartError::Unknown));
        };
        let with_otel;
        let spec = match receiver {
            Some(r) => {
                with_otel = r.service_spec(spec, ctx, suite, &sc.name, seed, s);
                &with_otel
            }
            None => spec,
        };
        trace.set_attr(s, "service.image", spec.image.as_str());
        let r = ctx
            .backend
            .start_service(&ctx.run_id, &sc.name, spec, network)
            .await
            .map_err(StartError::Docker);
        let r = match r {
            // Isolation is read back from the kernel, not assumed.
            Ok(id) if network.is_none() => match ctx.backend.interfaces(&id).await {
                Ok(Some(names)) if names != ["lo"] => {
                    let _ = ctx.backend.remove(&id).await;
                    Err(StartError::NotIsolated(names.join(",")))
                }
                Ok(Some(names)) => {
                    trace.set_attr(s, "network.interfaces", names.join(","));
                    Ok(id)
                }
                Ok(None) => Ok(id),
                Err(e) => {
                    let _ = ctx.backend.remove(&id).await;
                    Err(StartError::Docker(e))
                }
            },
            r => r,
        };
        match &r {
            Ok(id) => {
                trace.set_attr(s, "container.id", id.as_str());
                trace.end_ok(s);
            }
            Err(e @ StartError::NotIsolated(_)) => trace.end_error(s, e.to_string()),
            Err(StartError::Docker(e)) => trace.end_error(s, e.to_string()),
            Err(StartError::Unknown | StartError::NotReady(_)) => {}
        }
        let id = match r {
            Ok(id) => id,
            Err(e) => return (sid, None, Some(e)),
        };
        let Some(ready) = &spec.ready else {
            return (sid, Some(id), None);
        };
        let target = crate::engine::ready::Target {
            backend: ctx.backend.as_ref(),
            service: &sid,
            image: &spec.image,
            container: &id,
        };
        // Unlike the start itself, the wait may be long: Ctrl-C cuts it off
        // (the open span is closed as interrupted with the scenario's).
        let err = tokio::select! {
            r = crate::engine::ready::wait(&target, trace, span, ready) => r.err(),
            _ = ctx.interrupt.wait() => Some(format!("interrupted while waiting for `{sid}` to be ready")),
        }
        .map(StartError::NotReady);
        (sid, Some(id), err)
    };
    let mut out = Vec::new();
    for wave in super::order::waves(&sc.services, suite, sc.parallel_services) {
        let results = join_all(wave.into_iter().map(one)).await;
        let failed = results.iter().any(|r| r.2.is_some());
        out.extend(results);
        if failed {
            break;
        }
    }
    out
}
