//! `clnrm run FILES...`: load and check every suite before starting
//! anything, run them, report each as it finishes.

use super::docker::prepare_docker;
use super::output::report_and_export;
use super::progress::progress_bar;
use super::suites::{load_all, resolve_all};
use super::{EXIT_BAD_INPUT, EXIT_FAIL, EXIT_INTERRUPTED, EXIT_PASS};
use crate::confined::ConfinedDir;
use crate::engine::{self, RunCtx};
use crate::runtime::Registry;
use crate::suite::Exporter;
use futures_util::StreamExt;
use std::path::PathBuf;
use std::sync::Arc;

/// Run chaos suites (`*.clnrm.toml` files or glob patterns).
#[derive(clap::Args, Debug)]
pub struct Args {
        #[arg(required = true)]
        files: Vec<String>,
        /// Override `[determinism] seed`.
        #[arg(long)]
        seed: Option<u64>,
        /// Where reports are written.
        #[arg(long, default_value = ".")]
        report_dir: PathBuf,
        /// Store every plugin host call (and what replay needs) in FILE.
        #[arg(long, value_name = "FILE")]
        record: Option<PathBuf>,
        /// Override `[otel] exporter`. `stdout` given here prints OTLP/JSON
        /// lines on stdout; from the file it writes `<name>.otlp.jsonl` into
        /// the report dir.
        #[arg(long, value_enum, value_name = "EXPORTER")]
        otel_exporter: Option<OtelExporterArg>,
        /// How many scenarios run at once, across all the suites given
        /// (default: the number of CPUs). Each keeps its own network and
        /// containers; output, reports and digests stay as with `-j 1`.
        #[arg(short = 'j', long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
        jobs: Option<u16>,
}

impl Args {
    pub async fn exec(self) -> i32 {
        run(
            &self.files,
            self.seed,
            &self.report_dir,
            self.record.as_deref(),
            self.otel_exporter.map(Exporter::from),
            self.jobs.map(usize::from).unwrap_or_else(default_jobs),
        )
        .await
    }
}

/// `--otel-exporter`.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum OtelExporterArg {
    Stdout,
    Otlp,
    None,
}

impl From<OtelExporterArg> for Exporter {
    fn from(a: OtelExporterArg) -> Self {
        match a {
            OtelExporterArg::Stdout => Exporter::Stdout,
            OtelExporterArg::Otlp => Exporter::Otlp,
            OtelExporterArg::None => Exporter::None,
        }
    }
}

async fn run(
    files: &[String],
    seed_override: Option<u64>,
    report_dir: &std::path::Path,
    record: Option<&std::path::Path>,
    exporter_override: Option<Exporter>,
    jobs: usize,
) -> i32 {
    let suites = match load_all(files) {
        Ok(s) => s,
        Err(code) => return code,
    };
    // Every report, export and artifact is written through this one handle.
    let reports = match ConfinedDir::create(report_dir) {
        Ok(d) => Arc::new(d),
        Err(e) => {
            eprintln!("error: cannot create the report directory: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    let registry = match Registry::new() {
        Ok(r) => Arc::new(r),
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    // Bad input is found before Docker is touched (no gc, no daemon error on top).
    let plugins = match resolve_all(&registry, &suites).await {
        Ok(p) => p,
        Err(code) => return code,
    };
    let (docker, images) = match prepare_docker(&suites).await {
        Ok(d) => d,
        Err(code) => return code,
    };
    // Rootless Podman: what it cannot do is said before any container starts.
    let refusals = rootless_refusals(&docker, &suites, &plugins);
    if !refusals.is_empty() {
        for r in &refusals {
            eprintln!("error: {r}");
        }
        return EXIT_BAD_INPUT;
    }
    let ctx = RunCtx {
        registry,
        backend: Arc::new(docker),
        run_id: engine::seed::new_run_id(),
        interrupt: engine::Interrupt::install(),
        record: record.is_some(),
        reports: reports.clone(),
        progress: progress_bar(),
        jobs: RunCtx::jobs(jobs),
        images: Arc::new(images),
    };
    let mut recordings = Vec::new();
    tracing::info!(run_id = %ctx.run_id, "run started");
    let mut all_passed = true;
    let mut invalid = false;
    let mut environment = false;
    // A report or export that could not be written is an environment error.
    let mut output_failed = false;
    // Suites run at once too (their scenarios share the `-j` permits); each
    // is reported, in file order, as soon as it and those before it are done.
    let docker_gone = std::sync::atomic::AtomicBool::new(false);
    let ctx_ref = &ctx;
    let gone = &docker_gone;
    let mut finished = futures_util::stream::iter(suites.iter().zip(&plugins))
        .map(|(s, p)| async move {
            if ctx_ref.interrupt.is_set() || gone.load(std::sync::atomic::Ordering::Acquire) {
                return None;
            }
            let seed = seed_override
                .or(s.seed)
                .unwrap_or_else(engine::seed::random_seed);
            let outcome = engine::run_suite(ctx_ref, s, p, seed).await;
            if outcome.environment_error.is_some() {
                gone.store(true, std::sync::atomic::Ordering::Release);
            }
            Some((s, outcome))
        })
        .buffered(jobs);
    while let Some(done) = finished.next().await {
        let Some((s, outcome)) = done else { break };
        let _ = crate::report::print_summary(&mut std::io::stdout().lock(), &outcome);
        output_failed |= !report_and_export(
            &mut std::io::stdout(),
            s,
            &outcome,
            &reports,
            exporter_override,
        )
        .await;
        if record.is_some() {
            recordings.push(crate::replay::SuiteRecording::of(s, &outcome));
        }
        all_passed &= outcome.passed;
        invalid |= outcome.invalid.is_some();
        if let Some(e) = &outcome.environment_error {
            eprintln!("error: Docker became unreachable during the run ({e}); what it still held is removed by the next `clnrm run` or by `clnrm gc`");
            environment = true;
        }
    }
    drop(finished);
    if let Some(path) = record {
        match crate::replay::Recording::new(recordings).write(path) {
            Ok(()) => println!("recording: {}", path.display()),
            Err(e) => {
                eprintln!("error: cannot write the recording {}: {e}", path.display());
                environment = true;
            }
        }
    }
    if ctx.interrupt.is_set() {
        EXIT_INTERRUPTED
    } else if invalid || environment || output_failed {
        EXIT_BAD_INPUT
    } else if all_passed {
        EXIT_PASS
    } else {
        EXIT_FAIL
    }
}

/// `-j` when not given: one scenario per CPU.
fn default_jobs() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// What a rootless engine cannot do for these suites (see
/// [`crate::backend::engine::rootless_refusals`]).
fn rootless_refusals(
    docker: &crate::backend::Docker,
    suites: &[crate::suite::Suite],
    plugins: &[crate::runtime::ResolvedPlugins],
) -> Vec<String> {
    use crate::backend::engine::FaultUse;
    if !docker.engine().rootless {
        return Vec::new();
    }
    let mut faults = Vec::new();
    let mut limited = Vec::new();
    for (suite, resolved) in suites.iter().zip(plugins) {
        for sc in &suite.scenarios {
            for inj in &sc.injections {
                if let Some(p) = resolved.chaos.get(&inj.fault_type) {
                    faults.push(FaultUse {
                        suite: &suite.name,
                        scenario: &sc.name,
                        fault: &inj.fault_type,
                        capabilities: &p.info.capabilities,
                    });
                }
            }
        }
        for (id, svc) in &suite.services {
            if svc.memory_mb.is_some() || svc.cpu_millicores.is_some() || svc.pids.is_some() {
                limited.push((suite.name.as_str(), id.as_str()));
            }
        }
    }
    crate::backend::engine::rootless_refusals(docker.engine(), &faults, &limited)
}
