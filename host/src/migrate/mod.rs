//! `clnrm migrate`: suites written for the original clnrm's older dialects,
//! rewritten into this one with `toml_edit`, so comments and layout stay
//! where they were. Every key that could not be carried is listed with its
//! reason; nothing is dropped silently.
//!
//! What is carried (see docs/migrate.md for the whole table):
//! - `[test.metadata]` / `[test]` → `[meta]` (`name`, `description`,
//!   `version`, `author`, `tags`); `timeout = "90s"` / `timeout_seconds` →
//!   `[limits] max_duration_seconds`; `hermetic = true` → `[expect.hermeticity]`
//!   no container and no network leakage.
//! - `[services.x]` → `[service.x]`: `image`, `type`/`plugin`
//!   (`generic_container`), `env`/`environment`, `command`, `depends_on`,
//!   `working_dir`, `healthcheck = { command, interval, timeout, retries }`,
//!   `volumes` (`"host:container[:ro]"` or `{ host_path, container_path,
//!   read_only }`) → `mounts`.
//! - `[[steps]]` → `[[scenario]]`: consecutive steps on one service become one
//!   scenario with `steps = [...]`; `command = [...]` is kept as exec form;
//!   `timeout = "30s"` is kept; `expected_output_regex`,
//!   `expected_output_contains` and `expected_exit_code` become a shell
//!   wrapper that checks them; `should_fail = true` → `expect_failure`.
//! - `[otel_validation]`: `expected_spans` → `[[expect.span]]`,
//!   `span_count_constraints` → `[expect.counts] by_name`,
//!   `temporal_constraints.must_precede` → `[[expect.order]]`,
//!   `expected_traces.parent_child` → `[[expect.graph]] must_include`.

use std::fmt;
use toml_edit::{Array, ArrayOfTables, DocumentMut, InlineTable, Item, Table, Value};

/// A key that was not carried, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Note {
    pub key: String,
    pub reason: String,
    /// The TOML that was taken out, kept as a comment at the end of the file.
    pub text: Option<String>,
}

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.key, self.reason)
    }
}

pub struct Migrated {
    pub text: String,
    pub changed: bool,
    pub notes: Vec<Note>,
}

/// The error of a file that is not TOML: message and byte span.
pub struct ParseError {
    pub message: String,
    pub span: Option<std::ops::Range<usize>>,
}

pub fn migrate(source: &str) -> Result<Migrated, ParseError> {
    let mut doc: DocumentMut = source
        .parse()
        .map_err(|e: toml_edit::TomlError| ParseError {
            message: e.message().to_string(),
            span: e.span(),
        })?;
    let mut m = Migration::default();
    m.test(&mut doc);
    m.services(&mut doc);
    m.steps(&mut doc);
    if let Some(Item::ArrayOfTables(a)) = doc.get_mut("scenario") {
        Migration::scenario_steps(a);
    }
    m.otel_validation(&mut doc);
    m.otel(&mut doc);
    m.leftovers(&mut doc);
    m.trailer(&mut doc);
    let text = doc.to_string();
    Ok(Migrated {
        changed: text != source,
        text,
        notes: m.notes,
    })
}

#[derive(Default)]
struct Migration {
    notes: Vec<Note>,
}

/// The container service-less steps run in (the original's default was Ubuntu).
pub const DEFAULT_IMAGE: &str = "ubuntu:22.04";

/// The top-level tables of the original's dialects that have no
/// counterpart here, with the reason.
const UNCARRIED_TABLES: &[(&str, &str)] = &[
    (
        "assertions",
        "free-form assertions have no checker here: state them as [expect.*] tables over the trace",
    ),
    (
        "dimensions",
        "the original's coverage model has no counterpart here",
    ),
    (
        "weights",
        "the original's coverage model has no counterpart here",
    ),
    ("system", "descriptive only; use [meta]"),
    (
        "metrics",
        "metrics tracking switches have no counterpart here: spans carry the timings",
    ),
    ("ai_management", "no counterpart here"),
    (
        "validation",
        "no counterpart here: the verdict is every scenario and expectation",
    ),
    (
        "otel_expectations",
        "descriptive only (what a fake-green run should fail on): no checker reads it",
    ),
    (
        "matrix",
        "matrix expansion is a template feature here: write a {% for %} loop",
    ),
];

fn str_of(item: &Item) -> Option<String> {
    item.as_str().map(str::to_string)
}

/// `"90s"`, `"1m"`, `"500ms"`, or a number of seconds, as milliseconds.
fn duration_ms(item: &Item) -> Option<u64> {
    if let Some(n) = item.as_integer() {
        return u64::try_from(n).ok().map(|s| s * 1000);
    }
    let s = item.as_str()?.trim();
    humantime::parse_duration(s)
        .ok()
        .map(|d| d.as_millis() as u64)
}

/// A table the migration adds: written after the file's own tables.
fn fresh() -> Table {
    let mut t = Table::new();
    t.set_position(Some(isize::MAX / 2));
    t
}

fn table_mut<'a>(doc: &'a mut DocumentMut, name: &str) -> &'a mut Table {
    if !doc.contains_key(name) {
        let mut t = fresh();
        t.set_implicit(true);
        doc.insert(name, Item::Table(t));
    }
    doc[name].as_table_mut().expect("a table")
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

impl Migration {
    fn note(&mut self, key: impl Into<String>, reason: impl Into<String>) {
        self.notes.push(Note {
            key: key.into(),
            reason: reason.into(),
            text: None,
        });
    }

    /// A note with the TOML taken out (`key = value`).
    fn note_kv(&mut self, key: impl Into<String>, reason: impl Into<String>, k: &str, item: &Item) {
        let value = match item {
            Item::Value(v) => v.to_string().trim().to_string(),
            other => other.to_string().trim().to_string(),
        };
        self.notes.push(Note {
            key: key.into(),
            reason: reason.into(),
            text: Some(format!("{k} = {value}")),
        });
    }

    /// What was taken out, as comments at the end, under its reason.
    fn trailer(&self, doc: &mut DocumentMut) {
        let kept: Vec<&Note> = self.notes.iter().filter(|n| n.text.is_some()).collect();
        if kept.is_empty() {
            return;
        }
        let mut out = doc.trailing().as_str().unwrap_or("").to_string();
        if !out.is_empty() && !out.ends_with('\n') {
            out.push('\n');
        }
        out.push_str(
            "\n# ---- clnrm migrate: not carried into this dialect (kept here as comments) ----\n",
        );
        for n in kept {
            out.push_str(&format!("# {}: {}\n", n.key, n.reason));
            for l in n.text.as_deref().unwrap_or("").lines() {
                out.push_str(&format!("#   {l}\n"));
            }
        }
        doc.set_trailing(out);
    }

    /// `[test.metadata]` and `[test]` → `[meta]`, `[limits]`, `[expect.hermeticity]`.
    fn test(&mut self, doc: &mut DocumentMut) {
        let Some(Item::Table(test)) = doc.remove("test") else {
            return;
        };
        let mut meta = match doc.remove("meta") {
            Some(Item::Table(t)) => t,
            _ => fresh(),
        };
        let mut sources: Vec<(String, Table)> = Vec::new();
        let mut test = test;
        if let Some(Item::Table(md)) = test.remove("metadata") {
            sources.push(("test.metadata".into(), md));
        }
        let rest: Vec<String> = test.iter().map(|(k, _)| k.to_string()).collect();
        let mut top = Table::new();
        for k in rest {
            let item = test.remove(&k).expect("listed");
            match item {
                Item::Table(_) => self.note(
                    format!("test.{k}"),
                    if k == "cleanup" {
                        "cleanup is always done here; tune it with [cleanup] (containers, networks, volumes)"
                    } else {
                        "no counterpart here"
                    },
                ),
                other => {
                    top.insert(&k, other);
                }
            }
        }
        if !top.is_empty() {
            sources.push(("test".into(), top));
        }
        // Comments above `[test.metadata]` go above `[meta]`.
        let decor = sources.first().map(|(_, t)| t.decor().clone());
        let position = sources.first().and_then(|(_, t)| t.position());
        for (prefix, mut t) in sources {
            let keys: Vec<String> = t.iter().map(|(k, _)| k.to_string()).collect();
            for k in keys {
                let (key, item) = t.remove_entry(&k).expect("listed");
                match k.as_str() {
                    "name" | "description" | "version" | "author" | "tags" => {
                        if meta.contains_key(&k) {
                            self.note(format!("{prefix}.{k}"), "[meta] already sets it");
                        } else {
                            meta.insert_formatted(&key, item);
                        }
                    }
                    "timeout" | "timeout_seconds" => match duration_ms(&item) {
                        Some(ms) => {
                            let secs = ms.div_ceil(1000).max(1);
                            let limits = table_mut(doc, "limits");
                            limits.set_implicit(false);
                            if !limits.contains_key("max_duration_seconds") {
                                limits
                                    .insert("max_duration_seconds", toml_edit::value(secs as i64));
                            }
                        }
                        None => self.note(
                            format!("{prefix}.{k}"),
                            "not a duration (\"90s\" or seconds)",
                        ),
                    },
                    "hermetic" => {
                        if item.as_bool() == Some(true) {
                            let expect = table_mut(doc, "expect");
                            if !expect.contains_key("hermeticity") {
                                let mut h = fresh();
                                h.insert("no_container_leakage", toml_edit::value(true));
                                h.insert("no_network_leakage", toml_edit::value(true));
                                h.decor_mut().set_prefix(
                                    "\n# `hermetic = true` (migrated): nothing the run created is left behind.\n",
                                );
                                expect.insert("hermeticity", Item::Table(h));
                            }
                        }
                    }
                    _ => self.note_kv(
                        format!("{prefix}.{k}"),
                        "no counterpart in [meta]",
                        &k,
                        &item,
                    ),
                }
            }
        }
        if let Some(d) = decor {
            *meta.decor_mut() = d;
        }
        if let Some(p) = position {
            meta.set_position(Some(p));
        }
        meta.set_implicit(false);
        doc.insert("meta", Item::Table(meta));
    }

    /// `[services.x]` → `[service.x]`.
    fn services(&mut self, doc: &mut DocumentMut) {
        let Some(Item::Table(services)) = doc.remove("services") else {
            return;
        };
        let ids: Vec<String> = services.iter().map(|(k, _)| k.to_string()).collect();
        let mut services = services;
        for id in ids {
            let (key, item) = services.remove_entry(&id).expect("listed");
            let Item::Table(mut t) = item else {
                self.note(format!("services.{id}"), "not a table");
                continue;
            };
            self.service(&id, &mut t);
            let target = table_mut(doc, "service");
            if target.contains_key(&id) {
                self.note(format!("services.{id}"), "[service] already defines it");
                continue;
            }
            target.insert_formatted(&key, Item::Table(t));
        }
    }

    fn service(&mut self, id: &str, t: &mut Table) {
        let keys: Vec<String> = t.iter().map(|(k, _)| k.to_string()).collect();
        let at = |k: &str| format!("services.{id}.{k}");
        for k in keys {
            let (key, item) = t.remove_entry(&k).expect("listed");
            match k.as_str() {
                "env" | "environment" if item.as_array().is_some_and(|a| a.is_empty()) => {
                    self.note(at(&k), "an empty list: no environment");
                }
                "env" | "environment" if item.as_array().is_some() => {
                    let mut env = InlineTable::new();
                    let mut ok = true;
                    for v in item.as_array().expect("an array").iter() {
                        match v.as_str().and_then(|s| s.split_once('=')) {
                            Some((name, value)) => {
                                env.insert(name, value.into());
                            }
                            None => ok = false,
                        }
                    }
                    if ok && !t.contains_key("env") {
                        t.insert("env", toml_edit::value(env));
                    } else {
                        self.note_kv(at(&k), "expected \"NAME=value\" strings", &k, &item);
                    }
                }
                "image" | "env" | "depends_on" | "args" | "entrypoint" | "files" | "mounts"
                | "capabilities" | "wait_for_span" | "user" | "hostname" => {
                    t.insert_formatted(&key, item);
                }
                "type" | "plugin" => {
                    if str_of(&item).as_deref() == Some("generic_container") {
                        t.insert("type", item);
                    } else {
                        self.note_kv(
                            at(&k),
                            format!(
                                "service plugin `{}` does not exist here: only generic_container (give an image)",
                                str_of(&item).unwrap_or_default()
                            ),
                            &k,
                            &item,
                        );
                    }
                }
                "environment" => {
                    if t.contains_key("env") {
                        self.note(at(&k), "`env` is given too");
                    } else {
                        t.insert("env", item);
                    }
                }
                "command" => {
                    t.insert("command", item);
                }
                "working_dir" => {
                    t.insert("workdir", item);
                }
                "healthcheck" | "health_check" => match self.healthcheck(&item) {
                    Some(h) => {
                        t.insert("healthcheck", h);
                    }
                    None => self.note(at(&k), "expected { command = [...], interval, timeout, retries }"),
                },
                "volumes" => match volumes(&item) {
                    Ok(m) => {
                        t.insert("mounts", m);
                    }
                    Err(why) => self.note(at(&k), why),
                },
                "ports" => self.note_kv(
                    at(&k),
                    "services are reached on the scenario's network by their id, not on published ports",
                    &k,
                    &item,
                ),
                "resources" => self.note_kv(at(&k), "write limits = { memory_mb, cpu_millicores } instead", &k, &item),
                "network" => self.note_kv(at(&k), "the scenario's network = \"bridge\"|\"none\" chooses it", &k, &item),
                "wait_for_ready" | "wait_strategy" | "wait_log_message" => self.note_kv(
                    at(&k),
                    "write ready = { log = \"...\" } or ready = { tcp = PORT } instead",
                    &k,
                    &item,
                ),
                "description" => self.note_kv(at(&k), "descriptive only", &k, &item),
                _ => self.note_kv(at(&k), "no counterpart in [service.<id>]", &k, &item),
            }
        }
        if !t.contains_key("image") {
            self.note(
                format!("services.{id}"),
                "no image: a service here is a container image",
            );
        }
    }

    fn healthcheck(&mut self, item: &Item) -> Option<Item> {
        let get = |k: &str| -> Option<Item> {
            match item {
                Item::Table(t) => t.get(k).cloned(),
                Item::Value(Value::InlineTable(t)) => t.get(k).cloned().map(Item::Value),
                _ => None,
            }
        };
        let command = get("command").or_else(|| get("test"))?;
        let mut h = InlineTable::new();
        let test = match command.as_value()? {
            Value::Array(a) => a.clone(),
            Value::String(s) => {
                let mut a = Array::new();
                a.push("CMD-SHELL");
                a.push(s.value().as_str());
                a
            }
            _ => return None,
        };
        h.insert("test", Value::Array(test));
        for (from, to) in [("interval", "interval_ms"), ("timeout", "timeout_ms")] {
            if let Some(ms) = get(from).as_ref().and_then(duration_ms) {
                h.insert(to, (ms as i64).into());
            }
        }
        if let Some(r) = get("retries").and_then(|r| r.as_integer()) {
            h.insert("retries", r.into());
        }
        Some(Item::Value(Value::InlineTable(h)))
    }

    /// `[otel]` keys with no counterpart (`protocol`, `headers`, `propagators`).
    fn otel(&mut self, doc: &mut DocumentMut) {
        let Some(t) = doc.get_mut("otel").and_then(Item::as_table_mut) else {
            return;
        };
        let keys: Vec<String> = t.iter().map(|(k, _)| k.to_string()).collect();
        let mut dropped = Vec::new();
        for k in keys {
            if matches!(
                k.as_str(),
                "exporter" | "endpoint" | "sample_ratio" | "resources"
            ) {
                continue;
            }
            let item = t.remove(&k).expect("listed");
            let reason = match k.as_str() {
                "protocol" if item.as_str() == Some("http/protobuf") => {
                    "OTLP/HTTP protobuf is the only protocol here: nothing to say"
                }
                "protocol" => "only OTLP/HTTP protobuf is exported here",
                "headers" => "no headers are sent with the export here",
                "propagators" => "no context is propagated into the services here",
                _ => "no counterpart in [otel]",
            };
            dropped.push((k, item, reason));
        }
        for (k, item, reason) in dropped {
            self.note_kv(format!("otel.{k}"), reason, &k, &item);
        }
    }

    /// `[[steps]]` → `[[scenario]]`, one per run of consecutive steps on one service.
    fn steps(&mut self, doc: &mut DocumentMut) {
        let Some(item) = doc.remove("steps") else {
            return;
        };
        let Item::ArrayOfTables(steps) = item else {
            self.note("steps", "expected [[steps]] tables");
            return;
        };
        let services_now: Vec<String> = doc
            .get("service")
            .and_then(Item::as_table)
            .map(|t| t.iter().map(|(k, _)| k.to_string()).collect())
            .unwrap_or_default();
        let homeless = steps.iter().any(|t| !t.contains_key("service"));
        if homeless && services_now.len() != 1 && !services_now.iter().any(|s| s == "default") {
            // The original ran such steps in its default container (Ubuntu).
            let mut t = fresh();
            t.decor_mut().set_prefix(
                "\n# clnrm migrate: the original ran steps without a service in its default (Ubuntu) container.\n",
            );
            t.insert("image", toml_edit::value(DEFAULT_IMAGE));
            table_mut(doc, "service").insert("default", Item::Table(t));
        }
        let services: Vec<String> = doc
            .get("service")
            .and_then(Item::as_table)
            .map(|t| t.iter().map(|(k, _)| k.to_string()).collect())
            .unwrap_or_default();
        let base = doc
            .get("meta")
            .and_then(|m| m.get("name"))
            .and_then(Item::as_str)
            .unwrap_or("steps")
            .to_string();
        // (service, tables)
        let mut groups: Vec<(Option<String>, Vec<Table>)> = Vec::new();
        for t in steps.into_iter() {
            let svc = t.get("service").and_then(Item::as_str).map(str::to_string);
            let svc = svc.or_else(|| {
                if services.len() == 1 {
                    Some(services[0].clone())
                } else {
                    services.iter().find(|s| *s == "default").cloned()
                }
            });
            match groups.last_mut() {
                Some((s, list)) if *s == svc => list.push(t),
                _ => groups.push((svc, vec![t])),
            }
        }
        let mut out = match doc.remove("scenario") {
            Some(Item::ArrayOfTables(a)) => a,
            _ => ArrayOfTables::new(),
        };
        Self::scenario_steps(&mut out);
        let n = groups.len();
        for (i, (svc, list)) in groups.into_iter().enumerate() {
            let mut sc = fresh();
            *sc.decor_mut() = list[0].decor().clone();
            if let Some(p) = list[0].position() {
                sc.set_position(Some(p));
            }
            let name = if n == 1 {
                base.clone()
            } else {
                format!("{base}_{}", i + 1)
            };
            sc.insert("name", toml_edit::value(name));
            match &svc {
                Some(s) => {
                    sc.insert("service", toml_edit::value(s.as_str()));
                }
                None => self.note(
                    "steps",
                    "a step names no service and the suite has several (or none): add service = \"...\"",
                ),
            }
            let mut arr = Array::new();
            let mut expect_failure = false;
            let mut comments = Vec::new();
            for (j, st) in list.into_iter().enumerate() {
                if j > 0 {
                    let c = st
                        .decor()
                        .prefix()
                        .and_then(|p| p.as_str())
                        .unwrap_or("")
                        .trim();
                    if !c.is_empty() {
                        comments.push(c.to_string());
                    }
                }
                let (entry, fails) = self.step(&st);
                expect_failure |= fails;
                arr.push(Value::InlineTable(entry));
            }
            for v in arr.iter_mut() {
                v.decor_mut().set_prefix("\n  ");
            }
            arr.set_trailing("\n");
            arr.set_trailing_comma(true);
            sc.insert("steps", toml_edit::value(arr));
            if expect_failure {
                sc.insert("expect_failure", toml_edit::value(true));
            }
            if !comments.is_empty() {
                let prefix = sc
                    .decor()
                    .prefix()
                    .and_then(|p| p.as_str())
                    .unwrap_or("")
                    .to_string();
                let mut text = prefix;
                for c in comments {
                    text.push_str(&c);
                    text.push('\n');
                }
                sc.decor_mut().set_prefix(text);
            }
            out.push(sc);
        }
        doc.insert("scenario", Item::ArrayOfTables(out));
    }

    /// `steps = [{ name, command }]` in `[[scenario]]` (a later dialect of
    /// the original): `command` is `run` here.
    fn scenario_steps(scenarios: &mut ArrayOfTables) {
        for sc in scenarios.iter_mut() {
            if let Some(Item::ArrayOfTables(steps)) = sc.get_mut("steps") {
                for t in steps.iter_mut() {
                    if !t.contains_key("run") {
                        if let Some((k, c)) = t.remove_entry("command") {
                            let mut key = toml_edit::Key::new("run");
                            *key.leaf_decor_mut() = k.leaf_decor().clone();
                            t.insert_formatted(&key, c);
                        }
                    }
                }
                continue;
            }
            let Some(arr) = sc.get_mut("steps").and_then(Item::as_array_mut) else {
                continue;
            };
            for v in arr.iter_mut() {
                if let Some(t) = v.as_inline_table_mut() {
                    if !t.contains_key("run") {
                        if let Some((k, c)) = t.remove_entry("command") {
                            let _ = k;
                            t.insert("run", c);
                        }
                    }
                }
            }
        }
    }

    /// One step as `{ name, run, timeout }`, and whether it expects failure.
    fn step(&mut self, st: &Table) -> (InlineTable, bool) {
        let name = st
            .get("name")
            .and_then(Item::as_str)
            .unwrap_or("step")
            .to_string();
        let at = |k: &str| format!("steps[{name}].{k}");
        let mut e = InlineTable::new();
        e.insert("name", name.as_str().into());
        let command = st.get("command").and_then(Item::as_value).cloned();
        let regex = st
            .get("expected_output_regex")
            .and_then(Item::as_str)
            .map(str::to_string);
        let contains = st
            .get("expected_output_contains")
            .and_then(Item::as_str)
            .map(str::to_string);
        let not_regex = st
            .get("expected_output_regex_not")
            .and_then(Item::as_str)
            .map(str::to_string);
        let exit = st.get("expected_exit_code").and_then(Item::as_integer);
        let fails = st.get("should_fail").and_then(Item::as_bool) == Some(true);
        let checks = regex.is_some()
            || contains.is_some()
            || not_regex.is_some()
            || exit.is_some_and(|c| c != 0);
        match command {
            Some(c) if !checks => {
                e.insert("run", c);
            }
            Some(c) => {
                let line = match &c {
                    Value::String(s) => s.value().clone(),
                    Value::Array(a) => a
                        .iter()
                        .map(|w| shell_quote(w.as_str().unwrap_or("")))
                        .collect::<Vec<_>>()
                        .join(" "),
                    _ => String::new(),
                };
                // The command's output is printed, then checked; its exit
                // code is the step's unless a check fails.
                let mut script = format!("out=$({line} 2>&1); code=$?; printf '%s\\n' \"$out\"");
                match exit {
                    Some(x) if x != 0 => {
                        script.push_str(&format!("; [ \"$code\" -eq {x} ] || exit 1"))
                    }
                    _ => script.push_str("; [ \"$code\" -eq 0 ] || exit \"$code\""),
                }
                if let Some(r) = &regex {
                    script.push_str(&format!(
                        "; printf '%s\\n' \"$out\" | grep -qE -- {} || exit 1",
                        shell_quote(r)
                    ));
                }
                if let Some(r) = &not_regex {
                    script.push_str(&format!(
                        "; printf '%s\\n' \"$out\" | grep -qE -- {} && exit 1; true",
                        shell_quote(r)
                    ));
                }
                if let Some(s) = &contains {
                    script.push_str(&format!(
                        "; printf '%s\\n' \"$out\" | grep -qF -- {} || exit 1",
                        shell_quote(s)
                    ));
                }
                e.insert("run", script.into());
            }
            None => self.note(at("command"), "missing: a step runs a command"),
        }
        if let Some(t) = st.get("timeout") {
            match duration_ms(t) {
                Some(ms) => {
                    e.insert("timeout_ms", (ms as i64).into());
                }
                None => self.note(at("timeout"), "not a duration"),
            }
        }
        for (k, item) in st.iter() {
            match k {
                "name"
                | "command"
                | "timeout"
                | "service"
                | "expected_output_regex"
                | "expected_output_contains"
                | "expected_output_regex_not"
                | "expected_exit_code"
                | "should_fail" => {}
                "description" => self.note_kv(at(k), "descriptive only", k, item),
                "retry_on_failure" | "max_retries" | "retry" => {
                    let n = st
                        .get("max_retries")
                        .and_then(Item::as_integer)
                        .or_else(|| {
                            st.get("retry")
                                .and_then(|r| r.get("max_attempts"))
                                .and_then(Item::as_integer)
                        });
                    if (k != "retry_on_failure" || item.as_bool() == Some(true))
                        && !e.contains_key("retry")
                    {
                        let attempts = n.unwrap_or(3).max(1);
                        let mut r = InlineTable::new();
                        r.insert("attempts", attempts.into());
                        e.insert("retry", Value::InlineTable(r));
                    }
                }
                "env" => self.note(
                    at(k),
                    "a step has no environment of its own here: set env on the service",
                ),
                _ => self.note(at(k), "no counterpart in a step"),
            }
        }
        (e, fails)
    }

    /// `[otel_validation]` → `[[expect.span]]`, `[expect.counts]`, `[[expect.order]]`, `[[expect.graph]]`.
    fn otel_validation(&mut self, doc: &mut DocumentMut) {
        let Some(Item::Table(ov)) = doc.remove("otel_validation") else {
            return;
        };
        let decor = ov.decor().clone();
        let position = ov.position();
        let mut spans = ArrayOfTables::new();
        let mut by_name = InlineTable::new();
        let mut order = Array::new();
        let mut edges = Array::new();
        for (k, item) in ov.iter() {
            let list: Vec<Table> = match item {
                Item::ArrayOfTables(a) => a.iter().cloned().collect(),
                Item::Value(Value::Array(a)) => a
                    .iter()
                    .filter_map(|v| v.as_inline_table().map(|t| t.clone().into_table()))
                    .collect(),
                _ => Vec::new(),
            };
            match k {
                "enabled"
                | "validate_spans"
                | "validate_traces"
                | "validate_hermeticity"
                | "validate_graph_topology"
                | "validate_cardinality"
                | "validate_temporal_ordering"
                | "validate_attributes" => {
                    if item.as_bool() == Some(false) {
                        self.note(format!("otel_validation.{k}"), "false: the expectations below are carried anyway; delete them to turn them off");
                    }
                }
                "expected_spans" => {
                    for (i, s) in list.iter().enumerate() {
                        if let Some(t) = self.expected_span(i, s) {
                            spans.push(t);
                        }
                    }
                }
                "span_count_constraints" => {
                    for (i, c) in list.iter().enumerate() {
                        let Some(name) = c.get("span_name").and_then(Item::as_str) else {
                            self.note(
                                format!("otel_validation.span_count_constraints[{i}]"),
                                "no span_name",
                            );
                            continue;
                        };
                        let mut bound = InlineTable::new();
                        for (from, to) in [
                            ("exact_count", "eq"),
                            ("min_count", "gte"),
                            ("max_count", "lte"),
                        ] {
                            if let Some(n) = c.get(from).and_then(Item::as_integer) {
                                bound.insert(to, n.into());
                            }
                        }
                        if bound.is_empty() {
                            self.note(
                                format!("otel_validation.span_count_constraints[{i}]"),
                                "no exact_count, min_count or max_count",
                            );
                            continue;
                        }
                        if c.contains_key("service_name") {
                            self.note(
                                format!("otel_validation.span_count_constraints[{i}].service_name"),
                                "spans are counted by name over the whole trace",
                            );
                        }
                        by_name.insert(name, Value::InlineTable(bound));
                    }
                }
                "temporal_constraints" => {
                    for (i, c) in list.iter().enumerate() {
                        let name = c.get("span_name").and_then(Item::as_str).unwrap_or("");
                        let mut carried = false;
                        if let Some(after) = c.get("must_precede").and_then(Item::as_array) {
                            for a in after.iter().filter_map(|v| v.as_str()) {
                                let mut pair = Array::new();
                                pair.push(name);
                                pair.push(a);
                                order.push(pair);
                                carried = true;
                            }
                        } else if let Some(a) = c.get("must_precede").and_then(Item::as_str) {
                            let mut pair = Array::new();
                            pair.push(name);
                            pair.push(a);
                            order.push(pair);
                            carried = true;
                        }
                        for (k2, _) in c.iter() {
                            if !matches!(k2, "span_name" | "must_precede" | "reason") {
                                self.note(
                                    format!("otel_validation.temporal_constraints[{i}].{k2}"),
                                    "only must_precede has a counterpart ([expect.order])",
                                );
                            }
                        }
                        if !carried && name.is_empty() {
                            self.note(
                                format!("otel_validation.temporal_constraints[{i}]"),
                                "no span_name",
                            );
                        }
                    }
                }
                "expected_traces" => {
                    for (i, c) in list.iter().enumerate() {
                        for (k2, v) in c.iter() {
                            if k2 == "parent_child" {
                                let pairs: Vec<Table> = match v {
                                    Item::ArrayOfTables(a) => a.iter().cloned().collect(),
                                    Item::Value(Value::Array(a)) => a
                                        .iter()
                                        .filter_map(|v| {
                                            v.as_inline_table().map(|t| t.clone().into_table())
                                        })
                                        .collect(),
                                    _ => Vec::new(),
                                };
                                for p in pairs {
                                    if let (Some(a), Some(b)) = (
                                        p.get("parent").and_then(Item::as_str),
                                        p.get("child").and_then(Item::as_str),
                                    ) {
                                        let mut pair = Array::new();
                                        pair.push(a);
                                        pair.push(b);
                                        edges.push(pair);
                                    }
                                }
                            } else {
                                self.note(format!("otel_validation.expected_traces[{i}].{k2}"), "only parent_child has a counterpart ([expect.graph] must_include)");
                            }
                        }
                    }
                }
                other => self.note(
                    format!("otel_validation.{other}"),
                    "no counterpart among the [expect.*] validators",
                ),
            }
        }
        let expect = table_mut(doc, "expect");
        let mut first = true;
        let mut place = |t: &mut Table| {
            if first {
                *t.decor_mut() = decor.clone();
                first = false;
            }
            if let Some(p) = position {
                t.set_position(Some(p));
            }
        };
        if !spans.is_empty() {
            let mut all = match expect.remove("span") {
                Some(Item::ArrayOfTables(a)) => a,
                _ => ArrayOfTables::new(),
            };
            for mut t in spans.into_iter() {
                place(&mut t);
                all.push(t);
            }
            expect.insert("span", Item::ArrayOfTables(all));
        }
        if !by_name.is_empty() {
            if expect.contains_key("counts") {
                self.note(
                    "otel_validation.span_count_constraints",
                    "[expect.counts] is given too",
                );
            } else {
                let mut t = fresh();
                place(&mut t);
                t.insert("by_name", toml_edit::value(by_name));
                expect.insert("counts", Item::Table(t));
            }
        }
        for (arr, table, key) in [
            (order, "order", "must_precede"),
            (edges, "graph", "must_include"),
        ] {
            if arr.is_empty() {
                continue;
            }
            let mut all = match expect.remove(table) {
                Some(Item::ArrayOfTables(a)) => a,
                Some(Item::Table(t)) => {
                    let mut a = ArrayOfTables::new();
                    a.push(t);
                    a
                }
                _ => ArrayOfTables::new(),
            };
            let mut t = fresh();
            place(&mut t);
            t.insert(key, toml_edit::value(arr));
            all.push(t);
            expect.insert(table, Item::ArrayOfTables(all));
        }
    }

    fn expected_span(&mut self, i: usize, s: &Table) -> Option<Table> {
        let at = |k: &str| format!("otel_validation.expected_spans[{i}].{k}");
        let Some(name) = s.get("name").and_then(Item::as_str) else {
            self.note(at("name"), "missing");
            return None;
        };
        if s.get("required").and_then(Item::as_bool) == Some(false) {
            self.note(format!("otel_validation.expected_spans[{i}]"), format!("`{name}` is optional (required = false): an optional expectation checks nothing"));
            return None;
        }
        let mut t = fresh();
        t.insert("name", toml_edit::value(name));
        let mut duration = InlineTable::new();
        for (k, item) in s.iter() {
            match k {
                "name" | "required" => {}
                "parent" | "kind" => {
                    t.insert(k, item.clone());
                }
                "attributes" => {
                    let mut all = InlineTable::new();
                    if let Some(tl) = item.as_table_like() {
                        flatten("", tl, &mut all);
                    }
                    let mut attrs = InlineTable::new();
                    attrs.insert("all", Value::InlineTable(all));
                    attrs.set_dotted(true);
                    t.insert("attrs", toml_edit::value(attrs));
                }
                "count" => {
                    if let Some(n) = item.as_integer() {
                        let mut c = InlineTable::new();
                        c.insert("eq", n.into());
                        t.insert("count", toml_edit::value(c));
                    }
                }
                "min_count" => {
                    if let Some(n) = item.as_integer() {
                        let mut c = InlineTable::new();
                        c.insert("gte", n.into());
                        t.insert("count", toml_edit::value(c));
                    }
                }
                "min_duration_ms" | "max_duration_ms" => {
                    if let Some(v) = item.as_value() {
                        let mut v = v.clone();
                        v.decor_mut().clear();
                        duration.insert(if k == "min_duration_ms" { "min" } else { "max" }, v);
                    }
                }
                "is_root" => self.note(
                    at(k),
                    "write parent-less as [expect.graph]; a root has no parent attribute to match",
                ),
                _ => self.note_kv(at(k), "no counterpart in [[expect.span]]", k, item),
            }
        }
        if !duration.is_empty() {
            t.insert("duration_ms", toml_edit::value(duration));
        }
        Some(t)
    }

    /// Top-level keys this dialect does not know: taken out, kept as
    /// comments at the end.
    fn leftovers(&mut self, doc: &mut DocumentMut) {
        const KNOWN: &[&str] = &[
            "meta",
            "test",
            "determinism",
            "vars",
            "otel",
            "plugins",
            "service",
            "scenario",
            "expect",
            "limits",
            "report",
            "cleanup",
        ];
        let unknown: Vec<String> = doc
            .iter()
            .map(|(k, _)| k.to_string())
            .filter(|k| !KNOWN.contains(&k.as_str()))
            .collect();
        for name in unknown {
            let item = doc.remove(&name).expect("listed");
            let reason = UNCARRIED_TABLES
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, r)| r.to_string())
                .unwrap_or_else(|| "no counterpart in this dialect".to_string());
            let mut tmp = DocumentMut::new();
            tmp.insert(&name, item);
            let text = tmp.to_string();
            self.notes.push(Note {
                key: name,
                reason,
                text: Some(text.trim().to_string()),
            });
        }
    }
}

/// `{ service = { name = "x" } }` → `{ "service.name" = "x" }`.
fn flatten(prefix: &str, t: &dyn toml_edit::TableLike, out: &mut InlineTable) {
    for (k, item) in t.iter() {
        let key = if prefix.is_empty() {
            k.to_string()
        } else {
            format!("{prefix}.{k}")
        };
        match item.as_table_like() {
            Some(sub) if !matches!(item, Item::Value(Value::Array(_))) => flatten(&key, sub, out),
            _ => {
                if let Some(v) = item.as_value() {
                    let mut v = v.clone();
                    v.decor_mut().clear();
                    out.insert(&key, v);
                }
            }
        }
    }
}

/// `["host:container[:ro]"]` or `[{ host_path, container_path, read_only }]`
/// → `mounts = [{ source, target, read_only }]`.
fn volumes(item: &Item) -> Result<Item, String> {
    let mut out = Array::new();
    let mut one = |host: &str, cont: &str, ro: bool| -> Result<(), String> {
        if host.contains("${") {
            return Err(format!(
                "`{host}`: environment variables are not expanded in a mount source"
            ));
        }
        let mut m = InlineTable::new();
        m.insert("source", host.into());
        m.insert("target", cont.into());
        if ro {
            m.insert("read_only", true.into());
        }
        out.push(Value::InlineTable(m));
        Ok(())
    };
    match item {
        Item::Value(Value::Array(a)) => {
            for v in a.iter() {
                match v {
                    Value::String(s) => {
                        let parts: Vec<&str> = s.value().split(':').collect();
                        match parts.as_slice() {
                            [h, c] => one(h, c, false)?,
                            [h, c, mode] => one(h, c, *mode == "ro")?,
                            _ => return Err(format!("`{}`: expected host:container", s.value())),
                        }
                    }
                    Value::InlineTable(t) => {
                        let (Some(h), Some(c)) = (
                            t.get("host_path").and_then(|v| v.as_str()),
                            t.get("container_path").and_then(|v| v.as_str()),
                        ) else {
                            return Err("expected { host_path, container_path }".into());
                        };
                        one(
                            h,
                            c,
                            t.get("read_only")
                                .and_then(|v| v.as_bool())
                                .unwrap_or(false),
                        )?;
                    }
                    _ => return Err("expected strings or tables".into()),
                }
            }
        }
        Item::ArrayOfTables(a) => {
            for t in a.iter() {
                let (Some(h), Some(c)) = (
                    t.get("host_path").and_then(Item::as_str),
                    t.get("container_path").and_then(Item::as_str),
                ) else {
                    return Err("expected { host_path, container_path }".into());
                };
                one(
                    h,
                    c,
                    t.get("read_only").and_then(Item::as_bool).unwrap_or(false),
                )?;
            }
        }
        _ => return Err("expected a list".into()),
    }
    Ok(toml_edit::value(out))
}

#[cfg(test)]
mod tests;
