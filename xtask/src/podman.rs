//! The Podman tier of `cargo xtask test` (issue 24): install Podman from
//! Debian's apt when it is missing, start its Docker-compatible API service
//! when nothing answers on its rootful socket, load clnrm-base into it, then
//! run the container and timeout suites on Podman, the engine-specific
//! tests (tests/podman.rs), and the image, readiness and OTLP receiver tests
//! with CLNRM_ENGINE=podman. A service this tier started is stopped after it.
//! Skipped, saying why, only when Podman cannot be installed.

use crate::image::IMAGE;
use crate::proc::{step, Cmd, Failure};
use crate::workspace::Workspace;
use std::io::{Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const SOCKET_DIR: &str = "/run/podman";
const SOCKET: &str = "/run/podman/podman.sock";
/// The suites the tier runs on Podman.
const SUITES: [&str; 2] = ["container_failures", "timeout_scenarios"];

fn present() -> bool {
    ["/usr/bin", "/bin", "/usr/local/bin"]
        .iter()
        .any(|d| Path::new(d).join("podman").is_file())
}

/// Podman installed; Err(reason) when it cannot be.
fn install() -> Result<(), String> {
    if present() {
        return Ok(());
    }
    step("podman missing; installing it (apt-get install podman) ...");
    let apt = |args: &[&str]| {
        Cmd::new("apt-get", "apt-get")
            .env("DEBIAN_FRONTEND", "noninteractive")
            .args(args)
            .run_checked()
            .map_err(|f| f.message)
    };
    apt(&["update", "-q"])?;
    apt(&["install", "-y", "-q", "podman"])?;
    if present() {
        Ok(())
    } else {
        Err("`podman` is still missing after apt-get install podman".into())
    }
}

/// Whether Podman's API answers `GET /_ping` on its rootful socket.
fn answers() -> bool {
    let Ok(mut s) = std::os::unix::net::UnixStream::connect(SOCKET) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    if s.write_all(b"GET /_ping HTTP/1.0\r\nHost: podman\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out.starts_with("HTTP/1.") && out.contains(" 200 ")
}

/// The API service this tier started (stopped when dropped).
struct Service(Option<Child>);

impl Drop for Service {
    fn drop(&mut self) {
        if let Some(mut c) = self.0.take() {
            step(format_args!(
                "stopping the Podman API service (pid {})",
                c.id()
            ));
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Podman's API on its rootful socket: the one running, or one started here.
fn service(ws: &Workspace) -> Result<Service, Failure> {
    if answers() {
        step(format_args!("podman answers on {SOCKET}"));
        return Ok(Service(None));
    }
    std::fs::create_dir_all(SOCKET_DIR)
        .map_err(|e| Failure::step(format!("mkdir {SOCKET_DIR}: {e}")))?;
    let log_path = ws.target_dir.join("podman-service.log");
    let log = std::fs::File::create(&log_path)
        .map_err(|e| Failure::step(format!("{}: {e}", log_path.display())))?;
    step(format_args!(
        "$ podman system service --time=0 unix://{SOCKET} (log: {})",
        ws.display(&log_path)
    ));
    // In target/: Podman 4.3 (conmon) leaves an empty `oom` file in the service's working
    // directory when a container is OOM-killed, which from the root would be a stray file
    // in the checkout (the container suite's OOM scenario does it).
    let child = Command::new("podman")
        .args(["system", "service", "--time=0"])
        .arg(format!("unix://{SOCKET}"))
        .current_dir(&ws.target_dir)
        .stdin(Stdio::null())
        .stdout(log.try_clone().map_err(|e| Failure::step(e.to_string()))?)
        .stderr(log)
        .spawn()
        .map_err(|e| Failure::step(format!("podman system service: {e}")))?;
    let service = Service(Some(child));
    let t = Instant::now();
    while !answers() {
        if t.elapsed() > Duration::from_secs(20) {
            return Err(Failure::step(format!(
                "Podman's API did not answer on {SOCKET} within 20 s (see {})",
                ws.display(&log_path)
            )));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    step(format_args!(
        "podman answers on {SOCKET} after {} ms",
        t.elapsed().as_millis()
    ));
    Ok(service)
}

/// clnrm-base as Docker has it, loaded into Podman (`localhost/clnrm-base`).
fn load_image(ws: &Workspace) -> Result<(), Failure> {
    let tar = ws.target_dir.join("clnrm-base.podman.tar");
    Cmd::new("docker", "docker")
        .args(["save", "-o"])
        .arg(&tar)
        .arg(IMAGE)
        .run_checked()?;
    let r = Cmd::new("podman", "podman")
        .args(["load", "-q", "-i"])
        .arg(&tar)
        .run_checked();
    let _ = std::fs::remove_file(&tar);
    r
}

/// The tier. `Ok` when it passed or was skipped (Podman not installable).
pub fn tier(ws: &Workspace) -> Result<(), Failure> {
    let started = Instant::now();
    if let Err(why) = install() {
        step(format_args!(
            "Podman tier SKIPPED: Podman cannot be installed here ({why})"
        ));
        return Ok(());
    }
    let _service = service(ws)?;
    load_image(ws)?;
    // The clnrm binary the main tier's `cargo test` built (and uplifted to target/debug).
    // The same selection and features as that run: `build -p clnrm` resolves features
    // differently and rebuilt every dependency, which ran CI out of disk.
    ws.cargo().args(["test", "--no-run"]).run_checked()?;
    let clnrm = ws.target_dir.join("debug").join("clnrm");
    let report_dir = ws.target_dir.join("chaos-reports-podman");
    let suites: Vec<String> = SUITES
        .iter()
        .map(|s| format!("tests/chaos/{s}.clnrm.toml"))
        .collect();
    step("running the container and timeout suites on Podman ...");
    let code = ws
        .command(&clnrm)
        .args(["--engine", "podman", "run"])
        .args(&suites)
        .arg("--report-dir")
        .arg(ws.display(&report_dir))
        .run_status()?;
    crate::exit_with("clnrm on Podman", code)?;
    // Cargo tests as the main tier runs them (`cargo test` from the root, no `-p clnrm`):
    // another package selection or feature set would rebuild every dependency.
    step("engine-specific tests (tests/podman.rs) ...");
    let code = ws
        .cargo()
        .env("CLNRM_PODMAN_TIER", "1")
        .args(["test", "--test", "podman"])
        .run_status()?;
    crate::exit_with("Podman tests", code)?;
    // What landed before (images, readiness, the OTLP receiver) on Podman. These tests ask the
    // engine under test (tests/support: `docker` or `podman` per CLNRM_ENGINE) what clnrm did.
    step("images (builds, pulls, registry auth) on Podman ...");
    let code = ws
        .cargo()
        .env("CLNRM_ENGINE", "podman")
        .args(["test", "--test", "images"])
        .run_status()?;
    crate::exit_with("image tests on Podman", code)?;
    step("readiness and the OTLP receiver on Podman ...");
    let code = ws
        .cargo()
        .env("CLNRM_ENGINE", "podman")
        .args(["test", "--test", "readiness", "--test", "otel_receive"])
        .args([
            "--",
            "a_late_port",
            "a_port_that_never",
            "log_http_exec",
            "recovery_probe",
        ])
        .args([
            "the_images_healthcheck",
            "files_mounts",
            "a_service_reaches",
            "the_python_sdk",
        ])
        .run_status()?;
    crate::exit_with("readiness / OTLP tests on Podman", code)?;
    step(format_args!(
        "Podman tier passed in {:.1}s",
        started.elapsed().as_secs_f64()
    ));
    Ok(())
}
