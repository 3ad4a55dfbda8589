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
}

/// Create the network (if the scenario needs one) and start the services.
pub(super) async fn run(
    ctx: &RunCtx,
    trace: &Trace,
    span: SpanId,
    sc: &ScenarioSpec,
    suite: &Suite,
    plugins: &ResolvedPlugins,
) -> Setup {
    // Everything created is recorded before anything can fail, so cleanup
    // always knows it.
    let mut created = Created::default();
    let mut setup_error = None;
    let mut environment_error = None;
    if needs_own_network(sc, plugins) {
        match ctx.backend.create_network(&ctx.run_id, &sc.name).await {
            Ok(net) => created.network = Some(net),
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
            sc,
            suite,
            created.network.as_ref().map(|n| n.name.as_str()),
        )
        .await;
        for (sid, r) in starts {
            match r {
                Ok(id) => {
                    created.containers.insert(sid, id);
                }
                Err(e) => {
                    if let StartError::Docker(d) = &e {
                        if d.is_unreachable() {
                            environment_error.get_or_insert(d.to_string());
                        }
                    }
                    setup_error.get_or_insert(format!("service `{sid}` {e}"));
                }
            }
        }
    }
    Setup {
        created,
        setup_error,
        environment_error,
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
    Docker(crate::backend::DockerError),
}

type StartResult = (String, Result<String, StartError>);

/// Start the scenario's services, one after another or all at once.
async fn start_services(
    ctx: &RunCtx,
    trace: &Trace,
    span: SpanId,
    sc: &ScenarioSpec,
    suite: &Suite,
    network: Option<&str>,
) -> Vec<StartResult> {
    let one = |sid: String| async move {
        let s = trace.start("clnrm.service.start", Some(span));
        trace.set_attr(s, "service.id", sid.as_str());
        let Some(spec) = suite.services.get(&sid) else {
            trace.end_error(s, "unknown service");
            return (sid, Err(StartError::Unknown));
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
            Err(StartError::Unknown) => {}
        }
        (sid, r)
    };
    if sc.parallel_services {
        return join_all(sc.services.iter().cloned().map(one)).await;
    }
    let mut out = Vec::new();
    for sid in sc.services.iter().cloned() {
        let r = one(sid).await;
        let failed = r.1.is_err();
        out.push(r);
        if failed {
            break;
        }
    }
    out
}
