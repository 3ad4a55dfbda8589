//! `clnrm:chaos/compose` (0.3.2): a chaos plugin runs other plugins' faults
//! by type name ([`crate::runtime::compose::Composer`] routes and runs them).
//! Needs [`Capability::COMPOSE`]. In replay a composed fault's plugin runs
//! again on its share of the recording (its spans come back into their slots,
//! its Docker calls are answered), and the answers are compared.

use crate::runtime::bindings::chaos::clnrm::chaos::compose;
use crate::runtime::compose::{nested_seed, Compose, ComposedOutcome};
use crate::runtime::host::{Capability, HostCall, PluginState};
use futures_util::future::join_all;
use serde_json::json;
use std::sync::Arc;
use wasmtime::format_err as anyhow;

/// The calls of `clnrm:chaos/compose`, as recordings name them.
impl HostCall {
    pub const COMPOSE_RUN: HostCall = HostCall("compose.run");
    pub const COMPOSE_RUN_ALL: HostCall = HostCall("compose.run-all");
    pub const COMPOSE_DEPENDENTS: HostCall = HostCall("compose.dependents");
}

type Answer = Result<ComposedOutcome, String>;

fn to_wit(a: Answer) -> Result<compose::Composed, String> {
    a.map(|o| compose::Composed {
        observed: o.observed,
        summary: o.summary,
        plugin: o.plugin,
    })
}

impl PluginState {
    fn composer(&self) -> wasmtime::Result<&Arc<dyn Compose>> {
        self.scenario()?.compose.as_ref().ok_or_else(|| {
            anyhow!(
                "plugin `{}` called clnrm:chaos/compose where nothing can be composed",
                self.plugin
            )
        })
    }

    /// Run `faults` at the same time under `parent`; one answer each, in order.
    async fn compose_all(
        &mut self,
        call: HostCall,
        faults: Vec<compose::Fault>,
        parent: u64,
    ) -> wasmtime::Result<Vec<Answer>> {
        self.require(Capability::COMPOSE)?;
        self.span(parent)?;
        let composer = self.composer()?.clone();
        let sctx = self.scenario()?.clone();
        let args = json!([
            faults
                .iter()
                .map(|f| json!([f.fault_type, f.config_json]))
                .collect::<Vec<_>>(),
            parent
        ]);
        let (recorded, mut shares) = match self.journal.check_nested(call.as_str(), &args)? {
            Some((r, n)) => (Some(r), n.into_iter().map(Some).collect()),
            None => (None, Vec::new()),
        };
        shares.resize_with(faults.len(), || None);
        let mut runs = Vec::with_capacity(faults.len());
        for (f, share) in faults.into_iter().zip(shares) {
            self.composed += 1;
            let seed = nested_seed(self.stream_seed, self.composed, &f.fault_type);
            runs.push(composer.clone().run(
                sctx.clone(),
                self.plugin.clone(),
                self.depth + 1,
                seed,
                f.fault_type,
                f.config_json,
                parent,
                self.journal.nested(share),
            ));
        }
        let mut answers = Vec::with_capacity(runs.len());
        let mut nested = Vec::with_capacity(runs.len());
        for (i, run) in join_all(runs).await.into_iter().enumerate() {
            if let Some(d) = run.divergence {
                return Err(self.journal.nested_divergence(call.as_str(), i, d));
            }
            answers.push(run.result);
            nested.push(run.journal.into_calls());
        }
        self.journal
            .after_nested(call.as_str(), args, &answers, recorded, nested)?;
        Ok(answers)
    }
}

impl compose::Host for PluginState {
    async fn run(
        &mut self,
        fault: compose::Fault,
        parent: u64,
    ) -> wasmtime::Result<Result<compose::Composed, String>> {
        let mut answers = self
            .compose_all(HostCall::COMPOSE_RUN, vec![fault], parent)
            .await?;
        Ok(to_wit(
            answers.pop().unwrap_or_else(|| Err("no answer".into())),
        ))
    }

    async fn run_all(
        &mut self,
        faults: Vec<compose::Fault>,
        parent: u64,
    ) -> wasmtime::Result<Vec<Result<compose::Composed, String>>> {
        let answers = self
            .compose_all(HostCall::COMPOSE_RUN_ALL, faults, parent)
            .await?;
        Ok(answers.into_iter().map(to_wit).collect())
    }

    async fn dependents(&mut self, service: String) -> wasmtime::Result<Vec<String>> {
        self.require(Capability::COMPOSE)?;
        let args = json!([service]);
        self.answered(HostCall::COMPOSE_DEPENDENTS, args, |s| {
            let found = s.composer().map(|c| c.dependents(&service));
            async move { found }
        })
        .await
    }
}
