//! An in-memory container runtime, so the engine can be tested without
//! Docker: containers and networks are state, an exec does what its command
//! is scripted to do (tokio time, so a test can pause and advance it), and
//! the daemon can be made to go away. It keeps Docker's rules where the
//! engine depends on them: a network with endpoints cannot be removed, a
//! stopped container cannot be exec'd into or signalled, PID 1 ignores a
//! signal it has no handler for (the keep-alive command traps SIGTERM and
//! exits 0; a service with its own `args` ignores SIGTERM).

mod containers;
mod networks;
mod resources;

use super::cgroup::{CgroupUsage, DiskUsage, LiveLimits};
use super::docker::{container_name, network_name};
use super::{
    labels, BackendError, CgroupBackend, ContainerBackend, ContainerState, DiskBackend,
    ExecOutcome, Leftovers, Network, NetworkBackend, Refuse,
};
use crate::suite::ServiceSpec;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::watch;

/// Exit code of a container ended by SIGKILL.
const SIGKILL_EXIT: i64 = 137;

/// What a scripted command does once its `duration` has passed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effect {
    /// Ends with the script's exit code.
    Exit,
    /// Never ends on its own: only a kill, a removal or the caller's timeout
    /// ends it.
    Hang,
    /// The container is SIGKILLed under it (exit 137), as a chaos kill does.
    KillContainer,
    /// The kernel OOM-kills the command (exit 137, the cgroup's counter goes
    /// up); the container lives on.
    OomKill,
    /// The daemon stops answering; the exec's stream breaks (no exit code).
    DockerVanishes,
}

/// How an exec of one command behaves.
#[derive(Clone, Debug)]
pub struct Script {
    pub exit_code: i64,
    pub stdout: String,
    pub stderr: String,
    pub duration: Duration,
    pub effect: Effect,
    /// How much later than the effect the exec reports its end (Docker's
    /// stream delivers a container's death a moment after it happened).
    pub lag: Duration,
}

impl Script {
    /// Ends at once with `code`.
    pub fn exit(code: i64) -> Script {
        Script {
            exit_code: code,
            stdout: String::new(),
            stderr: String::new(),
            duration: Duration::ZERO,
            effect: Effect::Exit,
            lag: Duration::ZERO,
        }
    }

    /// Runs until something stops it.
    pub fn hang() -> Script {
        Script {
            effect: Effect::Hang,
            ..Script::exit(0)
        }
    }

    /// Ends by `effect` once `duration` has passed.
    pub fn then(duration: Duration, effect: Effect) -> Script {
        Script {
            duration,
            effect,
            ..Script::exit(0)
        }
    }

    /// Takes `duration` before it ends.
    pub fn after(mut self, duration: Duration) -> Script {
        self.duration = duration;
        self
    }

    /// The exec reports its end `lag` after the effect took place.
    pub fn reported_after(mut self, lag: Duration) -> Script {
        self.lag = lag;
        self
    }

    pub fn stdout(mut self, text: &str) -> Script {
        self.stdout = text.to_string();
        self
    }
}

struct Container {
    name: String,
    service: String,
    labels: HashMap<String, String>,
    running: bool,
    paused: bool,
    exit_code: Option<i64>,
    oom_killed: bool,
    oom_kills: u64,
    /// Ids of the networks it is attached to.
    networks: BTreeSet<String>,
    /// Exit code after SIGTERM; None: PID 1 ignores it.
    sigterm_exit: Option<i64>,
    pid: u32,
    /// Flips to true when the container stops: ends its running execs.
    stopped: watch::Sender<bool>,
    /// Its cgroup: the counters a test sets, the limits in force (0: none).
    usage: CgroupUsage,
    limits: LiveLimits,
    /// tmpfs mounts: path -> (size, filler bytes).
    disks: BTreeMap<String, (u64, u64)>,
}

struct Net {
    id: String,
    name: String,
    labels: HashMap<String, String>,
}

#[derive(Default)]
struct State {
    containers: BTreeMap<String, Container>,
    networks: BTreeMap<String, Net>,
    scripts: HashMap<String, Script>,
    /// Scripts used one per exec, in order; the last one repeats.
    sequences: HashMap<String, std::collections::VecDeque<Script>>,
    missing_images: HashSet<String>,
    files: HashMap<String, Vec<u8>>,
    calls: Vec<String>,
    next: u64,
}

impl State {
    fn container(&mut self, id: &str) -> Result<&mut Container, BackendError> {
        self.containers
            .get_mut(id)
            .ok_or_else(|| BackendError::NotFound(id.to_string()))
    }

    fn network_id(&self, id_or_name: &str) -> Option<String> {
        self.networks
            .values()
            .find(|n| n.id == id_or_name || n.name == id_or_name)
            .map(|n| n.id.clone())
    }

    fn new_id(&mut self) -> String {
        self.next += 1;
        // Hex like Docker's ids (the trace digest normalises those).
        format!("{:064x}", 0xfa4e_0000_0000_u64 + self.next)
    }

    fn log(&mut self, call: String) {
        self.calls.push(call);
    }
}

/// The in-memory backend. Unscripted commands exit 0 at once.
#[derive(Default)]
pub struct Fake {
    state: Mutex<State>,
    unreachable: AtomicBool,
}

impl Fake {
    pub fn new() -> Fake {
        Fake::default()
    }

    /// What an exec of exactly `command` does from now on.
    pub fn script(&self, command: &str, script: Script) {
        self.lock().scripts.insert(command.to_string(), script);
    }

    /// What the execs of exactly `command` do, one script per exec in
    /// order (a retried step's attempts); the last one repeats.
    pub fn script_seq(&self, command: &str, scripts: Vec<Script>) {
        self.lock()
            .sequences
            .insert(command.to_string(), scripts.into());
    }

    /// `ensure_image` fails for `image` as when it is not present locally.
    pub fn missing_image(&self, image: &str) {
        self.lock().missing_images.insert(image.to_string());
    }

    /// What `archive` returns for `path` (in any container).
    pub fn put_file(&self, path: &str, tar: &[u8]) {
        self.lock().files.insert(path.to_string(), tar.to_vec());
    }

    /// The daemon goes away (true) or comes back (false).
    pub fn set_unreachable(&self, gone: bool) {
        self.unreachable.store(gone, Ordering::SeqCst);
    }

    /// Every state-changing call (and each exec and verification), in order,
    /// naming services rather than ids: `start_service app`, `exec app: cmd`,
    /// `kill app SIGTERM`, `remove app`, `remove_network`, `leftovers`, ...
    pub fn calls(&self) -> Vec<String> {
        self.lock().calls.clone()
    }

    /// What the daemon still holds, whether or not it answers.
    pub fn held(&self) -> Leftovers {
        let st = self.lock();
        Leftovers {
            containers: st.containers.keys().cloned().collect(),
            networks: st.networks.keys().cloned().collect(),
            volumes: Vec::new(),
        }
    }

    /// The state of the container of `service`, if it still exists.
    pub fn state_of(&self, service: &str) -> Option<ContainerState> {
        let st = self.lock();
        st.containers
            .values()
            .find(|c| c.service == service)
            .map(state)
    }

    /// The networks `service`'s container is attached to (ids), if it still
    /// exists: empty for a container without any network.
    pub fn networks_of(&self, service: &str) -> Option<Vec<String>> {
        let st = self.lock();
        st.containers
            .values()
            .find(|c| c.service == service)
            .map(|c| c.networks.iter().cloned().collect())
    }

    /// Change the cgroup counters of `service`'s container (a reading
    /// returns them, with the limits in force).
    pub fn cgroup(&self, service: &str, f: impl FnOnce(&mut CgroupUsage)) {
        let mut st = self.lock();
        if let Some(c) = st.containers.values_mut().find(|c| c.service == service) {
            f(&mut c.usage);
        }
    }

    /// The limits in force on `service`'s container (0: none).
    pub fn limits_of(&self, service: &str) -> Option<LiveLimits> {
        let st = self.lock();
        st.containers
            .values()
            .find(|c| c.service == service)
            .map(|c| c.limits.clone())
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn reachable(&self) -> Result<(), BackendError> {
        if self.unreachable.load(Ordering::SeqCst) {
            Err(BackendError::Unreachable(
                "the fake daemon went away".into(),
            ))
        } else {
            Ok(())
        }
    }

    fn service_of(st: &State, id: &str) -> String {
        st.containers
            .get(id)
            .map(|c| c.service.clone())
            .unwrap_or_else(|| id.to_string())
    }
}

/// Stop a container with `code`; its running execs end.
fn stop(c: &mut Container, code: i64) {
    c.running = false;
    c.paused = false;
    c.exit_code = Some(code);
    c.stopped.send_replace(true);
}

fn state(c: &Container) -> ContainerState {
    ContainerState {
        status: if c.running && c.paused {
            "paused"
        } else if c.running {
            "running"
        } else {
            "exited"
        }
        .into(),
        running: c.running,
        exit_code: (!c.running).then_some(c.exit_code).flatten(),
        oom_killed: c.oom_killed,
        pid: c.running.then_some(c.pid),
    }
}

/// `clnrm=<run>` or `clnrm` (key present).
fn matches(labels: &HashMap<String, String>, filters: &[String]) -> bool {
    filters.iter().all(|f| match f.split_once('=') {
        Some((k, v)) => labels.get(k).is_some_and(|x| x == v),
        None => labels.contains_key(f),
    })
}

/// The fake answers every call.
impl Refuse for Fake {}

/// Docker's 409 for a call that needs a running container.
fn running<'a>(c: &'a mut Container, id: &str) -> Result<&'a mut Container, BackendError> {
    if c.running {
        Ok(c)
    } else {
        Err(BackendError::Conflict(format!(
            "container {id} is not running"
        )))
    }
}

#[cfg(test)]
mod tests;
