//! `[[scenario]]`: what runs (`steps.rs`), what is injected (`chaos.rs`),
//! which services start, what outcome is expected, and the time bounds.

use super::chaos::{self, ChaosInjection, InjectionSpec};
use super::de::{TableOf, TableShape};
use super::diag::{line_col, nearest, Ctx, SuiteError};
use super::positions::Positions;
use super::service::{service_ref, ServiceSpec};
use super::steps::{self, Run, Scope, StepList, StepSpec};
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;
use toml::Spanned;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub name: Spanned<String>,
    /// The scenario's main service (the one `run` and `steps` execute in).
    pub service: Option<Spanned<String>>,
    /// A command, or commands run at once in several services.
    pub run: Option<Spanned<Run>>,
    /// Commands run one after another in the main service.
    pub steps: Option<StepList>,
    /// One injection table or an array of them.
    pub chaos_injection: Option<Spanned<ChaosInjection>>,
    pub expect_failure: Option<Spanned<bool>>,
    /// Some steps fail, some pass.
    pub expect_partial_failure: Option<Spanned<bool>>,
    /// `true`: start the scenario's services at once instead of one after
    /// another; a list: also start these services (peers), all at once.
    pub parallel_services: Option<Spanned<ParallelServices>>,
    /// Bound on each step, in milliseconds (the step is killed when it passes).
    pub timeout_ms: Option<u64>,
    /// The same as text (`"1s"`), as the original clnrm files write it.
    pub timeout: Option<Spanned<super::de::DurationText>>,
    pub timeout_strategy: Option<Spanned<TimeoutStrategy>>,
    pub grace_period_ms: Option<Spanned<u64>>,
    /// Absolute bound from scenario start, across all steps.
    pub deadline_ms: Option<Spanned<u64>>,
    pub artifacts: Option<Artifacts>,
    /// A command run in the main service once the steps and injections are
    /// over: it must succeed (`clnrm.resource.recovery`).
    pub recovery_probe: Option<Spanned<String>>,
    /// Whether the scenario gets a network of its own (`auto` by default).
    pub network: Option<Spanned<NetworkMode>>,
}

impl TableShape for Scenario {
    const EXPECTING: &'static str = "a [[scenario]] table (name, service, run or steps, ...)";
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Artifacts {
    #[serde(default)]
    pub collect: Vec<Spanned<String>>,
}

/// One entry of `artifacts.collect`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Artifact {
    /// An absolute path in the main container, copied out as a tar archive.
    Path(String),
    /// `spans:<name>`: the scenario's spans, as JSON, in `spans-<name>.json`.
    Spans(String),
    /// `logs:all` (None) or `logs:<service>`: the containers' output.
    Logs(Option<String>),
}

impl Artifact {
    fn parse(cx: &Ctx, p: &Spanned<String>, services: &[String]) -> Result<Artifact, SuiteError> {
        let v = p.get_ref();
        if v.starts_with('/') {
            return Ok(Artifact::Path(v.clone()));
        }
        let plain = |s: &str| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        };
        match v.split_once(':') {
            Some(("spans", name)) if plain(name) => Ok(Artifact::Spans(name.to_string())),
            Some(("spans", _)) => Err(cx.err(p.span(), format!("`{v}`: the name after `spans:` must be a plain file name"), Some("e.g. \"spans:default\" writes the scenario's spans to spans-default.json".into()))),
            Some(("logs", "all")) => Ok(Artifact::Logs(None)),
            Some(("logs", service)) if services.iter().any(|s| s == service) => {
                Ok(Artifact::Logs(Some(service.to_string())))
            }
            Some(("logs", service)) => {
                let hint = match nearest(service, services.iter().map(String::as_str)) {
                    Some(n) => format!("did you mean \"logs:{n}\"? this scenario's services: {}; or \"logs:all\"", services.join(", ")),
                    None => format!("this scenario's services: {}; or \"logs:all\"", services.join(", ")),
                };
                Err(cx.err(p.span(), format!("`{v}`: `{service}` is not a service of this scenario"), Some(hint)))
            }
            Some((kind, _)) => {
                let hint = match nearest(kind, ["spans", "logs"]) {
                    Some(n) => format!("did you mean `{n}:`? selectors are spans:<name>, logs:all, logs:<service>; paths are absolute"),
                    None => "selectors are spans:<name>, logs:all, logs:<service>; paths are absolute, e.g. \"/var/log/app.log\"".into(),
                };
                Err(cx.err(p.span(), format!("unknown artifact selector `{kind}:` in `{v}`"), Some(hint)))
            }
            None => Err(cx.err(p.span(), format!("artifact path `{v}` is not absolute"), Some("artifacts.collect takes absolute paths inside the scenario's main container, e.g. \"/var/log/app.log\", or the selectors spans:<name>, logs:all, logs:<service>".into()))),
        }
    }
}

/// `parallel_services`: `true`/`false`, or peer services started alongside.
#[derive(Debug)]
pub enum ParallelServices {
    All(bool),
    These(Vec<Spanned<String>>),
}

impl<'de> Deserialize<'de> for ParallelServices {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ParallelServices;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("`parallel_services` to be true, false, or an array of service names")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<ParallelServices, E> {
                Ok(ParallelServices::All(v))
            }
            fn visit_seq<A: SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<ParallelServices, A::Error> {
                let mut out = Vec::new();
                while let Some(e) = seq.next_element::<Spanned<ServiceName>>()? {
                    let span = e.span();
                    out.push(Spanned::new(span, e.into_inner().0));
                }
                Ok(ParallelServices::These(out))
            }
        }
        d.deserialize_any(V)
    }
}

/// A service id inside `parallel_services`.
struct ServiceName(String);

impl<'de> Deserialize<'de> for ServiceName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ServiceName;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a service name (the <id> of a [service.<id>] table)")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ServiceName, E> {
                Ok(ServiceName(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

/// `[[scenario]] network`: whether the scenario's containers share a bridge
/// network of their own, created for it and removed after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NetworkMode {
    /// Its own network when it needs one: several services, or a fault from a
    /// plugin that acts on the network (capability `net` or `compose`);
    /// otherwise none. Decided by the engine, which knows the plugins.
    #[default]
    Auto,
    /// Always its own network (e.g. a single service that needs egress).
    Own,
    /// No network at all: the containers have only loopback.
    None,
}

/// `[[scenario]] timeout_strategy`: what happens to a step whose bound passes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TimeoutStrategy {
    /// Kill at once (SIGKILL).
    #[default]
    Hard,
    /// SIGTERM, then SIGKILL after `grace_period`.
    Graceful,
}

#[derive(Debug, Clone)]
pub struct ScenarioSpec {
    pub name: String,
    /// Services to start, the main one first.
    pub services: Vec<String>,
    pub steps: Vec<StepSpec>,
    /// Steps run at once (`run = [{ service, command }, ...]`) instead of in order.
    pub parallel: bool,
    pub injections: Vec<InjectionSpec>,
    pub expect_failure: bool,
    /// Some steps fail and some pass (exclusive with `expect_failure`).
    pub expect_partial_failure: bool,
    pub parallel_services: bool,
    /// Bound on the whole scenario (steps and injections), from `[limits]`.
    pub max_duration: Duration,
    pub timeout_strategy: TimeoutStrategy,
    /// `grace_period_ms`: SIGTERM-to-SIGKILL delay (only with `Graceful`).
    pub grace_period: Option<Duration>,
    /// `deadline_ms`: absolute bound from scenario start across all steps.
    pub deadline: Option<Duration>,
    /// `artifacts.collect`: paths to copy out of the main container, and
    /// `spans:` / `logs:` selectors.
    pub artifacts: Vec<Artifact>,
    /// `recovery_probe`: run in the main service after the steps and injections.
    pub recovery_probe: Option<String>,
    /// `network`: own, none, or decided by the engine (auto).
    pub network: NetworkMode,
}

/// What every scenario is checked against.
pub struct Context<'a> {
    pub services: &'a BTreeMap<String, ServiceSpec>,
    /// From `[limits]`.
    pub max_duration: Duration,
    /// Positions inside each scenario's `chaos_injection` tables, by
    /// scenario (see `chaos::locate`).
    pub chaos_positions: Vec<Vec<Positions>>,
}

/// All the scenarios, in file order: at least one, names unique, step names
/// unique across the suite.
pub fn check_all(
    cx: &Ctx,
    raw: &[TableOf<Scenario>],
    mut with: Context,
) -> Result<Vec<ScenarioSpec>, SuiteError> {
    let mut scenarios: Vec<ScenarioSpec> = Vec::new();
    let mut names = BTreeMap::new();
    let mut chaos_positions = std::mem::take(&mut with.chaos_positions).into_iter();
    for sc in raw {
        let name = &sc.name;
        if let Some(first) = names.insert(name.get_ref().clone(), name.span()) {
            let (line, _) = line_col(cx.source, first.start);
            return Err(cx.err(name.span(), format!("duplicate scenario name `{}`", name.get_ref()), Some(format!("first used on line {line}; scenario names must be unique: they name step spans and report entries"))));
        }
        let spec = sc.check(cx, &with, chaos_positions.next().unwrap_or_default())?;
        // Step names name spans (`clnrm.step:<name>`): two alike would make
        // every expectation about them ambiguous.
        for st in &spec.steps {
            if let Some(other) = scenarios
                .iter()
                .flat_map(|o| o.steps.iter().map(move |s| (o, s)))
                .find(|(_, s)| s.name == st.name)
                .map(|(o, _)| o.name.clone())
                .or_else(|| {
                    (spec.steps.iter().filter(|s| s.name == st.name).count() > 1)
                        .then(|| spec.name.clone())
                })
            {
                return Err(cx.err(name.span(), format!("duplicate step name `{}` (also in scenario `{other}`)", st.name), Some("step names must be unique in a suite: they name the `clnrm.step:<name>` spans; give the step a `name`".into())));
            }
        }
        scenarios.push(spec);
    }
    if scenarios.is_empty() {
        return Err(cx.err(
            0..0,
            "the suite has no [[scenario]]",
            Some("add at least one [[scenario]] with a name, a service and a run command".into()),
        ));
    }
    Ok(scenarios)
}

impl Scenario {
    fn check(
        &self,
        cx: &Ctx,
        with: &Context,
        chaos_positions: Vec<Positions>,
    ) -> Result<ScenarioSpec, SuiteError> {
        let name = self.name.get_ref();
        let name_span = self.name.span();
        if name.trim().is_empty() {
            return Err(cx.err(
                name_span,
                "a scenario name must not be empty",
                Some("it names the scenario span, its steps and its report entry".into()),
            ));
        }
        let main = self
            .service
            .as_ref()
            .map(|s| service_ref(cx, s, with.services))
            .transpose()?;
        let scope = Scope {
            name: &self.name,
            main: main.as_ref(),
            main_span: self.service.as_ref().map(Spanned::span),
            timeout: match (self.timeout_ms, &self.timeout) {
                (Some(_), Some(t)) => {
                    return Err(cx.err(
                        t.span(),
                        "both `timeout_ms` and `timeout` are given".to_string(),
                        Some("keep one: timeout_ms = 1000 or timeout = \"1s\"".into()),
                    ))
                }
                (ms, t) => ms
                    .map(Duration::from_millis)
                    .or(t.as_ref().map(|t| t.get_ref().0)),
            },
            services: with.services,
        };
        let (steps, parallel) = steps::resolve(cx, &scope, self.run.as_ref(), self.steps.as_ref())?;
        let mut used: Vec<String> = main.into_iter().collect();
        let mut extra = Vec::new();
        let parallel_services = match self.parallel_services.as_ref().map(Spanned::get_ref) {
            None => false,
            Some(ParallelServices::All(b)) => *b,
            Some(ParallelServices::These(list)) => {
                for r in list {
                    extra.push(service_ref(cx, r, with.services)?);
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
        let expect_failure = flag(&self.expect_failure);
        let expect_partial_failure = flag(&self.expect_partial_failure);
        if expect_failure && expect_partial_failure {
            let span = self
                .expect_partial_failure
                .as_ref()
                .map(Spanned::span)
                .unwrap_or(name_span.clone());
            return Err(cx.err(
                span,
                format!("scenario `{name}` sets both `expect_failure` and `expect_partial_failure`"),
                Some("expect_failure: some step must fail; expect_partial_failure: some steps fail and others pass. Keep one".into()),
            ));
        }
        let timeout_strategy = self
            .timeout_strategy
            .as_ref()
            .map(|t| *t.get_ref())
            .unwrap_or_default();
        let grace_period = match &self.grace_period_ms {
            Some(g) if timeout_strategy == TimeoutStrategy::Hard => {
                let how = if self.timeout_strategy.is_some() {
                    "timeout_strategy = \"hard\""
                } else {
                    "the default timeout_strategy (\"hard\")"
                };
                return Err(cx.err(g.span(), format!("`grace_period_ms` has no effect with {how}: a hard timeout kills at once"), Some("add timeout_strategy = \"graceful\" (SIGTERM, then SIGKILL after grace_period_ms), or remove grace_period_ms".into())));
            }
            Some(g) => Some(Duration::from_millis(*g.get_ref())),
            None => None,
        };
        let deadline = match &self.deadline_ms {
            Some(d) if *d.get_ref() == 0 => {
                return Err(cx.err(
                    d.span(),
                    "`deadline_ms` must be at least 1",
                    Some("it bounds the whole scenario from its start, across all steps".into()),
                ))
            }
            Some(d) => Some(Duration::from_millis(*d.get_ref())),
            None => None,
        };
        let mut artifacts = Vec::new();
        for p in self.artifacts.iter().flat_map(|a| &a.collect) {
            artifacts.push(Artifact::parse(cx, p, &used)?);
        }
        if let Some(p) = &self.recovery_probe {
            if p.get_ref().trim().is_empty() {
                return Err(cx.err(
                    p.span(),
                    "`recovery_probe` is empty",
                    Some(
                        "give a command that succeeds once the system recovered, e.g. \"true\""
                            .into(),
                    ),
                ));
            }
            let main_ready = used
                .first()
                .and_then(|m| with.services.get(m))
                .map(|s| (s.id.as_str(), s.ready.is_some()));
            if let (true, Some((main, false))) = (p.get_ref() == "ready", main_ready) {
                return Err(cx.err(
                    p.span(),
                    format!("`recovery_probe = \"ready\"` but service `{main}` has no `ready` probe"),
                    Some(format!("add one to [service.{main}], e.g. ready = {{ tcp = 8080 }}, or give a command")),
                ));
            }
        }
        Ok(ScenarioSpec {
            name: name.clone(),
            services: used,
            steps,
            parallel,
            injections: chaos::check(cx, self.chaos_injection.as_ref(), chaos_positions)?,
            expect_failure,
            expect_partial_failure,
            parallel_services,
            max_duration: with.max_duration,
            timeout_strategy,
            grace_period,
            deadline,
            artifacts,
            recovery_probe: self.recovery_probe.as_ref().map(|p| p.get_ref().clone()),
            network: self
                .network
                .as_ref()
                .map_or_else(NetworkMode::default, |n| *n.get_ref()),
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::suite::testing::{fails, load_text, OK};

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
        let (l, c, m, _) =
            fails(&OK.replace("run = \"sleep 5\"", "run = \"x\"\nparallel_services = [5]"));
        assert_eq!((l, c), (10, 22), "{m}");
        assert!(m.contains("expected a service name"), "{m}");
    }

    #[test]
    fn services_started_main_first_then_run_entries_then_peers() {
        let text = OK
            .replace(
                "[[scenario]]",
                "[service.db]\nimage = \"x\"\n[service.cache]\nimage = \"x\"\n[[scenario]]",
            )
            .replace(
                "run = \"sleep 5\"",
                "run = [{ service = \"db\", command = \"x\" }, { service = \"app\", command = \"y\" }]\nparallel_services = [\"cache\", \"db\"]",
            );
        let s = load_text(&text).unwrap();
        let sc = &s.scenarios[0];
        assert_eq!(sc.services, ["app", "db", "cache"]);
        assert!(sc.parallel && sc.parallel_services);
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
        for (sel, msg, help) in [
            (
                "logs:ap",
                "`logs:ap`: `ap` is not a service of this scenario",
                "did you mean \"logs:app\"?",
            ),
            (
                "log:all",
                "unknown artifact selector `log:`",
                "did you mean `logs:`?",
            ),
            ("spans:a/b", "must be a plain file name", "spans:default"),
        ] {
            let (l, c, m, h) = fails(&OK.replace(
                "expect_failure = true",
                &format!("artifacts = {{ collect = [\"{sel}\"] }}"),
            ));
            assert_eq!((l, c), (10, 26), "{m}");
            assert!(m.contains(msg) && h.contains(help), "{m} / {h}");
        }
        let (l, c, m, h) =
            fails(&OK.replace("expect_failure = true", "artifacts = { colect = [] }"));
        assert_eq!((l, c), (10, 15), "{m}");
        assert!(h.contains("did you mean `collect`"), "{h}");
        let (l, c, m, _) = fails(&OK.replace("expect_failure = true", "deadline_ms = 0"));
        assert_eq!((l, c), (10, 15), "{m}");
        let (l, c, m, _) = fails(&OK.replace("name = \"killed\"", "name = \" \""));
        assert_eq!((l, c), (7, 8), "{m}");
        assert!(m.contains("must not be empty"), "{m}");
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
    fn duplicate_step_names_point_at_the_scenario() {
        let text = format!(
            "{OK}[[scenario]]\nname = \"other\"\nservice = \"app\"\nsteps = [{{ name = \"killed\", run = \"x\" }}]\n"
        );
        let (l, c, m, _) = fails(&text);
        assert_eq!((l, c), (13, 8), "{m}");
        assert!(
            m.contains("duplicate step name `killed` (also in scenario `killed`)"),
            "{m}"
        );
        let (_, _, m, _) = fails(&OK.replace(
            "run = \"sleep 5\"",
            "steps = [{ name = \"s\", run = \"x\" }, { name = \"s\", run = \"y\" }]",
        ));
        assert!(m.contains("(also in scenario `killed`)"), "{m}");
    }

    #[test]
    fn a_suite_needs_a_scenario() {
        let (l, c, m, _) = fails("[service.app]\nimage = \"x\"\n");
        assert_eq!((l, c), (1, 1), "{m}");
        assert!(m.contains("no [[scenario]]"), "{m}");
        let (l, c, m, _) = fails(&format!("{OK}[[scenario]]\nname = 5\n"));
        assert_eq!((l, c), (13, 8), "{m}");
        assert!(
            m.contains("invalid type: integer `5`, expected a string"),
            "{m}"
        );
    }
}
