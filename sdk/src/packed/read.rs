//! Reading a packed trace: [`PackedTrace::parse`] checks the header, the section sizes and
//! the string table; the views check each record as they read it (indices, codes, counts),
//! so a decoder walks the bytes once and a malformed trace is an error, never a panic.

use super::{
    PackError, SpanHead, Value, ATTR_LEN, BOOL, EVENT_LEN, FLOAT, HAS_PARENT, HAS_STATUS_MESSAGE,
    HEADER_LEN, INT, SPAN_LEN, STR, VERSION,
};
use crate::otel::{Kind, Status};
use std::fmt;

type SpanRec = [u8; SPAN_LEN];
type EventRec = [u8; EVENT_LEN];
type AttrRec = [u8; ATTR_LEN];

/// A packed trace, parsed: its string table and its record sections, borrowed from the bytes.
#[derive(Debug, Clone)]
pub struct PackedTrace<'a> {
    strings: Vec<&'a str>,
    spans: &'a [SpanRec],
    events: &'a [EventRec],
    span_attrs: &'a [AttrRec],
    event_attrs: &'a [AttrRec],
}

impl<'a> PackedTrace<'a> {
    /// Checks the header, that the sections fill the bytes exactly, and the string table
    /// (UTF-8, every string whole). Records are checked as [`PackedTrace::spans`] reads them.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, PackError> {
        let Some((header, rest)) = bytes.split_first_chunk::<HEADER_LEN>() else {
            return Err(PackError::malformed(format_args!(
                "{} bytes, shorter than the {HEADER_LEN}-byte header",
                bytes.len()
            )));
        };
        if header[0] != VERSION {
            return Err(PackError::malformed(format_args!(
                "format version {}; this decoder reads version {VERSION}",
                header[0]
            )));
        }
        if header[1..4] != [0, 0, 0] {
            return Err(PackError::malformed("reserved header bytes 1-3 are not 0"));
        }
        let count = |i: usize| u64::from(le32(header, 4 + 4 * i));
        let (strings, data, spans, events, span_attrs, event_attrs) =
            (count(0), count(1), count(2), count(3), count(4), count(5));
        let sizes = [
            strings * 4,
            data,
            spans * SPAN_LEN as u64,
            events * EVENT_LEN as u64,
            span_attrs * ATTR_LEN as u64,
            event_attrs * ATTR_LEN as u64,
        ];
        let expected: u64 = sizes.iter().sum();
        if expected != rest.len() as u64 {
            return Err(PackError::malformed(format_args!(
                "the header announces {} bytes ({strings} strings of {data} bytes, {spans} spans, \
                 {events} events, {span_attrs} span and {event_attrs} event attributes), \
                 but there are {}",
                expected + HEADER_LEN as u64,
                bytes.len()
            )));
        }
        // Every size is now known to fit in `rest`, so in usize.
        let mut rest = rest;
        let mut take = |n: u64| {
            let (section, tail) = rest.split_at(n as usize);
            rest = tail;
            section
        };
        let lengths = take(sizes[0]).as_chunks::<4>().0;
        let data = take(sizes[1]);
        let spans = take(sizes[2]).as_chunks::<SPAN_LEN>().0;
        let events = take(sizes[3]).as_chunks::<EVENT_LEN>().0;
        let span_attrs = take(sizes[4]).as_chunks::<ATTR_LEN>().0;
        let event_attrs = take(sizes[5]).as_chunks::<ATTR_LEN>().0;
        Ok(PackedTrace {
            strings: string_table(lengths, data)?,
            spans,
            events,
            span_attrs,
            event_attrs,
        })
    }

    /// How many spans the trace has.
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// The string table, in order.
    pub fn strings(&self) -> &[&'a str] {
        &self.strings
    }

    /// The spans in trace order. After the last one, an error if records are left over in
    /// the event or attribute sections; after an error, nothing.
    pub fn spans(&self) -> Spans<'_> {
        Spans {
            strings: &self.strings,
            records: self.spans.iter(),
            index: 0,
            events: self.events,
            span_attrs: self.span_attrs,
            event_attrs: self.event_attrs,
            done: false,
        }
    }
}

/// Splits the string data by the lengths: one UTF-8 check of the whole, then a boundary
/// check per string (a string that split a character would not be valid on its own).
fn string_table<'a>(lengths: &[[u8; 4]], data: &'a [u8]) -> Result<Vec<&'a str>, PackError> {
    let text = std::str::from_utf8(data)
        .map_err(|e| PackError::malformed(format_args!("the string data is not UTF-8: {e}")))?;
    let mut strings = Vec::with_capacity(lengths.len());
    let mut start = 0usize;
    for (i, len) in lengths.iter().enumerate() {
        let end = start.saturating_add(u32::from_le_bytes(*len) as usize);
        let Some(s) = text.get(start..end) else {
            return Err(PackError::malformed(if end > text.len() {
                format!(
                    "string {i} ends at byte {end} of the string data, which has {}",
                    text.len()
                )
            } else {
                format!("string {i} does not start and end on UTF-8 character boundaries")
            }));
        };
        strings.push(s);
        start = end;
    }
    if start != text.len() {
        return Err(PackError::malformed(format_args!(
            "the strings' lengths add up to {start} bytes, but the string data has {}",
            text.len()
        )));
    }
    Ok(strings)
}

/// One span, its strings resolved; its attributes and events are read as they are iterated.
#[derive(Debug, Clone)]
pub struct SpanView<'t> {
    pub head: SpanHead<'t>,
    pub attrs: Attrs<'t>,
    pub events: Events<'t>,
}

/// One event of a span.
#[derive(Debug, Clone)]
pub struct EventView<'t> {
    pub name: &'t str,
    pub time_ns: u64,
    pub attrs: Attrs<'t>,
}

/// The spans of a [`PackedTrace`], in order.
#[derive(Debug, Clone)]
pub struct Spans<'t> {
    strings: &'t [&'t str],
    records: std::slice::Iter<'t, SpanRec>,
    index: usize,
    /// The parts of the sections not yet claimed by a span.
    events: &'t [EventRec],
    span_attrs: &'t [AttrRec],
    event_attrs: &'t [AttrRec],
    done: bool,
}

impl<'t> Iterator for Spans<'t> {
    type Item = Result<SpanView<'t>, PackError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let result = match self.records.next() {
            Some(r) => self.span(r),
            None => {
                self.done = true;
                return self.leftover().map(Err);
            }
        };
        self.index += 1;
        if result.is_err() {
            self.done = true;
        }
        Some(result)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, Some(self.records.len() + 1))
    }
}

impl<'t> Spans<'t> {
    fn span(&mut self, r: &'t SpanRec) -> Result<SpanView<'t>, PackError> {
        let at = Owner::Span(self.index);
        let flags = r[42];
        if flags & !(HAS_PARENT | HAS_STATUS_MESSAGE) != 0 || r[43] != 0 {
            return Err(at.error(format_args!(
                "unknown flags {flags:#04x} or reserved byte {}",
                r[43]
            )));
        }
        let kind = *Kind::ALL
            .get(usize::from(r[40]))
            .ok_or_else(|| at.error(format_args!("unknown kind code {}", r[40])))?;
        let status = *Status::ALL
            .get(usize::from(r[41]))
            .ok_or_else(|| at.error(format_args!("unknown status code {}", r[41])))?;
        let name = string(self.strings, le32(r, 8), at, "name")?;
        let status_message = if flags & HAS_STATUS_MESSAGE != 0 {
            Some(string(self.strings, le32(r, 12), at, "status message")?)
        } else {
            None
        };
        let attrs = claim(&mut self.span_attrs, le32(r, 32), at, "attributes")?;
        let events = claim(&mut self.events, le32(r, 36), at, "events")?;
        let event_attr_count: u64 = events.iter().map(|e| u64::from(le32(e, 4))).sum();
        let event_attrs = u32::try_from(event_attr_count)
            .map_err(|_| at.error("its events have more attributes than the format allows"))
            .and_then(|n| claim(&mut self.event_attrs, n, at, "event attributes"))?;
        Ok(SpanView {
            head: SpanHead {
                id: le32(r, 0),
                parent: (flags & HAS_PARENT != 0).then(|| le32(r, 4)),
                name,
                kind,
                status,
                status_message,
                start_ns: le64(r, 16),
                end_ns: le64(r, 24),
            },
            attrs: Attrs {
                strings: self.strings,
                records: attrs.iter(),
                owner: at,
            },
            events: Events {
                strings: self.strings,
                records: events.iter(),
                attrs: event_attrs,
                span: self.index,
                index: 0,
            },
        })
    }

    /// At the end: records no span claimed.
    fn leftover(&self) -> Option<PackError> {
        let left = [
            (self.events.len(), "event"),
            (self.span_attrs.len(), "span attribute"),
            (self.event_attrs.len(), "event attribute"),
        ];
        left.into_iter().find(|(n, _)| *n > 0).map(|(n, what)| {
            PackError::malformed(format_args!(
                "{n} {what} record(s) left over after the last span"
            ))
        })
    }
}

/// The events of one span.
#[derive(Debug, Clone)]
pub struct Events<'t> {
    strings: &'t [&'t str],
    records: std::slice::Iter<'t, EventRec>,
    /// The attributes of the events not yet read.
    attrs: &'t [AttrRec],
    span: usize,
    index: usize,
}

impl<'t> Iterator for Events<'t> {
    type Item = Result<EventView<'t>, PackError>;

    fn next(&mut self) -> Option<Self::Item> {
        let r = self.records.next()?;
        let at = Owner::Event(self.span, self.index);
        self.index += 1;
        Some((|| {
            Ok(EventView {
                name: string(self.strings, le32(r, 0), at, "name")?,
                time_ns: le64(r, 8),
                attrs: Attrs {
                    strings: self.strings,
                    records: claim(&mut self.attrs, le32(r, 4), at, "attributes")?.iter(),
                    owner: at,
                },
            })
        })())
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.records.len(), Some(self.records.len()))
    }
}

impl ExactSizeIterator for Events<'_> {}

/// The attributes of one span or event, in order.
#[derive(Debug, Clone)]
pub struct Attrs<'t> {
    strings: &'t [&'t str],
    records: std::slice::Iter<'t, AttrRec>,
    owner: Owner,
}

impl<'t> Iterator for Attrs<'t> {
    type Item = Result<(&'t str, Value<'t>), PackError>;

    fn next(&mut self) -> Option<Self::Item> {
        let r = self.records.next()?;
        Some(attr(self.strings, r, self.owner))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.records.len(), Some(self.records.len()))
    }
}

impl ExactSizeIterator for Attrs<'_> {}

fn attr<'t>(
    strings: &'t [&'t str],
    r: &AttrRec,
    at: Owner,
) -> Result<(&'t str, Value<'t>), PackError> {
    let key = string(strings, le32(r, 0), at, "attribute key")?;
    if r[5..8] != [0, 0, 0] {
        return Err(at.error(format_args!("attribute {key:?}: reserved bytes are not 0")));
    }
    let bits = le64(r, 8);
    let value = match r[4] {
        STR => match u32::try_from(bits) {
            Ok(i) => Value::Str(string(strings, i, at, "attribute value")?),
            Err(_) => {
                return Err(at.error(format_args!(
                    "attribute {key:?}: string index {bits} out of range"
                )))
            }
        },
        INT => Value::Int(bits as i64),
        FLOAT => Value::Float(f64::from_bits(bits)),
        BOOL if bits <= 1 => Value::Bool(bits == 1),
        BOOL => {
            return Err(at.error(format_args!(
                "attribute {key:?}: boolean value {bits}, not 0 or 1"
            )))
        }
        tag => return Err(at.error(format_args!("attribute {key:?}: unknown type code {tag}"))),
    };
    Ok((key, value))
}

/// Takes the next `n` records of a section for one span or event.
fn claim<'t, R>(
    section: &mut &'t [R],
    n: u32,
    at: Owner,
    what: &str,
) -> Result<&'t [R], PackError> {
    match section.split_at_checked(n as usize) {
        Some((mine, rest)) => {
            *section = rest;
            Ok(mine)
        }
        None => Err(at.error(format_args!(
            "claims {n} {what}, but only {} remain in their section",
            section.len()
        ))),
    }
}

fn string<'t>(strings: &[&'t str], i: u32, at: Owner, what: &str) -> Result<&'t str, PackError> {
    strings.get(i as usize).copied().ok_or_else(|| {
        at.error(format_args!(
            "{what} is string {i}, but the table has {} strings",
            strings.len()
        ))
    })
}

/// Which record an error is about (indices, from 0, in trace order).
#[derive(Debug, Clone, Copy)]
enum Owner {
    Span(usize),
    Event(usize, usize),
}

impl Owner {
    fn error(self, what: impl fmt::Display) -> PackError {
        match self {
            Owner::Span(s) => PackError::malformed(format_args!("span {s}: {what}")),
            Owner::Event(s, e) => PackError::malformed(format_args!("span {s}, event {e}: {what}")),
        }
    }
}

fn le32<const N: usize>(r: &[u8; N], at: usize) -> u32 {
    // Offsets are constants within the record: the fallback is never taken.
    r.get(at..at + 4)
        .and_then(|b| b.try_into().ok())
        .map_or(0, u32::from_le_bytes)
}

fn le64<const N: usize>(r: &[u8; N], at: usize) -> u64 {
    r.get(at..at + 8)
        .and_then(|b| b.try_into().ok())
        .map_or(0, u64::from_le_bytes)
}
