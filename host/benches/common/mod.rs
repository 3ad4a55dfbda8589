//! Shared by the benches: the host's WIT span records as the sdk's span
//! model, so the native baseline checks exactly what the plugins check.

use clnrm::runtime::{SpanRecord, WitAttribute};
use clnrm::trace::{AttrValue, SpanKind, SpanStatus};
use clnrm_sdk::expect;

pub fn to_sdk(r: SpanRecord) -> expect::Span {
    expect::Span {
        id: r.id,
        parent: r.parent,
        name: r.name,
        kind: match SpanKind::from(r.kind) {
            SpanKind::Internal => expect::Kind::Internal,
            SpanKind::Server => expect::Kind::Server,
            SpanKind::Client => expect::Kind::Client,
            SpanKind::Producer => expect::Kind::Producer,
            SpanKind::Consumer => expect::Kind::Consumer,
        },
        status: match SpanStatus::from(r.status) {
            SpanStatus::Unset => expect::Status::Unset,
            SpanStatus::Ok => expect::Status::Ok,
            SpanStatus::Error => expect::Status::Error,
        },
        status_message: r.status_message,
        start_ns: r.start_ns,
        end_ns: r.end_ns,
        attrs: sdk_attrs(r.attributes),
        events: r
            .events
            .into_iter()
            .map(|e| expect::Event {
                name: e.name,
                time_ns: e.time_ns,
                attrs: sdk_attrs(e.attributes),
            })
            .collect(),
    }
}

fn sdk_attrs(list: Vec<WitAttribute>) -> Vec<(String, expect::AttrValue)> {
    list.into_iter()
        .map(|a| {
            let v = match AttrValue::from(a.value) {
                AttrValue::Str(s) => expect::AttrValue::Str(s),
                AttrValue::Int(i) => expect::AttrValue::Int(i),
                AttrValue::Float(x) => expect::AttrValue::Float(x),
                AttrValue::Bool(b) => expect::AttrValue::Bool(b),
            };
            (a.key, v)
        })
        .collect()
}
