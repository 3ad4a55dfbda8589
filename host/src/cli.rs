//! The `clnrm` command line: parse arguments, load and check every suite
//! before starting anything, run, report, and map the result to an exit code
//! (0 all passed, 1 a test failed, 2 bad input or environment).

use crate::backend::{ContainerBackend, Docker};
use crate::confined::ConfinedDir;
use crate::engine::{self, RunCtx};
use crate::runtime::{Registry, RegistryError};
use crate::suite::{self, Exporter, Suite};
use clap::{Parser, Subcommand};
use futures_util::StreamExt;
use std::path::PathBuf;
use std::sync::Arc;

mod plugins;
mod report_page;

pub const EXIT_PASS: i32 = 0;
pub const EXIT_FAIL: i32 = 1;
pub const EXIT_BAD_INPUT: i32 = 2;
/// 128 + SIGINT, as shells report a Ctrl-C.
pub const EXIT_INTERRUPTED: i32 = 130;

#[derive(Parser, Debug)]
#[command(
    name = "clnrm",
    version,
    about = "Chaos-engineering test runner: real faults in real containers, proven by OpenTelemetry spans"
)]
pub struct Cli {
    /// More logging (-v info, -vv debug, -vvv trace).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run chaos suites (`*.clnrm.toml` files or glob patterns).
    Run {
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
    },
    /// Re-run a recording's plugins without Docker: every host call answered
    /// from the recording; prints the digest and the first divergence.
    Replay {
        file: PathBuf,
        /// Replay with another seed (a plugin drawing random numbers diverges).
        #[arg(long)]
        seed: Option<u64>,
        /// Write the replayed run's HTML page (`<name>.report.html`) here.
        #[arg(long, value_name = "DIR")]
        report_dir: Option<PathBuf>,
    },
    /// Parse and check suites (plugins included) without starting anything.
    Validate {
        #[arg(required = true)]
        files: Vec<String>,
    },
    /// Remove what dead runs left behind (containers, networks, volumes
    /// labelled `clnrm` whose owner process is gone). Live runs are untouched.
    Gc,
    /// Render a JSON report (`<name>.report.json`) as the HTML page a run
    /// writes next to it. Never opens a browser.
    Report {
        file: PathBuf,
        /// Where to write the page (default: `<name>.report.html` next to FILE).
        #[arg(short, long, value_name = "OUT")]
        output: Option<PathBuf>,
    },
    /// List the plugins found (plugin dir or CLNRM_PLUGIN_DIR, and the
    /// `[plugins]` of `--suite` files); `describe NAME` shows one's keys.
    Plugins {
        /// Also list the `[plugins]` entries of this suite (repeatable).
        #[arg(long = "suite", value_name = "FILE", global = true)]
        suites: Vec<String>,
        #[command(subcommand)]
        action: Option<PluginsAction>,
    },
}

#[derive(Subcommand, Debug)]
pub enum PluginsAction {
    /// A plugin's version, WIT version, capabilities, origin and the
    /// configuration keys of every fault type or table it handles.
    Describe { name: String },
}

pub async fn main(cli: Cli) -> i32 {
    match cli.command {
        Command::Run {
            files,
            seed,
            report_dir,
            record,
            otel_exporter,
            jobs,
        } => {
            run(
                &files,
                seed,
                &report_dir,
                record.as_deref(),
                otel_exporter.map(Exporter::from),
                jobs.map(usize::from).unwrap_or_else(default_jobs),
            )
            .await
        }
        Command::Replay {
            file,
            seed,
            report_dir,
        } => replay(&file, seed, report_dir.as_deref()).await,
        Command::Validate { files } => validate(&files).await,
        Command::Gc => gc().await,
        Command::Report { file, output } => report_page::report(&file, output.as_deref()),
        Command::Plugins { suites, action } => match action {
            None => plugins::list(&suites).await,
            Some(PluginsAction::Describe { name }) => plugins::describe(&name, &suites).await,
        },
    }
}

async fn gc() -> i32 {
    let docker = match Docker::connect().await {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    match crate::backend::gc::collect(&docker).await {
        Ok(r) => {
            println!(
                "gc: removed {} container(s), {} network(s), {} volume(s) of {} dead run(s); {} resource(s) of live runs left alone",
                r.containers,
                r.networks,
                r.volumes,
                r.dead_runs.len(),
                r.live_skipped
            );
            for e in &r.errors {
                eprintln!("gc: {e}");
            }
            if r.errors.is_empty() {
                EXIT_PASS
            } else {
                EXIT_FAIL
            }
        }
        Err(e) => {
            eprintln!("error: {e}");
            EXIT_BAD_INPUT
        }
    }
}

/// Expand globs (for shells that did not) and keep plain paths as they are.
fn expand(patterns: &[String]) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    for p in patterns {
        if p.contains(['*', '?', '[']) {
            let matches: Vec<PathBuf> = glob::glob(p)
                .map_err(|e| format!("bad pattern `{p}`: {e}"))?
                .filter_map(Result::ok)
                .collect();
            if matches.is_empty() {
                return Err(format!("no file matches `{p}`"));
            }
            out.extend(matches);
        } else {
            out.push(PathBuf::from(p));
        }
    }
    Ok(out)
}

fn report_diag(e: impl Into<miette::Report>) {
    eprintln!("{:?}", e.into());
}

/// Load every file; all errors are printed, not just the first.
fn load_all(patterns: &[String]) -> Result<Vec<Suite>, i32> {
    let paths = expand(patterns).map_err(|e| {
        eprintln!("error: {e}");
        EXIT_BAD_INPUT
    })?;
    let mut suites = Vec::new();
    let mut failed = false;
    for p in paths {
        match suite::load(&p) {
            Ok(s) => suites.push(s),
            Err(e) => {
                report_diag(e);
                failed = true;
            }
        }
    }
    if failed {
        Err(EXIT_BAD_INPUT)
    } else {
        Ok(suites)
    }
}

async fn resolve_all(
    registry: &Registry,
    suites: &[Suite],
) -> Result<Vec<crate::runtime::ResolvedPlugins>, i32> {
    let mut out = Vec::new();
    for s in suites {
        match registry.resolve(s).await {
            Ok(r) => out.push(r),
            Err(RegistryError::Suite(e)) => {
                report_diag(*e);
                return Err(EXIT_BAD_INPUT);
            }
            Err(e) => {
                eprintln!("error: {e}");
                return Err(EXIT_BAD_INPUT);
            }
        }
    }
    Ok(out)
}

async fn validate(files: &[String]) -> i32 {
    let suites = match load_all(files) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let registry = match Registry::for_checks() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    if let Err(code) = resolve_all(&registry, &suites).await {
        return code;
    }
    for s in &suites {
        // `[[expect.span]]` entries count one by one.
        let expectations: usize = s
            .expectations
            .iter()
            .map(|e| {
                serde_json::from_str::<serde_json::Value>(&e.config_json)
                    .ok()
                    .and_then(|v| v.as_array().map(Vec::len))
                    .unwrap_or(1)
            })
            .sum();
        println!(
            "ok {} ({} scenarios, {} expectations)",
            s.path.display(),
            s.scenarios.len(),
            expectations
        );
    }
    EXIT_PASS
}

/// A one-line progress bar on stderr when it is a terminal (indicatif hides
/// itself otherwise, so CI logs stay clean).
fn progress_bar() -> Option<engine::Progress> {
    use std::io::IsTerminal;
    if !std::io::stderr().is_terminal() {
        return None;
    }
    // One bar per suite, cleared before the suite's summary is printed.
    let current: std::sync::Mutex<Option<indicatif::ProgressBar>> = std::sync::Mutex::new(None);
    Some(Box::new(
        move |suite: &str, scenario: &str, i: usize, n: usize| {
            let mut slot = current.lock().unwrap_or_else(|e| e.into_inner());
            if i >= n {
                if let Some(bar) = slot.take() {
                    bar.finish_and_clear();
                }
                return;
            }
            let bar = slot.get_or_insert_with(|| {
                let bar = indicatif::ProgressBar::new(n as u64);
                if let Ok(style) = indicatif::ProgressStyle::with_template(
                    "{spinner} [{pos}/{len}] {elapsed} {msg}",
                ) {
                    bar.set_style(style);
                }
                bar.enable_steady_tick(std::time::Duration::from_millis(120));
                bar
            });
            bar.set_position(i as u64);
            bar.set_message(format!("{suite}: {scenario}"));
        },
    ))
}

async fn replay(
    file: &std::path::Path,
    seed: Option<u64>,
    report_dir: Option<&std::path::Path>,
) -> i32 {
    let rec = match crate::replay::Recording::read(file) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    let pages = match report_dir.map(ConfinedDir::create).transpose() {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: cannot create the report directory: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    let mut output_failed = false;
    let registry = match Registry::new() {
        Ok(r) => std::sync::Arc::new(r),
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    let mut all_match = true;
    for s in &rec.suites {
        let r = match crate::replay::replay(&registry, s, seed).await {
            Ok(r) => r,
            Err(e) => {
                eprintln!("error: cannot replay {}: {e}", s.name);
                return EXIT_BAD_INPUT;
            }
        };
        for c in &r.changed_plugins {
            println!(
                "replay {}: note: plugin changed since the recording: {c}",
                r.name
            );
        }
        match &r.divergence {
            Some(d) => println!("replay {}: DIVERGED: {d}", r.name),
            None => println!(
                "replay {}: {} host calls in {} injections replayed, no divergence",
                r.name, r.calls, r.injections
            ),
        }
        for v in &r.verdict_changes {
            println!("replay {}: verdict changed: {v}", r.name);
        }
        println!(
            "replay {}: expectations {}/{} passed",
            r.name, r.expectations_passed, r.expectations
        );
        println!(
            "replay {}: digest {} ({})",
            r.name,
            r.digest,
            if r.digest == r.recorded_digest {
                "same as recorded".to_string()
            } else {
                format!("recorded {}", r.recorded_digest)
            }
        );
        if let Some(dir) = &pages {
            let data = crate::replay::report_json(file, s, &r).to_string();
            match crate::report::html::render(&data)
                .map_err(std::io::Error::other)
                .and_then(|page| dir.write(&format!("{}.report.html", r.name), page))
            {
                Ok(p) => println!("report: {}", p.display()),
                Err(e) => {
                    eprintln!("error: cannot write the replay's page: {e}");
                    output_failed = true;
                }
            }
        }
        all_match &= r.matches();
    }
    if output_failed {
        EXIT_BAD_INPUT
    } else if all_match {
        EXIT_PASS
    } else {
        EXIT_FAIL
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

/// Write the suite's report files and export its spans. Prints one line per
/// file (`report: <path>`) and one for the export (`otel: ...`); false when
/// something could not be written or sent (the run then exits 2).
async fn report_and_export(
    out: &mut impl std::io::Write,
    s: &Suite,
    outcome: &engine::SuiteOutcome,
    report_dir: &Arc<ConfinedDir>,
    exporter_override: Option<Exporter>,
) -> bool {
    use crate::trace::export::{self as otel, RunIdentity, Sink};
    let mut ok = true;
    match crate::report::write_all(report_dir, outcome, &s.report) {
        Ok(paths) => {
            for p in paths {
                let _ = writeln_flush(out, &format!("report: {}", p.display()));
            }
        }
        Err(e) => {
            eprintln!(
                "error: cannot write the reports into {}: {e}",
                report_dir.path().display()
            );
            ok = false;
        }
    }
    let sink = match (exporter_override, s.otel.exporter) {
        (Some(Exporter::Stdout), _) => Some(Sink::Stdout),
        (Some(Exporter::Otlp), _) | (None, Exporter::Otlp) => {
            Some(Sink::Otlp(s.otel.endpoint.clone()))
        }
        (Some(Exporter::None), _) | (None, Exporter::None) => None,
        (None, Exporter::Stdout) => Some(Sink::JsonFile {
            dir: report_dir.clone(),
            name: format!("{}.otlp.jsonl", outcome.name),
        }),
    };
    if let Some(sink) = sink {
        let run = RunIdentity {
            suite: &outcome.name,
            seed: outcome.seed,
            epoch_unix_ns: outcome.epoch_unix_ns,
        };
        match otel::export(
            &outcome.spans,
            &run,
            &s.otel.resources,
            s.otel.sample_ratio,
            &sink,
        )
        .await
        {
            Ok(x) if x.sampled => {
                let _ = writeln_flush(
                    out,
                    &format!(
                        "otel: {} span(s) of trace {} exported to {}",
                        x.spans, x.trace_id, x.destination
                    ),
                );
            }
            Ok(x) => {
                let _ = writeln_flush(
                    out,
                    &format!(
                        "otel: trace {} not sampled (sample_ratio {}), nothing exported",
                        x.trace_id, s.otel.sample_ratio
                    ),
                );
            }
            Err(e) => {
                eprintln!("error: OTEL export failed: {e}");
                ok = false;
            }
        }
    }
    ok
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
    let docker = match prepare_docker(&suites).await {
        Ok(d) => d,
        Err(code) => return code,
    };
    let ctx = RunCtx {
        registry,
        backend: Arc::new(docker),
        run_id: engine::seed::new_run_id(),
        interrupt: engine::Interrupt::install(),
        record: record.is_some(),
        reports: reports.clone(),
        progress: progress_bar(),
        jobs: RunCtx::jobs(jobs),
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

/// Connect to Docker, check every image is here (there is no registry to pull
/// from), and remove what dead runs left behind before we add anything.
async fn prepare_docker(suites: &[Suite]) -> Result<Docker, i32> {
    let docker = match Docker::connect().await {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: {e}");
            return Err(EXIT_BAD_INPUT);
        }
    };
    let mut images: Vec<(&Suite, &crate::suite::ServiceSpec)> = Vec::new();
    for s in suites {
        for svc in s.services.values() {
            if !images.iter().any(|(_, seen)| seen.image == svc.image) {
                images.push((s, svc));
            }
        }
    }
    let checks = images.iter().map(|(s, svc)| {
        let docker = &docker;
        async move {
            docker
                .ensure_image(&svc.image)
                .await
                .map_err(|e| (s, svc, e))
        }
    });
    let gc = crate::backend::gc::collect(&docker);
    let (checks, gc) = tokio::join!(futures_util::future::join_all(checks), gc);
    if let Some(Err((s, svc, e))) = checks.into_iter().find(Result::is_err) {
        eprintln!("error: {}: service `{}`: {e}", s.path.display(), svc.id);
        return Err(EXIT_BAD_INPUT);
    }
    match gc {
        Ok(r) if r.removed() > 0 => eprintln!(
            "clnrm: removed {} resource(s) left by {} dead run(s)",
            r.removed(),
            r.dead_runs.len()
        ),
        Ok(_) => {}
        Err(e) => tracing::warn!("gc of dead runs failed: {e}"),
    }
    Ok(docker)
}

/// `-j` when not given: one scenario per CPU.
fn default_jobs() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

fn writeln_flush(out: &mut impl std::io::Write, line: &str) -> std::io::Result<()> {
    writeln!(out, "{line}")?;
    out.flush()
}
