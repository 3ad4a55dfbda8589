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
//! - [`validate`]: all of the above around one checker function.
//!
//! Everything here is plain Rust over the generated types, so it compiles (and is tested)
//! natively too.

use serde_json::Value;

use crate::expect::{self, AttrValue, Kind, Status, Trace};
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
pub fn config(expected: &str, table: &str, config_json: &str) -> Result<Value, String> {
    if table != expected {
        return Err(format!(
            "validate-{expected} handles [expect.{expected}], not [expect.{table}]"
        ));
    }
    serde_json::from_str(config_json)
        .map_err(|e| format!("expect.{expected}: config is not valid JSON: {e}"))
}

/// The whole `validate` export of a one-table validator: check the table name, decode the
/// config, convert the trace, run `check`, convert the findings.
pub fn validate(
    expected: &str,
    table: &str,
    config_json: &str,
    records: Vec<SpanRecord>,
    check: impl FnOnce(&Value, &Trace) -> Result<Vec<expect::Finding>, String>,
) -> Result<Vec<Finding>, String> {
    let config = config(expected, table, config_json)?;
    let trace = trace_from_records(records);
    Ok(check(&config, &trace)?
        .into_iter()
        .map(finding_to_wit)
        .collect())
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
        let out = validate("x", "x", "{\"k\": 1}", vec![record()], |c, t| {
            assert_eq!(c["k"], 1);
            Ok(vec![expect::Finding {
                expectation: "expect.x".into(),
                passed: t.spans().len() == 1,
                message: "m".into(),
            }])
        })
        .unwrap();
        assert_eq!(out.len(), 1);
        assert!(out[0].passed);
        assert_eq!(out[0].expectation, "expect.x");

        let err = validate("x", "y", "{}", vec![], |_, _| Ok(vec![])).unwrap_err();
        assert_eq!(err, "validate-x handles [expect.x], not [expect.y]");
        let err = config("x", "x", "{").unwrap_err();
        assert!(
            err.starts_with("expect.x: config is not valid JSON: "),
            "{err}"
        );
        let checker_err = validate("x", "x", "{}", vec![], |_, _| Err("bad".into())).unwrap_err();
        assert_eq!(checker_err, "bad");
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
