//! Parse a suite file and check what the TOML types cannot: references between
//! tables, names, times. Plugin names are checked later, against the registry.

use super::diag::{hint_for_serde_message, nearest, SuiteError};
use super::model::{self, Run, SuiteFile};
use super::{CleanupSpec, ExpectSpec, InjectionSpec, ScenarioSpec, ServiceSpec, StepSpec, Suite};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Duration;

/// Default bound on a scenario when `[limits] max_duration_seconds` is absent.
const DEFAULT_MAX_DURATION: Duration = Duration::from_secs(300);

pub fn load(path: &Path) -> Result<Suite, SuiteError> {
    let source = std::fs::read_to_string(path).map_err(|e| {
        SuiteError::at(&path.display().to_string(), "", 0..0, format!("cannot read suite file: {e}"), None)
    })?;
    load_str(path, source)
}

pub fn load_str(path: &Path, source: String) -> Result<Suite, SuiteError> {
    let file: SuiteFile = toml::from_str(&source).map_err(|e| {
        let message = e.message().trim().to_string();
        let help = hint_for_serde_message(&message);
        SuiteError::at(&path.display().to_string(), &source, e.span().unwrap_or(0..0), message, help)
    })?;
    Checker { path, source: &source }.check(file).map(|mut s| {
        s.source = source.clone();
        s
    })
}

struct Checker<'a> {
    path: &'a Path,
    source: &'a str,
}

impl Checker<'_> {
    fn err(&self, span: std::ops::Range<usize>, msg: impl Into<String>, help: Option<String>) -> SuiteError {
        SuiteError::at(&self.path.display().to_string(), self.source, span, msg, help)
    }

    fn check(&self, file: SuiteFile) -> Result<Suite, SuiteError> {
        let services = self.services(&file)?;
        let max_duration = file.limits.max_duration_seconds.map(Duration::from_secs).unwrap_or(DEFAULT_MAX_DURATION);
        let mut scenarios = Vec::new();
        let mut names = BTreeSet::new();
        for (i, sc) in file.scenario.iter().enumerate() {
            if !names.insert(sc.name.clone()) {
                return Err(self.err(self.find_text(&format!("\"{}\"", sc.name), i), format!("duplicate scenario name `{}`", sc.name), Some("scenario names must be unique: they name step spans and report entries".into())));
            }
            scenarios.push(self.scenario(sc, &services, max_duration)?);
        }
        if scenarios.is_empty() {
            return Err(self.err(0..0, "the suite has no [[scenario]]", Some("add at least one [[scenario]] with a name, a service and a run command".into())));
        }
        let freeze_clock_unix_ns = match &file.determinism.freeze_clock {
            Some(fc) => Some(parse_instant(fc.get_ref()).ok_or_else(|| {
                self.err(fc.span(), format!("`{}` is not an RFC 3339 instant", fc.get_ref()), Some("write e.g. \"2025-01-01T00:00:00Z\"".into()))
            })?),
            None => None,
        };
        let base = self.path.parent().unwrap_or(Path::new("."));
        let plugins = file.plugins.iter().map(|(name, p)| (name.clone(), base.join(p.get_ref()), p.span())).collect();
        let expectations = file
            .expect
            .iter()
            .map(|(table, v)| ExpectSpec { table: table.clone(), config_json: toml_to_json(v.get_ref()).to_string(), span: v.span() })
            .collect();
        let stem = self.path.file_name().and_then(|f| f.to_str()).unwrap_or("suite");
        let stem = stem.strip_suffix(".clnrm.toml").or_else(|| stem.strip_suffix(".toml")).unwrap_or(stem);
        Ok(Suite {
            path: self.path.to_path_buf(),
            source: String::new(),
            name: file.report.name.clone().or(file.meta.name.clone()).unwrap_or_else(|| stem.to_string()),
            meta: file.meta.clone(),
            seed: file.determinism.seed,
            freeze_clock_unix_ns,
            plugins,
            services,
            scenarios,
            expectations,
            cleanup: cleanup_spec(&file.cleanup),
        })
    }

    fn services(&self, file: &SuiteFile) -> Result<BTreeMap<String, ServiceSpec>, SuiteError> {
        let mut out = BTreeMap::new();
        for (id, s) in &file.service {
            if s.kind.get_ref() != "generic_container" {
                return Err(self.err(s.kind.span(), format!("unknown service type `{}`", s.kind.get_ref()), Some("the only service type is \"generic_container\"".into())));
            }
            out.insert(
                id.clone(),
                ServiceSpec {
                    id: id.clone(),
                    image: s.image.clone(),
                    args: s.args.clone(),
                    env: s.env.clone(),
                    memory_mb: s.limits.memory_mb.or(file.limits.memory_mb),
                    cpu_millicores: s.limits.cpu_millicores.or(file.limits.cpu_millicores),
                    pids: s.limits.pids,
                    max_file_descriptors: s.limits.max_file_descriptors,
                    tmpfs: s.limits.tmpfs.clone(),
                    capabilities: s.capabilities.clone(),
                },
            );
        }
        Ok(out)
    }

    fn service_ref(&self, r: &toml::Spanned<String>, services: &BTreeMap<String, ServiceSpec>) -> Result<String, SuiteError> {
        let id = r.get_ref();
        if services.contains_key(id) {
            return Ok(id.clone());
        }
        let help = match nearest(id, services.keys().map(String::as_str)) {
            Some(n) => format!("did you mean `{n}`? services defined: {}", list(services.keys())),
            None if services.is_empty() => "define it with a [service.<id>] table (image = ...)".to_string(),
            None => format!("services defined: {}", list(services.keys())),
        };
        Err(self.err(r.span(), format!("unknown service `{id}`"), Some(help)))
    }

    fn scenario(&self, sc: &model::Scenario, services: &BTreeMap<String, ServiceSpec>, max_duration: Duration) -> Result<ScenarioSpec, SuiteError> {
        let main = sc.service.as_ref().map(|s| self.service_ref(s, services)).transpose()?;
        let timeout = sc.timeout_ms.map(Duration::from_millis);
        let need_main = |what: &str| {
            main.clone().ok_or_else(|| {
                self.err(self.find_text(&format!("\"{}\"", sc.name), 0), format!("scenario `{}` has {what} but no `service`", sc.name), Some("add service = \"<id>\" naming a [service.<id>] table".into()))
            })
        };
        let mut steps = Vec::new();
        let mut parallel = false;
        match (&sc.run, sc.steps.is_empty()) {
            (Some(_), false) => {
                return Err(self.err(self.find_text(&format!("\"{}\"", sc.name), 0), format!("scenario `{}` has both `run` and `steps`", sc.name), Some("use `run` for one command (or commands at once), `steps` for a sequence".into())));
            }
            (None, true) => {
                return Err(self.err(self.find_text(&format!("\"{}\"", sc.name), 0), format!("scenario `{}` has nothing to run", sc.name), Some("add run = \"<command>\" or steps = [{ run = \"...\" }]".into())));
            }
            (Some(Run::Command(cmd)), true) => {
                steps.push(StepSpec { name: sc.name.clone(), service: need_main("`run`")?, command: cmd.clone(), timeout });
            }
            (Some(Run::Parallel(entries)), true) => {
                parallel = true;
                for e in entries {
                    let span = self.find_text(&format!("\"{}\"", e.service), 0);
                    let service = self.service_ref(&toml::Spanned::new(span, e.service.clone()), services)?;
                    steps.push(StepSpec {
                        name: e.name.clone().unwrap_or_else(|| format!("{}/{}", sc.name, service)),
                        service,
                        command: e.command.clone(),
                        timeout: e.timeout_ms.map(Duration::from_millis).or(timeout),
                    });
                }
            }
            (None, false) => {
                let service = need_main("`steps`")?;
                for (i, s) in sc.steps.iter().enumerate() {
                    steps.push(StepSpec {
                        name: s.name.clone().unwrap_or_else(|| format!("{}/{}", sc.name, i)),
                        service: service.clone(),
                        command: s.run.clone(),
                        timeout: s.timeout_ms.map(Duration::from_millis).or(timeout),
                    });
                }
            }
        }
        let mut used: Vec<String> = main.into_iter().collect();
        let mut extra = Vec::new();
        let parallel_services = match &sc.parallel_services {
            None => false,
            Some(model::ParallelServices::All(b)) => *b,
            Some(model::ParallelServices::These(list)) => {
                for r in list {
                    // Untagged enums lose spans: point at the name's text.
                    let span = self.find_text(&format!("\"{r}\""), 0);
                    extra.push(self.service_ref(&toml::Spanned::new(span, r.clone()), services)?);
                }
                true
            }
        };
        for s in steps.iter().map(|s| &s.service).chain(&extra) {
            if !used.contains(s) {
                used.push(s.clone());
            }
        }
        Ok(ScenarioSpec {
            name: sc.name.clone(),
            services: used,
            steps,
            parallel,
            injections: self.injections(sc)?,
            expect_failure: sc.expect_failure,
            parallel_services,
            max_duration,
        })
    }

    fn injections(&self, sc: &model::Scenario) -> Result<Vec<InjectionSpec>, SuiteError> {
        let Some(ci) = &sc.chaos_injection else { return Ok(Vec::new()) };
        let tables: Vec<&toml::Table> = match ci.get_ref() {
            toml::Value::Table(t) => vec![t],
            toml::Value::Array(a) => a
                .iter()
                .map(|v| v.as_table().ok_or_else(|| self.err(ci.span(), "every `chaos_injection` entry must be a table", Some("write chaos_injection = [{ type = \"...\" }, ...]".into()))))
                .collect::<Result<_, _>>()?,
            _ => return Err(self.err(ci.span(), "`chaos_injection` must be a table or an array of tables", Some("write chaos_injection = { type = \"kill_container\", delay_ms = 500 }".into()))),
        };
        tables
            .into_iter()
            .map(|t| match t.get("type").and_then(|v| v.as_str()) {
                Some(ty) => Ok(InjectionSpec { fault_type: ty.to_string(), config_json: toml_to_json(&toml::Value::Table(t.clone())).to_string(), span: ci.span() }),
                None => Err(self.err(ci.span(), "a `chaos_injection` table needs `type` (a string)", Some("e.g. type = \"kill_container\"".into()))),
            })
            .collect()
    }

    /// Best-effort span of the `nth` occurrence of `needle`, for errors about
    /// values serde does not keep spans for.
    fn find_text(&self, needle: &str, nth: usize) -> std::ops::Range<usize> {
        self.source.match_indices(needle).nth(nth).or_else(|| self.source.match_indices(needle).next()).map(|(i, m)| i..i + m.len()).unwrap_or(0..0)
    }
}

fn cleanup_spec(c: &model::Cleanup) -> CleanupSpec {
    use model::{OnFailure, Policy};
    let keep = c.on_failure == Some(OnFailure::Keep);
    // on_failure = "keep" turns every unset policy into on_success.
    let policy = |p: Option<Policy>| p.unwrap_or(if keep { Policy::OnSuccess } else { Policy::Always });
    let d = CleanupSpec::default();
    CleanupSpec {
        containers: policy(c.containers),
        networks: policy(c.networks),
        volumes: policy(c.volumes),
        verify: c.verify_cleanup.unwrap_or(d.verify),
        timeout: c.cleanup_timeout_ms.map(Duration::from_millis).unwrap_or(d.timeout),
    }
}

fn list<'a>(names: impl Iterator<Item = &'a String>) -> String {
    names.map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
}

/// TOML to JSON, 1:1 (datetimes become their RFC 3339 text).
pub fn toml_to_json(v: &toml::Value) -> serde_json::Value {
    use serde_json::Value as J;
    match v {
        toml::Value::String(s) => J::String(s.clone()),
        toml::Value::Integer(i) => J::from(*i),
        toml::Value::Float(f) => serde_json::Number::from_f64(*f).map(J::Number).unwrap_or(J::Null),
        toml::Value::Boolean(b) => J::Bool(*b),
        toml::Value::Datetime(d) => J::String(d.to_string()),
        toml::Value::Array(a) => J::Array(a.iter().map(toml_to_json).collect()),
        toml::Value::Table(t) => J::Object(t.iter().map(|(k, v)| (k.clone(), toml_to_json(v))).collect()),
    }
}

/// RFC 3339 to Unix nanoseconds.
fn parse_instant(s: &str) -> Option<u64> {
    let t = humantime::parse_rfc3339_weak(s.trim_end_matches('Z')).ok().or_else(|| humantime::parse_rfc3339(s).ok())?;
    t.duration_since(std::time::UNIX_EPOCH).ok().map(|d| d.as_nanos() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_text(text: &str) -> Result<Suite, SuiteError> {
        load_str(Path::new("t.clnrm.toml"), text.to_string())
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
    }

    #[test]
    fn unknown_key_names_line_col_and_suggests() {
        let e = load_text(&OK.replace("expect_failure", "expect_failur")).unwrap_err();
        assert_eq!((e.line, e.col), (10, 1), "{e}");
        assert!(e.help.as_deref().unwrap_or("").contains("expect_failure"), "{:?}", e.help);
    }

    #[test]
    fn unknown_service_is_an_error() {
        let e = load_text(&OK.replace("service = \"app\"", "service = \"ap\"")).unwrap_err();
        assert!(e.message.contains("unknown service `ap`"), "{e}");
        assert!(e.help.as_deref().unwrap_or("").contains("did you mean `app`"));
        assert_eq!(e.line, 8);
    }

    #[test]
    fn freeze_clock_parses() {
        let s = load_text(&format!("[determinism]\nseed = 7\nfreeze_clock = \"2025-01-01T00:00:00Z\"\n{OK}")).unwrap();
        assert_eq!(s.freeze_clock_unix_ns, Some(1_735_689_600_000_000_000));
        assert_eq!(s.seed, Some(7));
    }
}
