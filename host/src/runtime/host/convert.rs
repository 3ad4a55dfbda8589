//! WIT <-> trace model conversions (attribute values, span kinds, statuses).

use crate::runtime::bindings::{
    AttrValue as WitAttr, SpanKind as WitKind, SpanStatus as WitStatus,
};
use crate::trace::{AttrValue, SpanKind, SpanStatus};

impl From<WitAttr> for AttrValue {
    fn from(v: WitAttr) -> Self {
        match v {
            WitAttr::Str(s) => AttrValue::Str(s),
            WitAttr::Int(i) => AttrValue::Int(i),
            WitAttr::Float(f) => AttrValue::Float(f),
            WitAttr::Boolean(b) => AttrValue::Bool(b),
        }
    }
}

impl From<&AttrValue> for WitAttr {
    fn from(v: &AttrValue) -> Self {
        match v {
            AttrValue::Str(s) => WitAttr::Str(s.clone()),
            AttrValue::Int(i) => WitAttr::Int(*i),
            AttrValue::Float(f) => WitAttr::Float(*f),
            AttrValue::Bool(b) => WitAttr::Boolean(*b),
        }
    }
}

impl From<WitKind> for SpanKind {
    fn from(k: WitKind) -> Self {
        match k {
            WitKind::Internal => SpanKind::Internal,
            WitKind::Server => SpanKind::Server,
            WitKind::Client => SpanKind::Client,
            WitKind::Producer => SpanKind::Producer,
            WitKind::Consumer => SpanKind::Consumer,
        }
    }
}

impl From<SpanKind> for WitKind {
    fn from(k: SpanKind) -> Self {
        match k {
            SpanKind::Internal => WitKind::Internal,
            SpanKind::Server => WitKind::Server,
            SpanKind::Client => WitKind::Client,
            SpanKind::Producer => WitKind::Producer,
            SpanKind::Consumer => WitKind::Consumer,
        }
    }
}

impl From<WitStatus> for SpanStatus {
    fn from(s: WitStatus) -> Self {
        match s {
            WitStatus::Unset => SpanStatus::Unset,
            WitStatus::Ok => SpanStatus::Ok,
            WitStatus::Error => SpanStatus::Error,
        }
    }
}

impl From<SpanStatus> for WitStatus {
    fn from(s: SpanStatus) -> Self {
        match s {
            SpanStatus::Unset => WitStatus::Unset,
            SpanStatus::Ok => WitStatus::Ok,
            SpanStatus::Error => WitStatus::Error,
        }
    }
}
