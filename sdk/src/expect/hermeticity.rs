//! The `[expect.hermeticity]` checker: the run left nothing behind and touched nothing
//! outside itself, as its own verification spans prove (docs/architecture.md, cleanup and verification).
//!
//! ```toml
//! [expect.hermeticity]
//! no_container_leakage = true
//! no_network_leakage = true
//! no_volume_leakage = true
//! no_process_leakage = true
//! resource_attrs.must_match = { "service.name" = "clnrm", "clnrm.version" = { exists = true } }
//! span_attrs.forbid_keys = ["db.password", "http.request.header.authorization"]
//! no_external_services = true
//! ```
//!
//! Every key is optional, but the table must give at least one; unknown keys are errors
//! with the nearest valid key. Boolean rules are checked when `true` and skipped when
//! `false`. Each rule yields one finding labelled `expect.hermeticity.<rule>`
//! (`expect.hermeticity.resource_attrs.must_match`, `expect.hermeticity.span_attrs.forbid_keys`),
//! in the order of [`HERMETICITY_KEYS`].
//!
//! - `no_container_leakage`, `no_network_leakage`, `no_volume_leakage`,
//!   `no_process_leakage`: there is at least one `clnrm.cleanup.verification` span (none
//!   means the run never verified its cleanup, which fails), and on every one of them the
//!   attribute `containers.remaining`, `networks.remaining`, `volumes.remaining` or
//!   `processes.remaining` respectively is the number 0. A missing count is unknown and
//!   fails: a verification that did not count cannot prove nothing leaked.
//! - `resource_attrs.must_match = { key = <matcher> }`: the run's OpenTelemetry *resource*
//!   (`[otel] resources`, plus `service.name`; [`Trace::resource`], handed over by the host
//!   through the WIT 0.3.2 `trace-resource` import) satisfies every attribute matcher
//!   ([`Matcher`]: a literal, an any-of array or an operator table). Span attributes,
//!   `clnrm.run`'s included, are not resource attributes and are not consulted.
//! - `span_attrs.forbid_keys = ["key", ...]`: no span carries any of these attribute keys,
//!   neither on itself nor on one of its events. Keys compare exactly.
//! - `no_external_services = true`: no span talks to anything outside the run. A span
//!   offends if it has attribute `external.call` = true, or an address attribute
//!   (`server.address`, `net.peer.name`, `net.peer.ip`, `network.peer.address`) whose host
//!   is neither loopback (`localhost`, `*.localhost`, `127.0.0.0/8`, `::1`) nor a service
//!   of the run (a `service.id` of a `clnrm.service.start` span, which the scenario's
//!   network resolves). A `:port` suffix and `[...]` around IPv6 are ignored.
//!
//! - `no_resource_leakage = true`: the four leakage rules at once (every verification
//!   reports 0 containers, networks, volumes and processes remaining; at least one
//!   verification), and every span with a `resource.type` attribute (a `chaos-resource`
//!   pressure; not the engine's `pressure.source = "limits"` observations, which change
//!   nothing) was released by a successful `clnrm.resource.recovery` of its scenario on
//!   its target after it (see `[expect.resources]`).
//!
//! A failure names every offending span (up to 10) with `Trace::describe` and the
//! condition it missed.

use serde_json::Value;

use super::config::{self, check_keys, child, invalid};
use super::matcher::Matcher;
use super::model::{AttrValue, Finding, Span, Trace};
use super::rules::{self, every, finding, SERVICE_START};
use crate::config::ConfigError;

/// Keys of `[expect.hermeticity]`.
pub const HERMETICITY_KEYS: [&str; 8] = [
    "no_container_leakage",
    "no_network_leakage",
    "no_volume_leakage",
    "no_process_leakage",
    "resource_attrs",
    "span_attrs",
    "no_external_services",
    "no_resource_leakage",
];

/// The leakage rules and the verification attribute each one reads.
pub const LEAKAGE_RULES: [(&str, &str); 4] = [
    ("no_container_leakage", "containers.remaining"),
    ("no_network_leakage", "networks.remaining"),
    ("no_volume_leakage", "volumes.remaining"),
    ("no_process_leakage", "processes.remaining"),
];

/// Attributes naming the peer a span talked to (OpenTelemetry semantic conventions, old
/// and new).
pub const ADDRESS_KEYS: [&str; 4] = [
    "server.address",
    "net.peer.name",
    "net.peer.ip",
    "network.peer.address",
];

/// A parsed `[expect.hermeticity]` table.
#[derive(Debug, Clone, Default)]
pub struct HermeticityExpectation {
    /// The leakage rules switched on, as (rule, attribute) from [`LEAKAGE_RULES`].
    pub leakage: Vec<(&'static str, &'static str)>,
    /// `resource_attrs.must_match`, in key order.
    pub resource_must_match: Vec<(String, Matcher)>,
    /// `span_attrs.forbid_keys`.
    pub forbid_keys: Vec<String>,
    pub no_external_services: bool,
    pub no_resource_leakage: bool,
}

/// Parses `[expect.hermeticity]`.
pub fn parse_hermeticity(config: &Value) -> Result<HermeticityExpectation, ConfigError> {
    let path: &[String] = &[];
    let t = rules::top_table(config, "hermeticity", &HERMETICITY_KEYS)?;
    let mut e = HermeticityExpectation::default();
    for (rule, attr) in LEAKAGE_RULES {
        if rules::flag(t, rule, path)? {
            e.leakage.push((rule, attr));
        }
    }
    if let Some(v) = t.get("resource_attrs") {
        let p = child(path, "resource_attrs");
        let ra = config::table(v, &p)?;
        check_keys(ra, &["must_match"], &p)?;
        let Some(mm) = ra.get("must_match") else {
            return Err(ConfigError::missing_key(&p, "must_match"));
        };
        let mp = child(&p, "must_match");
        let mm = config::table(mm, &mp)?;
        if mm.is_empty() {
            return Err(invalid(
                &mp,
                "an empty table checks nothing; name at least one attribute".to_string(),
            ));
        }
        for (k, m) in mm {
            e.resource_must_match
                .push((k.clone(), Matcher::from_json(m, &child(&mp, k))?));
        }
    }
    if let Some(v) = t.get("span_attrs") {
        let p = child(path, "span_attrs");
        let sa = config::table(v, &p)?;
        check_keys(sa, &["forbid_keys"], &p)?;
        let Some(fk) = sa.get("forbid_keys") else {
            return Err(ConfigError::missing_key(&p, "forbid_keys"));
        };
        e.forbid_keys = rules::nonempty_strings(fk, &child(&p, "forbid_keys"), "attribute key")?;
    }
    e.no_external_services = rules::flag(t, "no_external_services", path)?;
    e.no_resource_leakage = rules::flag(t, "no_resource_leakage", path)?;
    Ok(e)
}

/// Checks `[expect.hermeticity]` against `trace`: one finding per rule switched on.
///
/// Only clnrm's own spans are read (see [`Trace::clnrm_only`]): an application span cannot
/// fake a clean verification.
pub fn check_hermeticity(config: &Value, trace: &Trace) -> Result<Vec<Finding>, ConfigError> {
    let own = trace.clnrm_only();
    check_hermeticity_own(config, &own)
}

fn check_hermeticity_own(config: &Value, trace: &Trace) -> Result<Vec<Finding>, ConfigError> {
    let e = parse_hermeticity(config)?;
    let mut out = Vec::new();
    for (rule, attr) in &e.leakage {
        let (spans, if_none) = rules::verification_spans(trace);
        let verdict = every(
            trace,
            spans,
            &format!("{} span(s)", rules::VERIFICATION),
            &format!("report {attr} = 0"),
            Some(if_none),
            |s| rules::zero(s, attr),
        );
        out.push(finding(format!("expect.hermeticity.{rule}"), verdict));
    }
    if !e.resource_must_match.is_empty() {
        out.push(finding(
            "expect.hermeticity.resource_attrs.must_match".into(),
            resource_verdict(&e.resource_must_match, trace.resource()),
        ));
    }
    if !e.forbid_keys.is_empty() {
        let verdict = every(
            trace,
            trace.spans(),
            "span(s)",
            &format!(
                "carry none of the attribute keys {}",
                super::common::quoted_list(&e.forbid_keys)
            ),
            Some("the trace is empty; nothing proves the run was checked".into()),
            |s| forbidden_in(s, &e.forbid_keys),
        );
        out.push(finding(
            "expect.hermeticity.span_attrs.forbid_keys".into(),
            verdict,
        ));
    }
    if e.no_external_services {
        let services: Vec<String> = trace
            .named(SERVICE_START)
            .filter_map(|s| s.attr("service.id"))
            .map(|v| v.canonical())
            .collect();
        let verdict = every(
            trace,
            trace.spans(),
            "span(s)",
            "talk only to loopback or the run's services",
            Some("the trace is empty; nothing proves the run was checked".into()),
            |s| external_call(s, &services),
        );
        out.push(finding(
            "expect.hermeticity.no_external_services".into(),
            verdict,
        ));
    }
    if e.no_resource_leakage {
        out.push(finding(
            "expect.hermeticity.no_resource_leakage".into(),
            no_resource_leakage(trace),
        ));
    }
    Ok(out)
}

/// `resource_attrs.must_match` against the run's resource: the attributes OpenTelemetry
/// attaches to the run as a whole (`[otel] resources`, `service.name`), which no span
/// carries as a span attribute. A trace without a resource (a host older than WIT 0.3.2
/// gave none) cannot prove anything and fails.
fn resource_verdict(
    must: &[(String, Matcher)],
    resource: Option<&[(String, AttrValue)]>,
) -> (bool, String) {
    let Some(resource) = resource else {
        return (
            false,
            "the host gave this validator no resource attributes (clnrm:chaos/trace-resource, WIT 0.3.2): nothing to match".into(),
        );
    };
    let get = |k: &str| resource.iter().find(|(key, _)| key == k).map(|(_, v)| v);
    let unmet: Vec<String> = must
        .iter()
        .filter_map(|(k, m)| m.check(k, get(k)).err())
        .map(|why| format!("resource attribute {why}"))
        .collect();
    let keys: Vec<String> = resource.iter().map(|(k, _)| k.clone()).collect();
    if unmet.is_empty() {
        (
            true,
            format!(
                "the run's resource matches ({} attribute(s) checked of {})",
                must.len(),
                super::common::quoted_list(&keys)
            ),
        )
    } else {
        (
            false,
            format!(
                "the run's resource does not match: {} (resource has {})",
                unmet.join("; "),
                super::common::quoted_list(&keys)
            ),
        )
    }
}

/// Nothing the run held is still held: every verification counts no container, network,
/// volume or process left, and every resource a `chaos-resource` fault pressed on (a span
/// with `resource.type`) was released by a successful `clnrm.resource.recovery`.
fn no_resource_leakage(trace: &Trace) -> (bool, String) {
    let (spans, if_none) = rules::verification_spans(trace);
    let counts = every(
        trace,
        spans,
        &format!("{} span(s)", rules::VERIFICATION),
        "report nothing remaining",
        Some(if_none),
        |s| {
            let unmet: Vec<String> = LEAKAGE_RULES
                .iter()
                .filter_map(|(_, attr)| rules::zero(s, attr).err())
                .collect();
            if unmet.is_empty() {
                Ok(())
            } else {
                Err(unmet.join("; "))
            }
        },
    );
    if !counts.0 {
        return counts;
    }
    let pressed: Vec<&Span> = trace
        .spans()
        .iter()
        .filter(|s| s.attr("resource.type").is_some() && super::resources::pressed(s))
        .collect();
    let held: Vec<(&Span, String)> = pressed
        .iter()
        .filter(|p| super::resources::released_by(trace, p).is_none())
        .map(|p| {
            (
                *p,
                "pressed on, never released by a successful clnrm.resource.recovery".to_string(),
            )
        })
        .collect();
    if held.is_empty() {
        (
            true,
            format!(
                "{}; {} resource pressure span(s), each released",
                counts.1,
                pressed.len()
            ),
        )
    } else {
        (
            false,
            format!(
                "{} of {} resource pressure span(s) never released: {}",
                held.len(),
                pressed.len(),
                rules::offenders(trace, &held)
            ),
        )
    }
}

/// Whether `host` (an address attribute's value) stays inside the run: loopback, or the
/// name of one of the run's services.
pub fn is_internal_host(host: &str, services: &[String]) -> bool {
    let h = strip_port(host.trim()).to_ascii_lowercase();
    let h = h.as_str();
    h == "localhost"
        || h.ends_with(".localhost")
        || h == "::1"
        || h == "0:0:0:0:0:0:0:1"
        || is_ipv4_loopback(h)
        || services.iter().any(|s| s.eq_ignore_ascii_case(h))
}

/// `host:port` -> `host`, `[::1]:80` -> `::1`, `[::1]` -> `::1`; bare IPv6 stays whole.
fn strip_port(a: &str) -> &str {
    if let Some(rest) = a.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    match a.rsplit_once(':') {
        // One colon: host:port. More: a bare IPv6 address.
        Some((host, port)) if !host.contains(':') && port.chars().all(|c| c.is_ascii_digit()) => {
            host
        }
        _ => a,
    }
}

fn is_ipv4_loopback(h: &str) -> bool {
    let parts: Vec<&str> = h.split('.').collect();
    parts.len() == 4 && parts[0] == "127" && parts.iter().all(|p| p.parse::<u8>().is_ok())
}

fn forbidden_in(s: &Span, forbid: &[String]) -> Result<(), String> {
    let mut found = Vec::new();
    for key in forbid {
        if s.attrs.iter().any(|(k, _)| k == key) {
            found.push(format!("carries forbidden attribute {key:?}"));
        }
        for ev in &s.events {
            if ev.attrs.iter().any(|(k, _)| k == key) {
                found.push(format!(
                    "event {:?} carries forbidden attribute {key:?}",
                    ev.name
                ));
            }
        }
    }
    if found.is_empty() {
        Ok(())
    } else {
        Err(found.join(", "))
    }
}

fn external_call(s: &Span, services: &[String]) -> Result<(), String> {
    let mut found = Vec::new();
    if rules::is_true(s.attr("external.call")) {
        found.push("external.call = true".to_string());
    }
    for key in ADDRESS_KEYS {
        if let Some(v) = s.attr(key) {
            if !is_internal_host(&v.canonical(), services) {
                found.push(format!(
                    "{key} = {v} is outside the run (not loopback, not a service of the run)"
                ));
            }
        }
    }
    if found.is_empty() {
        Ok(())
    } else {
        Err(found.join(", "))
    }
}

#[cfg(test)]
#[path = "hermeticity_tests.rs"]
mod tests;
