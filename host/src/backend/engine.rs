//! Which container engine a run talks to, Docker or Podman, and where its API
//! answers: `--engine` first, then `CLNRM_ENGINE`, then `DOCKER_HOST` /
//! `CONTAINER_HOST`, then `auto` (Docker's socket, Podman's rootful socket,
//! Podman's rootless one, the first that answers). Both speak the Docker API
//! that bollard speaks; what differs is handled by the backend, which knows
//! the engine it got (read from the daemon's own version, not from the path).

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// What the user asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Choice {
    Docker,
    Podman,
    Auto,
}

impl std::str::FromStr for Choice {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "docker" => Ok(Choice::Docker),
            "podman" => Ok(Choice::Podman),
            "auto" | "" => Ok(Choice::Auto),
            // The value as written (not lowercased), so the user finds it.
            _ => Err(format!(
                "CLNRM_ENGINE={}: unknown engine; valid values: docker, podman, auto \
                 (or unset it; `--engine` overrides it)",
                s.trim()
            )),
        }
    }
}

/// The engine that answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Kind {
    #[default]
    Docker,
    Podman,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Docker => "docker",
            Kind::Podman => "podman",
        }
    }

    /// From the daemon's `/version`: Podman names itself in its components
    /// ("Podman Engine") and its platform.
    pub fn of_version(platform: Option<&str>, components: &[&str]) -> Kind {
        let podman = |s: &str| s.to_ascii_lowercase().contains("podman");
        if platform.is_some_and(podman) || components.iter().any(|c| podman(c)) {
            Kind::Podman
        } else {
            Kind::Docker
        }
    }
}

/// Which engine a run talks to, as the run span and `clnrm doctor` say it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EngineId {
    pub kind: Kind,
    pub version: String,
    /// Where it answered (`unix:///run/podman/podman.sock`, `tcp://…`).
    pub endpoint: String,
    /// Rootless Podman (runs as the user, no cgroup limits on v1, no host network rules).
    pub rootless: bool,
    /// The hard limits (open files, processes) the engine can grant a container.
    pub max_ulimits: (u64, u64),
    /// The engine's containers are on cgroup v1 (rootless there: no limits, no freezer).
    pub cgroup_v1: bool,
}

/// One fault a suite asks for, as the rootless check sees it.
pub struct FaultUse<'a> {
    pub suite: &'a str,
    pub scenario: &'a str,
    pub fault: &'a str,
    /// The composing fault it is part of (`chaos_monkey`), if any.
    pub within: Option<&'a str>,
    /// The capabilities of the plugin that handles it (`net`, `cgroup`, ...).
    pub capabilities: &'a [String],
}

/// Faults that freeze a container's processes (the engine's pause: the cgroup
/// freezer): chaos-container's `pause_container`, chaos-timeout's `hang`. Their
/// plugins declare only the `container` capability, so they are known by name.
const FREEZER_FAULTS: [&str; 2] = ["pause_container", "hang"];

/// What rootless Podman cannot do for these suites, one line each, said
/// before anything starts (empty: all of it can run). Network faults enter
/// the container's network namespace from the host, which needs root;
/// on cgroup v1 a rootless engine has no cgroup limits and no freezer.
pub fn rootless_refusals(
    e: &EngineId,
    faults: &[FaultUse],
    limited_services: &[(&str, &str)],
) -> Vec<String> {
    if !e.rootless {
        return Vec::new();
    }
    let engine = format!("rootless {} {}", e.kind.name(), e.version);
    let mut out = Vec::new();
    for f in faults {
        let why = if f.capabilities.iter().any(|c| c == "net") {
            Some("network faults enter the container's network namespace from the host, which needs root (run clnrm and the engine as root)")
        } else if e.cgroup_v1 && f.capabilities.iter().any(|c| c == "cgroup") {
            Some("on cgroup v1 a rootless engine has no cgroup limits to press on or change")
        } else if e.cgroup_v1 && FREEZER_FAULTS.contains(&f.fault) {
            Some("on cgroup v1 a rootless engine has no freezer to pause with")
        } else {
            None
        };
        if let Some(why) = why {
            let within = f.within.map(|c| format!(" (in `{c}`)")).unwrap_or_default();
            out.push(format!(
                "{}: scenario `{}`: `{}`{within} cannot run on {engine}: {why}",
                f.suite, f.scenario, f.fault
            ));
        }
    }
    if e.cgroup_v1 {
        for (suite, service) in limited_services {
            out.push(format!(
                "{suite}: service `{service}` sets memory, CPU or PID limits, which {engine} cannot apply on cgroup v1 (use cgroup v2 with systemd delegation, or a rootful engine)"
            ));
        }
    }
    out
}

/// Set once by the command line's `--engine`.
static FLAG: OnceLock<Choice> = OnceLock::new();

/// The command line's `--engine`: it wins over every environment variable.
pub fn set_flag(choice: Choice) {
    let _ = FLAG.set(choice);
}

/// One place to try, and why it is tried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// `unix:///path` or `tcp://host:port`.
    pub endpoint: String,
    /// Which engine it must turn out to be (None: whatever answers).
    pub expect: Option<Kind>,
    pub why: &'static str,
}

/// The environment selection reads (a seam for tests).
pub struct Env<'a> {
    pub flag: Option<Choice>,
    pub var: &'a dyn Fn(&str) -> Option<String>,
    pub exists: &'a dyn Fn(&Path) -> bool,
}

const DOCKER_SOCKET: &str = "/var/run/docker.sock";
const PODMAN_ROOTFUL: &str = "/run/podman/podman.sock";

fn rootless_socket(env: &Env) -> Option<PathBuf> {
    let dir = (env.var)("XDG_RUNTIME_DIR").filter(|d| !d.is_empty())?;
    Some(Path::new(&dir).join("podman/podman.sock"))
}

fn unix(p: &Path) -> String {
    format!("unix://{}", p.display())
}

/// Where to look, in order. Err: `CLNRM_ENGINE` says something unknown.
pub fn candidates(env: &Env) -> Result<Vec<Candidate>, String> {
    let var = |k: &str| (env.var)(k).filter(|v| !v.trim().is_empty());
    let choice = match env.flag {
        Some(c) => c,
        None => match var("CLNRM_ENGINE") {
            Some(v) => v.parse()?,
            None => Choice::Auto,
        },
    };
    let podman_sockets = || {
        let mut v = vec![Candidate {
            endpoint: unix(Path::new(PODMAN_ROOTFUL)),
            expect: Some(Kind::Podman),
            why: "Podman's rootful socket",
        }];
        if let Some(p) = rootless_socket(env) {
            v.push(Candidate {
                endpoint: unix(&p),
                expect: Some(Kind::Podman),
                why: "Podman's rootless socket",
            });
        }
        v
    };
    Ok(match choice {
        Choice::Docker => vec![Candidate {
            endpoint: var("DOCKER_HOST").unwrap_or_else(|| unix(Path::new(DOCKER_SOCKET))),
            expect: Some(Kind::Docker),
            why: "--engine docker",
        }],
        Choice::Podman => match var("CONTAINER_HOST") {
            Some(h) => vec![Candidate {
                endpoint: h,
                expect: Some(Kind::Podman),
                why: "CONTAINER_HOST",
            }],
            None => {
                // DOCKER_HOST may point at Podman too: tried first, it must be Podman.
                let mut v: Vec<Candidate> = var("DOCKER_HOST")
                    .map(|h| Candidate {
                        endpoint: h,
                        expect: Some(Kind::Podman),
                        why: "DOCKER_HOST",
                    })
                    .into_iter()
                    .collect();
                v.extend(podman_sockets());
                v
            }
        },
        Choice::Auto => {
            if let Some(h) = var("DOCKER_HOST") {
                vec![Candidate {
                    endpoint: h,
                    expect: None,
                    why: "DOCKER_HOST",
                }]
            } else if let Some(h) = var("CONTAINER_HOST") {
                vec![Candidate {
                    endpoint: h,
                    expect: None,
                    why: "CONTAINER_HOST",
                }]
            } else {
                let mut v = vec![Candidate {
                    endpoint: unix(Path::new(DOCKER_SOCKET)),
                    expect: None,
                    why: "Docker's socket",
                }];
                v.extend(podman_sockets().into_iter().map(|mut c| {
                    c.expect = None;
                    c
                }));
                // Only sockets that exist are worth a connection attempt.
                v.retain(|c| {
                    c.endpoint
                        .strip_prefix("unix://")
                        .is_none_or(|p| (env.exists)(Path::new(p)))
                });
                if v.is_empty() {
                    // Nothing exists: try Docker's anyway, for its error.
                    v.push(Candidate {
                        endpoint: unix(Path::new(DOCKER_SOCKET)),
                        expect: None,
                        why: "Docker's socket",
                    });
                }
                v
            }
        }
    })
}

/// Every place an engine may answer (`gc --all-engines`): DOCKER_HOST,
/// CONTAINER_HOST, then the sockets that exist, each once.
pub fn every_candidate(env: &Env) -> Vec<String> {
    let mut v: Vec<String> = ["DOCKER_HOST", "CONTAINER_HOST"]
        .iter()
        .filter_map(|k| (env.var)(k).filter(|h| !h.trim().is_empty()))
        .collect();
    let mut sockets = vec![PathBuf::from(DOCKER_SOCKET), PathBuf::from(PODMAN_ROOTFUL)];
    sockets.extend(rootless_socket(env));
    v.extend(sockets.iter().filter(|p| (env.exists)(p)).map(|p| unix(p)));
    let mut seen = std::collections::HashSet::new();
    v.retain(|e| seen.insert(e.clone()));
    v
}

/// [`every_candidate`] of the process environment.
pub fn process_every_candidate() -> Vec<String> {
    every_candidate(&Env {
        flag: None,
        var: &|k| std::env::var(k).ok(),
        exists: &|p| p.exists(),
    })
}

/// CLNRM_ENGINE as the process has it: Err(the message) when it names no
/// engine clnrm knows and `--engine` does not override it.
pub fn check_process_choice() -> Result<(), String> {
    if FLAG.get().is_some() {
        return Ok(());
    }
    match std::env::var("CLNRM_ENGINE") {
        Ok(v) => v.parse::<Choice>().map(drop),
        Err(_) => Ok(()),
    }
}

/// The process environment.
pub fn process_candidates() -> Result<Vec<Candidate>, String> {
    candidates(&Env {
        flag: FLAG.get().copied(),
        var: &|k| std::env::var(k).ok(),
        exists: &|p| p.exists(),
    })
}

/// What to say when nothing answered: how to start an engine.
pub fn no_engine_hint() -> String {
    let podman = std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|d| d.join("podman").is_file()));
    if podman {
        "start the Docker daemon, or Podman's API service: the `podman` binary is installed but \
         its service is not running (`mkdir -p /run/podman && podman system service --time=0 \
         unix:///run/podman/podman.sock &` rootful, `systemctl --user start podman.socket` \
         rootless); or point DOCKER_HOST / CONTAINER_HOST at its socket, or pass `--engine`"
            .into()
    } else {
        "start the Docker daemon (or Podman's API service: `podman system service --time=0 \
         unix:///run/podman/podman.sock`), or point DOCKER_HOST / CONTAINER_HOST at its socket"
            .into()
    }
}

/// The process serving a local engine socket: its pid and uid (SO_PEERCRED),
/// from one connection; None when `endpoint` is no `unix://` socket or the
/// peer is unknown. A uid other than 0 is a rootless engine.
pub fn service_peer(endpoint: &str) -> Option<(i32, u32)> {
    let path = endpoint.strip_prefix("unix://")?;
    let stream = std::os::unix::net::UnixStream::connect(path).ok()?;
    peer(&stream)
}

/// The hard limits (open files, processes) of the process `pid` serving the
/// engine's socket: runc, started by that service, cannot give a container
/// more. Read from `/proc/<pid>/limits`; None when not readable.
pub fn service_limits(pid: i32) -> Option<(u64, u64)> {
    parse_limits(&std::fs::read_to_string(format!("/proc/{pid}/limits")).ok()?)
}

/// This machine's cgroups are v1 (no unified `cgroup.controllers` at the root;
/// a hybrid layout counts as v1: controllers live in the v1 folders).
pub fn host_cgroup_v1() -> bool {
    !std::path::Path::new("/sys/fs/cgroup/cgroup.controllers").exists()
}

/// The peer's pid and uid (SO_PEERCRED).
fn peer(stream: &std::os::unix::net::UnixStream) -> Option<(i32, u32)> {
    use std::os::fd::AsRawFd;
    let mut cred = libc::ucred {
        pid: 0,
        uid: 0,
        gid: 0,
    };
    let mut len = std::mem::size_of::<libc::ucred>() as libc::socklen_t;
    // SAFETY: getsockopt writes at most `len` bytes into the struct we own.
    let rc = unsafe {
        libc::getsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_PEERCRED,
            &mut cred as *mut libc::ucred as *mut libc::c_void,
            &mut len,
        )
    };
    (rc == 0 && cred.pid > 0).then_some((cred.pid, cred.uid))
}

/// Hard `Max open files` and `Max processes` of a `/proc/<pid>/limits`.
pub fn parse_limits(text: &str) -> Option<(u64, u64)> {
    let hard = |name: &str| {
        let rest = text.lines().find_map(|l| l.strip_prefix(name))?;
        match rest.split_whitespace().nth(1)? {
            "unlimited" => Some(u64::MAX),
            n => n.parse().ok(),
        }
    };
    Some((hard("Max open files")?, hard("Max processes")?))
}

/// The hard limits of this process (when the service's cannot be read).
pub fn own_limits() -> (u64, u64) {
    let hard = |resource| {
        let mut r = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit writes into the struct we own.
        if unsafe { libc::getrlimit(resource, &mut r) } == 0 {
            r.rlim_max
        } else {
            u64::MAX
        }
    };
    (hard(libc::RLIMIT_NOFILE), hard(libc::RLIMIT_NPROC))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn pick(flag: Option<Choice>, vars: &[(&str, &str)], existing: &[&str]) -> Vec<String> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let existing: Vec<PathBuf> = existing.iter().map(PathBuf::from).collect();
        candidates(&Env {
            flag,
            var: &|k| vars.get(k).cloned(),
            exists: &|p| existing.iter().any(|e| e == p),
        })
        .unwrap()
        .into_iter()
        .map(|c| c.endpoint)
        .collect()
    }

    #[test]
    fn the_flag_wins_over_every_variable() {
        let vars = [
            ("CLNRM_ENGINE", "docker"),
            ("DOCKER_HOST", "unix:///d.sock"),
            ("CONTAINER_HOST", "unix:///c.sock"),
        ];
        assert_eq!(pick(Some(Choice::Podman), &vars, &[]), ["unix:///c.sock"]);
        assert_eq!(pick(None, &vars, &[]), ["unix:///d.sock"]);
        assert_eq!(
            pick(Some(Choice::Docker), &[], &[]),
            ["unix:///var/run/docker.sock"]
        );
    }

    #[test]
    fn clnrm_engine_podman_tries_the_rootful_then_the_rootless_socket() {
        let vars = [
            ("CLNRM_ENGINE", "Podman"),
            ("XDG_RUNTIME_DIR", "/run/user/1000"),
        ];
        assert_eq!(
            pick(None, &vars, &[]),
            [
                "unix:///run/podman/podman.sock",
                "unix:///run/user/1000/podman/podman.sock"
            ]
        );
    }

    #[test]
    fn docker_host_then_container_host_then_auto() {
        assert_eq!(
            pick(None, &[("CONTAINER_HOST", "tcp://h:1")], &[]),
            ["tcp://h:1"]
        );
        let vars = [("XDG_RUNTIME_DIR", "/run/user/7")];
        // Auto: only the sockets that exist, Docker's first.
        assert_eq!(
            pick(
                None,
                &vars,
                &["/run/podman/podman.sock", "/run/user/7/podman/podman.sock"]
            ),
            [
                "unix:///run/podman/podman.sock",
                "unix:///run/user/7/podman/podman.sock"
            ]
        );
        assert_eq!(
            pick(
                None,
                &vars,
                &["/var/run/docker.sock", "/run/podman/podman.sock"]
            ),
            [
                "unix:///var/run/docker.sock",
                "unix:///run/podman/podman.sock"
            ]
        );
        // Nothing exists: Docker's socket, for its error message.
        assert_eq!(pick(None, &[], &[]), ["unix:///var/run/docker.sock"]);
    }

    #[test]
    fn every_engine_is_listed_once_for_gc() {
        let vars: HashMap<&str, &str> = [
            ("DOCKER_HOST", "unix:///run/podman/podman.sock"),
            ("XDG_RUNTIME_DIR", "/run/user/7"),
        ]
        .into();
        let got = every_candidate(&Env {
            flag: None,
            var: &|k| vars.get(k).map(|v| v.to_string()),
            exists: &|p| p != Path::new("/run/user/7/podman/podman.sock"),
        });
        assert_eq!(
            got,
            [
                "unix:///run/podman/podman.sock",
                "unix:///var/run/docker.sock"
            ]
        );
    }

    #[test]
    fn rootless_refuses_what_it_cannot_do_before_anything_starts() {
        let caps = |c: &[&str]| c.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let (net, cg, ctr) = (
            caps(&["container", "net"]),
            caps(&["container", "cgroup"]),
            caps(&["container"]),
        );
        let faults = [
            FaultUse {
                suite: "s",
                scenario: "a",
                fault: "packet_loss",
                within: None,
                capabilities: &net,
            },
            FaultUse {
                suite: "s",
                scenario: "b",
                fault: "memory_pressure",
                within: None,
                capabilities: &cg,
            },
            FaultUse {
                suite: "s",
                scenario: "c",
                fault: "pause_container",
                within: None,
                capabilities: &ctr,
            },
            FaultUse {
                suite: "s",
                scenario: "d",
                fault: "kill_container",
                within: None,
                capabilities: &ctr,
            },
            // chaos-timeout's hang freezes too (measured rootless on cgroup v1: "can not
            // pause containers on rootless containers with cgroup V1").
            FaultUse {
                suite: "s",
                scenario: "e",
                fault: "hang",
                within: None,
                capabilities: &ctr,
            },
            // A pause a chaos_monkey composes is refused as the pause it is.
            FaultUse {
                suite: "s",
                scenario: "f",
                fault: "pause_container",
                within: Some("chaos_monkey"),
                capabilities: &ctr,
            },
        ];
        let mut e = EngineId {
            kind: Kind::Podman,
            version: "4.3.1".into(),
            rootless: true,
            cgroup_v1: true,
            ..Default::default()
        };
        let got = rootless_refusals(&e, &faults, &[("s", "hog")]);
        assert_eq!(got.len(), 6, "{got:?}");
        assert!(
            got[0].contains("`packet_loss` cannot run on rootless podman 4.3.1")
                && got[0].contains("needs root")
        );
        assert!(got[1].contains("memory_pressure") && got[2].contains("freezer"));
        assert!(got[3].contains("`hang` cannot run") && got[3].contains("freezer"));
        assert!(got[4].contains("`pause_container` (in `chaos_monkey`) cannot run"));
        assert!(got[5].contains("service `hog`"));
        // cgroup v2: limits and the freezer work; the network still needs root.
        e.cgroup_v1 = false;
        let got = rootless_refusals(&e, &faults, &[("s", "hog")]);
        assert_eq!(got.len(), 1, "{got:?}");
        // Rootful: nothing refused.
        e.rootless = false;
        assert!(rootless_refusals(&e, &faults, &[("s", "hog")]).is_empty());
    }

    #[test]
    fn an_unknown_engine_name_is_refused() {
        let err = candidates(&Env {
            flag: None,
            var: &|k| (k == "CLNRM_ENGINE").then(|| "containerd".to_string()),
            exists: &|_| false,
        })
        .unwrap_err();
        assert!(
            err.starts_with(
                "CLNRM_ENGINE=containerd: unknown engine; valid values: docker, podman, auto"
            ),
            "{err}"
        );
    }

    #[test]
    fn the_kind_comes_from_the_version_answer() {
        assert_eq!(
            Kind::of_version(Some("linux/amd64/debian-12"), &["Podman Engine"]),
            Kind::Podman
        );
        assert_eq!(
            Kind::of_version(Some("Docker Engine - Community"), &["Engine", "containerd"]),
            Kind::Docker
        );
    }

    #[test]
    fn a_services_hard_limits_are_read_from_proc() {
        let limits =
            "Limit                     Soft Limit           Hard Limit           Units     \n\
Max cpu time              unlimited            unlimited            seconds   \n\
Max processes             32768                32768                processes \n\
Max open files            1024                 20000                files     \n";
        assert_eq!(parse_limits(limits), Some((20000, 32768)));
        assert_eq!(
            parse_limits("Max open files unlimited unlimited files\nMax processes 5 7 processes"),
            Some((u64::MAX, 7))
        );
        assert_eq!(parse_limits("nothing"), None);
    }
}
