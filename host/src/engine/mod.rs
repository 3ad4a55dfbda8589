//! The engine: run a suite's scenarios (services, steps, injections, cleanup,
//! verification), then hand the finished trace to the validators.

mod artifacts;
mod attempt;
mod cascade;
mod cleanup;
pub mod images;
mod interrupt;
pub mod limit_watch;
mod outcome;
mod ready;
mod recovery;
mod retry;
mod scenario;
pub mod seed;
mod step;
mod timeout;
mod validate;

pub use interrupt::Interrupt;
pub use outcome::{ExpectationOutcome, InjectionRecording, ScenarioOutcome, SuiteOutcome};
// The typed vocabulary the engine's tests assert on.
#[cfg(test)]
pub use outcome::{CleanupOutcome, CleanupTrigger, ErrorType, StepOutcome, StepResult};
pub use scenario::outcome_of;
pub use validate::run as validate;

use crate::backend::Backend;
use crate::runtime::{Registry, ResolvedPlugins};
use crate::suite::Suite;
use crate::trace::{RunClock, Trace};
use std::sync::Arc;
use std::time::Instant;

/// What every scenario of a run shares.
pub struct RunCtx {
    pub registry: Arc<Registry>,
    /// Docker on a real run; the in-memory fake in the engine's tests.
    pub backend: Arc<dyn Backend>,
    pub run_id: String,
    pub interrupt: Interrupt,
    /// `--record`: keep every plugin host call.
    pub record: bool,
    /// `--report-dir`: `artifacts.collect` puts what it copies out under
    /// its `artifacts/` folder.
    pub reports: Arc<crate::confined::ConfinedDir>,
    /// Told when a scenario starts (suite, scenario, index, count) and once
    /// more when the suite is done (index = count): the CLI's progress bar.
    /// The engine itself prints nothing.
    pub progress: Option<Progress>,
    /// `-j N`: how many scenarios run at once, across every suite of the run.
    /// Permits are handed out first come, first served (tokio's semaphore is
    /// fair), so with N = 1 scenarios run in file order, one after another.
    /// A scenario gives its permit back when its cleanup starts: the next one
    /// starts its containers while the Docker calls of that cleanup run.
    pub jobs: Arc<tokio::sync::Semaphore>,
    /// The images prepared before the run (none in the engine's tests): each
    /// suite's trace gets their `clnrm.image.*` spans.
    pub images: Arc<images::PreparedImages>,
}

impl RunCtx {
    /// The `jobs` semaphore for `-j n` (at least 1).
    pub fn jobs(n: usize) -> Arc<tokio::sync::Semaphore> {
        Arc::new(tokio::sync::Semaphore::new(n.max(1)))
    }
}

/// The progress callback: (suite, scenario, index, count).
pub type Progress = Box<dyn Fn(&str, &str, usize, usize) + Send + Sync>;

/// Run one suite end to end: its scenarios at most `ctx.jobs` at a time (not
/// counting cleanups), each with its own containers and network. Outcomes stay in file order; the digest does not
/// depend on the order spans were made in (siblings are canonically sorted).
/// After an interrupt or the loss of Docker no further scenario starts.
pub async fn run_suite(
    ctx: &RunCtx,
    suite: &Suite,
    plugins: &ResolvedPlugins,
    seed: u64,
) -> SuiteOutcome {
    let started = Instant::now();
    // Time 0 is when this suite's images started being prepared.
    let clock_start = ctx.images.started_for(suite).unwrap_or(started);
    let trace = Trace::new(RunClock::since(clock_start, suite.freeze_clock_unix_ns));
    // What every outcome of this suite says, however far it got.
    let outcome = |spans: Vec<crate::trace::SpanData>| SuiteOutcome {
        name: suite.name.clone(),
        path: suite.path.clone(),
        meta: suite.meta.clone(),
        run_id: ctx.run_id.clone(),
        seed,
        epoch_unix_ns: trace.clock().epoch_unix_ns(),
        digest: crate::trace::digest::digest_with(&spans, suite.digest_app_spans),
        digest_app_spans_left_out: if suite.digest_app_spans {
            0
        } else {
            crate::trace::digest::app_spans(&spans)
        },
        passed: false,
        interrupted: false,
        environment_error: None,
        invalid: None,
        duration_ms: started.elapsed().as_millis() as u64,
        scenarios: Vec::new(),
        expectations: Vec::new(),
        plugins: plugins.infos(),
        shard: None,
        spans,
    };
    if let Some(invalid) = unknown_service(suite) {
        // Bad input, found before anything is created: nothing runs.
        return SuiteOutcome {
            invalid: Some(invalid),
            ..outcome(Vec::new())
        };
    }
    let root = trace.start("clnrm.run", None);
    trace.set_attr(root, "suite.name", &suite.name);
    trace.set_attr(root, "clnrm.version", env!("CARGO_PKG_VERSION"));
    trace.set_attr(root, "determinism.seed", seed as i64);
    if let Some(e) = ctx.backend.engine_id() {
        trace.set_attr(root, clnrm_sdk::vocab::attr::ENGINE_NAME, e.kind.name());
        trace.set_attr(
            root,
            clnrm_sdk::vocab::attr::ENGINE_VERSION,
            e.version.as_str(),
        );
    }
    ctx.images.emit(&trace, root, suite, clock_start);
    // Set when Docker went away: scenarios not yet started stay unstarted.
    let stop = std::sync::atomic::AtomicBool::new(false);
    let trace_ref = &trace;
    let stop_ref = &stop;
    // The OTLP receiver's token and span budget, when the suite needs one.
    let receive = scenario::receive::SuiteReceive::for_suite(suite);
    let receive_ref = receive.as_ref();
    let runs = suite
        .scenarios
        .iter()
        .enumerate()
        .map(|(i, sc)| async move {
            // Closed only if the semaphore is dropped, which it is not while ctx lives.
            let permit = ctx.jobs.acquire().await.ok()?;
            if ctx.interrupt.is_set() || stop_ref.load(std::sync::atomic::Ordering::Acquire) {
                return None;
            }
            if let Some(p) = &ctx.progress {
                p(&suite.name, &sc.name, i, suite.scenarios.len());
            }
            let outcome = scenario::run(
                ctx,
                trace_ref,
                root,
                sc,
                suite,
                plugins,
                (seed, receive_ref),
                permit,
            )
            .await;
            if outcome.environment_error.is_some() {
                stop_ref.store(true, std::sync::atomic::Ordering::Release);
            }
            Some(outcome)
        });
    // In file order; a scenario that never started leaves a gap, and what
    // follows a gap is not reported as if the run had been whole.
    let scenarios: Vec<ScenarioOutcome> = futures_util::future::join_all(runs)
        .await
        .into_iter()
        .map_while(|o| o)
        .collect();
    if let Some(p) = &ctx.progress {
        p(
            &suite.name,
            "",
            suite.scenarios.len(),
            suite.scenarios.len(),
        );
    }
    let interrupted = ctx.interrupt.is_set();
    let environment_error = scenarios.iter().find_map(|s| s.environment_error.clone());
    let all_passed = scenarios.len() == suite.scenarios.len() && scenarios.iter().all(|s| s.passed);
    trace.set_attr(root, "run.interrupted", interrupted);
    if all_passed {
        trace.end_ok(root);
    } else {
        trace.end_error(
            root,
            if interrupted {
                "interrupted"
            } else {
                "a scenario failed"
            },
        );
    }
    let spans = trace.snapshot();
    let (expectations, invalid) = if interrupted || environment_error.is_some() {
        (Vec::new(), None)
    } else {
        validate::run(&ctx.registry, suite, plugins, &spans).await
    };
    SuiteOutcome {
        passed: all_passed && invalid.is_none() && expectations.iter().all(|e| e.passed),
        interrupted,
        environment_error,
        invalid,
        scenarios,
        expectations,
        ..outcome(spans)
    }
}

/// A scenario starting a service the suite does not define, or a step on a
/// service its scenario does not start: a suite error (the loader rejects
/// both; this keeps a suite built any other way from reaching Docker).
fn unknown_service(suite: &Suite) -> Option<String> {
    for sc in &suite.scenarios {
        if let Some(sid) = sc
            .services
            .iter()
            .find(|s| !suite.services.contains_key(*s))
        {
            let known: Vec<&str> = suite.services.keys().map(String::as_str).collect();
            return Some(format!(
                "{}: scenario `{}`: unknown service `{sid}` (defined: {})",
                suite.path.display(),
                sc.name,
                known.join(", ")
            ));
        }
        if let Some(st) = sc
            .steps
            .iter()
            .find(|st| !sc.services.contains(&st.service))
        {
            return Some(format!(
                "{}: scenario `{}`: step `{}` runs on service `{}`, which the scenario does not start",
                suite.path.display(),
                sc.name,
                st.name,
                st.service
            ));
        }
    }
    None
}

#[cfg(test)]
mod tests;
