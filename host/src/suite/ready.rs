//! A service's `ready` probe, `ready_timeout_ms` and `healthcheck`: when a
//! service counts as started, so that what depends on it and the scenario's
//! steps wait for it.

use super::diag::{Ctx, SuiteError};
use serde::de::{self, Deserialize, Deserializer, MapAccess, Visitor};
use std::fmt;
use std::time::Duration;
use toml::Spanned;

/// The kinds `ready` may name, in the order the docs list them.
pub const READY_KINDS: [&str; 5] = ["tcp", "http", "log", "exec", "healthcheck"];

/// `ready_timeout_ms` when the service gives none.
pub const DEFAULT_READY_TIMEOUT: Duration = Duration::from_secs(30);

/// How the engine learns that a service is ready.
#[derive(Debug, Clone, PartialEq)]
pub enum Probe {
    /// A TCP connect to 127.0.0.1:port inside the container's network namespace.
    Tcp(u16),
    /// An HTTP GET inside the container's network namespace; `status`: the
    /// one status wanted (None: any 2xx).
    Http {
        url: String,
        port: u16,
        path: String,
        status: Option<u16>,
    },
    /// A regex over the container's output (stdout and stderr).
    Log(String),
    /// A command in the container, exit 0.
    Exec(ProbeCommand),
    /// The service's `healthcheck`, or the image's own `HEALTHCHECK`.
    Healthcheck(Option<Healthcheck>),
}

impl Probe {
    /// The `ready.probe` attribute.
    pub fn kind(&self) -> &'static str {
        match self {
            Probe::Tcp(_) => "tcp",
            Probe::Http { .. } => "http",
            Probe::Log(_) => "log",
            Probe::Exec(_) => "exec",
            Probe::Healthcheck(_) => "healthcheck",
        }
    }
}

/// A service's readiness: the probe and how long it may take.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadySpec {
    pub probe: Probe,
    pub timeout: Duration,
}

/// What an exec probe or a health check runs: a line for `sh -c`, or (the
/// array and Compose's `CMD` forms) an argv run as it is, so that an image
/// without a shell can be probed too.
#[derive(Debug, Clone, PartialEq)]
pub struct ProbeCommand {
    /// As messages show it (an argv quoted for `sh -c`).
    pub line: String,
    /// Run without a shell when set.
    pub argv: Option<Vec<String>>,
}

impl ProbeCommand {
    pub fn shell(line: impl Into<String>) -> Self {
        ProbeCommand {
            line: line.into(),
            argv: None,
        }
    }

    pub fn argv(argv: Vec<String>) -> Self {
        ProbeCommand {
            line: shell_join(&argv),
            argv: Some(argv),
        }
    }
}

/// Compose's `healthcheck`, run by clnrm itself (no engine timer).
#[derive(Debug, Clone, PartialEq)]
pub struct Healthcheck {
    /// `CMD-SHELL` runs through `sh -c`; `CMD` runs its argv as it is.
    pub command: ProbeCommand,
    pub interval: Duration,
    pub timeout: Duration,
    /// Failures in a row, after the start period, that make it unhealthy.
    pub retries: u32,
    /// Failures during this time do not count.
    pub start_period: Duration,
}

impl Healthcheck {
    /// Defaults where neither the service nor the image says (Docker's 30 s
    /// interval would make readiness needlessly slow).
    pub const INTERVAL: Duration = Duration::from_millis(500);
    pub const TIMEOUT: Duration = Duration::from_secs(5);
    pub const RETRIES: u32 = 3;

    /// From Docker's `Test` form: `["CMD-SHELL", "cmd"]`, `["CMD", argv...]`;
    /// None for `["NONE"]` or an empty test.
    pub fn command_of(test: &[String]) -> Option<ProbeCommand> {
        match test.split_first()? {
            (k, rest) if k == "CMD-SHELL" => Some(ProbeCommand::shell(rest.join(" "))),
            (k, rest) if k == "CMD" && !rest.is_empty() => Some(ProbeCommand::argv(rest.to_vec())),
            (k, _) if k == "NONE" => None,
            (k, _) if k == "CMD" => None,
            // Compose also accepts a bare command list.
            _ => Some(ProbeCommand::argv(test.to_vec())),
        }
    }
}

/// argv as one `sh -c` line, each word single-quoted.
pub fn shell_join(argv: &[String]) -> String {
    argv.iter()
        .map(|a| format!("'{}'", a.replace('\'', r"'\''")))
        .collect::<Vec<_>>()
        .join(" ")
}

/// `ready = "healthcheck"` or `ready = { tcp = 5432 }` / `{ http = "...",
/// status = 200 }` / `{ log = "regex" }` / `{ exec = "cmd" }`.
#[derive(Debug, Default)]
pub struct RawReady {
    healthcheck: bool,
    tcp: Option<Spanned<i64>>,
    http: Option<Spanned<String>>,
    status: Option<Spanned<i64>>,
    log: Option<Spanned<String>>,
    exec: Option<Spanned<ExecProbe>>,
    /// A key that names no probe, reported at its own position by `check`.
    unknown: Option<Spanned<String>>,
}

impl<'de> Deserialize<'de> for RawReady {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawReady;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("`ready` to be \"healthcheck\" or a table such as { tcp = 8080 }, { http = \"http://localhost:8080/\" }, { log = \"listening\" }, { exec = \"cmd\" }")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawReady, E> {
                if v == "healthcheck" {
                    return Ok(RawReady {
                        healthcheck: true,
                        ..Default::default()
                    });
                }
                Err(E::custom(unknown_kind(v)))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawReady, A::Error> {
                let mut r = RawReady::default();
                while let Some(key) = map.next_key::<Spanned<String>>()? {
                    match key.get_ref().as_str() {
                        "tcp" => r.tcp = Some(map.next_value()?),
                        "http" => r.http = Some(map.next_value()?),
                        "status" => r.status = Some(map.next_value()?),
                        "log" => r.log = Some(map.next_value()?),
                        "exec" => r.exec = Some(map.next_value()?),
                        _ => {
                            map.next_value::<de::IgnoredAny>()?;
                            r.unknown.get_or_insert(key);
                        }
                    }
                }
                Ok(r)
            }
        }
        d.deserialize_any(V)
    }
}

/// `exec = "cmd"` (run with `sh -c`) or `exec = ["prog", "arg"]` (run as it
/// is, no shell, as Compose's `CMD` form of a health check).
#[derive(Debug)]
pub struct ExecProbe(ProbeCommand);

impl<'de> Deserialize<'de> for ExecProbe {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ExecProbe;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(
                    "`exec` to be a command string or an array of strings (program and arguments)",
                )
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ExecProbe, E> {
                Ok(ExecProbe(ProbeCommand::shell(v)))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<ExecProbe, A::Error> {
                let mut argv = Vec::new();
                while let Some(w) = seq.next_element::<String>()? {
                    argv.push(w);
                }
                Ok(ExecProbe(if argv.is_empty() {
                    ProbeCommand::shell("")
                } else {
                    ProbeCommand::argv(argv)
                }))
            }
        }
        d.deserialize_any(V)
    }
}

fn unknown_kind(v: &str) -> String {
    let all: Vec<String> = READY_KINDS.iter().map(|k| format!("`{k}`")).collect();
    format!(
        "unknown ready kind `{v}`, expected one of {}",
        all.join(", ")
    )
}

/// `healthcheck = { test = [...], interval_ms, timeout_ms, retries, start_period_ms }`.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHealthcheck {
    pub test: Spanned<Vec<String>>,
    pub interval_ms: Option<Spanned<u64>>,
    pub timeout_ms: Option<Spanned<u64>>,
    pub retries: Option<u32>,
    pub start_period_ms: Option<u64>,
}

/// Turn the raw keys into a [`ReadySpec`]; `at`: the `ready` value's span.
pub fn check(
    cx: &Ctx,
    id: &str,
    ready: Option<&Spanned<RawReady>>,
    timeout_ms: Option<&Spanned<u64>>,
    healthcheck: Option<&RawHealthcheck>,
) -> Result<Option<ReadySpec>, SuiteError> {
    let health = healthcheck.map(|h| check_healthcheck(cx, h)).transpose()?;
    let Some(ready) = ready else {
        if let Some(t) = timeout_ms {
            return Err(cx.err(
                t.span(),
                format!("service `{id}`: `ready_timeout_ms` without `ready`"),
                Some("add a probe, e.g. ready = { tcp = 8080 }".into()),
            ));
        }
        return Ok(None);
    };
    let timeout = match timeout_ms {
        Some(t) if *t.get_ref() == 0 => {
            return Err(cx.err(
                t.span(),
                "`ready_timeout_ms` must be at least 1",
                Some(format!("default: {} ms", DEFAULT_READY_TIMEOUT.as_millis())),
            ))
        }
        Some(t) => Duration::from_millis(*t.get_ref()),
        None => DEFAULT_READY_TIMEOUT,
    };
    let r = ready.get_ref();
    if let Some(k) = &r.unknown {
        let message = unknown_kind(k.get_ref());
        let help = super::diag::hint_for_serde_message(&message);
        return Err(cx.err(k.span(), message, help));
    }
    let given: Vec<&str> = [
        ("tcp", r.tcp.is_some()),
        ("http", r.http.is_some()),
        ("log", r.log.is_some()),
        ("exec", r.exec.is_some()),
        ("healthcheck", r.healthcheck),
    ]
    .into_iter()
    .filter_map(|(k, on)| on.then_some(k))
    .collect();
    if given.len() != 1 {
        return Err(cx.err(
            ready.span(),
            if given.is_empty() {
                format!("service `{id}`: `ready` names no probe")
            } else {
                format!("service `{id}`: `ready` names {} probes ({}); give one", given.len(), given.join(", "))
            },
            Some("one of: ready = { tcp = 8080 }, { http = \"http://localhost:8080/healthz\", status = 200 }, { log = \"listening on .*\" }, { exec = \"pg_isready\" }, or \"healthcheck\"".into()),
        ));
    }
    if let (Some(s), None) = (&r.status, &r.http) {
        return Err(cx.err(
            s.span(),
            "`status` belongs to an http probe",
            Some("ready = { http = \"http://localhost:8080/\", status = 200 }".into()),
        ));
    }
    let probe = if let Some(p) = &r.tcp {
        Probe::Tcp(port(cx, p)?)
    } else if let Some(u) = &r.http {
        let (port, path) = parse_url(u.get_ref())
            .map_err(|why| cx.err(u.span(), format!("`http` probe: {why}"), Some("a URL as seen from inside the container: http://localhost:<port>/<path> (or http://127.0.0.1:...); https is not probed".into())))?;
        let status = match &r.status {
            Some(s) if !(100..=599).contains(s.get_ref()) => {
                return Err(cx.err(
                    s.span(),
                    format!("`status` {} is not an HTTP status", s.get_ref()),
                    Some("100..599, e.g. 200".into()),
                ))
            }
            Some(s) => Some(*s.get_ref() as u16),
            None => None,
        };
        Probe::Http {
            url: u.get_ref().clone(),
            port,
            path,
            status,
        }
    } else if let Some(l) = &r.log {
        if let Err(e) = regex::Regex::new(l.get_ref()) {
            return Err(cx.err(
                l.span(),
                format!("`log` probe: invalid regex: {e}"),
                Some("a regex over the container's output, e.g. \"listening on .*\"".into()),
            ));
        }
        Probe::Log(l.get_ref().clone())
    } else if let Some(e) = &r.exec {
        if e.get_ref().0.line.trim().is_empty() {
            return Err(cx.err(
                e.span(),
                "`exec` probe is empty",
                Some("a command run with `sh -c` in the container (or an argv array, run without a shell), ready when it exits 0".into()),
            ));
        }
        Probe::Exec(e.get_ref().0.clone())
    } else {
        Probe::Healthcheck(health)
    };
    Ok(Some(ReadySpec { probe, timeout }))
}

fn port(cx: &Ctx, p: &Spanned<i64>) -> Result<u16, SuiteError> {
    u16::try_from(*p.get_ref())
        .ok()
        .filter(|p| *p > 0)
        .ok_or_else(|| {
            cx.err(
                p.span(),
                format!("`tcp` port {} is out of range", p.get_ref()),
                Some("a port the service listens on inside its container, 1..65535".into()),
            )
        })
}

/// `http://host[:port][/path]` with host localhost or 127.0.0.1: (port, path).
fn parse_url(url: &str) -> Result<(u16, String), String> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| format!("`{url}` is not an http:// URL"))?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], rest[i..].to_string()),
        None => (rest, "/".to_string()),
    };
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) => (
            h,
            p.parse::<u16>()
                .ok()
                .filter(|p| *p > 0)
                .ok_or_else(|| format!("port `{p}` is not a port"))?,
        ),
        None => (authority, 80),
    };
    if host != "localhost" && host != "127.0.0.1" {
        return Err(format!(
            "host `{host}`: the probe runs inside the service's own network namespace"
        ));
    }
    Ok((port, path))
}

fn check_healthcheck(cx: &Ctx, h: &RawHealthcheck) -> Result<Healthcheck, SuiteError> {
    let command = Healthcheck::command_of(h.test.get_ref()).ok_or_else(|| {
        cx.err(
            h.test.span(),
            "`healthcheck.test` runs nothing",
            Some(
                "test = [\"CMD-SHELL\", \"pg_isready\"] or [\"CMD\", \"/bin/check\", \"-q\"]"
                    .into(),
            ),
        )
    })?;
    let ms = |v: &Option<Spanned<u64>>, default: Duration| -> Result<Duration, SuiteError> {
        match v {
            Some(v) if *v.get_ref() == 0 => Err(cx.err(
                v.span(),
                "must be at least 1 ms",
                Some(format!("default: {} ms", default.as_millis())),
            )),
            Some(v) => Ok(Duration::from_millis(*v.get_ref())),
            None => Ok(default),
        }
    };
    Ok(Healthcheck {
        command,
        interval: ms(&h.interval_ms, Healthcheck::INTERVAL)?,
        timeout: ms(&h.timeout_ms, Healthcheck::TIMEOUT)?,
        retries: h.retries.unwrap_or(Healthcheck::RETRIES).max(1),
        start_period: Duration::from_millis(h.start_period_ms.unwrap_or(0)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::suite::testing::{fails, load_text, OK};

    fn with(keys: &str) -> String {
        OK.replace(
            "image = \"clnrm-base:latest\"",
            &format!("image = \"clnrm-base:latest\"\n{keys}"),
        )
    }

    fn probe(keys: &str) -> ReadySpec {
        load_text(&with(keys)).unwrap().services["app"]
            .ready
            .clone()
            .unwrap()
    }

    #[test]
    fn every_kind_loads() {
        assert_eq!(probe("ready = { tcp = 5432 }").probe, Probe::Tcp(5432));
        let r = probe("ready = { tcp = 5432 }\nready_timeout_ms = 1500");
        assert_eq!(r.timeout, Duration::from_millis(1500));
        assert_eq!(probe("ready = { tcp = 1 }").timeout, DEFAULT_READY_TIMEOUT);
        assert_eq!(
            probe("ready = { http = \"http://localhost:8080/healthz\", status = 204 }").probe,
            Probe::Http {
                url: "http://localhost:8080/healthz".into(),
                port: 8080,
                path: "/healthz".into(),
                status: Some(204)
            }
        );
        assert!(matches!(
            probe("ready = { http = \"http://127.0.0.1\" }").probe,
            Probe::Http {
                port: 80,
                status: None,
                ..
            }
        ));
        assert_eq!(
            probe("ready = { log = \"listening on .*\" }").probe,
            Probe::Log("listening on .*".into())
        );
        assert_eq!(
            probe("ready = { exec = \"pg_isready\" }").probe,
            Probe::Exec(ProbeCommand::shell("pg_isready"))
        );
        assert_eq!(
            probe("ready = { exec = [\"pg_isready\", \"-h\", \"it's\"] }").probe,
            Probe::Exec(ProbeCommand {
                line: r"'pg_isready' '-h' 'it'\''s'".into(),
                argv: Some(vec!["pg_isready".into(), "-h".into(), "it's".into()]),
            })
        );
        assert_eq!(
            probe("ready = \"healthcheck\"").probe,
            Probe::Healthcheck(None)
        );
        let h = probe("ready = \"healthcheck\"\nhealthcheck = { test = [\"CMD\", \"nc\", \"-z\", \"localhost\", \"80\"], interval_ms = 100, retries = 5, start_period_ms = 1000 }");
        assert_eq!(
            h.probe,
            Probe::Healthcheck(Some(Healthcheck {
                command: ProbeCommand::argv(vec![
                    "nc".into(),
                    "-z".into(),
                    "localhost".into(),
                    "80".into()
                ]),
                interval: Duration::from_millis(100),
                timeout: Healthcheck::TIMEOUT,
                retries: 5,
                start_period: Duration::from_secs(1),
            }))
        );
        assert!(load_text(OK).unwrap().services["app"].ready.is_none());
    }

    #[test]
    fn bad_ready_says_where_and_what() {
        let (l, c, m, h) = fails(&with("ready = \"tcp\""));
        assert_eq!((l, c), (6, 9), "{m}");
        assert!(m.contains("unknown ready kind `tcp`"), "{m}");
        assert!(
            h.contains("did you mean \"healthcheck\"") || h.contains("valid values"),
            "{h}"
        );
        let (l, c, m, h) = fails(&with("ready = { grcp = 5 }"));
        assert_eq!((l, c), (6, 11), "{m}");
        assert!(m.contains("unknown ready kind `grcp`"), "{m}");
        assert!(!h.is_empty(), "{m}");
        let (l, c, m, _) = fails(&with("ready = { tcp = \"5432\" }"));
        assert_eq!((l, c), (6, 17), "{m}");
        assert!(m.contains("invalid type"), "{m}");
        let (l, c, m, _) = fails(&with("ready = { tcp = 70000 }"));
        assert_eq!((l, c), (6, 17), "{m}");
        assert!(m.contains("out of range"), "{m}");
        let (_, _, m, _) = fails(&with("ready = { tcp = 1, log = \"x\" }"));
        assert!(m.contains("2 probes (tcp, log)"), "{m}");
        let (_, _, m, _) = fails(&with("ready = {}"));
        assert!(m.contains("names no probe"), "{m}");
        let (l, c, m, _) = fails(&with("ready = { log = \"(\" }"));
        assert_eq!((l, c), (6, 17), "{m}");
        assert!(m.contains("invalid regex"), "{m}");
        let (_, _, m, _) = fails(&with("ready = { http = \"http://db:5432/\" }"));
        assert!(m.contains("own network namespace"), "{m}");
        let (_, _, m, _) = fails(&with("ready = { exec = [] }"));
        assert!(m.contains("`exec` probe is empty"), "{m}");
        let (_, _, m, _) = fails(&with("ready = { exec = 5 }"));
        assert!(m.contains("a command string or an array"), "{m}");
        let (_, _, m, _) = fails(&with("ready = { tcp = 1, status = 200 }"));
        assert!(m.contains("`status` belongs to an http probe"), "{m}");
        let (l, c, m, _) = fails(&with("ready = 5"));
        assert_eq!((l, c), (6, 9), "{m}");
        assert!(m.contains("\"healthcheck\" or a table"), "{m}");
        let (l, _, m, _) = fails(&with("ready_timeout_ms = 10"));
        assert_eq!(l, 6, "{m}");
        assert!(m.contains("without `ready`"), "{m}");
        let (_, _, m, _) = fails(&with("ready = { tcp = 1 }\nready_timeout_ms = \"1s\""));
        assert!(m.contains("invalid type"), "{m}");
        let (l, c, m, _) = fails(&with("healthcheck = { test = [\"NONE\"] }"));
        assert_eq!((l, c), (6, 24), "{m}");
        assert!(m.contains("runs nothing"), "{m}");
        let (_, _, m, h) = fails(&with(
            "healthcheck = { test = [\"CMD\", \"x\"], interval = 5 }",
        ));
        assert!(m.contains("unknown field `interval`"), "{m}");
        assert!(h.contains("interval_ms"), "{h}");
    }

    #[test]
    fn compose_test_forms() {
        let s = |v: &[&str]| {
            Healthcheck::command_of(&v.iter().map(|s| s.to_string()).collect::<Vec<_>>())
        };
        assert_eq!(
            s(&["CMD-SHELL", "pg_isready -q"]),
            Some(ProbeCommand::shell("pg_isready -q"))
        );
        let cmd = s(&["CMD", "a b", "it's"]).unwrap();
        assert_eq!(cmd.line, r"'a b' 'it'\''s'");
        assert_eq!(cmd.argv, Some(vec!["a b".to_string(), "it's".to_string()]));
        assert_eq!(s(&["NONE"]), None);
        assert_eq!(s(&[]), None);
        assert_eq!(s(&["CMD"]), None);
    }
}
