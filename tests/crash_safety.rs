//! Nothing survives a run, even a killed one: SIGKILL at several points then
//! `clnrm gc`; Ctrl-C mid-run; Docker vanishing mid-run; and `clnrm run`
//! collecting what dead runs left before it starts.

mod support;

use std::io::Read;
use std::net::{Shutdown, TcpListener, TcpStream};
use std::os::unix::net::UnixStream;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::*;

/// Three services, a slow step in each, run at once: there is always
/// something to leak.
const SUITE: &str = r#"
[service.a]
image = "clnrm-base:latest"
[service.b]
image = "clnrm-base:latest"
[service.c]
image = "clnrm-base:latest"

[[scenario]]
name = "slow"
parallel_services = true
run = [
  { service = "a", command = "sleep 4" },
  { service = "b", command = "sleep 4" },
  { service = "c", command = "sleep 4" },
]

[[scenario]]
name = "second"
service = "a"
run = "sleep 2"
network = "own"   # a network to leak too
"#;

fn spawn_run(dir: &std::path::Path, docker_host: Option<&str>) -> Child {
    spawn_run_jobs(dir, docker_host, None)
}

/// `jobs`: `-j`, else clnrm's default (one scenario per CPU).
fn spawn_run_jobs(dir: &std::path::Path, docker_host: Option<&str>, jobs: Option<&str>) -> Child {
    let p = suite(dir, "crash.clnrm.toml", SUITE);
    let mut cmd = clnrm();
    cmd.arg("run")
        .args(jobs.map(|j| ["-j", j]).iter().flatten())
        .arg(&p)
        .arg("--report-dir")
        .arg(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(h) = docker_host {
        cmd.env("DOCKER_HOST", h);
    }
    cmd.spawn().expect("clnrm starts")
}

/// Everything labelled as owned by process `pid`.
fn owned_by(pid: u32) -> Vec<String> {
    labelled_in(engine(), &format!("clnrm.pid={pid}"))
}

fn wait_for_resources(pid: u32, at_least: usize, bound: Duration) -> bool {
    let t = Instant::now();
    while t.elapsed() < bound {
        if owned_by(pid).len() >= at_least {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

fn gc() -> Run {
    run(clnrm().arg("gc"))
}

#[test]
fn sigkill_at_several_points_then_gc_leaves_nothing() {
    // Every clnrm run collects dead runs: these tests look at what a dead run
    // left, so they run one at a time.
    let _alone = exclusive();
    // After start-up, mid-start of services, mid-step, and near the end.
    for delay_ms in [300u64, 900, 2500, 4800] {
        let dir = tempfile::tempdir().unwrap();
        let mut child = spawn_run(dir.path(), None);
        let pid = child.id();
        std::thread::sleep(Duration::from_millis(delay_ms));
        child.kill().expect("SIGKILL clnrm");
        let _ = child.wait();
        let left_before = owned_by(pid);
        eprintln!(
            "killed after {delay_ms} ms; it left {} resource(s)",
            left_before.len()
        );
        let r = gc();
        assert_eq!(r.code, 0, "gc succeeds");
        let left = owned_by(pid);
        assert!(
            left.is_empty(),
            "after gc, run of pid {pid} (killed at {delay_ms} ms) still has {left:?}"
        );
    }
}

#[test]
fn sigkill_mid_step_leaves_resources_that_gc_removes() {
    // Every clnrm run collects dead runs: these tests look at what a dead run
    // left, so they run one at a time.
    let _alone = exclusive();
    // The proof that the test above tests something: a killed run does leak.
    let dir = tempfile::tempdir().unwrap();
    let mut child = spawn_run(dir.path(), None);
    let pid = child.id();
    assert!(
        wait_for_resources(pid, 4, Duration::from_secs(20)),
        "the run started its network and containers"
    );
    child.kill().unwrap();
    let _ = child.wait();
    let leaked = owned_by(pid);
    assert!(
        leaked.len() >= 4,
        "SIGKILL leaves the run's containers and network behind: {leaked:?}"
    );
    let r = gc();
    assert!(r.stdout.contains("dead run"), "{}", r.stdout);
    assert!(owned_by(pid).is_empty());
}

#[test]
fn a_new_run_collects_dead_runs_first() {
    // Every clnrm run collects dead runs: these tests look at what a dead run
    // left, so they run one at a time.
    let _alone = exclusive();
    let dir = tempfile::tempdir().unwrap();
    let mut child = spawn_run(dir.path(), None);
    let pid = child.id();
    assert!(wait_for_resources(pid, 2, Duration::from_secs(20)));
    child.kill().unwrap();
    let _ = child.wait();
    assert!(!owned_by(pid).is_empty());
    let quick = suite(dir.path(), "quick.clnrm.toml", "[service.app]\nimage = \"clnrm-base:latest\"\n[[scenario]]\nname = \"q\"\nservice = \"app\"\nrun = \"true\"\n");
    let r = run(clnrm()
        .arg("run")
        .arg(&quick)
        .arg("--report-dir")
        .arg(dir.path()));
    assert_eq!(r.code, 0);
    assert!(
        owned_by(pid).is_empty(),
        "the next run removed what the dead one left"
    );
    assert!(
        r.stderr.contains("left by") && r.stderr.contains("dead run"),
        "{}",
        r.stderr
    );
}

#[test]
fn gc_never_touches_a_live_run() {
    // Every clnrm run collects dead runs: these tests look at what a dead run
    // left, so they run one at a time.
    let _alone = exclusive();
    let dir = tempfile::tempdir().unwrap();
    // -j 1: what the run owns does not change while gc looks (with -j 2 the
    // second scenario would come and go meanwhile).
    let child = spawn_run_jobs(dir.path(), None, Some("1"));
    let pid = child.id();
    assert!(wait_for_resources(pid, 4, Duration::from_secs(20)));
    let before = owned_by(pid);
    let r = gc();
    assert_eq!(r.code, 0);
    let after = owned_by(pid);
    assert_eq!(
        before.len(),
        after.len(),
        "a live run's resources are left alone"
    );
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "the live run still passes: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(owned_by(pid).is_empty());
}

#[test]
fn sigint_mid_run_cleans_up_and_exits_130() {
    // Every clnrm run collects dead runs: these tests look at what a dead run
    // left, so they run one at a time.
    let _alone = exclusive();
    // -j 1: the second scenario never starts. -j 2: both are running when
    // the signal comes, and both are cleaned up because of it.
    for (signal, jobs) in [("INT", "1"), ("TERM", "2")] {
        let dir = tempfile::tempdir().unwrap();
        let child = spawn_run_jobs(dir.path(), None, Some(jobs));
        let pid = child.id();
        let running = if jobs == "1" { 4 } else { 6 };
        assert!(
            wait_for_resources(pid, running, Duration::from_secs(20)),
            "the run is mid-step"
        );
        std::thread::sleep(Duration::from_millis(300));
        let st = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(pid.to_string())
            .status()
            .unwrap();
        assert!(st.success());
        let out = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(
            out.status.code(),
            Some(130),
            "SIG{signal}: exit 130; stdout: {stdout} stderr: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            owned_by(pid).is_empty(),
            "SIG{signal}: everything removed: {:?}",
            owned_by(pid)
        );
        let rep = read_report(dir.path(), "crash");
        assert_eq!(rep["interrupted"], true);
        let scenarios = rep["scenarios"].as_array().unwrap();
        assert_eq!(
            scenarios.len(),
            if jobs == "1" { 1 } else { 2 },
            "-j {jobs}: no scenario starts after the interrupt, those running are reported"
        );
        for sc in scenarios {
            assert_eq!(sc["cleanup"]["triggered"], "interrupt", "-j {jobs}");
            assert_eq!(sc["cleanup"]["success"], true, "-j {jobs}");
        }
    }
}

/// A TCP front for the Docker socket that the test can pull out from under
/// clnrm mid-run.
struct DockerProxy {
    port: u16,
    dead: Arc<AtomicBool>,
    conns: Arc<Mutex<Vec<TcpStream>>>,
}

impl DockerProxy {
    fn start() -> DockerProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let dead = Arc::new(AtomicBool::new(false));
        let conns: Arc<Mutex<Vec<TcpStream>>> = Arc::default();
        let (d, c) = (dead.clone(), conns.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(tcp) = stream else { continue };
                if d.load(Ordering::SeqCst) {
                    let _ = tcp.shutdown(Shutdown::Both);
                    continue;
                }
                let Ok(unix) = UnixStream::connect("/var/run/docker.sock") else {
                    continue;
                };
                c.lock().unwrap().push(tcp.try_clone().unwrap());
                let (mut t2, u2) = (tcp.try_clone().unwrap(), unix.try_clone().unwrap());
                std::thread::spawn(move || pipe(&mut t2, &mut u2.try_clone().unwrap()));
                std::thread::spawn(move || {
                    pipe(
                        &mut unix.try_clone().unwrap(),
                        &mut tcp.try_clone().unwrap(),
                    )
                });
            }
        });
        DockerProxy { port, dead, conns }
    }

    fn kill(&self) {
        self.dead.store(true, Ordering::SeqCst);
        for c in self.conns.lock().unwrap().drain(..) {
            let _ = c.shutdown(Shutdown::Both);
        }
    }
}

fn pipe(from: &mut impl Read, to: &mut impl std::io::Write) {
    let mut buf = [0u8; 16384];
    while let Ok(n) = from.read(&mut buf) {
        if n == 0 || to.write_all(&buf[..n]).is_err() {
            break;
        }
    }
}

#[test]
fn docker_vanishing_mid_run_is_exit_2_and_gc_recovers() {
    // Every clnrm run collects dead runs: these tests look at what a dead run
    // left, so they run one at a time.
    let _alone = exclusive();
    let proxy = DockerProxy::start();
    let dir = tempfile::tempdir().unwrap();
    let child = spawn_run(dir.path(), Some(&format!("tcp://127.0.0.1:{}", proxy.port)));
    let pid = child.id();
    assert!(
        wait_for_resources(pid, 4, Duration::from_secs(20)),
        "the run is mid-step"
    );
    proxy.kill();
    let t = Instant::now();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(2),
        "environment failure is exit 2: {stderr}"
    );
    assert!(
        t.elapsed() < Duration::from_secs(60),
        "it gives up promptly"
    );
    assert!(
        stderr.contains("Docker became unreachable"),
        "says so: {stderr}"
    );
    // Docker is back (the real socket): the next gc removes the leftovers.
    assert!(
        !owned_by(pid).is_empty(),
        "with Docker gone nothing could be removed"
    );
    let r = gc();
    assert_eq!(r.code, 0);
    assert!(owned_by(pid).is_empty());
}
