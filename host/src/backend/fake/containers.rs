//! Containers of the fake: lifecycle, scripted execs, logs and archives.

use super::*;

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
