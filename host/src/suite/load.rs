//! Parse a suite file and check what the TOML types cannot: references between
//! tables, names, times, combinations. Plugin names and plugin-owned tables
//! (`chaos_injection`, `[expect.*]`) are checked later, against the registry.
//!
//! Order: parse (TOML 1.1, syntax errors with position) → expand `[vars]` on
//! the parsed document (positions kept) → deserialize into `model` (unknown
//! keys, wrong types, missing keys, with position and nearest valid name) →
//! the checks here.

use super::de::{ChaosInjection, ChaosTable, ParallelServices, Run};
use super::diag::{hint_for_serde_message, nearest, SuiteError};
use super::model::{self, SuiteFile};
use super::{clock, vars};
use super::{
    CleanupSpec, ExpectSpec, Exporter, InjectionSpec, OtelSpec, ReportSpec, ScenarioSpec,
    ServiceSpec, StepSpec, Suite, TimeoutStrategy,
};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::ops::Range;
use std::path::Path;
use std::time::Duration;
use toml::Spanned;

/// Default bound on a scenario when `[limits] max_duration_seconds` is absent.
const DEFAULT_MAX_DURATION: Duration = Duration::from_secs(300);

pub fn load(path: &Path) -> Result<Suite, SuiteError> {
    let source = std::fs::read_to_string(path).map_err(|e| {
        SuiteError::at(
            &path.display().to_string(),
            "",
            0..0,
            format!("cannot read suite file: {e}"),
            None,
        )
    })?;
    load_str(path, source)
}

pub fn load_str(path: &Path, source: String) -> Result<Suite, SuiteError> {
    let shown = path.display().to_string();
    let toml_err = |e: toml::de::Error| {
        let message = e.message().trim().to_string();
        let help = hint_for_serde_message(&message);
        SuiteError::at(&shown, &source, e.span().unwrap_or(0..0), message, help)
    };
    let mut doc = toml::de::DeTable::parse(&source).map_err(toml_err)?;
    let vars = vars::expand(doc.get_mut(), &shown, &source)?;
    let file = SuiteFile::deserialize(toml::de::Deserializer::from(doc)).map_err(toml_err)?;
    let mut suite = Checker {
        path,
        source: &source,
    }
    .check(file)?;
    suite.vars = vars;
    suite.source = source;
    Ok(suite)
}

struct Checker<'a> {
    path: &'a Path,
    source: &'a str,
}

impl Checker<'_> {
    fn err(&self, span: Range<usize>, msg: impl Into<String>, help: Option<String>) -> SuiteError {
        SuiteError::at(
            &self.path.display().to_string(),
            self.source,
            span,
            msg,
            help,
        )
    }

    fn check(&self, file: SuiteFile) -> Result<Suite, SuiteError> {
        let services = self.services(&file)?;
        let max_duration = match &file.limits.max_duration_seconds {
            Some(s) if *s.get_ref() == 0 => {
                return Err(self.err(
                    s.span(),
                    "`max_duration_seconds` must be at least 1",
                    Some("it bounds every scenario; leave it out for the default of 300".into()),
                ))
            }
            Some(s) => Duration::from_secs(*s.get_ref()),
            None => DEFAULT_MAX_DURATION,
        };
        let mut scenarios = Vec::new();
        let mut names = BTreeMap::new();
        for sc in &file.scenario {
            let name = &sc.name;
            if let Some(first) = names.insert(name.get_ref().clone(), name.span()) {
                let (line, _) = super::line_col(self.source, first.start);
                return Err(self.err(name.span(), format!("duplicate scenario name `{}`", name.get_ref()), Some(format!("first used on line {line}; scenario names must be unique: they name step spans and report entries"))));
            }
            let spec = self.scenario(sc, &services, max_duration)?;
            // Step names name spans (`clnrm.step:<name>`): two alike would make
            // every expectation about them ambiguous.
            for st in &spec.steps {
                if let Some(other) = scenarios
                    .iter()
                    .flat_map(|o: &ScenarioSpec| o.steps.iter().map(move |s| (o, s)))
                    .find(|(_, s)| s.name == st.name)
                    .map(|(o, _)| o.name.clone())
                    .or_else(|| {
                        (spec.steps.iter().filter(|s| s.name == st.name).count() > 1)
                            .then(|| spec.name.clone())
                    })
                {
                    return Err(self.err(name.span(), format!("duplicate step name `{}` (also in scenario `{other}`)", st.name), Some("step names must be unique in a suite: they name the `clnrm.step:<name>` spans; give the step a `name`".into())));
                }
            }
            scenarios.push(spec);
        }
        if scenarios.is_empty() {
            return Err(self.err(
                0..0,
                "the suite has no [[scenario]]",
                Some(
                    "add at least one [[scenario]] with a name, a service and a run command".into(),
                ),
            ));
        }
        let freeze_clock_unix_ns = match &file.determinism.freeze_clock {
            Some(fc) => Some(clock::parse(fc.get_ref()).map_err(|m| {
                self.err(
                    fc.span(),
                    m,
                    Some("write e.g. freeze_clock = \"2025-01-01T00:00:00Z\"".into()),
                )
            })?),
            None => None,
        };
        let base = self.path.parent().unwrap_or(Path::new("."));
        let mut plugins = Vec::new();
        for (name, p) in &file.plugins {
            if p.get_ref().trim().is_empty() {
                return Err(self.err(
                    p.span(),
                    format!("plugin `{name}` has an empty path"),
                    Some("write name = \"path/to/plugin.wasm\" (relative to this file)".into()),
                ));
            }
            plugins.push((name.clone(), base.join(p.get_ref()), p.span()));
        }
        let expectations = file
            .expect
            .iter()
            .map(|(table, v)| ExpectSpec {
                table: table.clone(),
                config_json: toml_to_json(v.get_ref()).to_string(),
                span: v.span(),
                positions: Default::default(),
            })
            .collect();
        let stem = self
            .path
            .file_name()
            .and_then(|f| f.to_str())
            .unwrap_or("suite");
        let stem = stem
            .strip_suffix(".clnrm.toml")
            .or_else(|| stem.strip_suffix(".toml"))
            .unwrap_or(stem);
        let d = ReportSpec::default();
        let r = &file.report;
        Ok(Suite {
            path: self.path.to_path_buf(),
            source: String::new(),
            name: match &r.name {
                // An explicit base name must be a plain file name: the
                // reports go into --report-dir, never beside or above it.
                Some(n) if !is_plain_file_name(n.get_ref()) => {
                    return Err(self.err(
                        n.span(),
                        format!("`{}` is not a plain file name", n.get_ref()),
                        Some("[report] name is the base name of the report files: letters, digits, `.`, `_`, `-`; no `/` and no leading `.`".into()),
                    ))
                }
                Some(n) => n.get_ref().clone(),
                // meta.name is prose: make a file name of it.
                None => file.meta.name.as_deref().map(to_file_name).unwrap_or_else(|| stem.to_string()),
            },
            meta: file.meta.clone(),
            seed: file.determinism.seed,
            freeze_clock_unix_ns,
            plugins,
            services,
            scenarios,
            expectations,
            cleanup: cleanup_spec(&file.cleanup),
            vars: BTreeMap::new(),
            otel: self.otel(&file.otel)?,
            report: ReportSpec {
                json: r.json.unwrap_or(d.json),
                junit: r.junit.unwrap_or(d.junit),
                digest: r.digest.unwrap_or(d.digest),
                cleanup: r.cleanup.unwrap_or(d.cleanup),
            },
        })
    }

    fn otel(&self, o: &model::Otel) -> Result<OtelSpec, SuiteError> {
        let d = OtelSpec::default();
        let exporter = o
            .exporter
            .as_ref()
            .map(|e| *e.get_ref())
            .unwrap_or(d.exporter);
        match (&o.exporter, &o.endpoint) {
            (Some(e), None) if *e.get_ref() == Exporter::Otlp => {
                return Err(self.err(e.span(), "exporter \"otlp\" needs an `endpoint`", Some("add endpoint = \"http://localhost:4318\" (the collector's OTLP/HTTP address) to [otel]".into())));
            }
            (_, Some(ep)) if exporter != Exporter::Otlp => {
                return Err(self.err(ep.span(), format!("`endpoint` is only used with exporter = \"otlp\"; the exporter here is \"{}\"", exporter.as_str()), Some("set exporter = \"otlp\", or remove `endpoint`".into())));
            }
            (_, Some(ep)) if ep.get_ref().trim().is_empty() => {
                return Err(self.err(
                    ep.span(),
                    "`endpoint` is empty",
                    Some("write e.g. endpoint = \"http://localhost:4318\"".into()),
                ));
            }
            _ => {}
        }
        let sample_ratio = match &o.sample_ratio {
            Some(r) if !(0.0..=1.0).contains(r.get_ref()) => {
                return Err(self.err(
                    r.span(),
                    format!(
                        "`sample_ratio` is {}, expected a number from 0.0 to 1.0",
                        r.get_ref()
                    ),
                    Some("1.0 exports every trace, 0.0 none".into()),
                ));
            }
            Some(r) => *r.get_ref(),
            None => d.sample_ratio,
        };
        Ok(OtelSpec {
            exporter,
            endpoint: o.endpoint.as_ref().map(|e| e.get_ref().clone()),
            sample_ratio,
            resources: o.resources.clone(),
        })
    }

    fn services(&self, file: &SuiteFile) -> Result<BTreeMap<String, ServiceSpec>, SuiteError> {
        let mut out = BTreeMap::new();
        for (id, s) in &file.service {
            if let Some(kind) = &s.kind {
                if kind.get_ref() != "generic_container" {
                    let hint = match nearest(kind.get_ref(), ["generic_container"]) {
                        Some(n) => format!("did you mean \"{n}\"? it is the only service type"),
                        None => "the only service type is \"generic_container\"".to_string(),
                    };
                    return Err(self.err(
                        kind.span(),
                        format!("unknown service type `{}`", kind.get_ref()),
                        Some(hint),
                    ));
                }
            }
            if let Some(p) = &s.plugin {
                return Err(self.err(
                    p.span(),
                    format!("service `{id}`: service plugins are not supported yet (plugin = \"{}\")", p.get_ref()),
                    Some("remove `plugin`: every service is a generic_container started from `image`".into()),
                ));
            }
            if s.image.get_ref().trim().is_empty() {
                return Err(self.err(
                    s.image.span(),
                    format!("service `{id}` has an empty `image`"),
                    Some("write image = \"name:tag\" (an image present locally)".into()),
                ));
            }
            if let Some(w) = &s.wait_for_span {
                if w.get_ref().trim().is_empty() {
                    return Err(self.err(w.span(), "`wait_for_span` is empty", Some("name the span that must exist before steps start, e.g. \"clnrm.service.start\"".into())));
                }
            }
            out.insert(
                id.clone(),
                ServiceSpec {
                    id: id.clone(),
                    image: s.image.get_ref().clone(),
                    args: s.args.clone(),
                    env: s.env.clone(),
                    memory_mb: s.limits.memory_mb.or(file.limits.memory_mb),
                    cpu_millicores: s.limits.cpu_millicores.or(file.limits.cpu_millicores),
                    pids: s.limits.pids,
                    max_file_descriptors: s.limits.max_file_descriptors,
                    tmpfs: s.limits.tmpfs.clone(),
                    capabilities: s.capabilities.clone(),
                    wait_for_span: s.wait_for_span.as_ref().map(|w| w.get_ref().clone()),
                },
            );
        }
        Ok(out)
    }

    fn service_ref(
        &self,
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
        Err(self.err(r.span(), format!("unknown service `{id}`"), Some(help)))
    }

    fn scenario(
        &self,
        sc: &model::Scenario,
        services: &BTreeMap<String, ServiceSpec>,
        max_duration: Duration,
    ) -> Result<ScenarioSpec, SuiteError> {
        let name = sc.name.get_ref();
        let name_span = sc.name.span();
        if name.trim().is_empty() {
            return Err(self.err(
                name_span,
                "a scenario name must not be empty",
                Some("it names the scenario span, its steps and its report entry".into()),
            ));
        }
        let main = sc
            .service
            .as_ref()
            .map(|s| self.service_ref(s, services))
            .transpose()?;
        let timeout = sc.timeout_ms.map(Duration::from_millis);
        let need_main = |what: &str| {
            main.clone().ok_or_else(|| {
                self.err(
                    name_span.clone(),
                    format!("scenario `{name}` has {what} but no `service`"),
                    Some("add service = \"<id>\" naming a [service.<id>] table".into()),
                )
            })
        };
        let mut steps = Vec::new();
        let mut parallel = false;
        match (&sc.run, &sc.steps) {
            (Some(run), Some(_)) => {
                return Err(self.err(
                    run.span(),
                    format!("scenario `{name}` has both `run` and `steps`"),
                    Some(
                        "use `run` for one command (or commands at once), `steps` for a sequence"
                            .into(),
                    ),
                ));
            }
            (None, None) => {
                return Err(self.err(
                    name_span,
                    format!("scenario `{name}` has nothing to run"),
                    Some("add run = \"<command>\" or steps = [{ run = \"...\" }]".into()),
                ));
            }
            (Some(run), None) => match run.get_ref() {
                Run::Command(cmd) => steps.push(StepSpec {
                    name: name.clone(),
                    service: need_main("`run`")?,
                    command: cmd.clone(),
                    timeout,
                }),
                Run::Parallel(entries) => {
                    if entries.is_empty() {
                        return Err(self.err(
                            run.span(),
                            format!("scenario `{name}`: `run = []` has nothing to run"),
                            Some(
                                "write run = [{ service = \"<id>\", command = \"...\" }, ...]"
                                    .into(),
                            ),
                        ));
                    }
                    parallel = true;
                    for e in entries {
                        let service = self.service_ref(&e.get_ref().service, services)?;
                        steps.push(StepSpec {
                            name: e
                                .get_ref()
                                .name
                                .clone()
                                .unwrap_or_else(|| format!("{name}/{service}")),
                            service,
                            command: e.get_ref().command.clone(),
                            timeout: e
                                .get_ref()
                                .timeout_ms
                                .map(Duration::from_millis)
                                .or(timeout),
                        });
                    }
                }
            },
            (None, Some(list)) => {
                if list.get_ref().is_empty() {
                    return Err(self.err(
                        list.span(),
                        format!("scenario `{name}`: `steps = []` has nothing to run"),
                        Some("write steps = [{ run = \"...\" }, ...]".into()),
                    ));
                }
                let service = need_main("`steps`")?;
                for (i, s) in list.get_ref().iter().enumerate() {
                    let s = s.get_ref();
                    steps.push(StepSpec {
                        name: s.name.clone().unwrap_or_else(|| format!("{name}/{i}")),
                        service: service.clone(),
                        command: s.run.clone(),
                        timeout: s.timeout_ms.map(Duration::from_millis).or(timeout),
                    });
                }
            }
        }
        let mut used: Vec<String> = main.into_iter().collect();
        let mut extra = Vec::new();
        let parallel_services = match sc.parallel_services.as_ref().map(Spanned::get_ref) {
            None => false,
            Some(ParallelServices::All(b)) => *b,
            Some(ParallelServices::These(list)) => {
                for r in list {
                    extra.push(self.service_ref(r, services)?);
                }
                true
            }
        };
        for s in steps.iter().map(|s| &s.service).chain(&extra) {
            if !used.contains(s) {
                used.push(s.clone());
            }
        }
        let flag = |f: &Option<Spanned<bool>>| f.as_ref().is_some_and(|b| *b.get_ref());
        let expect_failure = flag(&sc.expect_failure);
        let expect_partial_failure = flag(&sc.expect_partial_failure);
        if expect_failure && expect_partial_failure {
            let span = sc
                .expect_partial_failure
                .as_ref()
                .map(Spanned::span)
                .unwrap_or(name_span.clone());
            return Err(self.err(
                span,
                format!("scenario `{name}` sets both `expect_failure` and `expect_partial_failure`"),
                Some("expect_failure: some step must fail; expect_partial_failure: some steps fail and others pass. Keep one".into()),
            ));
        }
        let timeout_strategy = sc
            .timeout_strategy
            .as_ref()
            .map(|t| *t.get_ref())
            .unwrap_or_default();
        let grace_period = match &sc.grace_period_ms {
            Some(g) if timeout_strategy == TimeoutStrategy::Hard => {
                let how = if sc.timeout_strategy.is_some() {
                    "timeout_strategy = \"hard\""
                } else {
                    "the default timeout_strategy (\"hard\")"
                };
                return Err(self.err(g.span(), format!("`grace_period_ms` has no effect with {how}: a hard timeout kills at once"), Some("add timeout_strategy = \"graceful\" (SIGTERM, then SIGKILL after grace_period_ms), or remove grace_period_ms".into())));
            }
            Some(g) => Some(Duration::from_millis(*g.get_ref())),
            None => None,
        };
        let deadline = match &sc.deadline_ms {
            Some(d) if *d.get_ref() == 0 => {
                return Err(self.err(
                    d.span(),
                    "`deadline_ms` must be at least 1",
                    Some("it bounds the whole scenario from its start, across all steps".into()),
                ))
            }
            Some(d) => Some(Duration::from_millis(*d.get_ref())),
            None => None,
        };
        let mut artifacts = Vec::new();
        for p in sc.artifacts.iter().flat_map(|a| &a.collect) {
            if !p.get_ref().starts_with('/') {
                return Err(self.err(p.span(), format!("artifact path `{}` is not absolute", p.get_ref()), Some("artifacts.collect takes absolute paths inside the scenario's containers, e.g. \"/var/log/app.log\"".into())));
            }
            artifacts.push(p.get_ref().clone());
        }
        Ok(ScenarioSpec {
            name: name.clone(),
            services: used,
            steps,
            parallel,
            injections: self.injections(sc)?,
            expect_failure,
            expect_partial_failure,
            parallel_services,
            max_duration,
            timeout_strategy,
            grace_period,
            deadline,
            artifacts,
        })
    }

    fn injections(&self, sc: &model::Scenario) -> Result<Vec<InjectionSpec>, SuiteError> {
        let Some(ci) = &sc.chaos_injection else {
            return Ok(Vec::new());
        };
        let tables: Vec<(&ChaosTable, Range<usize>)> = match ci.get_ref() {
            ChaosInjection::One(t) => vec![(t, ci.span())],
            ChaosInjection::Many(list) => list.iter().map(|t| (t.get_ref(), t.span())).collect(),
        };
        tables
            .into_iter()
            .map(|(t, span)| match t.0.get("type") {
                Some(ty) => match ty.get_ref() {
                    toml::Value::String(s) if !s.is_empty() => {
                        let json = serde_json::Value::Object(
                            t.0.iter()
                                .map(|(k, v)| (k.clone(), toml_to_json(v.get_ref())))
                                .collect(),
                        );
                        Ok(InjectionSpec {
                            fault_type: s.clone(),
                            config_json: json.to_string(),
                            span,
                            positions: Default::default(),
                        })
                    }
                    other => Err(self.err(
                        ty.span(),
                        format!(
                            "`type` must be a fault type name, found {}",
                            describe(other)
                        ),
                        Some("e.g. type = \"kill_container\"".into()),
                    )),
                },
                None => Err(self.err(
                    span,
                    "a `chaos_injection` table needs `type` (a string)",
                    Some("e.g. { type = \"kill_container\", delay_ms = 500 }".into()),
                )),
            })
            .collect()
    }
}

fn describe(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => format!("string {s:?}"),
        other => format!("{} `{other}`", other.type_str()),
    }
}

fn cleanup_spec(c: &model::Cleanup) -> CleanupSpec {
    use model::{OnFailure, Policy};
    let keep = c.on_failure == Some(OnFailure::Keep);
    // on_failure = "keep" turns every unset policy into on_success.
    let policy = |p: Option<Policy>| {
        p.unwrap_or(if keep {
            Policy::OnSuccess
        } else {
            Policy::Always
        })
    };
    let d = CleanupSpec::default();
    CleanupSpec {
        containers: policy(c.containers),
        networks: policy(c.networks),
        volumes: policy(c.volumes),
        verify: c.verify_cleanup.unwrap_or(d.verify),
        timeout: c
            .cleanup_timeout_ms
            .map(Duration::from_millis)
            .unwrap_or(d.timeout),
    }
}

fn list<'a>(names: impl Iterator<Item = &'a String>) -> String {
    names
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// TOML to JSON, 1:1 (datetimes become their RFC 3339 text).
pub fn toml_to_json(v: &toml::Value) -> serde_json::Value {
    use serde_json::Value as J;
    match v {
        toml::Value::String(s) => J::String(s.clone()),
        toml::Value::Integer(i) => J::from(*i),
        toml::Value::Float(f) => serde_json::Number::from_f64(*f)
            .map(J::Number)
            .unwrap_or(J::Null),
        toml::Value::Boolean(b) => J::Bool(*b),
        toml::Value::Datetime(d) => J::String(d.to_string()),
        toml::Value::Array(a) => J::Array(a.iter().map(toml_to_json).collect()),
        toml::Value::Table(t) => J::Object(
            t.iter()
                .map(|(k, v)| (k.clone(), toml_to_json(v)))
                .collect(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_text(text: &str) -> Result<Suite, SuiteError> {
        load_str(Path::new("t.clnrm.toml"), text.to_string())
    }

    /// The error of a suite that must not load: (line, col, message, help).
    fn fails(text: &str) -> (usize, usize, String, String) {
        match load_text(text) {
            Ok(_) => panic!("loaded, but should not have:\n{text}"),
            Err(e) => (
                e.line,
                e.col,
                e.message.clone(),
                e.help.clone().unwrap_or_default(),
            ),
        }
    }

    const OK: &str = r#"
[meta]
name = "demo"
[service.app]
image = "clnrm-base:latest"
[[scenario]]
name = "killed"
service = "app"
run = "sleep 5"
expect_failure = true
chaos_injection = { type = "kill_container", delay_ms = 500 }
"#;

    #[test]
    fn loads_a_valid_suite() {
        let s = load_text(OK).unwrap();
        assert_eq!(s.name, "demo");
        assert_eq!(s.scenarios[0].steps[0].name, "killed");
        assert_eq!(s.scenarios[0].injections[0].fault_type, "kill_container");
        // Defaults of everything new.
        assert_eq!(s.otel, OtelSpec::default());
        assert_eq!(s.report, ReportSpec::default());
        let sc = &s.scenarios[0];
        assert!(!sc.expect_partial_failure);
        assert_eq!(sc.timeout_strategy, TimeoutStrategy::Hard);
        assert_eq!((sc.grace_period, sc.deadline), (None, None));
        assert!(sc.artifacts.is_empty());
        assert_eq!(s.services["app"].wait_for_span, None);
    }

    #[test]
    fn unknown_key_names_line_col_and_suggests() {
        let e = load_text(&OK.replace("expect_failure", "expect_failur")).unwrap_err();
        assert_eq!((e.line, e.col), (10, 1), "{e}");
        assert!(
            e.help.as_deref().unwrap_or("").contains("expect_failure"),
            "{:?}",
            e.help
        );
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
    }

    #[test]
    fn freeze_clock_parses() {
        let s = load_text(&format!(
            "[determinism]\nseed = 7\nfreeze_clock = \"2025-01-01T00:00:00Z\"\n{OK}"
        ))
        .unwrap();
        assert_eq!(s.freeze_clock_unix_ns, Some(1_735_689_600_000_000_000));
        assert_eq!(s.seed, Some(7));
        // An unquoted TOML datetime is the same instant.
        let s = load_text(&format!(
            "[determinism]\nfreeze_clock = 2025-01-01T00:00:00Z\n{OK}"
        ))
        .unwrap();
        assert_eq!(s.freeze_clock_unix_ns, Some(1_735_689_600_000_000_000));
        let (l, c, m, _) = fails(&format!(
            "[determinism]\nfreeze_clock = \"2025-13-01T00:00:00Z\"\n{OK}"
        ));
        assert_eq!((l, c), (2, 16), "{m}");
        assert!(m.contains("not an RFC 3339 instant"), "{m}");
    }

    /// Every key of the dialect, in one file.
    const FULL: &str = r#"
[meta]
name = "full"
version = "1.0.0"
description = "every key"
author = "qa"
tags = ["chaos", "all"]

[determinism]
seed = 666
freeze_clock = "2025-01-01T00:00:00Z"

[vars]
image = "clnrm-base:latest"
delay = 250
ratio = 0.5
strict = true

[otel]
exporter = "otlp"
endpoint = "http://collector:4318"
sample_ratio = 0.25
resources = { "service.name" = "clnrm-{{ image }}", "deployment.environment" = "ci" }

[limits]
cpu_millicores = 500
memory_mb = 256
max_duration_seconds = 60

[report]
name = "full-report"
json = true
junit = false
digest = true
cleanup = false

[cleanup]
containers = "always"
networks = "on_success"
volumes = "never"
on_failure = "keep"
verify_cleanup = true
cleanup_timeout_ms = 10000

[service.app]
type = "generic_container"
image = "{{image}}"
args = ["sh", "-c", "sleep {{ delay }}"]
env = { MODE = "strict={{ strict }}" }
limits = { memory_mb = 64, cpu_millicores = 100, max_file_descriptors = 64, pids = 32, tmpfs = { "/data" = 16 } }
capabilities = ["NET_ADMIN"]
wait_for_span = "clnrm.service.start"

[service.db]
image = "clnrm-base:latest"

[[scenario]]
name = "seq"
service = "app"
steps = [
  { name = "first", run = "echo 1", timeout_ms = 100 },
  { run = "echo 2" },
]
timeout_ms = 5000
timeout_strategy = "graceful"
grace_period_ms = 2000
deadline_ms = 9000
expect_partial_failure = true
artifacts = { collect = ["/var/log/app.log", "/tmp/{{ image }}"] }
chaos_injection = {
  type = "kill_container",   # TOML 1.1: a multi-line inline table
  delay_ms = 500,            # with comments
  target = "app",            # and a trailing comma
}

[[scenario]]
name = "par"
parallel_services = ["db"]
run = [
  { service = "app", command = "sleep {{ delay }}", timeout_ms = 700 },
  { name = "on-db", service = "db", command = "true" },
]
expect_failure = true
chaos_injection = [
  { type = "kill_container", target = "app", delay_ms = 300 },
  { type = "kill_container", target = "db", delay_ms = 300 },
]

[[scenario]]
name = "all-at-once"
service = "app"
parallel_services = true
run = "true"

[[expect.span]]
name = "clnrm.step:{{ image }}"
attrs.all = { "delay" = "{{ delay }}" }

[expect.graph]
acyclic = true
"#;

    #[test]
    fn the_whole_dialect_loads() {
        let s = load_text(FULL).unwrap();
        assert_eq!(s.name, "full-report");
        assert_eq!(s.meta.tags, vec!["chaos", "all"]);
        assert_eq!(s.seed, Some(666));
        assert_eq!(s.vars["delay"], "250");
        assert_eq!(s.vars["ratio"], "0.5");
        assert_eq!(s.vars["strict"], "true");
        assert_eq!(s.otel.exporter, Exporter::Otlp);
        assert_eq!(s.otel.endpoint.as_deref(), Some("http://collector:4318"));
        assert_eq!(s.otel.sample_ratio, 0.25);
        assert_eq!(s.otel.resources["service.name"], "clnrm-clnrm-base:latest");
        assert_eq!(
            s.report,
            ReportSpec {
                json: true,
                junit: false,
                digest: true,
                cleanup: false
            }
        );
        assert_eq!(s.cleanup.networks, super::super::Policy::OnSuccess);
        assert_eq!(s.cleanup.timeout, Duration::from_secs(10));

        let app = &s.services["app"];
        assert_eq!(app.image, "clnrm-base:latest");
        assert_eq!(app.args, vec!["sh", "-c", "sleep 250"]);
        assert_eq!(app.env["MODE"], "strict=true");
        assert_eq!(
            (
                app.memory_mb,
                app.cpu_millicores,
                app.pids,
                app.max_file_descriptors
            ),
            (Some(64), Some(100), Some(32), Some(64))
        );
        assert_eq!(app.tmpfs["/data"], 16);
        assert_eq!(app.wait_for_span.as_deref(), Some("clnrm.service.start"));
        assert_eq!(
            s.services["db"].memory_mb,
            Some(256),
            "[limits] memory_mb is the default"
        );

        let seq = &s.scenarios[0];
        assert_eq!(
            seq.steps
                .iter()
                .map(|s| s.name.as_str())
                .collect::<Vec<_>>(),
            ["first", "seq/1"]
        );
        assert_eq!(seq.steps[0].timeout, Some(Duration::from_millis(100)));
        assert_eq!(seq.steps[1].timeout, Some(Duration::from_millis(5000)));
        assert!(!seq.parallel);
        assert!(seq.expect_partial_failure && !seq.expect_failure);
        assert_eq!(seq.timeout_strategy, TimeoutStrategy::Graceful);
        assert_eq!(seq.grace_period, Some(Duration::from_secs(2)));
        assert_eq!(seq.deadline, Some(Duration::from_secs(9)));
        assert_eq!(seq.max_duration, Duration::from_secs(60));
        assert_eq!(
            seq.artifacts,
            vec!["/var/log/app.log", "/tmp/clnrm-base:latest"]
        );
        assert_eq!(seq.injections.len(), 1);
        let cfg: serde_json::Value = serde_json::from_str(&seq.injections[0].config_json).unwrap();
        assert_eq!(
            cfg,
            serde_json::json!({ "type": "kill_container", "delay_ms": 500, "target": "app" })
        );

        let par = &s.scenarios[1];
        assert!(par.parallel && par.parallel_services && par.expect_failure);
        assert_eq!(par.services, vec!["app", "db"]);
        assert_eq!(
            par.steps
                .iter()
                .map(|s| (s.name.as_str(), s.service.as_str(), s.command.as_str()))
                .collect::<Vec<_>>(),
            [("par/app", "app", "sleep 250"), ("on-db", "db", "true")]
        );
        assert_eq!(par.steps[0].timeout, Some(Duration::from_millis(700)));
        assert_eq!(par.injections.len(), 2);
        // Each entry of an array keeps its own position.
        let (l0, c0) = super::super::line_col(&s.source, par.injections[0].span.start);
        let (l1, c1) = super::super::line_col(&s.source, par.injections[1].span.start);
        assert_eq!((c0, c1), (3, 3));
        assert_eq!(l1, l0 + 1);
        assert!(s.scenarios[2].parallel_services);

        assert_eq!(s.expectations.len(), 2);
        let span: serde_json::Value = serde_json::from_str(
            &s.expectations
                .iter()
                .find(|e| e.table == "span")
                .unwrap()
                .config_json,
        )
        .unwrap();
        assert_eq!(
            span,
            serde_json::json!([{ "name": "clnrm.step:clnrm-base:latest", "attrs": { "all": { "delay": "250" } } }])
        );
    }

    #[test]
    fn multiline_inline_tables_are_toml_1_1() {
        let text = OK.replace(
            "chaos_injection = { type = \"kill_container\", delay_ms = 500 }",
            "chaos_injection = {\n  # why: the step must be mid-flight\n  type = \"kill_container\",\n  delay_ms = 500,\n}",
        );
        let s = load_text(&text).unwrap();
        assert_eq!(s.scenarios[0].injections[0].fault_type, "kill_container");
        let arr = OK.replace(
            "run = \"sleep 5\"",
            "run = [\n  {\n    service = \"app\",  # main\n    command = \"sleep 5\",\n  },\n]",
        );
        let s = load_text(&arr).unwrap();
        assert_eq!(s.scenarios[0].steps[0].name, "killed/app");
    }

    #[test]
    fn vars_errors_point_into_the_string() {
        let text = "[vars]\nimage = \"x\"\n[service.app]\nimage = \"{{ image }}\"\n[[scenario]]\nname = \"k\"\nservice = \"app\"\nrun = \"echo {{ imgae }}\"\n";
        let (l, c, m, h) = fails(text);
        assert_eq!((l, c), (8, 13), "{m}");
        assert!(m.contains("undefined variable `imgae`"), "{m}");
        assert!(
            h.contains("did you mean `{{ image }}`") && h.contains("`image`"),
            "{h}"
        );
        let (l, c, m, _) = fails(&text.replace("{{ imgae }}", "{{ image"));
        assert_eq!((l, c), (8, 13), "{m}");
        assert!(m.contains("unclosed placeholder"), "{m}");
        let (l, c, m, _) = fails("[vars]\nlist = [1, 2]\n");
        assert_eq!((l, c), (2, 8), "{m}");
        assert!(m.contains("variable `list` is an array"), "{m}");
        // A value's position survives substitution: a later type error points at the string.
        let (l, c, m, _) = fails("[vars]\nn = 5\n[service.app]\nimage = \"x\"\n[[scenario]]\nname = \"k\"\nservice = \"app\"\nrun = \"x\"\ntimeout_ms = \"{{ n }}\"\n");
        assert_eq!((l, c), (9, 14), "{m}");
        assert!(m.contains("invalid type: string \"5\""), "{m}");
        // Not a placeholder: kept as written.
        let s = load_text(&OK.replace("sleep 5", "docker inspect -f '{{.State.Pid}}' x")).unwrap();
        assert_eq!(
            s.scenarios[0].steps[0].command,
            "docker inspect -f '{{.State.Pid}}' x"
        );
    }

    #[test]
    fn run_entries_say_what_was_expected() {
        let (l, c, m, h) = fails(&OK.replace(
            "run = \"sleep 5\"",
            "run = [\n  { service = \"app\", comand = \"x\" },\n]",
        ));
        assert_eq!((l, c), (10, 22), "{m}");
        assert!(h.contains("did you mean `command`"), "{h}");
        let (l, c, m, _) = fails(&OK.replace("run = \"sleep 5\"", "run = 5"));
        assert_eq!((l, c), (9, 7), "{m}");
        assert!(
            m.contains(
                "expected `run` to be a command string, or an array of { service, command } tables"
            ),
            "{m}"
        );
        let (l, c, m, _) = fails(&OK.replace("run = \"sleep 5\"", "run = [\"sleep 5\"]"));
        assert_eq!((l, c), (9, 8), "{m}");
        assert!(m.contains("expected a { service, command } table"), "{m}");
        let (l, c, m, h) = fails(&OK.replace("run = \"sleep 5\"", "run = [{ service = \"app\" }]"));
        assert_eq!((l, c), (9, 8), "{m}");
        assert!(
            m.contains("missing field `command`") && h.contains("add command"),
            "{m} / {h}"
        );
        let (l, c, m, _) = fails(&OK.replace(
            "run = \"sleep 5\"",
            "run = [{ service = \"db\", command = \"x\" }]",
        ));
        assert_eq!((l, c), (9, 20), "{m}");
        assert!(m.contains("unknown service `db`"), "{m}");
        let (l, c, m, h) = fails(&OK.replace("run = \"sleep 5\"", "steps = [{ rn = \"x\" }]"));
        assert_eq!((l, c), (9, 12), "{m}");
        assert!(h.contains("did you mean `run`"), "{h}");
        let (_, _, m, _) = fails(&OK.replace("run = \"sleep 5\"", "run = []"));
        assert!(m.contains("`run = []` has nothing to run"), "{m}");
    }

    #[test]
    fn parallel_services_errors() {
        let (l, c, m, _) = fails(&OK.replace(
            "run = \"sleep 5\"",
            "run = \"x\"\nparallel_services = [\"app\", \"ap2\"]",
        ));
        assert_eq!((l, c), (10, 29), "{m}");
        assert!(m.contains("unknown service `ap2`"), "{m}");
        let (l, c, m, _) = fails(&OK.replace(
            "run = \"sleep 5\"",
            "run = \"x\"\nparallel_services = \"yes\"",
        ));
        assert_eq!((l, c), (10, 21), "{m}");
        assert!(
            m.contains(
                "expected `parallel_services` to be true, false, or an array of service names"
            ),
            "{m}"
        );
    }

    #[test]
    fn otel_errors() {
        let (l, c, m, h) = fails(&format!("[otel]\nexporter = \"otlp\"\n{OK}"));
        assert_eq!((l, c), (2, 12), "{m}");
        assert!(
            m.contains("needs an `endpoint`") && h.contains("endpoint ="),
            "{m}"
        );
        let (l, c, m, h) = fails(&format!("[otel]\nexporter = \"otpl\"\n{OK}"));
        assert_eq!((l, c), (2, 12), "{m}");
        assert!(h.contains("did you mean \"otlp\""), "{h}");
        let (l, c, m, _) = fails(&format!("[otel]\nsample_ratio = 1.5\n{OK}"));
        assert_eq!((l, c), (2, 16), "{m}");
        let (l, _, m, _) = fails(&format!("[otel]\nendpoint = \"http://x\"\n{OK}"));
        assert_eq!(l, 2, "{m}");
        assert!(m.contains("only used with exporter = \"otlp\""), "{m}");
        let s = load_text(&format!(
            "[otel]\nexporter = \"none\"\nsample_ratio = 0\n{OK}"
        ))
        .unwrap();
        assert_eq!(
            (s.otel.exporter, s.otel.sample_ratio),
            (Exporter::None, 0.0)
        );
    }

    #[test]
    fn scenario_combinations() {
        let (l, c, m, _) = fails(&OK.replace(
            "expect_failure = true",
            "expect_failure = true\nexpect_partial_failure = true",
        ));
        assert_eq!((l, c), (11, 26), "{m}");
        assert!(
            m.contains("both `expect_failure` and `expect_partial_failure`"),
            "{m}"
        );
        let (l, c, m, h) = fails(&OK.replace("expect_failure = true", "grace_period_ms = 500"));
        assert_eq!((l, c), (10, 19), "{m}");
        assert!(
            m.contains("the default timeout_strategy")
                && h.contains("timeout_strategy = \"graceful\""),
            "{m} / {h}"
        );
        let (_, _, m, _) = fails(&OK.replace(
            "expect_failure = true",
            "timeout_strategy = \"hard\"\ngrace_period_ms = 500",
        ));
        assert!(m.contains("timeout_strategy = \"hard\""), "{m}");
        let (l, c, m, h) =
            fails(&OK.replace("expect_failure = true", "timeout_strategy = \"gracefull\""));
        assert_eq!((l, c), (10, 20), "{m}");
        assert!(h.contains("did you mean \"graceful\""), "{h}");
        let (l, c, m, _) = fails(&OK.replace(
            "expect_failure = true",
            "artifacts = { collect = [\"logs/x\"] }",
        ));
        assert_eq!((l, c), (10, 26), "{m}");
        let (l, c, m, h) =
            fails(&OK.replace("expect_failure = true", "artifacts = { colect = [] }"));
        assert_eq!((l, c), (10, 15), "{m}");
        assert!(h.contains("did you mean `collect`"), "{h}");
        let (l, c, m, _) = fails(&OK.replace("expect_failure = true", "deadline_ms = 0"));
        assert_eq!((l, c), (10, 15), "{m}");
    }

    #[test]
    fn services() {
        let (l, c, m, _) = fails(&OK.replace(
            "image = \"clnrm-base:latest\"",
            "image = \"clnrm-base:latest\"\nplugin = \"postgres\"",
        ));
        assert_eq!((l, c), (6, 10), "{m}");
        assert!(m.contains("service plugins are not supported yet"), "{m}");
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
    }

    #[test]
    fn duplicate_scenario_names_point_at_the_second() {
        let text =
            format!("{OK}[[scenario]]\nname = \"killed\"\nservice = \"app\"\nrun = \"true\"\n");
        let (l, c, m, h) = fails(&text);
        assert_eq!((l, c), (13, 8), "{m}");
        assert!(h.contains("first used on line 7"), "{h}");
    }

    #[test]
    fn chaos_type_must_be_a_string() {
        let (l, c, m, _) = fails(&OK.replace("type = \"kill_container\"", "type = 5"));
        assert_eq!((l, c), (11, 28), "{m}");
        assert!(m.contains("found integer `5`"), "{m}");
        let (l, c, m, _) = fails(
            &OK.replace("chaos_injection = {", "chaos_injection = [{")
                .replace("delay_ms = 500 }", "delay_ms = 500 }, 7]"),
        );
        assert_eq!((l, c), (11, 65), "{m}");
        assert!(m.contains("expected a chaos_injection table"), "{m}");
    }
}

fn is_plain_file_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

/// `meta.name` as a report base name: anything but letters, digits, `.`,
/// `_` and `-` becomes `_`, and no leading dot.
fn to_file_name(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let s = s.trim_start_matches('.');
    if s.is_empty() {
        "suite".to_string()
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod file_name_tests {
    use super::*;

    #[test]
    fn report_names_stay_in_the_report_dir() {
        assert!(is_plain_file_name("chaos_container_failures"));
        assert!(!is_plain_file_name("../../tmp/evil"));
        assert!(!is_plain_file_name(".hidden"));
        assert_eq!(to_file_name("My suite/../x"), "My_suite_.._x");
        assert_eq!(to_file_name("../up"), "_up");
    }
}
