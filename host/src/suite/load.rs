//! Load a suite file: parse (TOML 1.1, syntax errors with position) →
//! substitute `[vars]` on the parsed document (positions kept, `vars.rs`) →
//! note the positions inside the plugin-owned tables (`chaos.rs`,
//! `expect.rs`) → deserialize into the raw types (unknown keys, wrong types,
//! missing keys, with position and nearest valid name) → each element's
//! checks → the resolved [`Suite`].

use super::cleanup::Cleanup;
use super::de::TableOf;
use super::determinism::Determinism;
use super::diag::{hint_for_serde_message, Ctx, SuiteError};
use super::expect::{self, Expect};
use super::limits::Limits;
use super::meta::Meta;
use super::otel::Otel;
use super::plugins::{self, Plugins};
use super::report::Report;
use super::scenario::{self, Scenario};
use super::service::{self, Service};
use super::{chaos, vars, Suite};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

/// The whole file, raw. Every table denies unknown keys: a typo is an error
/// with a suggestion, never silently ignored.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct SuiteFile {
    meta: Option<Meta>,
    /// `[test.metadata]`: the original clnrm's name for `[meta]`.
    #[serde(default)]
    test: TestTable,
    #[serde(default)]
    determinism: Determinism,
    /// `[vars]`: substituted before deserializing (see `vars.rs`); kept here
    /// only so the key is known.
    #[allow(dead_code)]
    vars: Option<serde::de::IgnoredAny>,
    #[serde(default)]
    otel: Otel,
    #[serde(default)]
    plugins: Plugins,
    #[serde(default)]
    service: BTreeMap<String, TableOf<Service>>,
    #[serde(default)]
    scenario: Vec<TableOf<Scenario>>,
    #[serde(default)]
    expect: Expect,
    #[serde(default)]
    limits: Limits,
    #[serde(default)]
    report: Report,
    #[serde(default)]
    cleanup: Cleanup,
}

/// `[test]`, which holds only `metadata`.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct TestTable {
    metadata: Option<toml::Spanned<Meta>>,
}

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
    load_with(path, source, true)
}

/// A recorded suite for replay: the files it names (a `build` context) are
/// neither checked nor read; replay starts no container.
pub fn load_recorded(path: &Path, source: String) -> Result<Suite, SuiteError> {
    load_with(path, source, false)
}

fn load_with(path: &Path, source: String, files: bool) -> Result<Suite, SuiteError> {
    let shown = path.display().to_string();
    let toml_err = |e: toml::de::Error| {
        let message = e.message().trim().to_string();
        let help = hint_for_serde_message(&message);
        SuiteError::at(&shown, &source, e.span().unwrap_or(0..0), message, help)
    };
    let mut doc = toml::de::DeTable::parse(&source).map_err(toml_err)?;
    let vars = vars::expand(doc.get_mut(), &shown, &source)?;
    let chaos_positions = chaos::locate(doc.get_ref());
    let expect_positions = expect::locate(doc.get_ref());
    let file = SuiteFile::deserialize(toml::de::Deserializer::from(doc)).map_err(toml_err)?;
    let cx = Ctx {
        path,
        source: &source,
        files,
    };
    // The order of the checks is the order errors are found in.
    let services = service::check_all(&cx, &file.service, &file.limits)?;
    let scenarios = scenario::check_all(
        &cx,
        &file.scenario,
        scenario::Context {
            services: &services,
            max_duration: file.limits.max_duration(&cx)?,
            chaos_positions,
        },
    )?;
    file.limits.check_containers(&cx, &scenarios)?;
    let freeze_clock_unix_ns = file.determinism.freeze_clock_unix_ns(&cx)?;
    let plugins = plugins::resolve(&cx, &file.plugins)?;
    let expectations = expect::resolve(&file.expect, expect_positions);
    expect::check_span_services(&cx, &expectations, &services)?;
    let meta = match (file.meta, file.test.metadata) {
        (Some(_), Some(t)) => {
            return Err(cx.err(
                t.span(),
                "both [meta] and [test.metadata] describe the suite",
                Some("keep one: [test.metadata] is the original clnrm's name for [meta]".into()),
            ))
        }
        (Some(m), None) => m,
        (None, Some(t)) => t.into_inner(),
        (None, None) => Meta::default(),
    };
    let name = file.report.name(&cx, meta.name.as_deref())?;
    let report = file.report.spec(&cx, &name)?;
    let otel = file.otel.check(&cx)?;
    Ok(Suite {
        path: path.to_path_buf(),
        name,
        meta,
        seed: file.determinism.seed,
        freeze_clock_unix_ns,
        digest_app_spans: file.determinism.digest_app_spans,
        plugins,
        services,
        scenarios,
        expectations,
        cleanup: file.cleanup.spec(),
        vars,
        otel,
        report,
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::suite::testing::{fails, load_text, OK};
    use crate::suite::{Exporter, OtelSpec, ReportSpec, TimeoutStrategy};
    use std::time::Duration;

    #[test]
    fn loads_a_valid_suite() {
        let s = load_text(OK).unwrap();
        assert_eq!(s.name, "demo");
        assert_eq!(s.scenarios[0].steps[0].name, "killed");
        assert_eq!(s.scenarios[0].injections[0].fault_type, "kill_container");
        // Defaults of everything new.
        assert_eq!(s.otel, OtelSpec::default());
        assert_eq!(s.report, ReportSpec::defaults("demo"));
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
artifacts = { collect = ["/var/log/app.log", "/tmp/{{ image }}", "spans:default", "logs:all", "logs:app"] }
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
                junit: None,
                cleanup: None,
                ..ReportSpec::defaults("full-report")
            }
        );
        assert_eq!(s.cleanup.networks, crate::suite::Policy::OnSuccess);
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
        use crate::suite::Artifact;
        assert_eq!(
            seq.artifacts,
            vec![
                Artifact::Path("/var/log/app.log".into()),
                Artifact::Path("/tmp/clnrm-base:latest".into()),
                Artifact::Spans("default".into()),
                Artifact::Logs(None),
                Artifact::Logs(Some("app".into())),
            ]
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
        let (l0, c0) = crate::suite::line_col(&s.source, par.injections[0].span.start);
        let (l1, c1) = crate::suite::line_col(&s.source, par.injections[1].span.start);
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
    fn test_metadata_is_meta_under_the_original_name() {
        let text = OK.replace("[meta]", "[test.metadata]");
        let s = load_text(&text).unwrap();
        assert_eq!(
            (s.name.as_str(), s.meta.name.as_deref()),
            ("demo", Some("demo"))
        );
        let (l, c, m, _) = fails(&format!("{OK}\n[test.metadata]\nname = \"x\"\n"));
        assert_eq!((l, c), (13, 1), "{m}");
        assert!(m.contains("both [meta] and [test.metadata]"), "{m}");
        let (_, _, m, h) = fails(&OK.replace("[meta]", "[test.metadta]"));
        assert!(m.contains("metadta") && h.contains("metadata"), "{m} / {h}");
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

    /// Every JSON path (keys, array indices) below `v`, the empty one included.
    fn json_paths(v: &serde_json::Value, at: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
        out.push(at.clone());
        let children: Vec<(String, &serde_json::Value)> = match v {
            serde_json::Value::Object(m) => m.iter().map(|(k, v)| (k.clone(), v)).collect(),
            serde_json::Value::Array(a) => a
                .iter()
                .enumerate()
                .map(|(i, v)| (i.to_string(), v))
                .collect(),
            _ => Vec::new(),
        };
        for (k, v) in children {
            at.push(k);
            json_paths(v, at, out);
            at.pop();
        }
    }

    /// Every key and value a plugin is handed has its own position: the
    /// paths of the JSON and of the positions are the same, in the chaos
    /// suites and in the whole dialect.
    #[test]
    fn every_plugin_owned_key_has_a_position() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/chaos");
        let mut suites: Vec<Suite> = std::fs::read_dir(&root)
            .unwrap()
            .map(|e| load(&e.unwrap().path()).unwrap())
            .collect();
        suites.push(load_text(FULL).unwrap());
        let mut checked = 0;
        for s in &suites {
            let tables = s
                .scenarios
                .iter()
                .flat_map(|sc| &sc.injections)
                .map(|i| (&i.config_json, &i.positions, &i.span))
                .chain(
                    s.expectations
                        .iter()
                        .map(|e| (&e.config_json, &e.positions, &e.span)),
                );
            for (json, positions, span) in tables {
                let v: serde_json::Value = serde_json::from_str(json).unwrap();
                let mut want = Vec::new();
                json_paths(&v, &mut Vec::new(), &mut want);
                want.sort();
                let got: Vec<Vec<String>> = positions.paths().cloned().collect();
                assert_eq!(got, want, "{}: {json}", s.path.display());
                assert_eq!(positions.value(&[]).as_ref(), Some(span));
                checked += want.len();
            }
        }
        assert!(checked > 50, "only {checked} paths");
    }
}
