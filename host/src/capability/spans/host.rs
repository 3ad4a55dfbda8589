//! `clnrm:chaos/spans`: plugins prove what they did with spans. Always
//! granted. Executed in every mode (a replayed plugin rebuilds its own
//! spans); in replay their arguments and results are checked as well.

use crate::runtime::bindings::chaos::clnrm::chaos::{spans, types};
use crate::runtime::bindings::{
    AttrValue as WitAttr, SpanKind as WitKind, SpanStatus as WitStatus,
};
use crate::runtime::host::{HostCall, PluginState};
use crate::trace::{AttrValue, SpanId};
use serde_json::json;

/// The calls of `clnrm:chaos/spans`, as recordings name them.
impl HostCall {
    pub const SPANS_START: HostCall = HostCall("spans.start");
    pub const SPANS_SET_ATTRIBUTE: HostCall = HostCall("spans.set-attribute");
    pub const SPANS_ADD_EVENT: HostCall = HostCall("spans.add-event");
    pub const SPANS_END: HostCall = HostCall("spans.end");
}

impl spans::Host for PluginState {
    async fn start(&mut self, name: String, parent: u64, kind: WitKind) -> wasmtime::Result<u64> {
        let args = json!([name, parent, kind]);
        self.executed(HostCall::SPANS_START, args, |s, recorded| {
            let (trace, parent_id) = s.span(parent)?;
            let id = match recorded.and_then(|v| v.as_u64()) {
                // Replay: the span goes back into the slot it had.
                Some(h) => trace.start_at(
                    SpanId(h as u32),
                    name,
                    Some(parent_id),
                    kind.into(),
                    &s.plugin,
                ),
                None => trace.start_plugin(name, Some(parent_id), kind.into(), &s.plugin),
            };
            s.opened.push(id);
            Ok(id.0 as u64)
        })
    }

    async fn set_attribute(
        &mut self,
        span: u64,
        key: String,
        value: WitAttr,
    ) -> wasmtime::Result<()> {
        let args = json!([span, key, value]);
        self.executed(HostCall::SPANS_SET_ATTRIBUTE, args, |s, _| {
            let (trace, id) = s.span(span)?;
            trace.set_attr(id, key, AttrValue::from(value));
            Ok(())
        })
    }

    async fn add_event(
        &mut self,
        span: u64,
        name: String,
        attributes: Vec<types::Attribute>,
    ) -> wasmtime::Result<()> {
        let args = json!([span, name, attributes]);
        self.executed(HostCall::SPANS_ADD_EVENT, args, |s, _| {
            let (trace, id) = s.span(span)?;
            trace.add_event(
                id,
                name,
                attributes
                    .into_iter()
                    .map(|a| (a.key, a.value.into()))
                    .collect(),
            );
            Ok(())
        })
    }

    async fn end(
        &mut self,
        span: u64,
        status: WitStatus,
        message: Option<String>,
    ) -> wasmtime::Result<()> {
        let args = json!([span, status, message]);
        self.executed(HostCall::SPANS_END, args, |s, _| {
            let (trace, id) = s.span(span)?;
            trace.end(id, status.into(), message);
            Ok(())
        })
    }
}
