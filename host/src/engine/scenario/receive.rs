//! The scenario's OTLP receiver (`crate::otel_receiver`): started on the
//! scenario network's gateway once the network exists, named in every
//! service's environment, and at the end waited on (graceful stop, then a
//! quiet spell) before its spans join the trace under one
//! `clnrm.otel.receive` span.

use crate::backend::Network;
use crate::engine::cleanup::Created;
use crate::engine::RunCtx;
use crate::otel_receiver::{self, env, Allowed, Budget, Receiver};
use crate::suite::{ServiceSpec, Suite};
use crate::trace::{ids, SpanId, SpanStatus, Trace};
use std::time::{Duration, Instant};

/// `clnrm.otel.receive` and its attributes.
pub const RECEIVE_SPAN: &str = "clnrm.otel.receive";

/// The OTLP collector's usual ports (gRPC, HTTP).
const COLLECTOR_PORTS: [u16; 2] = [4317, 4318];

/// After every container exited: how long a request already sent may take
/// to reach the receiver.
const EXITED_GRACE: Duration = Duration::from_millis(50);

/// What the scenarios of one suite's run share: the run's token and span budget.
pub struct SuiteReceive {
    pub token: String,
    pub budget: Budget,
}

impl SuiteReceive {
    /// For a suite that needs the receiver ([`otel_receiver::receiver_needed`]).
    pub fn for_suite(suite: &Suite) -> Option<SuiteReceive> {
        otel_receiver::receiver_needed(suite).then(|| SuiteReceive {
            token: otel_receiver::new_token(),
            budget: Budget::new(suite.otel.app_max_spans),
        })
    }
}

/// One scenario's running receiver.
pub struct ScenarioReceiver {
    rx: Receiver,
    token: String,
    /// When it started listening, on the trace's clock.
    started_ns: u64,
}

/// Listen on the network's gateway (an ephemeral port), for its addresses only.
pub async fn start(
    ctx: &RunCtx,
    trace: &Trace,
    shared: &SuiteReceive,
    network: &Network,
    suite: &Suite,
) -> Result<ScenarioReceiver, String> {
    let (gateway, net, prefix) = ctx
        .backend
        .network_gateway(&network.id)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("network {} has no IPv4 gateway", network.name))?;
    let started_ns = trace.clock().elapsed_ns();
    let rx = Receiver::start(otel_receiver::Config {
        bind: (gateway, 0).into(),
        // The containers' addresses; the gateway itself is the host.
        allowed: Allowed::subnet(net, prefix).except(gateway),
        token: shared.token.clone(),
        budget: shared.budget.clone(),
        clock: trace.clock().clone(),
        max_request_bytes: otel_receiver::limits::MAX_REQUEST_BYTES,
    })
    .await
    .map_err(|e| format!("cannot listen on {gateway}: {e}"))?;
    let mut rx = rx;
    // With an `otel_collector`, its usual ports too, where free: an endpoint
    // written into an application's code reaches the receiver as well.
    if suite.services.values().any(|s| s.otel_collector) {
        for port in COLLECTOR_PORTS {
            if let Err(e) = rx.also_listen((gateway, port).into()).await {
                tracing::debug!("otel receiver: {gateway}:{port} not served: {e}");
            }
        }
    }
    Ok(ScenarioReceiver {
        rx,
        token: shared.token.clone(),
        started_ns,
    })
}

impl ScenarioReceiver {
    /// A service's spec as it is started: clnrm's OTEL variables and the
    /// trace context of its `clnrm.service.start` span in its environment,
    /// every `otel_collector` service's name resolving to the receiver.
    pub fn service_spec(
        &self,
        spec: &ServiceSpec,
        ctx: &RunCtx,
        suite: &Suite,
        scenario: &str,
        seed: u64,
        start_span: SpanId,
    ) -> ServiceSpec {
        let collectors: Vec<&str> = suite
            .services
            .values()
            .filter(|s| s.otel_collector)
            .map(|s| s.id.as_str())
            .collect();
        let r = env::ReceiverEnv {
            endpoint: format!("http://{}", self.rx.addr()),
            port: self.rx.addr().port(),
            token: &self.token,
            run_id: &ctx.run_id,
            suite: &suite.name,
            scenario,
            collectors: collectors.clone(),
        };
        let context = env::trace_context(
            &ids::trace_id(seed, &suite.name),
            &ids::span_id(seed, &suite.name, start_span.0),
        );
        let mut out = spec.clone();
        out.env = env::service_env(&spec.env, &spec.id, &r, context);
        out.options
            .extra_hosts
            .extend(collectors.iter().map(|c| format!("{c}:{}", self.rx.ip())));
        out
    }

    /// The scenario is over: SIGTERM to every container still running (SDKs
    /// flush on shutdown), then wait until no span came for `app_quiet_ms`
    /// or `app_flush_timeout_ms` passed; the received spans join the trace,
    /// and one `clnrm.otel.receive` span under the scenario's says what came.
    pub async fn finish(
        self,
        ctx: &RunCtx,
        trace: &Trace,
        scenario_span: SpanId,
        created: &Created,
        suite: &Suite,
        seed: u64,
    ) {
        let since = Instant::now();
        let mut ids: Vec<&String> = created.containers.values().collect();
        ids.sort();
        futures_util::future::join_all(ids.into_iter().map(|id| async move {
            // Already stopped, or gone: nothing to flush there.
            let _ = ctx.backend.kill(id, "SIGTERM").await;
        }))
        .await;
        let quiet = Duration::from_millis(suite.otel.app_quiet_ms);
        let timeout = Duration::from_millis(suite.otel.app_flush_timeout_ms);
        // Once every container has exited nothing more can come but what is
        // already on its way: a short grace for that, then done.
        let all_exited = async {
            loop {
                let mut running = false;
                for id in created.containers.values() {
                    running |= ctx.backend.inspect(id).await.is_ok_and(|s| s.running);
                }
                if !running {
                    let grace = quiet.min(EXITED_GRACE);
                    tokio::time::sleep(grace).await;
                    while self.rx.busy() {
                        tokio::time::sleep(Duration::from_millis(5)).await;
                    }
                    return;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        };
        tokio::select! {
            _ = self.rx.settle(since, quiet, timeout) => {}
            _ = tokio::time::timeout(timeout, all_exited) => {}
        }
        let flush = since.elapsed();
        let (pending, stats) = self.rx.finish();
        let attrs = vec![
            ("spans.received".to_string(), stats.spans.into()),
            ("spans.renamed".to_string(), stats.renamed.into()),
            ("requests".to_string(), stats.requests.into()),
            ("requests.rejected".to_string(), stats.rejected.into()),
            ("bytes".to_string(), stats.bytes.into()),
            ("flush.ms".to_string(), (flush.as_millis() as u64).into()),
        ];
        trace.push_finished(
            RECEIVE_SPAN,
            Some(scenario_span),
            self.started_ns,
            trace.clock().elapsed_ns(),
            attrs,
            SpanStatus::Ok,
        );
        otel_receiver::convert::resolve_into(
            pending,
            &otel_receiver::convert::Target {
                trace,
                seed,
                suite: &suite.name,
                scenario_span,
            },
        );
    }
}
