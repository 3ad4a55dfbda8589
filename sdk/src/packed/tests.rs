//! Round trips of the packed format, and its decoder on malformed bytes.

use super::*;
use crate::otel::{Kind, Status};

/// An owned span for the tests: what was packed, to compare with what was read.
#[derive(Debug, Clone, PartialEq)]
struct S {
    head: Head,
    attrs: OwnedAttrs,
    events: Vec<(String, u64, OwnedAttrs)>,
}

/// id, parent, name, kind, status, status message, start, end.
type Head = (
    u32,
    Option<u32>,
    String,
    Kind,
    Status,
    Option<String>,
    u64,
    u64,
);
type OwnedAttrs = Vec<(String, V)>;

/// An owned value; floats compared by bits (NaN and -0.0 must survive too).
#[derive(Debug, Clone, PartialEq)]
enum V {
    Str(String),
    Int(i64),
    Float(u64),
    Bool(bool),
}

impl V {
    fn of(v: Value<'_>) -> V {
        match v {
            Value::Str(s) => V::Str(s.into()),
            Value::Int(i) => V::Int(i),
            Value::Float(x) => V::Float(x.to_bits()),
            Value::Bool(b) => V::Bool(b),
        }
    }

    fn as_value(&self) -> Value<'_> {
        match self {
            V::Str(s) => Value::Str(s),
            V::Int(i) => Value::Int(*i),
            V::Float(b) => Value::Float(f64::from_bits(*b)),
            V::Bool(b) => Value::Bool(*b),
        }
    }
}

fn pack(spans: &[S]) -> Vec<u8> {
    let mut p = Packer::with_capacity(spans.len());
    for s in spans {
        let (id, parent, name, kind, status, message, start, end) = &s.head;
        let mut w = p.span(&SpanHead {
            id: *id,
            parent: *parent,
            name,
            kind: *kind,
            status: *status,
            status_message: message.as_deref(),
            start_ns: *start,
            end_ns: *end,
        });
        for (k, v) in &s.attrs {
            w.attr(k, v.as_value());
        }
        for (name, t, attrs) in &s.events {
            w.event(
                name,
                *t,
                attrs.iter().map(|(k, v)| (k.as_str(), v.as_value())),
            );
        }
    }
    p.finish().expect("packs")
}

fn unpack(bytes: &[u8]) -> Result<Vec<S>, PackError> {
    let trace = PackedTrace::parse(bytes)?;
    let mut out = Vec::new();
    for s in trace.spans() {
        let s = s?;
        let attrs = s
            .attrs
            .clone()
            .map(|a| a.map(|(k, v)| (k.to_string(), V::of(v))))
            .collect::<Result<_, _>>()?;
        let mut events = Vec::new();
        for e in s.events.clone() {
            let e = e?;
            let attrs = e
                .attrs
                .map(|a| a.map(|(k, v)| (k.to_string(), V::of(v))))
                .collect::<Result<_, _>>()?;
            events.push((e.name.to_string(), e.time_ns, attrs));
        }
        let h = s.head;
        out.push(S {
            head: (
                h.id,
                h.parent,
                h.name.into(),
                h.kind,
                h.status,
                h.status_message.map(Into::into),
                h.start_ns,
                h.end_ns,
            ),
            attrs,
            events,
        });
    }
    Ok(out)
}

fn span(id: u32, parent: Option<u32>, name: &str) -> S {
    S {
        head: (
            id,
            parent,
            name.into(),
            Kind::Internal,
            Status::Ok,
            None,
            10,
            20,
        ),
        attrs: vec![],
        events: vec![],
    }
}

fn kv(k: &str, v: V) -> (String, V) {
    (k.into(), v)
}

/// Every field, every kind and status, every value type, unicode, options and extremes.
fn sample() -> Vec<S> {
    let mut spans = vec![S {
        head: (
            0,
            None,
            "clnrm.run".into(),
            Kind::Server,
            Status::Error,
            Some("container killed by SIGKILL (exit 137) — 💥".into()),
            0,
            u64::MAX,
        ),
        attrs: vec![
            kv("s", V::Str("x".into())),
            kv("empty", V::Str(String::new())),
            kv(
                "ünïcödé ключ 鍵",
                V::Str("日本語 🦀 \u{0} \u{10FFFF}".into()),
            ),
            kv("i", V::Int(-2)),
            kv("min", V::Int(i64::MIN)),
            kv("max", V::Int(i64::MAX)),
            kv("f", V::Float(0.5f64.to_bits())),
            kv("neg0", V::Float((-0.0f64).to_bits())),
            kv("nan", V::Float(f64::NAN.to_bits())),
            kv("inf", V::Float(f64::NEG_INFINITY.to_bits())),
            kv("t", V::Bool(true)),
            kv("b", V::Bool(false)),
            // A key repeated keeps both, in order (the model's last-wins is the reader's).
            kv("s", V::Str("y".into())),
        ],
        events: vec![
            (
                "container.stop".into(),
                15,
                vec![kv("removed", V::Bool(false)), kv("code", V::Int(137))],
            ),
            ("no attrs".into(), u64::MAX, vec![]),
            (String::new(), 0, vec![kv("", V::Str(String::new()))]),
        ],
    }];
    for (i, kind) in Kind::ALL.into_iter().enumerate() {
        for (j, status) in Status::ALL.into_iter().enumerate() {
            let mut s = span(u32::MAX - (i * 3 + j) as u32, Some(u32::MAX), "k");
            s.head.3 = kind;
            s.head.4 = status;
            spans.push(s);
        }
    }
    // Parent 0 is a parent, not "none"; an empty status message is a message.
    let mut s = span(7, Some(0), "clnrm.step:é");
    s.head.5 = Some(String::new());
    s.head.6 = u64::MAX - 1;
    spans.push(s);
    spans
}

#[test]
fn round_trips_every_field() {
    let spans = sample();
    let bytes = pack(&spans);
    assert_eq!(bytes[0], VERSION);
    assert_eq!(unpack(&bytes), Ok(spans));
}

#[test]
fn an_empty_trace_and_empty_lists_round_trip() {
    let bytes = pack(&[]);
    assert_eq!(bytes.len(), HEADER_LEN, "a header and nothing else");
    assert_eq!(unpack(&bytes), Ok(vec![]));
    assert!(PackedTrace::parse(&bytes).unwrap().is_empty());

    let bare = vec![span(1, None, "")];
    assert_eq!(unpack(&pack(&bare)), Ok(bare));
}

#[test]
fn each_string_is_written_once() {
    let spans: Vec<S> = (0..100)
        .map(|i| {
            let mut s = span(i, Some(0), "clnrm.cleanup");
            s.attrs = vec![kv("cleanup.success", V::Str("true".into()))];
            s.events = vec![("clnrm.cleanup".into(), 1, vec![])];
            s
        })
        .collect();
    let bytes = pack(&spans);
    let trace = PackedTrace::parse(&bytes).unwrap();
    assert_eq!(
        trace.strings(),
        ["clnrm.cleanup", "cleanup.success", "true"],
        "names, keys and values share one table"
    );
    assert_eq!(trace.len(), 100);
    assert_eq!(unpack(&bytes), Ok(spans));
}

#[test]
fn the_layout_is_the_documented_one() {
    let mut s = span(5, Some(4), "n");
    s.attrs = vec![kv("k", V::Int(-1))];
    s.events = vec![("e".into(), 9, vec![kv("k", V::Bool(true))])];
    let bytes = pack(&[s]);
    // Header: version, reserved, then S B N E A V.
    let mut header = vec![1, 0, 0, 0];
    for c in [3u32, 3, 1, 1, 1, 1] {
        header.extend_from_slice(&c.to_le_bytes());
    }
    assert_eq!(bytes[..HEADER_LEN], header[..]);
    let mut rest = bytes[HEADER_LEN..].to_vec();
    let lengths: Vec<u8> = [1u32, 1, 1].iter().flat_map(|l| l.to_le_bytes()).collect();
    assert_eq!(rest.drain(..12).collect::<Vec<_>>(), lengths);
    assert_eq!(rest.drain(..3).collect::<Vec<_>>(), b"nke");
    let mut span_rec = Vec::new();
    for w in [5u32, 4, 0, 0] {
        span_rec.extend_from_slice(&w.to_le_bytes());
    }
    span_rec.extend_from_slice(&10u64.to_le_bytes());
    span_rec.extend_from_slice(&20u64.to_le_bytes());
    span_rec.extend_from_slice(&1u32.to_le_bytes());
    span_rec.extend_from_slice(&1u32.to_le_bytes());
    span_rec.extend_from_slice(&[Kind::Internal as u8, Status::Ok as u8, HAS_PARENT, 0]);
    assert_eq!(rest.drain(..SPAN_LEN).collect::<Vec<_>>(), span_rec);
    let mut event = Vec::new();
    event.extend_from_slice(&2u32.to_le_bytes());
    event.extend_from_slice(&1u32.to_le_bytes());
    event.extend_from_slice(&9u64.to_le_bytes());
    assert_eq!(rest.drain(..EVENT_LEN).collect::<Vec<_>>(), event);
    let mut int = vec![1, 0, 0, 0, INT, 0, 0, 0];
    int.extend_from_slice(&(-1i64).to_le_bytes());
    assert_eq!(rest.drain(..ATTR_LEN).collect::<Vec<_>>(), int);
    let mut boolean = vec![1, 0, 0, 0, BOOL, 0, 0, 0];
    boolean.extend_from_slice(&1u64.to_le_bytes());
    assert_eq!(rest, boolean);
}

#[test]
fn the_codes_are_the_enums_order() {
    for (i, k) in Kind::ALL.into_iter().enumerate() {
        assert_eq!(k as usize, i);
    }
    for (i, s) in Status::ALL.into_iter().enumerate() {
        assert_eq!(s as usize, i);
    }
}

/// Where things are in the packed form of `sample()`.
struct Offsets {
    data: usize,
    spans: usize,
    events: usize,
    span_attrs: usize,
}

fn offsets(bytes: &[u8]) -> Offsets {
    let count = |i: usize| u32::from_le_bytes(bytes[4 + 4 * i..8 + 4 * i].try_into().unwrap());
    let data = HEADER_LEN + 4 * count(0) as usize;
    let spans = data + count(1) as usize;
    let events = spans + SPAN_LEN * count(2) as usize;
    let span_attrs = events + EVENT_LEN * count(3) as usize;
    Offsets {
        data,
        spans,
        events,
        span_attrs,
    }
}

fn error_of(bytes: &[u8]) -> String {
    match unpack(bytes) {
        Ok(_) => panic!("accepted malformed bytes"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn malformed_bytes_are_errors_that_say_what_and_where() {
    let good = pack(&sample());
    let at = offsets(&good);
    let with = |pos: usize, b: &[u8]| {
        let mut v = good.clone();
        v[pos..pos + b.len()].copy_from_slice(b);
        v
    };
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (
            good[..10].to_vec(),
            "10 bytes, shorter than the 28-byte header",
        ),
        (
            with(0, &[2]),
            "format version 2; this decoder reads version 1",
        ),
        (with(2, &[1]), "reserved header bytes"),
        (good[..good.len() - 1].to_vec(), "the header announces"),
        ([good.clone(), vec![0]].concat(), "the header announces"),
        (with(at.data, &[0xff]), "the string data is not UTF-8"),
        // The last string one byte longer: past the end of the data.
        (with(at.data - 4, &[0xff, 0xff, 0, 0]), "ends at byte"),
        (with(at.spans + 40, &[5]), "span 0: unknown kind code 5"),
        (with(at.spans + 41, &[3]), "span 0: unknown status code 3"),
        (with(at.spans + 42, &[4]), "span 0: unknown flags 0x04"),
        (with(at.spans + 43, &[1]), "reserved byte 1"),
        (
            with(at.spans + 8, &[0xff, 0xff, 0, 0]),
            "span 0: name is string 65535, but the table has",
        ),
        (
            with(at.spans + 32, &[0xff, 0xff, 0, 0]),
            "span 0: claims 65535 attributes, but only",
        ),
        (
            with(at.spans + 36, &[0xff, 0, 0, 0]),
            "span 0: claims 255 events, but only",
        ),
        (
            with(at.spans + 32, &[12, 0, 0, 0]),
            "1 span attribute record(s) left over",
        ),
        (
            with(at.span_attrs + 4, &[9]),
            "span 0: attribute \"s\": unknown type code 9",
        ),
        (with(at.span_attrs + 5, &[1]), "reserved bytes are not 0"),
        (
            with(at.span_attrs + 8, &[0xff, 0xff, 0, 0]),
            "span 0: attribute value is string 65535",
        ),
        (
            with(at.span_attrs + 12, &[1]),
            "attribute \"s\": string index 4294967299 out of range",
        ),
        (
            with(at.events, &[0xff, 0xff, 0, 0]),
            "span 0, event 0: name is string 65535",
        ),
        (
            with(at.events + 4, &[0xff, 0, 0, 0]),
            "span 0: claims 256 event attributes",
        ),
    ];
    for (bytes, want) in cases {
        let e = error_of(&bytes);
        assert!(e.starts_with("malformed packed trace: "), "{e}");
        assert!(e.contains(want), "{e:?} should say {want:?}");
    }
    // A boolean other than 0 or 1: the sample's "t" attribute is its 11th.
    let t = at.span_attrs + 10 * ATTR_LEN;
    assert_eq!(good[t + 4], BOOL);
    assert!(error_of(&with(t + 8, &[2])).contains("attribute \"t\": boolean value 2, not 0 or 1"));
}

/// A packed trace of strings only, with these lengths over `data`.
fn strings_only(lengths: &[u32], data: &[u8]) -> Vec<u8> {
    let mut bytes = vec![1, 0, 0, 0];
    for c in [lengths.len() as u32, data.len() as u32, 0, 0, 0, 0] {
        bytes.extend_from_slice(&c.to_le_bytes());
    }
    for l in lengths {
        bytes.extend_from_slice(&l.to_le_bytes());
    }
    bytes.extend_from_slice(data);
    bytes
}

#[test]
fn the_string_table_must_cut_the_data_exactly() {
    // "é" is two bytes: two one-byte strings would each be half a character.
    let e = error_of(&strings_only(&[1, 1], "é".as_bytes()));
    assert!(
        e.contains("string 0 does not start and end on UTF-8 character boundaries"),
        "{e}"
    );
    let e = error_of(&strings_only(&[1], b"ab"));
    assert!(
        e.contains("the strings' lengths add up to 1 bytes, but the string data has 2"),
        "{e}"
    );
    assert_eq!(
        unpack(&strings_only(&[0, 2, 0], "é".as_bytes())),
        Ok(vec![])
    );
}

/// No byte of a packed trace, whatever its value, makes the decoder panic, and no prefix
/// of one is accepted.
#[test]
fn no_corruption_panics() {
    let good = pack(&sample());
    for len in 0..good.len() {
        assert!(
            unpack(&good[..len]).is_err(),
            "a {len}-byte prefix was accepted"
        );
    }
    for pos in 0..good.len() {
        for b in [0u8, 1, 2, 0x7f, 0x80, 0xff, good[pos] ^ 1] {
            let mut v = good.clone();
            v[pos] = b;
            let _ = unpack(&v);
            #[cfg(feature = "guest")]
            let _ = crate::expect::Trace::from_packed(&v);
        }
    }
}

#[cfg(feature = "guest")]
mod model {
    use super::*;
    use crate::expect::{AttrValue, Event, Span, Trace};

    #[test]
    fn decodes_into_the_span_model() {
        let spans = sample();
        let trace = Trace::from_packed(&pack(&spans)).expect("decodes");
        assert_eq!(trace.spans().len(), spans.len());
        let to_model = |attrs: &[(String, V)]| -> Vec<(String, AttrValue)> {
            attrs
                .iter()
                .map(|(k, v)| {
                    let v = match v {
                        V::Str(s) => AttrValue::Str(s.clone()),
                        V::Int(i) => AttrValue::Int(*i),
                        V::Float(b) => AttrValue::Float(f64::from_bits(*b)),
                        V::Bool(b) => AttrValue::Bool(*b),
                    };
                    (k.clone(), v)
                })
                .collect()
        };
        for (got, want) in trace.spans().iter().zip(&spans) {
            let (id, parent, name, kind, status, message, start, end) = want.head.clone();
            let expected = Span {
                id,
                parent,
                name,
                kind,
                status,
                status_message: message,
                start_ns: start,
                end_ns: end,
                attrs: to_model(&want.attrs),
                events: want
                    .events
                    .iter()
                    .map(|(n, t, a)| Event {
                        name: n.clone(),
                        time_ns: *t,
                        attrs: to_model(a),
                    })
                    .collect(),
            };
            // NaN != NaN: compare the float bits through Debug.
            assert_eq!(format!("{got:?}"), format!("{expected:?}"));
        }
        // The id index and the parent links are built as for any trace.
        let step = trace.by_id(7).expect("span 7");
        assert_eq!(trace.parent_name(step), Some("clnrm.run"));
        assert_eq!(step.status_message.as_deref(), Some(""));
    }

    #[test]
    fn a_malformed_trace_is_an_error() {
        let e = Trace::from_packed(&[9; 40]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "malformed packed trace: format version 9; this decoder reads version 1"
        );
    }
}
