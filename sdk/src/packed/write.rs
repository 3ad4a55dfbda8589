//! Writing a packed trace (the host does, once per suite).

use super::{
    PackError, SpanHead, Value, ATTR_LEN, BOOL, EVENT_LEN, FLOAT, HAS_PARENT, HAS_STATUS_MESSAGE,
    HEADER_LEN, INT, SPAN_LEN, STR, VERSION,
};
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// Builds a packed trace span by span: [`Packer::span`], then the span's attributes and
/// events through the [`SpanWriter`] it returns, then [`Packer::finish`]. Strings are
/// borrowed from the spans being packed and written once each.
#[derive(Default)]
pub struct Packer<'a> {
    index: HashMap<&'a str, u32, BuildHasherDefault<StrHasher>>,
    lengths: Vec<u8>,
    data: Vec<u8>,
    spans: Vec<u8>,
    events: Vec<u8>,
    span_attrs: Vec<u8>,
    event_attrs: Vec<u8>,
}

impl<'a> Packer<'a> {
    pub fn new() -> Self {
        Self::default()
    }

    /// Room for about `spans` spans (a guess of a few attributes and strings each, so a
    /// big trace is not packed through repeated reallocations).
    pub fn with_capacity(spans: usize) -> Self {
        Packer {
            index: HashMap::with_capacity_and_hasher(spans, Default::default()),
            lengths: Vec::with_capacity(spans * 4),
            data: Vec::with_capacity(spans * 16),
            spans: Vec::with_capacity(spans * SPAN_LEN),
            events: Vec::with_capacity(spans * EVENT_LEN),
            span_attrs: Vec::with_capacity(spans * 4 * ATTR_LEN),
            event_attrs: Vec::new(),
        }
    }

    /// The index of `s` in the string table, adding it the first time.
    fn string(&mut self, s: &'a str) -> u32 {
        let Packer {
            index,
            lengths,
            data,
            ..
        } = self;
        let next = index.len() as u32;
        *index.entry(s).or_insert_with(|| {
            lengths.extend_from_slice(&(s.len() as u32).to_le_bytes());
            data.extend_from_slice(s.as_bytes());
            next
        })
    }

    /// Adds a span (after the ones added before: trace order); its attributes and events
    /// follow through the returned writer.
    pub fn span(&mut self, head: &SpanHead<'a>) -> SpanWriter<'_, 'a> {
        let name = self.string(head.name);
        let message = head.status_message.map(|m| self.string(m));
        let mut flags = 0;
        if head.parent.is_some() {
            flags |= HAS_PARENT;
        }
        if message.is_some() {
            flags |= HAS_STATUS_MESSAGE;
        }
        let at = self.spans.len();
        let r = &mut self.spans;
        r.extend_from_slice(&head.id.to_le_bytes());
        r.extend_from_slice(&head.parent.unwrap_or(0).to_le_bytes());
        r.extend_from_slice(&name.to_le_bytes());
        r.extend_from_slice(&message.unwrap_or(0).to_le_bytes());
        r.extend_from_slice(&head.start_ns.to_le_bytes());
        r.extend_from_slice(&head.end_ns.to_le_bytes());
        r.extend_from_slice(&0u32.to_le_bytes()); // attributes, counted as they come
        r.extend_from_slice(&0u32.to_le_bytes()); // events, likewise
        r.extend_from_slice(&[head.kind as u8, head.status as u8, flags, 0]);
        SpanWriter { packer: self, at }
    }

    /// The packed trace. Fails only for a trace past the format's limits (a count or the
    /// whole over `u32::MAX`: 4 GiB, more than a wasm32 guest can take).
    pub fn finish(self) -> Result<Vec<u8>, PackError> {
        let counts = [
            self.lengths.len() / 4,
            self.data.len(),
            self.spans.len() / SPAN_LEN,
            self.events.len() / EVENT_LEN,
            self.span_attrs.len() / ATTR_LEN,
            self.event_attrs.len() / ATTR_LEN,
        ];
        let sections = [
            &self.lengths,
            &self.data,
            &self.spans,
            &self.events,
            &self.span_attrs,
            &self.event_attrs,
        ];
        let total = HEADER_LEN + sections.iter().map(|s| s.len()).sum::<usize>();
        if u32::try_from(total).is_err() {
            return Err(PackError(format!(
                "cannot pack the trace: {total} bytes, over the packed format's limit of 4 GiB"
            )));
        }
        let mut out = Vec::with_capacity(total);
        out.extend_from_slice(&[VERSION, 0, 0, 0]);
        for c in counts {
            // Each count is at most the total, checked above.
            out.extend_from_slice(&(c as u32).to_le_bytes());
        }
        for s in sections {
            out.extend_from_slice(s);
        }
        Ok(out)
    }
}

/// Adds the attributes and events of the span [`Packer::span`] just added.
pub struct SpanWriter<'p, 'a> {
    packer: &'p mut Packer<'a>,
    /// Where the span's record starts in the span section.
    at: usize,
}

impl<'a> SpanWriter<'_, 'a> {
    /// An attribute of the span (kept in the order added).
    pub fn attr(&mut self, key: &'a str, value: Value<'a>) -> &mut Self {
        let p = &mut *self.packer;
        let record = attr_record(p, key, value);
        p.span_attrs.extend_from_slice(&record);
        bump(&mut p.spans, self.at + 32);
        self
    }

    /// An event of the span, with its attributes.
    pub fn event(
        &mut self,
        name: &'a str,
        time_ns: u64,
        attrs: impl IntoIterator<Item = (&'a str, Value<'a>)>,
    ) -> &mut Self {
        let p = &mut *self.packer;
        let name = p.string(name);
        let mut count = 0u32;
        for (k, v) in attrs {
            let record = attr_record(p, k, v);
            p.event_attrs.extend_from_slice(&record);
            count = count.wrapping_add(1);
        }
        p.events.extend_from_slice(&name.to_le_bytes());
        p.events.extend_from_slice(&count.to_le_bytes());
        p.events.extend_from_slice(&time_ns.to_le_bytes());
        bump(&mut p.spans, self.at + 36);
        self
    }
}

fn attr_record<'a>(p: &mut Packer<'a>, key: &'a str, value: Value<'a>) -> [u8; ATTR_LEN] {
    let key = p.string(key);
    let (tag, bits) = match value {
        Value::Str(s) => (STR, u64::from(p.string(s))),
        Value::Int(i) => (INT, i as u64),
        Value::Float(x) => (FLOAT, x.to_bits()),
        Value::Bool(b) => (BOOL, u64::from(b)),
    };
    let mut r = [0u8; ATTR_LEN];
    r[..4].copy_from_slice(&key.to_le_bytes());
    r[4] = tag;
    r[8..].copy_from_slice(&bits.to_le_bytes());
    r
}

/// Adds one to the u32 count at `at` (a count field of a record already written).
fn bump(records: &mut [u8], at: usize) {
    if let Some(field) = records.get_mut(at..at + 4) {
        let n = u32::from_le_bytes([field[0], field[1], field[2], field[3]]);
        field.copy_from_slice(&n.wrapping_add(1).to_le_bytes());
    }
}

/// Hashing for the string table: the trace is the host's own, not an adversary's, so the
/// default SipHash (built against hash flooding) only slows packing; this mixes a word at
/// a time (FxHash's multiply-rotate).
#[derive(Default)]
struct StrHasher(u64);

impl StrHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

impl Hasher for StrHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let (words, rest) = bytes.as_chunks::<8>();
        for w in words {
            self.add(u64::from_le_bytes(*w));
        }
        let mut last = [0u8; 8];
        last[..rest.len()].copy_from_slice(rest);
        self.add(u64::from_le_bytes(last) ^ ((rest.len() as u64) << 59));
    }

    fn write_u8(&mut self, b: u8) {
        self.add(u64::from(b));
    }
}
