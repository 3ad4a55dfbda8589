//! The packed trace: the whole finished trace as one byte string, the argument of the WIT
//! 0.3.3 `packed-validator.validate-packed`. The host packs a suite's trace once and hands
//! the same bytes to every validator: one copy into the guest per call, where the
//! `list<span-record>` of `validator.validate` costs one guest allocation per string and per
//! list (about a million host-to-guest calls for 100 000 spans), lifted again in every
//! validator.
//!
//! One implementation of the format, used on both sides: the host writes with [`Packer`],
//! a plugin reads with [`PackedTrace`] (borrowed views, checked as they are read) or, with
//! the `guest` feature, straight into the span model with
//! [`Trace::from_packed`](crate::expect::Trace::from_packed).
//!
//! # Format, version 1
//!
//! (Also in docs/packed-trace.md, with why it has this shape.)
//!
//! All integers are little-endian; there is no padding and no alignment. A string is an
//! index into the string table; a decoder must refuse anything that does not follow this
//! description exactly (a reserved byte that is not 0, an unknown code, an index out of range,
//! a count that runs past its section, bytes left over).
//!
//! Header, 28 bytes:
//!
//! | offset | type | field |
//! |---|---|---|
//! | 0 | u8 | format version: 1 (a decoder refuses versions it does not know) |
//! | 1 | 3 × u8 | reserved, 0 |
//! | 4 | u32 | `S`: strings in the table |
//! | 8 | u32 | `B`: bytes of string data |
//! | 12 | u32 | `N`: spans |
//! | 16 | u32 | `E`: events, of all spans |
//! | 20 | u32 | `A`: attributes of spans, of all spans |
//! | 24 | u32 | `V`: attributes of events, of all events |
//!
//! Then six sections, back to back, and nothing after them
//! (`28 + 4·S + B + 44·N + 16·E + 16·A + 16·V` bytes in all):
//!
//! 1. string lengths: `S` × u32, the byte length of each string, in table order;
//! 2. string data: `B` bytes, every string's UTF-8 in table order (string `i` starts at the
//!    sum of the lengths before it). Each distinct string is written once;
//! 3. spans: `N` records of 44 bytes, in trace order;
//! 4. events: `E` records of 16 bytes: the first span's events, then the second's, ...;
//! 5. span attributes: `A` records of 16 bytes, grouped by span the same way;
//! 6. event attributes: `V` records of 16 bytes, grouped by event in section 4's order.
//!
//! Span record, 44 bytes:
//!
//! | offset | type | field |
//! |---|---|---|
//! | 0 | u32 | `id` |
//! | 4 | u32 | `parent` (0 when flag bit 0 is clear) |
//! | 8 | u32 | `name`: string index |
//! | 12 | u32 | `status-message`: string index (0 when flag bit 1 is clear) |
//! | 16 | u64 | `start-ns` |
//! | 24 | u64 | `end-ns` |
//! | 32 | u32 | its attributes: how many of section 5's next records |
//! | 36 | u32 | its events: how many of section 4's next records |
//! | 40 | u8 | kind: 0 internal, 1 server, 2 client, 3 producer, 4 consumer |
//! | 41 | u8 | status: 0 unset, 1 ok, 2 error |
//! | 42 | u8 | flags: bit 0 has a parent, bit 1 has a status message; other bits 0 |
//! | 43 | u8 | reserved, 0 |
//!
//! Event record, 16 bytes: u32 `name` (string index), u32 its attributes (how many of
//! section 6's next records), u64 `time-ns`.
//!
//! Attribute record, 16 bytes: u32 `key` (string index), u8 type (0 string, 1 int, 2 float,
//! 3 boolean), 3 reserved bytes (0), u64 value: a string's index (below 2³²), an int's
//! two's complement, a float's IEEE-754 bits, a boolean's 0 or 1.
//!
//! Fields mean what they mean in the WIT `span-record`; attributes keep their order.
//! Version 1 puts every count in a u32, so a packed trace is under 4 GiB (a wasm32 guest
//! could not take more).

mod read;
#[cfg(feature = "guest")]
mod to_trace;
mod write;

#[cfg(test)]
mod tests;

pub use read::{Attrs, EventView, Events, PackedTrace, SpanView, Spans};
pub use write::{Packer, SpanWriter};

use crate::otel::{Kind, Status};
use std::fmt;

/// The format version this crate writes and reads.
pub const VERSION: u8 = 1;

/// How an application span (one an application sent to the run's OTLP receiver) is told
/// from clnrm's own in a packed trace or in WIT records: the host appends this attribute,
/// its service's `service.name` as a string, as the span's **last** attribute (any attribute
/// of that key the application sent is dropped); clnrm's own spans never carry it. Decoders
/// of this crate ([`Trace::new`](crate::expect::Trace::new)) take it off the attributes and
/// keep it as the span's service; a validator built with an older SDK sees it as an
/// ordinary attribute (the format itself is unchanged, so such validators keep loading).
pub const APP_SERVICE_ATTR: &str = "clnrm.app.service";
const HEADER_LEN: usize = 28;
const SPAN_LEN: usize = 44;
const EVENT_LEN: usize = 16;
const ATTR_LEN: usize = 16;

/// Span record flag bits.
const HAS_PARENT: u8 = 1;
const HAS_STATUS_MESSAGE: u8 = 2;

/// Attribute type codes.
const STR: u8 = 0;
const INT: u8 = 1;
const FLOAT: u8 = 2;
const BOOL: u8 = 3;

/// A span's own fields (all but its attributes and events): what [`Packer::span`] takes and
/// what [`SpanView::head`] gives back.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SpanHead<'a> {
    pub id: u32,
    pub parent: Option<u32>,
    pub name: &'a str,
    pub kind: Kind,
    pub status: Status,
    pub status_message: Option<&'a str>,
    pub start_ns: u64,
    pub end_ns: u64,
}

/// An attribute value, borrowed from the spans being packed or from the packed bytes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value<'a> {
    Str(&'a str),
    Int(i64),
    Float(f64),
    Bool(bool),
}

/// Why bytes are not a packed trace this crate can read, or why a trace cannot be packed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackError(String);

impl PackError {
    fn malformed(what: impl fmt::Display) -> Self {
        PackError(format!("malformed packed trace: {what}"))
    }
}

impl fmt::Display for PackError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for PackError {}
