//! `clnrm diff A B`: where two runs differ. The spans are aligned as trees
//! (children paired by name, in start order), and compared on what the
//! digest keeps (`trace/digest.rs`): kind, status, attributes that are not
//! volatile (ids and timings), with ids normalised, and event names. The
//! first difference, in the order of A's trace, is printed as its scenario,
//! span and attribute; then a summary per scenario.

use super::{attr, Run, Tree};
use crate::trace::digest::{is_machine_span, is_volatile, normalise};
use crate::trace::{AttrValue, SpanData};
use std::collections::BTreeMap;
use std::fmt::Write;

#[derive(Debug, PartialEq)]
pub enum What {
    /// A span in one run with no counterpart in the other (`in_a`: in A).
    Only {
        in_a: bool,
    },
    Kind(String, String),
    Status(String, String),
    /// An attribute: its key and each side's value (None: absent).
    Attr(String, Option<String>, Option<String>),
    /// An event name present on one side only (or more often).
    Event(String, bool),
}

#[derive(Debug)]
pub struct Difference {
    pub scenario: String,
    /// `clnrm.run › clnrm.scenario x › clnrm.step:y`
    pub path: String,
    pub span: String,
    pub what: What,
}

pub struct Outcome {
    pub text: String,
    pub digests_match: bool,
    #[allow(dead_code)] // for callers that want more than the text
    pub differences: Vec<Difference>,
}

pub fn diff(a: &Run, b: &Run) -> Outcome {
    let digests_match = !a.digest.is_empty() && a.digest == b.digest;
    let mut found = Vec::new();
    let (ta, tb) = (Tree::of(&a.spans), Tree::of(&b.spans));
    let roots_a: Vec<&SpanData> = ta
        .roots
        .iter()
        .copied()
        .filter(|s| !is_machine_span(s))
        .collect();
    let roots_b: Vec<&SpanData> = tb
        .roots
        .iter()
        .copied()
        .filter(|s| !is_machine_span(s))
        .collect();
    align(&roots_a, &roots_b, &ta, &tb, "", "(run)", &mut found);

    let mut text = String::new();
    let _ = writeln!(text, "A: {} (digest {})", a.label, a.digest);
    let _ = writeln!(text, "B: {} (digest {})", b.label, b.digest);
    if digests_match {
        let _ = writeln!(text, "digests match: the two runs' traces are the same");
    } else {
        match found.first() {
            Some(d) => {
                let _ = writeln!(
                    text,
                    "first difference: scenario `{}`, span `{}`, {}",
                    d.scenario,
                    d.span,
                    describe(&d.what)
                );
                let _ = writeln!(text, "  at {}", d.path);
            }
            None => {
                let _ = writeln!(
                    text,
                    "the digests differ, yet no span differs in what the digest keeps (were the two made by different clnrm versions?)"
                );
            }
        }
    }
    if let (Some(pa), Some(pb)) = (a.passed, b.passed) {
        if pa != pb {
            let v = |p: bool| if p { "passed" } else { "failed" };
            let _ = writeln!(text, "verdict: A {}, B {}", v(pa), v(pb));
        }
    }
    if found.len() > 1 || (digests_match && !found.is_empty()) {
        let mut per: BTreeMap<&str, [usize; 4]> = BTreeMap::new();
        let mut order: Vec<&str> = Vec::new();
        for d in &found {
            if !per.contains_key(d.scenario.as_str()) {
                order.push(&d.scenario);
            }
            let e = per.entry(&d.scenario).or_default();
            match d.what {
                What::Only { .. } => e[0] += 1,
                What::Status(..) | What::Kind(..) => e[1] += 1,
                What::Attr(..) => e[2] += 1,
                What::Event(..) => e[3] += 1,
            }
        }
        let _ = writeln!(
            text,
            "summary: {} difference(s) in {} scenario(s)",
            found.len(),
            per.len()
        );
        for s in order {
            let c = per[s];
            let parts: Vec<String> = [
                (c[0], "span(s) in one run only"),
                (c[1], "status/kind"),
                (c[2], "attribute(s)"),
                (c[3], "event(s)"),
            ]
            .iter()
            .filter(|(n, _)| *n > 0)
            .map(|(n, w)| format!("{n} {w}"))
            .collect();
            let _ = writeln!(text, "  {s}: {}", parts.join(", "));
        }
        for d in found.iter().skip(1).take(20) {
            let _ = writeln!(
                text,
                "  - {} `{}`: {}",
                d.scenario,
                d.span,
                describe(&d.what)
            );
        }
        if found.len() > 21 {
            let _ = writeln!(text, "  … and {} more", found.len() - 21);
        }
    } else if found.len() == 1 && !digests_match {
        let _ = writeln!(text, "summary: that is the only difference");
    }
    Outcome {
        text,
        digests_match,
        differences: found,
    }
}

fn describe(w: &What) -> String {
    match w {
        What::Only { in_a: true } => "only in A".into(),
        What::Only { in_a: false } => "only in B".into(),
        What::Kind(a, b) => format!("kind: {a} (A) vs {b} (B)"),
        What::Status(a, b) => format!("status: {a} (A) vs {b} (B)"),
        What::Attr(k, a, b) => format!(
            "attribute `{k}`: {} (A) vs {} (B)",
            a.as_deref().unwrap_or("absent"),
            b.as_deref().unwrap_or("absent")
        ),
        What::Event(e, in_a) => format!("event `{e}` only in {}", if *in_a { "A" } else { "B" }),
    }
}

fn title(s: &SpanData) -> String {
    match (s.name.as_str(), attr(s, "scenario.name")) {
        ("clnrm.scenario", Some(n)) => format!("clnrm.scenario {n}"),
        _ => normalise(&s.name),
    }
}

fn align<'a>(
    a: &[&'a SpanData],
    b: &[&'a SpanData],
    ta: &Tree<'a>,
    tb: &Tree<'a>,
    path: &str,
    scenario: &str,
    out: &mut Vec<Difference>,
) {
    // Pair by title, k-th with k-th (each list is in start order).
    let mut b_by: BTreeMap<String, Vec<&SpanData>> = BTreeMap::new();
    for s in b {
        b_by.entry(title(s)).or_default().push(s);
    }
    let mut used: BTreeMap<String, usize> = BTreeMap::new();
    for s in a {
        let t = title(s);
        let k = used.entry(t.clone()).or_default();
        let other = b_by.get(&t).and_then(|v| v.get(*k)).copied();
        *k += 1;
        let here = if path.is_empty() {
            t.clone()
        } else {
            format!("{path} › {t}")
        };
        let scen = match (s.name.as_str(), attr(s, "scenario.name")) {
            ("clnrm.scenario", Some(n)) => n.to_string(),
            _ => scenario.to_string(),
        };
        match other {
            None => out.push(Difference {
                scenario: scen,
                path: here,
                span: t,
                what: What::Only { in_a: true },
            }),
            Some(o) => {
                compare(s, o, &scen, &here, &t, out);
                align(ta.kids(s), tb.kids(o), ta, tb, &here, &scen, out);
            }
        }
    }
    for (t, list) in &b_by {
        let n = used.get(t).copied().unwrap_or(0);
        for s in list.iter().skip(n) {
            let scen = match (s.name.as_str(), attr(s, "scenario.name")) {
                ("clnrm.scenario", Some(n)) => n.to_string(),
                _ => scenario.to_string(),
            };
            out.push(Difference {
                scenario: scen,
                path: if path.is_empty() {
                    t.clone()
                } else {
                    format!("{path} › {t}")
                },
                span: t.clone(),
                what: What::Only { in_a: false },
            });
        }
    }
}

fn form(v: &AttrValue) -> String {
    match v {
        AttrValue::Str(s) => format!("{:?}", normalise(s)),
        other => other.to_string(),
    }
}

fn compare(
    a: &SpanData,
    b: &SpanData,
    scenario: &str,
    path: &str,
    span: &str,
    out: &mut Vec<Difference>,
) {
    let mut push = |what| {
        out.push(Difference {
            scenario: scenario.to_string(),
            path: path.to_string(),
            span: span.to_string(),
            what,
        })
    };
    if a.status != b.status {
        push(What::Status(
            format!("{:?}", a.status).to_uppercase(),
            format!("{:?}", b.status).to_uppercase(),
        ));
    }
    if a.kind != b.kind {
        push(What::Kind(format!("{:?}", a.kind), format!("{:?}", b.kind)));
    }
    let kept = |s: &SpanData| -> BTreeMap<String, String> {
        s.attrs
            .iter()
            .filter(|(k, _)| !is_volatile(k))
            .map(|(k, v)| (k.clone(), form(v)))
            .collect()
    };
    let (ka, kb) = (kept(a), kept(b));
    let keys: std::collections::BTreeSet<&String> = ka.keys().chain(kb.keys()).collect();
    // In A's attribute order first (how the span was written), then B's extras.
    let mut ordered: Vec<&String> = a
        .attrs
        .iter()
        .map(|(k, _)| k)
        .filter(|k| keys.contains(k))
        .collect();
    ordered.dedup();
    for k in kb.keys() {
        if !ordered.contains(&k) {
            ordered.push(k);
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    for k in ordered {
        if !seen.insert(k) {
            continue;
        }
        let (va, vb) = (ka.get(k), kb.get(k));
        if va != vb {
            push(What::Attr(k.clone(), va.cloned(), vb.cloned()));
        }
    }
    let count = |s: &SpanData| {
        let mut m: BTreeMap<String, i64> = BTreeMap::new();
        for e in &s.events {
            *m.entry(e.name.clone()).or_default() += 1;
        }
        m
    };
    let (ea, eb) = (count(a), count(b));
    for (e, n) in &ea {
        if eb.get(e).copied().unwrap_or(0) < *n {
            push(What::Event(e.clone(), true));
        }
    }
    for (e, n) in &eb {
        if ea.get(e).copied().unwrap_or(0) < *n {
            push(What::Event(e.clone(), false));
        }
    }
}
