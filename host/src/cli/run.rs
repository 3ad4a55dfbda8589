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
///
/// Exit code: 0 all passed, 1 a test failed, 2 bad input or environment,
/// 130 interrupted (everything the run created is removed first).
///
/// Examples:
///   clnrm run tests/chaos/*.clnrm.toml --report-dir reports
///   clnrm run suite.clnrm.toml --list                     # its scenarios, nothing run
///   clnrm run suite.clnrm.toml --scenario 'kill_*'        # only these scenarios
///   clnrm run tests/chaos/*.clnrm.toml --shard 2/4        # CI machine 2 of 4
///   clnrm run suite.clnrm.toml --watch                    # re-run on every save
#[derive(clap::Args, Debug)]
#[command(verbatim_doc_comment)]
pub struct Args {
    #[arg(required = true)]
    pub(super) files: Vec<String>,
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
    /// Print the suites' scenarios (after --scenario and --shard) and
    /// run nothing.
    #[arg(long)]
    list: bool,
    /// Run only the scenarios of this name; a glob (`kill_*`) matches
    /// several. Repeatable. A suite that loses scenarios sets its
    /// `[expect.*]` tables aside (they judge the whole suite).
    #[arg(long = "scenario", value_name = "NAME")]
    scenarios: Vec<String>,
    /// Run shard I of N: a partition of the scenarios of all the given
    /// suites, the same on every machine whatever the file order.
    /// Scenarios that wait for one another's spans stay together. The
    /// reports carry `shard = "I/N"`; `clnrm report merge` joins them.
    #[arg(long, value_name = "I/N")]
    shard: Option<crate::shard::Shard>,
    /// Stay running: re-run the suites a change touches (the suite file, a
    /// `build` context, a file it uploads or mounts), 300 ms after the last
    /// change. Ctrl-C stops, cleaning up first.
    #[arg(long, conflicts_with_all = ["list", "record"])]
    watch: bool,
}

impl Args {
    pub async fn exec(self) -> i32 {
        let selection = Selection {
            scenarios: self.scenarios.clone(),
            shard: self.shard,
        };
        if self.list {
            return list(&self.files, &selection);
        }
        let interrupt = engine::Interrupt::install();
        if self.watch {
            return super::run_watch::watch(&self, &selection, interrupt).await;
        }
        self.run_files(&self.files, &selection, interrupt).await
    }

    /// One run of `files` (the given ones, or those a change touched).
    pub(super) async fn run_files(
        &self,
        files: &[String],
        selection: &Selection,
        interrupt: engine::Interrupt,
    ) -> i32 {
        run(
            files,
            selection,
            self.seed,
            &self.report_dir,
            self.record.as_deref(),
            self.otel_exporter.map(Exporter::from),
            self.jobs.map(usize::from).unwrap_or_else(default_jobs),
            interrupt,
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

/// `--scenario` and `--shard`: which scenarios of the loaded suites run.
#[derive(Debug, Default, Clone)]
pub(super) struct Selection {
    pub scenarios: Vec<String>,
    pub shard: Option<crate::shard::Shard>,
}

impl Selection {
    /// Load the suites and keep the selected scenarios; a `--scenario`
    /// that matches nothing is bad input (exit 2).
    pub(super) fn load(
        &self,
        files: &[String],
        notes: bool,
    ) -> Result<Vec<crate::suite::Suite>, i32> {
        let suites = load_all(files)?;
        let filter = crate::shard::Filter::new(&self.scenarios).map_err(|e| {
            eprintln!("error: {e}");
            EXIT_BAD_INPUT
        })?;
        let unmatched = filter.unmatched(&suites);
        if !unmatched.is_empty() {
            for (p, near) in unmatched {
                eprintln!("error: --scenario `{p}` matches no scenario of the given suites");
                if let Some(n) = near {
                    eprintln!("  help: did you mean `{n}`? `clnrm run --list FILES` prints them");
                }
            }
            return Err(EXIT_BAD_INPUT);
        }
        let mut keep: Vec<Vec<bool>> = suites
            .iter()
            .map(|s| {
                s.scenarios
                    .iter()
                    .map(|sc| filter.matches(&sc.name))
                    .collect()
            })
            .collect();
        if let Some(shard) = self.shard {
            for (k, in_shard) in keep.iter_mut().zip(crate::shard::partition(&suites, shard)) {
                for (k, i) in k.iter_mut().zip(in_shard) {
                    *k &= i;
                }
            }
        }
        let (suites, set_aside) = crate::shard::select(suites, &keep);
        for (name, n) in set_aside.into_iter().filter(|_| notes) {
            let how = if self.shard.is_some() {
                "`clnrm report merge` runs them over the joined shards"
            } else {
                "run the whole suite to check them"
            };
            eprintln!("note: {name}: {n} [expect.*] table(s) set aside: they judge the whole suite ({how})");
        }
        Ok(suites)
    }
}

/// `--list`: each suite and its selected scenarios, without running.
fn list(files: &[String], selection: &Selection) -> i32 {
    let suites = match selection.load(files, false) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let mut out = String::new();
    for s in &suites {
        out.push_str(&format!(
            "{} ({}): {} scenario(s)\n",
            s.path.display(),
            s.name,
            s.scenarios.len()
        ));
        for sc in &s.scenarios {
            let faults: Vec<&str> = sc
                .injections
                .iter()
                .map(|i| i.fault_type.as_str())
                .collect();
            let what = if faults.is_empty() {
                String::new()
            } else {
                format!("  [{}]", faults.join(", "))
            };
            out.push_str(&format!("  {}{what}\n", sc.name));
        }
    }
    print!("{out}");
    EXIT_PASS
}

#[allow(clippy::too_many_arguments)]
async fn run(
    files: &[String],
    selection: &Selection,
    seed_override: Option<u64>,
    report_dir: &std::path::Path,
    record: Option<&std::path::Path>,
    exporter_override: Option<Exporter>,
    jobs: usize,
    interrupt: engine::Interrupt,
) -> i32 {
    let suites = match selection.load(files, true) {
        Ok(s) => s,
        Err(code) => return code,
    };
    if suites.is_empty() {
        // A shard with no scenario (more shards than scenario groups).
        println!("no scenario selected: nothing to run");
        return EXIT_PASS;
    }
    let shard_label = selection.shard.map(|s| s.to_string());
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
        interrupt,
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
        let Some((s, mut outcome)) = done else { break };
        outcome.shard = shard_label.clone();
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
    // A composing fault (concurrent_faults, chaos_monkey, ...) is refused for
    // what it composes: each composed type as its own plugin declares it.
    let mut composed: Vec<(usize, &str, &str, String)> = Vec::new();
    for (k, (suite, resolved)) in suites.iter().zip(plugins).enumerate() {
        for sc in &suite.scenarios {
            for inj in &sc.injections {
                if let Some(p) = resolved.chaos.get(&inj.fault_type) {
                    faults.push(FaultUse {
                        suite: &suite.name,
                        scenario: &sc.name,
                        fault: &inj.fault_type,
                        within: None,
                        capabilities: &p.info.capabilities,
                    });
                }
                for t in crate::runtime::composed_types(&inj.config_json) {
                    composed.push((k, &sc.name, &inj.fault_type, t));
                }
            }
        }
        for (id, svc) in &suite.services {
            // Only services a scenario to run starts (after --scenario / --shard).
            let started = suite.scenarios.iter().any(|sc| sc.services.contains(id));
            if started && (svc.memory_mb.is_some() || svc.cpu_millicores.is_some() || svc.pids.is_some()) {
                limited.push((suite.name.as_str(), id.as_str()));
            }
        }
    }
    for (k, scenario, composer, inner) in &composed {
        if let Some(p) = plugins[*k].composable.get(inner) {
            faults.push(FaultUse {
                suite: &suites[*k].name,
                scenario,
                fault: inner,
                within: Some(composer),
                capabilities: &p.info.capabilities,
            });
        }
    }
    crate::backend::engine::rootless_refusals(docker.engine(), &faults, &limited)
}
