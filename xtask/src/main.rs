//! `cargo xtask <command>`: project automation for clnrm (std only).
//!
//! setup = toolchain + plugins + image + python; chaos and test run setup first.

mod bench;
mod busybox;
mod image;
mod nettools;
mod plugins;
mod podman;
mod proc;
mod python;
mod toolchain;
mod workspace;

use std::process::ExitCode;
use std::time::Instant;

use proc::{step, Failure};
use workspace::Workspace;

const USAGE: &str = "\
usage: cargo xtask <command> [args]

commands:
  setup             toolchain + plugins + image + python (idempotent; fast when done)
  toolchain         add the wasm32-wasip2 target with rustup if it is missing
  plugins           build the guest crates (plugins/*, tests/plugins/*) for wasm32-wasip2
                    and copy them to target/plugins/<package>.wasm (test fixtures:
                    target/test-plugins/<package>.wasm)
  image             build the local Docker image clnrm-base:latest from busybox-static
  python            pip install junitparser, opentelemetry-proto, protobuf (read by the
                    report tests) unless python3 can import them already
  chaos [args]      setup, build clnrm, run tests/chaos/*.clnrm.toml
                    (--report-dir target/chaos-reports); args go to `clnrm run`
  test [args]       the plugins' unit tests (fake host, no Docker; skipped with args), then
                    setup, then `cargo test` (host, sdk, xtask); args go to cargo test
  podman            the Podman tier alone: install Podman (apt-get) if missing, start its
                    API service, load clnrm-base, run the container and timeout suites and
                    tests/podman.rs on it (`test` runs it after cargo test)
  bench             setup, build clnrm in release, run the benchmarks (host/benches,
                    bench/*.sh) and print a table of ours vs raw figures
  help              this text

exit codes: 0 ok, 1 a step or test failed, 2 bad usage or Docker unreachable;
chaos and test exit with the code of clnrm / cargo test.";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((cmd, rest)) = args.split_first() else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    if matches!(cmd.as_str(), "help" | "-h" | "--help") {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    match run(cmd, rest) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            if !failure.message.is_empty() {
                eprintln!("xtask: error: {}", failure.message);
            }
            ExitCode::from(failure.code)
        }
    }
}

fn run(cmd: &str, rest: &[String]) -> Result<(), Failure> {
    let takes_args = matches!(cmd, "chaos" | "test");
    let known = matches!(
        cmd,
        "setup" | "toolchain" | "plugins" | "image" | "python" | "bench" | "podman"
    ) || takes_args;
    if !known {
        eprintln!("xtask: unknown command `{cmd}`\n\n{USAGE}");
        return Err(Failure::silent(2));
    }
    if !takes_args && !rest.is_empty() {
        eprintln!(
            "xtask: `{cmd}` takes no arguments (got `{}`)\n\n{USAGE}",
            rest.join(" ")
        );
        return Err(Failure::silent(2));
    }
    let ws = Workspace::locate()?;
    match cmd {
        "setup" => setup(&ws),
        "toolchain" => toolchain::ensure(&ws),
        "plugins" => plugins::build(&ws),
        "image" => image::check_docker().and_then(|()| image::ensure(&ws)),
        "python" => python::ensure(&ws),
        "chaos" => chaos(&ws, rest),
        "test" => test(&ws, rest),
        "bench" => setup(&ws).and_then(|()| bench::run(&ws)),
        "podman" => setup(&ws).and_then(|()| podman::tier(&ws)),
        _ => unreachable!("checked above"),
    }
}

fn setup(ws: &Workspace) -> Result<(), Failure> {
    let started = Instant::now();
    // Docker is checked first: without it nothing downstream can run, so say so at once.
    image::check_docker()?;
    toolchain::ensure(ws)?;
    nettools::ensure()?;
    plugins::build(ws)?;
    image::ensure(ws)?;
    python::ensure(ws)?;
    step(format_args!(
        "setup done in {:.1}s",
        started.elapsed().as_secs_f64()
    ));
    Ok(())
}

fn chaos(ws: &Workspace, extra: &[String]) -> Result<(), Failure> {
    let suites = ws.chaos_suites()?;
    if suites.is_empty() {
        return Err(Failure::new(
            2,
            "no chaos suites found (tests/chaos/*.clnrm.toml)",
        ));
    }
    setup(ws)?;
    step("building clnrm ...");
    ws.cargo().args(["build", "-p", "clnrm"]).run_checked()?;

    let clnrm = ws.target_dir.join("debug").join("clnrm");
    let report_dir = ws.target_dir.join("chaos-reports");
    step(format_args!("running {} chaos suite(s) ...", suites.len()));
    let code = ws
        .command(&clnrm)
        .arg("run")
        .args(suites.iter().map(|s| ws.display(s)))
        .arg("--report-dir")
        .arg(ws.display(&report_dir))
        .args(extra)
        .run_status()?;
    exit_with("clnrm", code)
}

fn test(ws: &Workspace, extra: &[String]) -> Result<(), Failure> {
    // Docker-free tier first: the chaos plugins' unit tests on the SDK's fake host (native,
    // no Docker, no wasmtime), so a broken plugin is said before any container starts.
    // Skipped when args narrow the run (they are cargo test's, not meant for the plugins).
    if extra.is_empty() {
        let tested = plugins::unit_tested(&ws.root)?;
        if !tested.is_empty() {
            step(format_args!(
                "plugin unit tests ({}) ...",
                tested.join(", ")
            ));
            let mut cargo = ws.cargo().arg("test");
            for p in &tested {
                cargo = cargo.args(["-p", p]);
            }
            let code = cargo.run_status()?;
            exit_with("plugin unit tests", code)?;
        }
        // The SDK's fake host and `chaos_fault!` themselves.
        let code = ws
            .cargo()
            .args(["test", "-p", "clnrm-sdk", "--features", "fake-host"])
            .args(["--test", "chaos_fault", "--lib"])
            .run_status()?;
        exit_with("sdk fake-host tests", code)?;
    }
    setup(ws)?;
    // Plain `cargo test` uses default-members (host, sdk, xtask); `--workspace` would drag the
    // wasm-only guests into a host build.
    step("running tests ...");
    let code = ws.cargo().arg("test").args(extra).run_status()?;
    exit_with("cargo test", code)?;
    // The same runner on Podman (issue 24); not when args narrow the run.
    if extra.is_empty() {
        podman::tier(ws)?;
    }
    Ok(())
}

/// Pass a child's exit code through, with one line saying who failed.
pub(crate) fn exit_with(what: &str, code: i32) -> Result<(), Failure> {
    if code == 0 {
        return Ok(());
    }
    eprintln!("xtask: {what} exited with code {code}");
    Err(Failure::silent(u8::try_from(code).unwrap_or(1).max(1)))
}
