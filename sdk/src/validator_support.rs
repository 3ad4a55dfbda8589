//! Glue between the `validator-plugin` WIT bindings and the plain-Rust [`expect`] model,
//! shared by every first-party validator so each plugin is only a `describe` and a call
//! into its checker.
//!
//! - [`trace_from_records`] / [`span_from_record`]: WIT `span-record`s to an
//!   [`expect::Trace`].
//! - [`finding_to_wit`]: an [`expect::Finding`] back to the WIT `finding`.
//! - [`config`]: check the table name and decode the config JSON, with the errors every
//!   validator gives.
//! - [`plugin_info`]: the `describe()` answer of a validator.
//! - [`check`] / [`validate`] / [`validate_packed`]: the `check`, `validate` and (WIT
//!   0.3.3) `validate-packed` exports around one parser and one checker function; their
//!   errors become the WIT's through
//!   [`config::to_wit`](crate::config::to_wit), the one place that conversion happens.
//! - [`validator_plugin!`](crate::validator_plugin): a whole validator plugin in one line.
//!
//! Everything here is plain Rust over the generated types, so it compiles (and is tested)
//! natively too.

use serde_json::Value;

use crate::config::{to_wit, ConfigError};
use crate::expect::{self, AttrValue, Kind, Status, Trace};
use crate::validator::clnrm::chaos::types::ConfigError as WitConfigError;
use crate::validator::clnrm::chaos::types::{self as wit, PluginInfo, SpanKind, SpanStatus};
use crate::validator::exports::clnrm::chaos::validator::{Finding, SpanRecord};

/// The `describe()` answer of a validator plugin named `name` (e.g. `validate-status`)
/// handling `[expect.<handles>]`: no capabilities, this SDK's WIT version.
pub fn plugin_info(name: &str, version: &str, handles: &[&str]) -> PluginInfo {
    PluginInfo {
        name: name.into(),
        version: version.into(),
        wit_version: crate::WIT_VERSION.into(),
        handles: handles.iter().map(|h| (*h).to_owned()).collect(),
        capabilities: vec![],
    }
}

/// Decodes `config_json` for `[expect.<table>]` after checking that `table` is `expected`,
/// the table the plugin `validate-<expected>` handles.
pub fn config(expected: &str, table: &str, config_json: &str) -> Result<Value, ConfigError> {
    if table != expected {
        return Err(ConfigError::Other(format!(
            "validate-{expected} handles [expect.{expected}], not [expect.{table}]"
        )));
    }
    serde_json::from_str(config_json).map_err(|e| {
        ConfigError::Other(format!("expect.{expected}: config is not valid JSON: {e}"))
    })
}

/// The whole `check` export of a one-table validator: check the table name, decode the
/// config and `parse` it, without a trace.
pub fn check<T>(
    expected: &str,
    table: &str,
    config_json: &str,
    parse: impl FnOnce(&Value) -> Result<T, ConfigError>,
) -> Result<(), WitConfigError> {
    config(expected, table, config_json)
        .and_then(|c| parse(&c))
        .map(|_| ())
        .map_err(to_wit)
}

/// The whole `validate` export of a one-table validator: check the table name, decode the
/// config, convert the trace (with the run's `resource`, when the host gave it), run
/// `check`, convert the findings.
pub fn validate(
    expected: &str,
    table: &str,
    config_json: &str,
    records: Vec<SpanRecord>,
    resource: Option<Vec<wit::Attribute>>,
    check: impl FnOnce(&Value, &Trace) -> Result<Vec<expect::Finding>, ConfigError>,
) -> Result<Vec<Finding>, String> {
    validate_with(expected, table, config_json, resource, check, || {
        Ok(trace_from_records(records))
    })
}

/// The whole `validate-packed` export (WIT 0.3.3) of a one-table validator: [`validate`]
/// with the trace decoded from the packed bytes ([`Trace::from_packed`]) instead of
/// converted from records. Bytes that are not a packed trace are an `Err` that says what is
/// malformed, as a bad config is.
pub fn validate_packed(
    expected: &str,
    table: &str,
    config_json: &str,
    packed: &[u8],
    resource: Option<Vec<wit::Attribute>>,
    check: impl FnOnce(&Value, &Trace) -> Result<Vec<expect::Finding>, ConfigError>,
) -> Result<Vec<Finding>, String> {
    validate_with(expected, table, config_json, resource, check, || {
        Trace::from_packed(packed).map_err(|e| e.to_string())
    })
}

/// One validation, whatever carried the trace: the config is decoded first (a foreign
/// table is refused before the trace is touched), then `trace` makes the trace.
fn validate_with(
    expected: &str,
    table: &str,
    config_json: &str,
    resource: Option<Vec<wit::Attribute>>,
    check: impl FnOnce(&Value, &Trace) -> Result<Vec<expect::Finding>, ConfigError>,
    trace: impl FnOnce() -> Result<Trace, String>,
) -> Result<Vec<Finding>, String> {
    let findings = match config(expected, table, config_json) {
        Err(e) => {
            discard(trace);
            Err(e)
        }
        Ok(config) => {
            let mut trace = trace()?;
            if let Some(r) = resource {
                trace = trace.with_resource(attrs(r));
            }
            let findings = check(&config, &trace);
            discard(trace);
            discard(config);
            findings
        }
    };
    match findings {
        Ok(f) => Ok(f.into_iter().map(finding_to_wit).collect()),
        // `validate`'s error is prose: the path is rendered from the table's name.
        Err(e) => Err(e.at(&format!("expect.{expected}")).to_string()),
    }
}

/// A whole validator plugin: the WIT `validator-plugin` world exported for a plugin
/// handling `[expect.<table>]`, with `parse` (`&Value -> Result<_, ConfigError>`, for
/// `check`) and `check` (`(&Value, &Trace) -> Result<Vec<Finding>, ConfigError>`, for
/// `validate` and `validate-packed`, which differ only in how the trace arrives). Use it
/// in a `cdylib` built for `wasm32-wasip2`:
///
/// ```ignore
/// clnrm_sdk::validator_plugin!(
///     name: "validate-span",
///     table: "span",
///     parse: clnrm_sdk::expect::parse_span_expectations,
///     check: clnrm_sdk::expect::check_spans,
/// );
/// ```
#[macro_export]
macro_rules! validator_plugin {
    (name: $name:literal, table: $table:literal, parse: $parse:path, check: $check:path $(,)?) => {
        struct __ClnrmValidator;

        impl $crate::validator::exports::clnrm::chaos::validator::Guest for __ClnrmValidator {
            fn describe() -> $crate::validator::clnrm::chaos::types::PluginInfo {
                $crate::validator_support::plugin_info($name, env!("CARGO_PKG_VERSION"), &[$table])
            }

            fn check(
                table: ::std::string::String,
                config_json: ::std::string::String,
            ) -> ::std::result::Result<(), $crate::validator::clnrm::chaos::types::ConfigError>
            {
                $crate::validator_support::check($table, &table, &config_json, $parse)
            }

            fn validate(
                table: ::std::string::String,
                config_json: ::std::string::String,
                trace: ::std::vec::Vec<
                    $crate::validator::exports::clnrm::chaos::validator::SpanRecord,
                >,
            ) -> ::std::result::Result<
                ::std::vec::Vec<$crate::validator::exports::clnrm::chaos::validator::Finding>,
                ::std::string::String,
            > {
                $crate::validator_support::validate(
                    $table,
                    &table,
                    &config_json,
                    trace,
                    $crate::__trace_resource!(),
                    $check,
                )
            }
        }

        impl $crate::validator::exports::clnrm::chaos::packed_validator::Guest
            for __ClnrmValidator
        {
            fn validate_packed(
                table: ::std::string::String,
                config_json: ::std::string::String,
                trace: ::std::vec::Vec<u8>,
            ) -> ::std::result::Result<
                ::std::vec::Vec<$crate::validator::exports::clnrm::chaos::validator::Finding>,
                ::std::string::String,
            > {
                $crate::validator_support::validate_packed(
                    $table,
                    &table,
                    &config_json,
                    &trace,
                    $crate::__trace_resource!(),
                    $check,
                )
            }
        }

        $crate::export_validator_plugin!(__ClnrmValidator);
    };
}

/// The run's resource, from the host (WIT 0.3.2 `trace-resource`, one call per
/// validation); natively (the sdk's own tests) there is no host to ask. A macro, not a
/// function: the `cfg` is the plugin crate's target, where `validator_plugin!` expands.
#[doc(hidden)]
#[macro_export]
macro_rules! __trace_resource {
    () => {{
        #[cfg(target_family = "wasm")]
        let resource = ::std::option::Option::Some(
            $crate::validator::clnrm::chaos::trace_resource::attributes(),
        );
        #[cfg(not(target_family = "wasm"))]
        let resource = ::std::option::Option::None;
        resource
    }};
}

/// Drops what the call no longer needs. In a plugin, every call runs in a fresh instance
/// that is thrown away when it returns (docs/plugin-guide.md), so freeing a big trace
/// string by string (a million frees for 100k spans) is time spent for nothing: leave it
/// to die with the instance. Natively (tests, a reused value) it is dropped as usual.
fn discard<T>(value: T) {
    #[cfg(target_family = "wasm")]
    std::mem::forget(value);
    #[cfg(not(target_family = "wasm"))]
    drop(value);
}

/// The WIT trace as an [`expect::Trace`].
pub fn trace_from_records(records: Vec<SpanRecord>) -> Trace {
    Trace::new(records.into_iter().map(span_from_record).collect())
}

/// One WIT `span-record` as an [`expect::Span`].
pub fn span_from_record(r: SpanRecord) -> expect::Span {
    expect::Span {
        id: r.id,
        parent: r.parent,
        name: r.name,
        kind: match r.kind {
            SpanKind::Internal => Kind::Internal,
            SpanKind::Server => Kind::Server,
            SpanKind::Client => Kind::Client,
            SpanKind::Producer => Kind::Producer,
            SpanKind::Consumer => Kind::Consumer,
        },
        status: match r.status {
            SpanStatus::Unset => Status::Unset,
            SpanStatus::Ok => Status::Ok,
            SpanStatus::Error => Status::Error,
        },
        status_message: r.status_message,
        start_ns: r.start_ns,
        end_ns: r.end_ns,
        attrs: attrs(r.attributes),
        events: r
            .events
            .into_iter()
            .map(|e| expect::Event {
                name: e.name,
                time_ns: e.time_ns,
                attrs: attrs(e.attributes),
            })
            .collect(),
    }
}

/// An [`expect::Finding`] as the WIT `finding`.
pub fn finding_to_wit(f: expect::Finding) -> Finding {
    Finding {
        expectation: f.expectation,
        passed: f.passed,
        message: f.message,
    }
}

fn attrs(list: Vec<wit::Attribute>) -> Vec<(String, AttrValue)> {
    list.into_iter()
        .map(|a| {
            let v = match a.value {
                wit::AttrValue::Str(s) => AttrValue::Str(s),
                wit::AttrValue::Int(i) => AttrValue::Int(i),
                wit::AttrValue::Float(x) => AttrValue::Float(x),
                wit::AttrValue::Boolean(b) => AttrValue::Bool(b),
            };
            (a.key, v)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validator::exports::clnrm::chaos::validator::SpanEvent;

    fn record() -> SpanRecord {
        SpanRecord {
            id: 3,
            parent: Some(1),
            name: "clnrm.cleanup".into(),
            kind: SpanKind::Client,
            status: SpanStatus::Error,
            status_message: Some("leaked".into()),
            start_ns: 10,
            end_ns: 20,
            attributes: vec![
                wit::Attribute {
                    key: "s".into(),
                    value: wit::AttrValue::Str("x".into()),
                },
                wit::Attribute {
                    key: "i".into(),
                    value: wit::AttrValue::Int(-2),
                },
                wit::Attribute {
                    key: "f".into(),
                    value: wit::AttrValue::Float(0.5),
                },
                wit::Attribute {
                    key: "b".into(),
                    value: wit::AttrValue::Boolean(true),
                },
            ],
            events: vec![SpanEvent {
                name: "container.stop".into(),
                time_ns: 15,
                attributes: vec![wit::Attribute {
                    key: "removed".into(),
                    value: wit::AttrValue::Boolean(false),
                }],
            }],
        }
    }

    #[test]
    fn converts_every_field() {
        let s = span_from_record(record());
        assert_eq!(s.id, 3);
        assert_eq!(s.parent, Some(1));
        assert_eq!(s.name, "clnrm.cleanup");
        assert_eq!(s.kind, Kind::Client);
        assert_eq!(s.status, Status::Error);
        assert_eq!(s.status_message.as_deref(), Some("leaked"));
        assert_eq!((s.start_ns, s.end_ns), (10, 20));
        assert_eq!(
            s.attrs,
            vec![
                ("s".into(), AttrValue::Str("x".into())),
                ("i".into(), AttrValue::Int(-2)),
                ("f".into(), AttrValue::Float(0.5)),
                ("b".into(), AttrValue::Bool(true)),
            ]
        );
        assert_eq!(s.events.len(), 1);
        assert_eq!(s.events[0].name, "container.stop");
        assert_eq!(s.events[0].time_ns, 15);
        assert_eq!(
            s.events[0].attrs,
            vec![("removed".into(), AttrValue::Bool(false))]
        );
    }

    #[test]
    fn validate_wraps_a_checker() {
        let resource = vec![wit::Attribute {
            key: "env".into(),
            value: wit::AttrValue::Str("ci".into()),
        }];
        let out = validate(
            "x",
            "x",
            "{\"k\": 1}",
            vec![record()],
            Some(resource),
            |c, t| {
                assert_eq!(c["k"], 1);
                assert_eq!(
                    t.resource(),
                    Some(&[("env".to_string(), AttrValue::Str("ci".into()))][..])
                );
                Ok(vec![expect::Finding {
                    expectation: "expect.x".into(),
                    passed: t.spans().len() == 1,
                    message: "m".into(),
                }])
            },
        )
        .unwrap();
        assert_eq!(out.len(), 1);
        assert!(out[0].passed);
        assert_eq!(out[0].expectation, "expect.x");

        let err = validate("x", "y", "{}", vec![], None, |_, _| Ok(vec![])).unwrap_err();
        assert_eq!(err, "validate-x handles [expect.x], not [expect.y]");
        let err = config("x", "x", "{").unwrap_err();
        assert!(
            matches!(&err, ConfigError::Other(m) if m.starts_with("expect.x: config is not valid JSON: ")),
            "{err:?}"
        );
        // A checker's error goes through the one conversion, shown under `expect.x`.
        let checker_err = validate("x", "x", "[{}]", vec![], None, |_, _| {
            Err(ConfigError::unknown_key(&["0".into()], "nmae", &["name"]))
        })
        .unwrap_err();
        assert_eq!(
            checker_err,
            "expect.x[0]: unknown key \"nmae\"; did you mean \"name\"? (valid: name)"
        );
    }

    #[test]
    fn check_parses_without_a_trace() {
        let parse = |v: &Value| {
            v.get("k")
                .and_then(Value::as_u64)
                .ok_or_else(|| ConfigError::missing_key(&[], "k"))
        };
        use crate::validator::clnrm::chaos::types::MissingKey;
        assert_eq!(check("x", "x", "{\"k\": 1}", parse), Ok(()));
        assert_eq!(
            check("x", "x", "{}", parse),
            Err(WitConfigError::MissingKey(MissingKey {
                path: vec![],
                key: "k".into()
            }))
        );
        assert_eq!(
            check("x", "y", "{}", parse),
            Err(WitConfigError::Other(
                "validate-x handles [expect.x], not [expect.y]".into()
            ))
        );
    }

    #[test]
    fn plugin_info_has_no_capabilities() {
        let info = plugin_info("validate-x", "1.2.3", &["x"]);
        assert_eq!(info.name, "validate-x");
        assert_eq!(info.version, "1.2.3");
        assert_eq!(info.wit_version, crate::WIT_VERSION);
        assert_eq!(info.handles, vec!["x".to_string()]);
        assert!(info.capabilities.is_empty());
    }
}

/// `validator_plugin!` with the validator of docs/plugin-guide.md (the same code, with
/// `crate::` for `clnrm_sdk::`), compiled and called natively.
#[cfg(test)]
mod macro_tests {
    use crate::expect::Status;
    use crate::prelude::*;
    use crate::validator::exports::clnrm::chaos::validator::Guest;
    use serde::Deserialize;
    use serde_json::Value;

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Errors {
        #[serde(default)]
        max: u64,
        #[serde(default)]
        ignore: Vec<String>,
    }

    fn parse(v: &Value) -> Result<Errors, ConfigError> {
        config::from_value(v)
    }

    fn check(v: &Value, trace: &Trace) -> Result<Vec<Finding>, ConfigError> {
        let cfg = parse(v)?;
        let errors: Vec<&Span> = trace
            .spans()
            .iter()
            .filter(|s| s.status == Status::Error && !cfg.ignore.contains(&s.name))
            .collect();
        let shown: Vec<String> = errors.iter().map(|s| trace.describe(s)).collect();
        Ok(vec![Finding {
            expectation: format!("expect.errors max {}", cfg.max),
            passed: errors.len() as u64 <= cfg.max,
            message: format!("{} ERROR span(s): {}", errors.len(), shown.join("; ")),
        }])
    }

    crate::validator_plugin!(name: "validate-errors", table: "errors", parse: parse, check: check);

    #[test]
    fn the_macro_exports_describe_check_and_validate() {
        let info = __ClnrmValidator::describe();
        assert_eq!(
            (info.name.as_str(), info.handles),
            ("validate-errors", vec!["errors".to_string()])
        );
        assert_eq!(
            __ClnrmValidator::check("errors".into(), "{\"max\": 1}".into()),
            Ok(())
        );
        // The key's path and the valid keys travel to the host, which points at it.
        assert_eq!(
            __ClnrmValidator::check("errors".into(), "{\"mx\": 1}".into()),
            Err(
                crate::validator::clnrm::chaos::types::ConfigError::UnknownKey(
                    crate::validator::clnrm::chaos::types::UnknownKey {
                        path: vec!["mx".into()],
                        expected: vec!["max".into(), "ignore".into()],
                    }
                )
            )
        );
        let found = __ClnrmValidator::validate("errors".into(), "{}".into(), vec![]).unwrap();
        assert!(found[0].passed, "{found:?}");
        assert_eq!(found[0].expectation, "expect.errors max 0");
    }

    /// A trace of one OK and one ERROR span, packed as the host packs it.
    fn packed_trace() -> Vec<u8> {
        use crate::packed::{Packer, SpanHead};
        let mut p = Packer::new();
        for (id, status) in [(1, Status::Ok), (2, Status::Error)] {
            p.span(&SpanHead {
                id,
                parent: (id == 2).then_some(1),
                name: if id == 1 { "clnrm.run" } else { "clnrm.step:x" },
                kind: crate::expect::Kind::Internal,
                status,
                status_message: None,
                start_ns: 0,
                end_ns: 1,
            });
        }
        p.finish().unwrap()
    }

    #[test]
    fn the_macro_exports_validate_packed_with_the_same_checker() {
        use crate::validator::exports::clnrm::chaos::packed_validator::Guest as Packed;
        let found = __ClnrmValidator::validate_packed("errors".into(), "{}".into(), packed_trace())
            .unwrap();
        assert!(!found[0].passed, "{found:?}");
        assert_eq!(
            found[0].message,
            "1 ERROR span(s): span #2 \"clnrm.step:x\" (parent \"clnrm.run\")"
        );
        // The table and the JSON are checked before the trace is read; every error is prose.
        let e =
            __ClnrmValidator::validate_packed("errors".into(), "{".into(), vec![1]).unwrap_err();
        assert!(
            e.starts_with("expect.errors: config is not valid JSON"),
            "{e}"
        );
        let e = __ClnrmValidator::validate_packed(
            "errors".into(),
            "{\"mx\": 1}".into(),
            packed_trace(),
        )
        .unwrap_err();
        assert!(e.starts_with("expect.errors: unknown key \"mx\""), "{e}");
        let e = __ClnrmValidator::validate_packed("other".into(), "{}".into(), packed_trace())
            .unwrap_err();
        assert_eq!(
            e,
            "validate-errors handles [expect.errors], not [expect.other]"
        );
        let e = __ClnrmValidator::validate_packed("errors".into(), "{}".into(), vec![1, 0, 0])
            .unwrap_err();
        assert_eq!(
            e,
            "malformed packed trace: 3 bytes, shorter than the 28-byte header"
        );
    }
}
