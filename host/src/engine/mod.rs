//! The engine: run a suite's scenarios (services, steps, injections, cleanup,
//! verification), then hand the finished trace to the validators.

mod cleanup;
mod outcome;
mod scenario;
pub mod seed;
mod step;
mod validate;

pub use outcome::{CleanupOutcome, ExpectationOutcome, InjectionOutcome, ScenarioOutcome, StepOutcome, SuiteOutcome};

use crate::backend::Docker;
use crate::runtime::{Registry, ResolvedPlugins};
use crate::suite::Suite;
use crate::trace::{RunClock, Trace};
use std::sync::Arc;
use std::time::Instant;

/// What every scenario of a run shares.
pub struct RunCtx {
    pub registry: Arc<Registry>,
    pub docker: Docker,
    pub run_id: String,
}

/// Run one suite end to end. Never returns early without cleaning up what it
/// started: each scenario cleans itself up before the next begins.
pub async fn run_suite(ctx: &RunCtx, suite: &Suite, plugins: &ResolvedPlugins, seed: u64) -> SuiteOutcome {
    let started = Instant::now();
    let trace = Trace::new(RunClock::new(suite.freeze_clock_unix_ns));
    let root = trace.start("clnrm.run", None);
    trace.set_attr(root, "suite.name", &suite.name);
    trace.set_attr(root, "clnrm.version", env!("CARGO_PKG_VERSION"));
    trace.set_attr(root, "determinism.seed", seed as i64);
    let mut scenarios = Vec::new();
    for sc in &suite.scenarios {
        scenarios.push(scenario::run(ctx, &trace, root, sc, suite, plugins, seed).await);
    }
    let all_passed = scenarios.iter().all(|s| s.passed);
    if all_passed {
        trace.end_ok(root);
    } else {
        trace.end_error(root, "a scenario failed");
    }
    let spans = trace.snapshot();
    let (expectations, invalid) = validate::run(ctx, suite, plugins, &spans).await;
    SuiteOutcome {
        name: suite.name.clone(),
        path: suite.path.clone(),
        meta: suite.meta.clone(),
        run_id: ctx.run_id.clone(),
        seed,
        passed: all_passed && invalid.is_none() && expectations.iter().all(|e| e.passed),
        invalid,
        duration_ms: started.elapsed().as_millis() as u64,
        scenarios,
        expectations,
        plugins: plugins.infos(),
        spans,
    }
}
