//! `[service.<id>]`: the containers a scenario starts, and the check that a
//! name used elsewhere (`service`, `run` entries, `parallel_services`) is one
//! of them.

use super::command::Words;
use super::de::{TableOf, TableShape};
use super::diag::{nearest, Ctx, SuiteError};
use super::files::{ContainerOptions, RawMount};
use super::image::{BuildDef, BuildSpec, PullPolicy};
use super::limits::Limits;
use super::ready::{RawHealthcheck, RawReady, ReadySpec};
use serde::Deserialize;
use std::collections::BTreeMap;
use toml::Spanned;

/// The service plugins `type` / `plugin` may name.
pub const SERVICE_PLUGINS: [&str; 2] = ["generic_container", OTEL_COLLECTOR];

/// `type = "otel_collector"`: the original clnrm's collector service. clnrm's
/// own OTLP receiver serves it: nothing is pulled or started, its name
/// resolves to the receiver in the scenario network.
pub const OTEL_COLLECTOR: &str = "otel_collector";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Service {
    /// The service plugin: only "generic_container".
    #[serde(rename = "type")]
    pub kind: Option<Spanned<String>>,
    /// The same as `type` (the original clnrm's spelling).
    pub plugin: Option<Spanned<String>>,
    /// Required unless `build` is given (then it names the built image).
    pub image: Option<Spanned<String>>,
    // -- Images and what a service runs (images.rs, command.rs) --
    /// `missing` (default), `always`, `never`.
    pub pull: Option<Spanned<String>>,
    /// A Dockerfile context to build the image from.
    pub build: Option<Spanned<BuildDef>>,
    /// Replaces the image's CMD (Compose's `command`; `args` is its synonym).
    pub command: Option<Spanned<Words>>,
    pub args: Option<Spanned<Words>>,
    /// Replaces the image's ENTRYPOINT.
    pub entrypoint: Option<Words>,
    /// Force (true) or forbid (false) the keep-alive command.
    pub keep_alive: Option<bool>,
    // -- end images --
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    #[serde(default)]
    pub limits: ServiceLimits,
    /// Linux capabilities to add, e.g. ["NET_ADMIN"].
    #[serde(default)]
    pub capabilities: Vec<String>,
    /// A span that must exist before the scenario's steps start.
    pub wait_for_span: Option<Spanned<String>>,
    /// Services this one needs: when one of them fails, this one is expected
    /// to fail after it (`cascade_failure` follows these edges).
    #[serde(default)]
    pub depends_on: Vec<Spanned<String>>,
    // Readiness (suite/ready.rs).
    pub ready: Option<Spanned<RawReady>>,
    pub ready_timeout_ms: Option<Spanned<u64>>,
    pub healthcheck: Option<RawHealthcheck>,
    // Files and the rest of a container (suite/files.rs).
    #[serde(default)]
    pub files: BTreeMap<String, Spanned<String>>,
    #[serde(default)]
    pub mounts: Vec<RawMount>,
    pub workdir: Option<Spanned<String>>,
    pub user: Option<String>,
    pub hostname: Option<Spanned<String>>,
    #[serde(default)]
    pub network_aliases: Vec<String>,
    /// The service sends OpenTelemetry spans: the run's OTLP receiver runs.
    pub otel: Option<bool>,
}

impl TableShape for Service {
    const EXPECTING: &'static str = "a [service.<id>] table (image = \"...\", ...)";
    fn whole(&self) -> Result<(), String> {
        let collector = [&self.kind, &self.plugin]
            .iter()
            .any(|k| k.as_ref().is_some_and(|k| k.get_ref() == OTEL_COLLECTOR));
        match (&self.image, &self.build) {
            // The receiver serves it: there is nothing to run.
            (None, None) if collector => Ok(()),
            (None, None) => Err("missing field `image`".into()),
            _ => Ok(()),
        }
    }
}

/// A service's own `limits = { ... }`.
#[derive(Debug, Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
pub struct ServiceLimits {
    pub memory_mb: Option<u64>,
    /// Memory plus swap (Docker's `--memory-swap`); default: `memory_mb`
    /// (no swap, so the memory limit really bounds the container).
    pub memory_swap_mb: Option<Spanned<u64>>,
    pub cpu_millicores: Option<u64>,
    pub pids: Option<i64>,
    pub max_file_descriptors: Option<u64>,
    /// tmpfs mounts: path = size in MB.
    #[serde(default)]
    pub tmpfs: BTreeMap<String, u64>,
}

#[derive(Debug, Clone, Default)]
pub struct ServiceSpec {
    pub id: String,
    /// The image to run: as written, or (a `build` without `image`)
    /// `clnrm-build:<hash of what the build reads>`.
    pub image: String,
    pub pull: PullPolicy,
    pub build: Option<BuildSpec>,
    /// `command`/`args`: replaces the image's CMD; empty: the image's own
    /// (or the keep-alive, see `keep_alive`).
    pub args: Vec<String>,
    /// `entrypoint`: replaces the image's ENTRYPOINT.
    pub entrypoint: Option<Vec<String>>,
    /// None: keep-alive when the image's command is absent or a bare shell.
    pub keep_alive: Option<bool>,
    pub env: BTreeMap<String, String>,
    pub memory_mb: Option<u64>,
    /// Memory plus swap; None: the same as `memory_mb` (no swap).
    pub memory_swap_mb: Option<u64>,
    pub cpu_millicores: Option<u64>,
    pub pids: Option<i64>,
    pub max_file_descriptors: Option<u64>,
    pub tmpfs: BTreeMap<String, u64>,
    pub capabilities: Vec<String>,
    /// `wait_for_span`: a span that must exist before the scenario's steps start.
    pub wait_for_span: Option<String>,
    /// `depends_on`: services this one needs (each a defined service).
    pub depends_on: Vec<String>,
    /// `ready` and `ready_timeout_ms`: None, started is ready.
    pub ready: Option<ReadySpec>,
    /// `files`, `mounts`, `workdir`, `user`, `hostname`, `network_aliases`.
    pub options: ContainerOptions,
    /// `otel = true`: it sends spans to the run's OTLP receiver.
    pub otel: bool,
    /// `type = "otel_collector"`: served by the receiver, never started.
    pub otel_collector: bool,
}

/// The services by id, `[limits]` filling in what a service's own `limits`
/// leave out.
pub fn check_all(
    cx: &Ctx,
    raw: &BTreeMap<String, TableOf<Service>>,
    defaults: &Limits,
) -> Result<BTreeMap<String, ServiceSpec>, SuiteError> {
    let mut out = BTreeMap::new();
    for (id, s) in raw {
        out.insert(id.clone(), s.check(cx, id, defaults)?);
    }
    // `depends_on` names other services: checked once all are known.
    for (id, s) in raw {
        let mut deps = Vec::new();
        for d in &s.depends_on {
            if d.get_ref() == id {
                return Err(cx.err(
                    d.span(),
                    format!("service `{id}` depends on itself"),
                    Some("`depends_on` names the other services this one needs".into()),
                ));
            }
            deps.push(service_ref(cx, d, &out)?);
        }
        if let Some(spec) = out.get_mut(id) {
            spec.depends_on = deps;
        }
    }
    let graph: BTreeMap<&str, &[String]> = out
        .iter()
        .map(|(id, s)| (id.as_str(), s.depends_on.as_slice()))
        .collect();
    super::depends::check_acyclic(cx, &graph, |from, to| {
        raw.get(from)
            .and_then(|s| s.depends_on.iter().find(|d| d.get_ref() == to))
            .map_or(0..0, |d| d.span())
    })?;
    Ok(out)
}

impl Service {
    fn check(&self, cx: &Ctx, id: &str, defaults: &Limits) -> Result<ServiceSpec, SuiteError> {
        // `type` and `plugin` both name the service's kind (the original clnrm
        // suites say `plugin = "generic_container"` or `type = ...`); only
        // generic containers exist.
        for (key, v) in [("type", &self.kind), ("plugin", &self.plugin)] {
            let Some(v) = v else { continue };
            if !SERVICE_PLUGINS.contains(&v.get_ref().as_str()) {
                let hint = match nearest(v.get_ref(), SERVICE_PLUGINS) {
                    Some(n) => format!(
                        "did you mean \"{n}\"? service plugins that exist: {}",
                        SERVICE_PLUGINS.join(", ")
                    ),
                    None => format!("service plugins that exist: {}", SERVICE_PLUGINS.join(", ")),
                };
                let what = if key == "type" {
                    "service type"
                } else {
                    "service plugin"
                };
                return Err(cx.err(
                    v.span(),
                    format!("service `{id}`: unknown {what} `{}`", v.get_ref()),
                    Some(hint),
                ));
            }
        }
        if let Some(image) = &self.image {
            if image.get_ref().trim().is_empty() {
                return Err(cx.err(
                    image.span(),
                    format!("service `{id}` has an empty `image`"),
                    Some("write image = \"name:tag\" (pulled when missing) or give `build`".into()),
                ));
            }
        }
        let what_runs = self.what_runs(cx, id)?;
        if let Some(w) = &self.wait_for_span {
            if w.get_ref().trim().is_empty() {
                return Err(cx.err(w.span(), "`wait_for_span` is empty", Some("name the span that must exist before steps start, e.g. \"clnrm.service.start\"".into())));
            }
        }
        let memory_mb = self.limits.memory_mb.or(defaults.memory_mb);
        if let Some(swap) = &self.limits.memory_swap_mb {
            match memory_mb {
                Some(m) if *swap.get_ref() >= m => {}
                Some(m) => {
                    return Err(cx.err(
                        swap.span(),
                        format!(
                            "`memory_swap_mb` ({}) is below `memory_mb` ({m})",
                            swap.get_ref()
                        ),
                        Some(
                            "it is memory plus swap: give at least `memory_mb` (equal: no swap)"
                                .into(),
                        ),
                    ))
                }
                None => {
                    return Err(cx.err(
                        swap.span(),
                        "`memory_swap_mb` without `memory_mb`",
                        Some("set `memory_mb` too: the swap limit counts memory plus swap".into()),
                    ))
                }
            }
        }
        let otel_collector = [&self.kind, &self.plugin]
            .iter()
            .any(|k| k.as_ref().is_some_and(|k| k.get_ref() == OTEL_COLLECTOR));
        Ok(ServiceSpec {
            otel: self.otel.unwrap_or(false),
            otel_collector,
            id: id.to_string(),
            image: what_runs.image,
            pull: what_runs.pull,
            build: what_runs.build,
            args: what_runs.args,
            entrypoint: self.entrypoint.as_ref().map(|w| w.0.clone()),
            keep_alive: self.keep_alive,
            env: self.env.clone(),
            memory_mb,
            memory_swap_mb: self.limits.memory_swap_mb.as_ref().map(|s| *s.get_ref()),
            cpu_millicores: self.limits.cpu_millicores.or(defaults.cpu_millicores),
            pids: self.limits.pids,
            max_file_descriptors: self.limits.max_file_descriptors,
            tmpfs: self.limits.tmpfs.clone(),
            capabilities: self.capabilities.clone(),
            wait_for_span: self.wait_for_span.as_ref().map(|w| w.get_ref().clone()),
            depends_on: Vec::new(),
            ready: super::ready::check(
                cx,
                id,
                self.ready.as_ref(),
                self.ready_timeout_ms.as_ref(),
                self.healthcheck.as_ref(),
            )?,
            options: super::files::check(
                cx,
                super::files::Raw {
                    files: &self.files,
                    mounts: &self.mounts,
                    workdir: self.workdir.as_ref(),
                    user: self.user.as_ref(),
                    hostname: self.hostname.as_ref(),
                    network_aliases: &self.network_aliases,
                },
            )?,
        })
    }
}

/// The image (pulled or built) and the command, checked.
struct WhatRuns {
    image: String,
    pull: PullPolicy,
    build: Option<BuildSpec>,
    args: Vec<String>,
}

impl Service {
    fn what_runs(&self, cx: &Ctx, id: &str) -> Result<WhatRuns, SuiteError> {
        let pull = match &self.pull {
            Some(p) => PullPolicy::check(cx, p)?,
            None => PullPolicy::Missing,
        };
        let build = match &self.build {
            Some(b) => Some(b.get_ref().check(cx, b)?),
            None => None,
        };
        let image = match (&self.image, &build) {
            (Some(i), _) => i.get_ref().clone(),
            // Replay builds nothing: the tag is never used.
            (None, Some(_)) if !cx.files => "clnrm-build:replayed".to_string(),
            (None, Some(b)) => {
                let span = self.build.as_ref().map(|b| b.span()).unwrap_or(0..0);
                let hash = super::build_context::hash(b).map_err(|e| {
                    cx.err(
                        span,
                        format!("service `{id}`: cannot read the build context: {e}"),
                        None,
                    )
                })?;
                super::build_context::tag_for(&hash)
            }
            // `whole` made one of them required.
            (None, None) => String::new(),
        };
        let args = match (&self.command, &self.args) {
            (Some(c), Some(_)) => {
                return Err(cx.err(
                    c.span(),
                    format!("service `{id}` has both `command` and `args`"),
                    Some("they are the same key (Compose's name and clnrm's): keep one".into()),
                ))
            }
            (Some(w), None) | (None, Some(w)) => w.get_ref().0.clone(),
            (None, None) => Vec::new(),
        };
        if self.keep_alive == Some(true) && (!args.is_empty() || self.entrypoint.is_some()) {
            let span = self
                .command
                .as_ref()
                .or(self.args.as_ref())
                .map(|c| c.span());
            return Err(cx.err(
                span.unwrap_or(0..0),
                format!("service `{id}` has `keep_alive = true` and its own command"),
                Some("the keep-alive replaces the command: drop `keep_alive`, or drop `command`/`entrypoint`".into()),
            ));
        }
        Ok(WhatRuns {
            image,
            pull,
            build,
            args,
        })
    }
}

/// `r` names a defined service; the error suggests the nearest one.
pub fn service_ref(
    cx: &Ctx,
    r: &Spanned<String>,
    services: &BTreeMap<String, ServiceSpec>,
) -> Result<String, SuiteError> {
    let id = r.get_ref();
    if services.contains_key(id) {
        return Ok(id.clone());
    }
    let help = match nearest(id, services.keys().map(String::as_str)) {
        Some(n) => format!(
            "did you mean `{n}`? services defined: {}",
            list(services.keys())
        ),
        None if services.is_empty() => {
            "define it with a [service.<id>] table (image = ...)".to_string()
        }
        None => format!("services defined: {}", list(services.keys())),
    };
    Err(cx.err(r.span(), format!("unknown service `{id}`"), Some(help)))
}

fn list<'a>(names: impl Iterator<Item = &'a String>) -> String {
    names
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use crate::suite::testing::{fails, load_text, OK};

    #[test]
    fn services() {
        let (l, c, m, _) = fails(&OK.replace(
            "image = \"clnrm-base:latest\"",
            "image = \"clnrm-base:latest\"\nplugin = \"postgres\"",
        ));
        assert_eq!((l, c), (6, 10), "{m}");
        assert!(m.contains("unknown service plugin `postgres`"), "{m}");
        // The original clnrm's spelling of the one plugin that exists.
        let s = load_text(&OK.replace(
            "image = \"clnrm-base:latest\"",
            "image = \"clnrm-base:latest\"\nplugin = \"generic_container\"\ntype = \"generic_container\"",
        ))
        .unwrap();
        assert_eq!(s.services["app"].image, "clnrm-base:latest");
        let (_, _, _, h) = fails(&OK.replace(
            "image = \"clnrm-base:latest\"",
            "image = \"clnrm-base:latest\"\nplugin = \"generic_containr\"",
        ));
        assert!(
            h.contains(
                "did you mean \"generic_container\"? service plugins that exist: generic_container"
            ),
            "{h}"
        );
        let (l, c, m, h) = fails(&OK.replace(
            "image = \"clnrm-base:latest\"",
            "image = \"clnrm-base:latest\"\ntype = \"generic\"",
        ));
        assert_eq!((l, c), (6, 8), "{m}");
        assert!(h.contains("generic_container"), "{h}");
        let (l, c, m, h) = fails(&OK.replace("image = \"clnrm-base:latest\"", "args = []"));
        assert_eq!((l, c), (4, 1), "{m}");
        assert!(
            m.contains("missing field `image`") && h.contains("add image"),
            "{m}"
        );
        let (l, c, m, _) = fails(&OK.replace("image = \"clnrm-base:latest\"", "image = \"\""));
        assert_eq!((l, c), (5, 9), "{m}");
        assert!(m.contains("empty `image`"), "{m}");
        let (l, c, m, _) = fails(&OK.replace(
            "image = \"clnrm-base:latest\"",
            "image = \"x\"\nwait_for_span = \"\"",
        ));
        assert_eq!((l, c), (6, 17), "{m}");
        assert!(m.contains("`wait_for_span` is empty"), "{m}");
        let (l, c, m, _) = fails(&OK.replace(
            "[service.app]\nimage = \"clnrm-base:latest\"",
            "[service]\napp = 5",
        ));
        assert_eq!((l, c), (5, 7), "{m}");
        assert!(m.contains("expected a [service.<id>] table"), "{m}");
    }

    #[test]
    fn images_and_what_a_service_runs() {
        let with = |extra: &str| {
            OK.replace(
                "image = \"clnrm-base:latest\"",
                &format!("image = \"clnrm-base:latest\"\n{extra}"),
            )
        };
        let s = load_text(&with("pull = \"always\"\ncommand = \"/app/server --name 'a b'\"\nentrypoint = [\"/bin/tini\", \"--\"]\nkeep_alive = false")).unwrap();
        let app = &s.services["app"];
        assert_eq!(app.pull, crate::suite::PullPolicy::Always);
        assert_eq!(app.args, ["/app/server", "--name", "a b"]);
        assert_eq!(
            app.entrypoint.as_deref(),
            Some(&["/bin/tini".to_string(), "--".to_string()][..])
        );
        assert_eq!(app.keep_alive, Some(false));
        assert!(app.build.is_none());
        // `args` is `command`'s synonym; the default pull policy is `missing`.
        let s = load_text(&with("args = [\"sleep\", \"9\"]")).unwrap();
        assert_eq!(s.services["app"].args, ["sleep", "9"]);
        assert_eq!(s.services["app"].pull, crate::suite::PullPolicy::Missing);
        let (l, c, m, h) = fails(&with("pull = \"alway\""));
        assert_eq!((l, c), (6, 8), "{m}");
        assert!(
            m.contains("unknown `pull` policy `alway`") && h.contains("did you mean \"always\""),
            "{m} {h}"
        );
        let (_, _, m, _) = fails(&with("keep_alive = true\ncommand = [\"x\"]"));
        assert!(m.contains("`keep_alive = true` and its own command"), "{m}");
        // Neither image nor build: the table says what is missing.
        let (l, c, m, h) = fails(&OK.replace("image = \"clnrm-base:latest\"", "pull = \"never\""));
        assert_eq!((l, c), (4, 1), "{m}");
        assert!(
            m.contains("missing field `image`") && h.contains("add image"),
            "{m}"
        );
    }

    #[test]
    fn build_is_relative_to_the_suite_file() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(d.path().join("app/docker")).unwrap();
        std::fs::write(
            d.path().join("app/docker/x.Dockerfile"),
            "FROM clnrm-base:latest\n",
        )
        .unwrap();
        std::fs::write(d.path().join("app/Dockerfile"), "FROM clnrm-base:latest\n").unwrap();
        let path = d.path().join("s.clnrm.toml");
        let load = |svc: &str| {
            let text = OK.replace("image = \"clnrm-base:latest\"", svc);
            crate::suite::load_str(&path, text)
        };
        // Unnamed: tagged from the hash of what the build reads.
        let s = load("build = \"app\"").unwrap();
        let app = &s.services["app"];
        let b = app.build.as_ref().unwrap();
        assert_eq!(
            (b.context.clone(), b.dockerfile.as_str()),
            (d.path().join("app"), "Dockerfile")
        );
        assert!(app.image.starts_with("clnrm-build:"), "{}", app.image);
        // Named: the tag is the image; the table form.
        let s = load("image = \"my/app:dev\"\nbuild = { context = \"app\", dockerfile = \"docker/x.Dockerfile\", args = { V = \"1\" }, target = \"t\" }").unwrap();
        let app = &s.services["app"];
        let b = app.build.as_ref().unwrap();
        assert_eq!(app.image, "my/app:dev");
        assert_eq!(
            (b.dockerfile.as_str(), b.target.as_deref()),
            ("docker/x.Dockerfile", Some("t"))
        );
        assert_eq!(b.args["V"], "1");
        let e = load("build = { context = \"app\", dockerfile = \"../Dockerfile\" }").unwrap_err();
        assert!(e.message.contains("outside the context"), "{e}");
        let e = load("build = \"nope\"").unwrap_err();
        assert_eq!((e.line, e.col), (5, 9), "{e}");
        assert!(e.message.contains("not a directory"), "{e}");
        // A recording replays where the context may not exist: nothing is built.
        let text = OK.replace("image = \"clnrm-base:latest\"", "build = \"nope\"");
        let s = crate::suite::load_recorded(&path, text).unwrap();
        assert_eq!(s.services["app"].image, "clnrm-build:replayed");
    }

    #[test]
    fn seed_limits_with_memory_swap() {
        let limits = "limits = { memory_mb = 128, memory_swap_mb = 256, cpu_millicores = 100, \
                      pids = 64, max_file_descriptors = 256, tmpfs = { \"/data\" = 16 } }";
        let s = load_text(&OK.replace(
            "image = \"clnrm-base:latest\"",
            &format!("image = \"clnrm-base:latest\"\n{limits}"),
        ))
        .unwrap();
        let app = &s.services["app"];
        assert_eq!((app.memory_mb, app.memory_swap_mb), (Some(128), Some(256)));
        assert_eq!((app.cpu_millicores, app.pids), (Some(100), Some(64)));
        assert_eq!(app.max_file_descriptors, Some(256));
        assert_eq!(app.tmpfs.get("/data"), Some(&16));
        let (l, c, m, h) = fails(&OK.replace(
            "image = \"clnrm-base:latest\"",
            "image = \"clnrm-base:latest\"\nlimits = { memory_mb = 128, memory_swap_mb = 64 }",
        ));
        assert_eq!((l, c), (6, 46), "{m}");
        assert!(
            m.contains("below `memory_mb` (128)") && h.contains("memory plus swap"),
            "{m}"
        );
        let (l, c, m, _) = fails(&OK.replace(
            "image = \"clnrm-base:latest\"",
            "image = \"clnrm-base:latest\"\nlimits = { memory_swap_mb = 64 }",
        ));
        assert_eq!((l, c), (6, 29), "{m}");
        assert!(m.contains("without `memory_mb`"), "{m}");
    }

    #[test]
    fn depends_on_names_defined_services() {
        let two = OK.replace(
            "[service.app]\nimage = \"clnrm-base:latest\"",
            "[service.app]\nimage = \"clnrm-base:latest\"\ndepends_on = [\"db\"]\n[service.db]\nimage = \"clnrm-base:latest\"",
        );
        let s = load_text(&two).unwrap();
        assert_eq!(s.services["app"].depends_on, ["db"]);
        assert!(s.services["db"].depends_on.is_empty());
        let (l, c, m, h) = fails(&two.replace("depends_on = [\"db\"]", "depends_on = [\"dbb\"]"));
        assert_eq!((l, c), (6, 15), "{m}");
        assert!(m.contains("unknown service `dbb`"), "{m}");
        assert!(h.contains("did you mean `db`"), "{h}");
        let (l, c, m, _) = fails(&two.replace("depends_on = [\"db\"]", "depends_on = [\"app\"]"));
        assert_eq!((l, c), (6, 15), "{m}");
        assert!(m.contains("depends on itself"), "{m}");
        let (_, _, m, _) = fails(&two.replace("depends_on = [\"db\"]", "depends_on = \"db\""));
        assert!(m.contains("depends_on") || m.contains("sequence"), "{m}");
    }

    #[test]
    fn unknown_service_is_an_error() {
        let e = load_text(&OK.replace("service = \"app\"", "service = \"ap\"")).unwrap_err();
        assert!(e.message.contains("unknown service `ap`"), "{e}");
        assert!(e
            .help
            .as_deref()
            .unwrap_or("")
            .contains("did you mean `app`"));
        assert_eq!(e.line, 8);
        let e = load_text(&OK.replace("service = \"app\"", "service = \"zzzzz\"")).unwrap_err();
        assert_eq!(e.help.as_deref(), Some("services defined: `app`"));
    }
}
