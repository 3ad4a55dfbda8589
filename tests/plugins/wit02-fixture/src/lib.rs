//! A chaos plugin built with wit-bindgen directly against the frozen
//! `wit/compat/0.2.0/clnrm.wit` (as a plugin written before 0.3 was): it
//! must keep loading and running on the current host
//! (docs/wit-versioning.md, tests/wit_compat.rs).
//!
//! `legacy_kill`: after `delay_ms` (default 0), SIGKILL the target service
//! (`target`, default the scenario's main service), wait until Docker
//! reports it stopped, and emit
//! `clnrm.chaos.legacy_kill` with `chaos.type` and `chaos.observed` (true
//! only on exit code 137).
#![cfg(target_family = "wasm")]

wit_bindgen::generate!({
    world: "chaos-plugin",
    path: "../../../wit/compat/0.2.0/clnrm.wit",
});

use clnrm::chaos::types::{AttrValue, PluginInfo, SpanKind, SpanStatus};
use clnrm::chaos::{clock, container, spans};
use exports::clnrm::chaos::chaos::{Guest, Injection, Outcome};

const KEYS: [&str; 3] = ["type", "target", "delay_ms"];
const OBSERVE_MS: u64 = 10_000;

struct Legacy;

/// The target service named by the table, if any, and the delay; errors in
/// 0.2's form: a string.
fn parse(config_json: &str) -> Result<(Option<String>, u64), String> {
    let v: serde_json::Value =
        serde_json::from_str(config_json).map_err(|e| format!("not JSON: {e}"))?;
    let table = v.as_object().ok_or("legacy_kill takes a table")?;
    if let Some(k) = table.keys().find(|k| !KEYS.contains(&k.as_str())) {
        return Err(format!(
            "unknown key \"{k}\" (legacy_kill takes: {})",
            KEYS.join(", ")
        ));
    }
    let delay = match table.get("delay_ms") {
        None => 0,
        Some(v) => v
            .as_u64()
            .ok_or_else(|| format!("`delay_ms` must be a number of milliseconds, found {v}"))?,
    };
    match table.get("target") {
        None => Ok((None, delay)),
        Some(serde_json::Value::String(s)) => Ok((Some(s.clone()), delay)),
        Some(other) => Err(format!("`target` must be a service name, found {other}")),
    }
}

fn set(span: u64, key: &str, value: AttrValue) {
    spans::set_attribute(span, key, &value);
}

impl Guest for Legacy {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: "wit02-fixture".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            wit_version: "0.2.0".into(),
            handles: vec!["legacy_kill".into()],
            capabilities: vec!["container".into()],
        }
    }

    fn check(fault_type: String, config_json: String) -> Result<(), String> {
        if fault_type != "legacy_kill" {
            return Err(format!("wit02-fixture does not handle `{fault_type}`"));
        }
        parse(&config_json).map(|_| ())
    }

    fn inject(injection: Injection) -> Result<Outcome, String> {
        let (target, delay_ms) = parse(&injection.config_json)?;
        let service = match target {
            Some(s) => s,
            None => injection
                .services
                .first()
                .cloned()
                .ok_or("the scenario has no service")?,
        };
        let span = spans::start(
            "clnrm.chaos.legacy_kill",
            injection.parent,
            SpanKind::Internal,
        );
        set(span, "chaos.type", AttrValue::Str("legacy_kill".into()));
        set(span, "target.service", AttrValue::Str(service.clone()));
        clock::sleep_ms(delay_ms);
        let fail = |msg: String| {
            set(span, "chaos.observed", AttrValue::Boolean(false));
            spans::end(span, SpanStatus::Error, Some(&msg));
            Err(msg)
        };
        if let Err(e) = container::kill(&service, "SIGKILL") {
            return fail(format!("kill `{service}`: {e}"));
        }
        let start = clock::now_ms();
        let state = loop {
            match container::inspect(&service) {
                Err(e) => return fail(format!("inspect `{service}`: {e}")),
                Ok(s) if !s.running => break s,
                Ok(_) if clock::now_ms().saturating_sub(start) > OBSERVE_MS => {
                    return fail(format!("`{service}` still running after SIGKILL"))
                }
                Ok(_) => clock::sleep_ms(20),
            }
        };
        let code = state.exit_code.unwrap_or(-1);
        set(span, "container.exit_code", AttrValue::Int(code.into()));
        if code != 137 {
            return fail(format!(
                "`{service}` stopped with exit code {code}, not 137"
            ));
        }
        set(span, "chaos.observed", AttrValue::Boolean(true));
        spans::end(span, SpanStatus::Ok, None);
        Ok(Outcome {
            observed: true,
            summary: format!("legacy_kill: {service} stopped with exit code 137"),
        })
    }
}

export!(Legacy);
