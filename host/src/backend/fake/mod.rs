//! An in-memory container runtime, so the engine can be tested without
//! Docker: containers and networks are state, an exec does what its command
//! is scripted to do (tokio time, so a test can pause and advance it), and
//! the daemon can be made to go away. It keeps Docker's rules where the
//! engine depends on them: a network with endpoints cannot be removed, a
//! stopped container cannot be exec'd into or signalled, PID 1 ignores a
//! signal it has no handler for (the keep-alive command traps SIGTERM and
//! exits 0; a service with its own `args` ignores SIGTERM).

use super::cgroup::{CgroupUsage, DiskUsage, LiveLimits};
use super::docker::{
    container_name, network_name, BackendError, ContainerState, ExecOutcome, Leftovers, Network,
};
use super::{labels, ContainerBackend};
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

#[async_trait::async_trait]
impl ContainerBackend for Fake {
    async fn ping(&self) -> Result<(), BackendError> {
        self.reachable()
    }

    async fn ensure_image(&self, image: &str) -> Result<(), BackendError> {
        self.reachable()?;
        if self.lock().missing_images.contains(image) {
            return Err(BackendError::ImageMissing(image.to_string()));
        }
        Ok(())
    }

    async fn create_network(&self, run_id: &str, scenario: &str) -> Result<Network, BackendError> {
        self.reachable()?;
        let mut st = self.lock();
        let name = network_name(run_id, scenario);
        if st.network_id(&name).is_some() {
            return Err(BackendError::Conflict(format!("network {name} exists")));
        }
        let id = st.new_id();
        let mut lbl = labels::for_run(run_id);
        lbl.insert(labels::SCENARIO.to_string(), scenario.to_string());
        st.networks.insert(
            id.clone(),
            Net {
                id: id.clone(),
                name: name.clone(),
                labels: lbl,
            },
        );
        st.log(format!("create_network {scenario}"));
        Ok(Network { id, name })
    }

    async fn remove_network(&self, name: &str) -> Result<bool, BackendError> {
        self.reachable()?;
        let mut st = self.lock();
        let Some(id) = st.network_id(name) else {
            return Ok(false);
        };
        if st.containers.values().any(|c| c.networks.contains(&id)) {
            return Err(BackendError::Conflict(format!(
                "network {name} has active endpoints"
            )));
        }
        st.networks.remove(&id);
        st.log("remove_network".into());
        Ok(true)
    }

    async fn network_connect(
        &self,
        network: &str,
        id: &str,
        _alias: &str,
    ) -> Result<(), BackendError> {
        self.reachable()?;
        let mut st = self.lock();
        let net = st
            .network_id(network)
            .ok_or_else(|| BackendError::NotFound(network.to_string()))?;
        let c = st.container(id)?;
        if !c.networks.insert(net) {
            return Err(BackendError::Conflict(format!(
                "{id} is already attached to {network}"
            )));
        }
        let svc = c.service.clone();
        st.log(format!("network_connect {svc}"));
        Ok(())
    }

    async fn network_disconnect(&self, network: &str, id: &str) -> Result<(), BackendError> {
        self.reachable()?;
        let mut st = self.lock();
        let net = st
            .network_id(network)
            .ok_or_else(|| BackendError::NotFound(network.to_string()))?;
        let c = st.container(id)?;
        if !c.networks.remove(&net) {
            return Err(BackendError::Conflict(format!(
                "{id} is not attached to {network}"
            )));
        }
        let svc = c.service.clone();
        st.log(format!("network_disconnect {svc}"));
        Ok(())
    }

    async fn network_attached(&self, network: &str, id: &str) -> Result<bool, BackendError> {
        self.reachable()?;
        let mut st = self.lock();
        let net = st.network_id(network);
        let c = st.container(id)?;
        Ok(net.is_some_and(|n| c.networks.contains(&n)))
    }

    async fn start_service(
        &self,
        run_id: &str,
        scenario: &str,
        spec: &ServiceSpec,
        network: Option<&str>,
    ) -> Result<String, BackendError> {
        self.ensure_image(&spec.image).await?;
        let mut st = self.lock();
        let net = match network {
            Some(n) => Some(
                st.network_id(n)
                    .ok_or_else(|| BackendError::NotFound(n.to_string()))?,
            ),
            None => None,
        };
        let name = container_name(run_id, scenario, &spec.id);
        if st.containers.values().any(|c| c.name == name) {
            return Err(BackendError::Conflict(format!("name {name} is in use")));
        }
        let id = st.new_id();
        let pid = 4000 + st.next as u32;
        st.containers.insert(
            id.clone(),
            Container {
                name,
                service: spec.id.clone(),
                labels: labels::for_service(run_id, scenario, &spec.id),
                running: true,
                paused: false,
                exit_code: None,
                oom_killed: false,
                oom_kills: 0,
                networks: net.into_iter().collect(),
                sigterm_exit: spec.args.is_empty().then_some(0),
                pid,
                stopped: watch::Sender::new(false),
                usage: CgroupUsage {
                    version: 1,
                    pids_current: 1,
                    fds_max: 3,
                    fds_total: 3,
                    ..CgroupUsage::default()
                },
                limits: LiveLimits {
                    memory_mb: Some(spec.memory_mb.unwrap_or(0)),
                    memory_swap_mb: Some(spec.memory_swap_mb.or(spec.memory_mb).unwrap_or(0)),
                    cpu_millicores: Some(spec.cpu_millicores.unwrap_or(0)),
                    max_file_descriptors: Some(spec.max_file_descriptors.unwrap_or(0)),
                },
                disks: spec
                    .tmpfs
                    .iter()
                    .map(|(p, mb)| (p.clone(), (mb * 1024 * 1024, 0)))
                    .collect(),
            },
        );
        st.log(format!("start_service {}", spec.id));
        Ok(id)
    }

    async fn exec(
        &self,
        id: &str,
        command: &str,
        timeout: Option<Duration>,
    ) -> Result<ExecOutcome, BackendError> {
        self.reachable()?;
        let (script, mut stopped) = {
            let mut st = self.lock();
            let queued = st.sequences.get_mut(command).and_then(|q| {
                if q.len() > 1 {
                    q.pop_front()
                } else {
                    q.front().cloned()
                }
            });
            let script = queued
                .or_else(|| st.scripts.get(command).cloned())
                .unwrap_or_else(|| Script::exit(0));
            let c = st.container(id)?;
            if !c.running {
                return Err(BackendError::Conflict(format!(
                    "container {id} is not running"
                )));
            }
            if c.paused {
                return Err(BackendError::Conflict(format!("container {id} is paused")));
            }
            let rx = c.stopped.subscribe();
            let svc = c.service.clone();
            st.log(format!("exec {svc}: {command}"));
            (script, rx)
        };
        let run = async {
            let ends = async {
                if script.effect == Effect::Hang {
                    std::future::pending::<()>().await
                } else {
                    tokio::time::sleep(script.duration).await
                }
            };
            // true: the container stopped under the command.
            tokio::select! {
                _ = ends => false,
                _ = stopped.wait_for(|s| *s) => true,
            }
        };
        let (stdout, stderr, lag) = (script.stdout.clone(), script.stderr.clone(), script.lag);
        // The whole exec, effect and late report included, runs under the
        // caller's timeout, as Docker's stream does.
        let body = async {
            let killed = run.await;
            let out = self.exec_effect(id, &script, killed);
            if !lag.is_zero() {
                tokio::time::sleep(lag).await;
            }
            out
        };
        match timeout {
            Some(t) => match tokio::time::timeout(t, body).await {
                Ok(r) => Ok(r),
                Err(_) => Ok(ExecOutcome {
                    exit_code: None,
                    stdout,
                    stderr,
                    timed_out: true,
                }),
            },
            None => Ok(body.await),
        }
    }

    /// `lo`, and an `eth<n>` per network it is attached to.
    async fn interfaces(&self, id: &str) -> Result<Option<Vec<String>>, BackendError> {
        let st = self.lock();
        let c = st
            .containers
            .get(id)
            .ok_or_else(|| BackendError::NotFound(id.to_string()))?;
        let mut names: Vec<String> = (0..c.networks.len()).map(|n| format!("eth{n}")).collect();
        names.push("lo".into());
        names.sort();
        Ok(Some(names))
    }

    async fn inspect(&self, id: &str) -> Result<ContainerState, BackendError> {
        self.reachable()?;
        let mut st = self.lock();
        Ok(state(st.container(id)?))
    }

    async fn kill(&self, id: &str, signal: &str) -> Result<(), BackendError> {
        self.reachable()?;
        let mut st = self.lock();
        let c = st.container(id)?;
        if !c.running {
            return Err(BackendError::Conflict(format!(
                "container {id} is not running"
            )));
        }
        match signal.trim_start_matches("SIG") {
            "KILL" | "9" => stop(c, SIGKILL_EXIT),
            "TERM" | "15" => {
                if let Some(code) = c.sigterm_exit {
                    stop(c, code)
                }
            }
            // PID 1 has no handler for it: the kernel drops it.
            _ => {}
        }
        let svc = c.service.clone();
        st.log(format!("kill {svc} {signal}"));
        Ok(())
    }

    async fn pause(&self, id: &str) -> Result<(), BackendError> {
        self.reachable()?;
        let mut st = self.lock();
        let c = st.container(id)?;
        if !c.running || c.paused {
            return Err(BackendError::Conflict(format!(
                "container {id} is not running or already paused"
            )));
        }
        c.paused = true;
        let svc = c.service.clone();
        st.log(format!("pause {svc}"));
        Ok(())
    }

    async fn unpause(&self, id: &str) -> Result<(), BackendError> {
        self.reachable()?;
        let mut st = self.lock();
        let c = st.container(id)?;
        if !c.paused {
            return Err(BackendError::Conflict(format!(
                "container {id} is not paused"
            )));
        }
        c.paused = false;
        let svc = c.service.clone();
        st.log(format!("unpause {svc}"));
        Ok(())
    }

    async fn remove(&self, id: &str) -> Result<bool, BackendError> {
        self.reachable()?;
        let mut st = self.lock();
        let Some(mut c) = st.containers.remove(id) else {
            return Ok(false);
        };
        if c.running {
            stop(&mut c, SIGKILL_EXIT);
        }
        st.log(format!("remove {}", c.service));
        Ok(true)
    }

    async fn archive(&self, id: &str, path: &str) -> Result<Vec<u8>, BackendError> {
        self.reachable()?;
        let mut st = self.lock();
        let service = st.container(id)?.service.clone();
        st.log(format!("archive {service} {path}"));
        st.files
            .get(path)
            .cloned()
            .ok_or_else(|| BackendError::NotFound(format!("{path} in {id}")))
    }

    async fn logs(&self, id: &str) -> Result<Vec<u8>, BackendError> {
        self.reachable()?;
        let mut st = self.lock();
        let service = st.container(id)?.service.clone();
        st.log(format!("logs {service}"));
        Ok(format!("{service} started\n").into_bytes())
    }

    async fn process_count(&self, id: &str) -> Result<usize, BackendError> {
        self.reachable()?;
        let st = self.lock();
        Ok(st.containers.get(id).map_or(0, |c| c.running as usize))
    }

    async fn leftovers(&self, label_filters: Vec<String>) -> Result<Leftovers, BackendError> {
        self.reachable()?;
        let mut st = self.lock();
        st.log("leftovers".into());
        Ok(Leftovers {
            containers: st
                .containers
                .iter()
                .filter(|(_, c)| matches(&c.labels, &label_filters))
                .map(|(id, _)| id.clone())
                .collect(),
            networks: st
                .networks
                .values()
                .filter(|n| matches(&n.labels, &label_filters))
                .map(|n| n.id.clone())
                .collect(),
            volumes: Vec::new(),
        })
    }

    async fn oom_kills(&self, id: &str) -> Option<u64> {
        self.reachable().ok()?;
        let st = self.lock();
        st.containers
            .get(id)
            .filter(|c| c.running)
            .map(|c| c.oom_kills)
    }

    async fn cgroup_read(&self, id: &str) -> Result<CgroupUsage, BackendError> {
        self.reachable()?;
        let mut st = self.lock();
        let c = running(st.container(id)?, id)?;
        let nonzero = |v: Option<u64>| v.filter(|n| *n > 0);
        Ok(CgroupUsage {
            memory_limit: nonzero(c.limits.memory_mb).map(|mb| mb * 1024 * 1024),
            cpu_limit_millicores: nonzero(c.limits.cpu_millicores),
            fd_limit: nonzero(c.limits.max_file_descriptors),
            oom_kills: c.oom_kills.max(c.usage.oom_kills),
            ..c.usage.clone()
        })
    }

    async fn set_limits(&self, id: &str, want: &LiveLimits) -> Result<LiveLimits, BackendError> {
        self.reachable()?;
        let mut st = self.lock();
        let service = Fake::service_of(&st, id);
        let c = running(st.container(id)?, id)?;
        let mut prev = LiveLimits::default();
        if let Some(mb) = want.memory_mb {
            prev.memory_mb = c.limits.memory_mb;
            prev.memory_swap_mb = c.limits.memory_swap_mb;
            c.limits.memory_mb = Some(mb);
            c.limits.memory_swap_mb = Some(want.memory_swap_mb.filter(|s| *s >= mb).unwrap_or(mb));
        }
        if let Some(m) = want.cpu_millicores {
            prev.cpu_millicores = c.limits.cpu_millicores;
            c.limits.cpu_millicores = Some(m);
        }
        if let Some(n) = want.max_file_descriptors {
            prev.max_file_descriptors = c.limits.max_file_descriptors;
            c.limits.max_file_descriptors = Some(n);
        }
        st.log(format!("set_limits {service} {want:?}"));
        Ok(prev)
    }

    async fn disk_usage(&self, id: &str, path: &str) -> Result<DiskUsage, BackendError> {
        self.reachable()?;
        let mut st = self.lock();
        let c = running(st.container(id)?, id)?;
        let (total, filled) = *c
            .disks
            .get(path)
            .ok_or_else(|| BackendError::Kernel(format!("statvfs {path}: no such tmpfs")))?;
        Ok(DiskUsage {
            total_bytes: total,
            free_bytes: total - filled,
        })
    }

    async fn fill_disk(&self, id: &str, path: &str, percent: u8) -> Result<u64, BackendError> {
        self.reachable()?;
        let mut st = self.lock();
        let service = Fake::service_of(&st, id);
        let c = running(st.container(id)?, id)?;
        let (total, filled) = c
            .disks
            .get_mut(path)
            .ok_or_else(|| BackendError::Kernel(format!("create {path}: no such tmpfs")))?;
        let want = (*total * u64::from(percent.min(100)) / 100).max(*filled);
        let written = want - *filled;
        *filled = want;
        st.log(format!("fill_disk {service} {path} {percent}"));
        Ok(written)
    }

    async fn unfill_disk(&self, id: &str, path: &str) -> Result<(), BackendError> {
        self.reachable()?;
        let mut st = self.lock();
        let service = Fake::service_of(&st, id);
        let c = running(st.container(id)?, id)?;
        if let Some((_, filled)) = c.disks.get_mut(path) {
            *filled = 0;
        }
        st.log(format!("unfill_disk {service} {path}"));
        Ok(())
    }
}

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

impl Fake {
    /// What an exec's script did once it ended (`killed`: its container
    /// stopped under it), applied to the state.
    fn exec_effect(&self, id: &str, script: &Script, killed: bool) -> ExecOutcome {
        let mut out = ExecOutcome {
            exit_code: Some(script.exit_code),
            stdout: script.stdout.clone(),
            stderr: script.stderr.clone(),
            timed_out: false,
        };
        if self.reachable().is_err() {
            // The stream broke with the daemon: no exit code to read.
            out.exit_code = None;
            return out;
        }
        let mut st = self.lock();
        if killed {
            out.exit_code = st.containers.get(id).and_then(|c| c.exit_code);
            return out;
        }
        match script.effect {
            Effect::Exit | Effect::Hang => {}
            Effect::KillContainer => {
                if let Ok(c) = st.container(id) {
                    stop(c, SIGKILL_EXIT);
                }
                out.exit_code = Some(SIGKILL_EXIT);
                let svc = Fake::service_of(&st, id);
                st.log(format!("killed {svc}"));
            }
            Effect::OomKill => {
                if let Ok(c) = st.container(id) {
                    c.oom_kills += 1;
                }
                out.exit_code = Some(SIGKILL_EXIT);
            }
            Effect::DockerVanishes => {
                self.unreachable.store(true, Ordering::SeqCst);
                out.exit_code = None;
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(id: &str, args: &[&str]) -> ServiceSpec {
        ServiceSpec {
            id: id.into(),
            image: "img".into(),
            args: args.iter().map(|s| s.to_string()).collect(),
            env: Default::default(),
            memory_mb: None,
            memory_swap_mb: None,
            cpu_millicores: None,
            pids: None,
            max_file_descriptors: None,
            tmpfs: Default::default(),
            capabilities: Vec::new(),
            wait_for_span: None,
            depends_on: Vec::new(),
            ..Default::default()
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_kill_ends_a_running_exec_with_137() {
        let fake = Fake::new();
        let id = fake
            .start_service("run", "sc", &spec("app", &[]), None)
            .await
            .unwrap();
        fake.script("sleep", Script::hang());
        let (exec, ()) = tokio::join!(fake.exec(&id, "sleep", None), async {
            tokio::time::sleep(Duration::from_millis(50)).await;
            fake.kill(&id, "SIGKILL").await.unwrap();
        });
        assert_eq!(exec.unwrap().exit_code, Some(137));
        let st = fake.inspect(&id).await.unwrap();
        assert_eq!(
            (st.running, st.exit_code, st.status.as_str(), st.pid),
            (false, Some(137), "exited", None)
        );
        assert!(fake.kill(&id, "SIGKILL").await.is_err(), "not running");
        assert!(fake.exec(&id, "true", None).await.is_err(), "not running");
    }

    #[tokio::test(start_paused = true)]
    async fn an_exec_times_out_and_the_container_lives_on() {
        let fake = Fake::new();
        let id = fake
            .start_service("run", "sc", &spec("app", &[]), None)
            .await
            .unwrap();
        fake.script("slow", Script::exit(0).after(Duration::from_secs(5)));
        let out = fake
            .exec(&id, "slow", Some(Duration::from_secs(1)))
            .await
            .unwrap();
        assert!(out.timed_out);
        assert_eq!(out.exit_code, None);
        assert!(fake.inspect(&id).await.unwrap().running);
    }

    #[tokio::test]
    async fn sigterm_follows_pid_1() {
        let fake = Fake::new();
        let keep = fake
            .start_service("run", "sc", &spec("keep", &[]), None)
            .await
            .unwrap();
        let own = fake
            .start_service("run", "sc", &spec("own", &["sleep", "9"]), None)
            .await
            .unwrap();
        fake.kill(&keep, "SIGTERM").await.unwrap();
        fake.kill(&own, "SIGTERM").await.unwrap();
        fake.kill(&own, "SIGUSR1").await.unwrap();
        assert_eq!(fake.state_of("keep").unwrap().exit_code, Some(0));
        assert!(fake.state_of("own").unwrap().running);
    }

    #[tokio::test]
    async fn pause_unpause_and_their_refusals() {
        let fake = Fake::new();
        let id = fake
            .start_service("run", "sc", &spec("app", &[]), None)
            .await
            .unwrap();
        fake.pause(&id).await.unwrap();
        let st = fake.inspect(&id).await.unwrap();
        assert!(st.is_paused() && st.running);
        assert!(fake.pause(&id).await.is_err());
        assert!(fake.exec(&id, "true", None).await.is_err(), "paused");
        fake.unpause(&id).await.unwrap();
        assert!(fake.unpause(&id).await.is_err());
        assert_eq!(fake.inspect(&id).await.unwrap().status, "running");
    }

    #[tokio::test]
    async fn networks_keep_dockers_rules() {
        let fake = Fake::new();
        let net = fake.create_network("run", "sc").await.unwrap();
        let id = fake
            .start_service("run", "sc", &spec("app", &[]), Some(&net.name))
            .await
            .unwrap();
        assert!(fake.network_attached(&net.name, &id).await.unwrap());
        assert!(
            fake.remove_network(&net.id).await.is_err(),
            "has an endpoint"
        );
        fake.network_disconnect(&net.id, &id).await.unwrap();
        assert!(!fake.network_attached(&net.name, &id).await.unwrap());
        assert!(fake.network_disconnect(&net.id, &id).await.is_err());
        fake.network_connect(&net.id, &id, "app").await.unwrap();
        assert!(fake.network_attached(&net.name, &id).await.unwrap());
        assert!(fake.remove(&id).await.unwrap());
        assert!(!fake.remove(&id).await.unwrap(), "already gone");
        assert!(fake.remove_network(&net.id).await.unwrap());
        assert!(!fake.remove_network(&net.id).await.unwrap());
        assert!(fake.held().is_empty());
    }

    #[tokio::test]
    async fn leftovers_match_every_label_filter() {
        let fake = Fake::new();
        fake.create_network("run-a", "one").await.unwrap();
        fake.start_service("run-a", "one", &spec("app", &[]), None)
            .await
            .unwrap();
        fake.start_service("run-a", "two", &spec("app", &[]), None)
            .await
            .unwrap();
        fake.start_service("run-b", "one", &spec("app", &[]), None)
            .await
            .unwrap();
        let left = fake
            .leftovers(labels::scenario_filter("run-a", "one"))
            .await
            .unwrap();
        assert_eq!((left.containers.len(), left.networks.len()), (1, 1));
        let all = fake.leftovers(vec![labels::RUN.into()]).await.unwrap();
        assert_eq!(all.containers.len(), 3);
    }

    #[tokio::test]
    async fn an_unreachable_daemon_answers_nothing() {
        let fake = Fake::new();
        let id = fake
            .start_service("run", "sc", &spec("app", &[]), None)
            .await
            .unwrap();
        fake.set_unreachable(true);
        assert!(fake.ping().await.unwrap_err().is_unreachable());
        assert!(fake.inspect(&id).await.unwrap_err().is_unreachable());
        assert!(fake.remove(&id).await.unwrap_err().is_unreachable());
        assert_eq!(fake.oom_kills(&id).await, None);
        fake.set_unreachable(false);
        assert_eq!(fake.oom_kills(&id).await, Some(0));
        assert!(fake.ensure_image("img").await.is_ok());
        fake.missing_image("img");
        assert!(matches!(
            fake.ensure_image("img").await,
            Err(BackendError::ImageMissing(_))
        ));
    }
}
