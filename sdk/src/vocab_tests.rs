//! The vocabulary against docs/spans.md: every span name, attribute key and
//! `error.type` value the page documents is a constant, and every constant is
//! documented. What counts as documented (up to "Not yet implemented"):
//! - span names: any `` `clnrm.a.b` `` that is not an attribute key
//!   (`` `clnrm.step:<name>` `` is `span::STEP_PREFIX`);
//! - attribute keys: the first cell of a table whose header starts with
//!   "Attribute" (after `event <name>`, its other keys), and the comma-separated
//!   keys of an "Attributes" column;
//! - error types: in the `error.type` section, the bold ones and the first of
//!   each cell of its `error.type` column.

use super::{attr, error_type, span};
use std::collections::BTreeSet;

const DOC: &str = include_str!("../../docs/spans.md");

#[derive(Default, Debug)]
struct Documented {
    spans: BTreeSet<String>,
    attrs: BTreeSet<String>,
    errors: BTreeSet<String>,
}

/// The backticked tokens of `s`, each with the text just before it.
fn ticks(s: &str) -> Vec<(&str, &str)> {
    let mut out = Vec::new();
    let mut parts = s.split('`');
    let mut before = parts.next().unwrap_or("");
    while let (Some(tok), Some(after)) = (parts.next(), parts.next()) {
        out.push((before, tok));
        before = after;
    }
    out
}

fn is_span_name(t: &str) -> bool {
    t.strip_prefix("clnrm.").is_some_and(|rest| {
        !rest.is_empty()
            && rest
                .split('.')
                .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
    })
}

fn is_word(t: &str) -> bool {
    !t.is_empty() && t.chars().all(|c| c.is_ascii_lowercase() || c == '_')
}

fn cells(line: &str) -> Vec<&str> {
    line.trim()
        .trim_matches('|')
        .split('|')
        .map(str::trim)
        .collect()
}

fn documented(doc: &str) -> Documented {
    let doc = doc.split("\n## Not yet implemented").next().unwrap_or(doc);
    let mut d = Documented::default();
    let mut header: Option<Vec<&str>> = None;
    let mut in_error_section = false;
    for line in doc.lines() {
        if line.starts_with('#') {
            in_error_section = line.starts_with("####") && line.contains("`error.type`");
        }
        if in_error_section {
            for part in line.split("**`").skip(1) {
                if let Some((tok, _)) = part.split_once("`**") {
                    d.errors.insert(tok.to_string());
                }
            }
        }
        if line.starts_with('|') {
            let c = cells(line);
            if c.iter().all(|x| x.chars().all(|ch| ch == '-')) {
                continue;
            }
            let Some(h) = &header else {
                header = Some(c);
                continue;
            };
            for (i, col) in h.iter().enumerate() {
                let Some(cell) = c.get(i) else { break };
                if i == 0 && col.starts_with("Attribute") {
                    let skip = usize::from(cell.starts_with("event "));
                    for (_, t) in ticks(cell).into_iter().skip(skip) {
                        let key = t.split(" = ").next().unwrap_or(t);
                        d.attrs.insert(key.to_string());
                    }
                }
                if *col == "Attributes" {
                    for (before, t) in ticks(cell) {
                        if before.is_empty() || before.ends_with(", ") {
                            d.attrs.insert(t.to_string());
                        }
                    }
                }
                if *col == "`error.type`" {
                    if let Some((_, t)) = ticks(cell).first().filter(|(_, t)| is_word(t)) {
                        d.errors.insert(t.to_string());
                    }
                }
            }
        } else {
            header = None;
        }
        for (_, t) in ticks(line) {
            if t == "clnrm.step:<name>" || t == "clnrm.step:" {
                d.spans.insert(span::STEP_PREFIX.to_string());
            } else if is_span_name(t) {
                d.spans.insert(t.to_string());
            }
        }
    }
    let attrs = d.attrs.clone();
    d.spans.retain(|s| !attrs.contains(s));
    d
}

fn set(all: &[&str]) -> BTreeSet<String> {
    all.iter().map(|s| s.to_string()).collect()
}

fn agree(what: &str, documented: &BTreeSet<String>, vocab: &BTreeSet<String>) {
    let missing: Vec<_> = documented.difference(vocab).collect();
    let undocumented: Vec<_> = vocab.difference(documented).collect();
    assert!(
        missing.is_empty() && undocumented.is_empty(),
        "{what}: documented in docs/spans.md but not in sdk/src/vocab.rs: {missing:?}; \
         in vocab.rs but not documented: {undocumented:?}"
    );
}

#[test]
fn vocab_and_docs_spans_md_name_the_same_things() {
    let d = documented(DOC);
    agree("span names", &d.spans, &set(span::ALL));
    agree("attribute keys", &d.attrs, &set(attr::ALL));
    agree("error types", &d.errors, &set(error_type::ALL));
}

#[test]
fn each_value_is_spelled_once() {
    for all in [span::ALL, attr::ALL, error_type::ALL] {
        assert_eq!(set(all).len(), all.len(), "a value twice in {all:?}");
    }
}

/// The check can fail: a page that drops a key, or adds one, no longer agrees.
#[test]
fn a_drifted_page_is_caught() {
    let d = documented(DOC);
    assert!(d.attrs.contains(attr::PRESSURE_LEVEL));
    let dropped = DOC.replace("| `pressure.level` |", "| `pressure.levels` |");
    let d2 = documented(&dropped);
    assert!(!d2.attrs.contains(attr::PRESSURE_LEVEL));
    assert!(d2.attrs.contains("pressure.levels"));
    let added = DOC.replacen(
        "### `clnrm.run`",
        "### `clnrm.run`\n\n### `clnrm.brand.new`",
        1,
    );
    assert!(documented(&added).spans.contains("clnrm.brand.new"));
    assert!(!set(span::ALL).contains("clnrm.brand.new"));
}
