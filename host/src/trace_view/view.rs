//! `clnrm spans` and `clnrm graph`: the trace as text.

use super::{attr, branch, is_fault, mark, shown, Run, Tree};
use crate::trace::{SpanData, SpanStatus};
use std::fmt::Write;

fn status(s: &SpanData) -> &'static str {
    match s.status {
        SpanStatus::Unset => "UNSET",
        SpanStatus::Ok => "OK",
        SpanStatus::Error => "ERROR",
    }
}

fn secs(ns: u64) -> String {
    format!("{:.3}s", ns as f64 / 1e9)
}

fn duration(s: &SpanData) -> String {
    let end = s.end_ns.unwrap_or(s.start_ns);
    let ms = end.saturating_sub(s.start_ns) as f64 / 1e6;
    if ms >= 1000.0 {
        format!("{:.2}s", ms / 1000.0)
    } else {
        format!("{ms:.1}ms")
    }
}

/// A span's name with the scenario a `clnrm.scenario` span is for.
fn title(s: &SpanData) -> String {
    match (s.name.as_str(), attr(s, "scenario.name")) {
        ("clnrm.scenario", Some(n)) => format!("clnrm.scenario {}", shown(n)),
        _ => s.name.clone(),
    }
}

/// `clnrm spans`: one line per span (start, duration, status, name, fault
/// mark), in start order or as a tree; `grep` keeps spans whose name
/// matches (a regex) and, in a tree, their ancestors.
pub fn spans(run: &Run, grep: Option<&regex::Regex>, tree: bool, attrs: bool) -> String {
    let t = Tree::of(&run.spans);
    let mut keep: std::collections::BTreeSet<u32> = run
        .spans
        .iter()
        .filter(|s| grep.is_none_or(|re| re.is_match(&title(s))))
        .map(|s| s.id.0)
        .collect();
    let mut out = String::new();
    let faults = run.spans.iter().filter(|s| is_fault(s)).count();
    let errors = run
        .spans
        .iter()
        .filter(|s| s.status == SpanStatus::Error)
        .count();
    let _ = writeln!(
        out,
        "{}: {} spans ({} ERROR), {} observed fault(s), digest {}",
        run.label,
        run.spans.len(),
        errors,
        faults,
        short(&run.digest)
    );
    if tree {
        if grep.is_some() {
            // Keep the ancestors of what matched, to show where it is.
            let by_id: std::collections::BTreeMap<u32, &SpanData> =
                run.spans.iter().map(|s| (s.id.0, s)).collect();
            for id in keep.clone() {
                let mut cur = by_id.get(&id).and_then(|s| s.parent);
                let mut guard = 0;
                while let Some(p) = cur {
                    if !keep.insert(p.0) || guard > 10_000 {
                        break;
                    }
                    cur = by_id.get(&p.0).and_then(|s| s.parent);
                    guard += 1;
                }
            }
        }
        for (s, last) in t.walk() {
            if !keep.contains(&s.id.0) {
                continue;
            }
            line(&mut out, s, &branch(&last), attrs);
        }
    } else {
        let mut list: Vec<&SpanData> = run
            .spans
            .iter()
            .filter(|s| keep.contains(&s.id.0))
            .collect();
        list.sort_by_key(|s| (s.start_ns, s.id.0));
        for s in list {
            line(&mut out, s, "", attrs);
        }
    }
    out
}

fn line(out: &mut String, s: &SpanData, prefix: &str, attrs: bool) {
    let _ = write!(
        out,
        "{:>4} {:>9} {:>9} {:<5} {prefix}{}",
        s.id.0,
        secs(s.start_ns),
        duration(s),
        status(s),
        title(s)
    );
    if let Some(m) = mark(s) {
        let _ = write!(out, "  {m}");
    }
    if let Some(msg) = s.status_message.as_deref().filter(|m| !m.is_empty()) {
        let _ = write!(out, "  — {}", msg.lines().next().unwrap_or(""));
    }
    out.push('\n');
    if attrs {
        let pad = " ".repeat(4 + 1 + 9 + 1 + 9 + 1 + 5 + 1)
            + &prefix.replace(['├', '└'], "│").replace('─', " ");
        for (k, v) in &s.attrs {
            let _ = writeln!(out, "{pad}  {k} = {}", shown(v));
        }
        for e in &s.events {
            let _ = writeln!(out, "{pad}  @{} {}", secs(e.time_ns), e.name);
        }
    }
}

fn short(d: &str) -> &str {
    d.get(..12).unwrap_or(d)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Ascii,
    Dot,
    Mermaid,
}

/// `clnrm graph`: the parent/child graph of the trace.
pub fn graph(run: &Run, format: Format) -> String {
    let t = Tree::of(&run.spans);
    let mut out = String::new();
    match format {
        Format::Ascii => {
            let _ = writeln!(out, "{} (digest {})", run.label, short(&run.digest));
            for (s, last) in t.walk() {
                let _ = write!(out, "{}{} [{}]", branch(&last), title(s), status(s));
                if let Some(m) = mark(s) {
                    let _ = write!(out, "  {m}");
                }
                out.push('\n');
            }
            let _ = writeln!(
                out,
                "legend: [status]  ⚡ observed fault (chaos.observed = true)"
            );
        }
        Format::Dot => {
            let _ = writeln!(out, "digraph trace {{");
            let _ = writeln!(
                out,
                "  label={};",
                dot_str(&format!("{} {}", run.name, short(&run.digest)))
            );
            let _ = writeln!(
                out,
                "  node [shape=box, style=\"rounded,filled\", fontname=\"monospace\"];"
            );
            for s in &run.spans {
                let mut label = format!("{}\n{}", title(s), status(s));
                if let Some(m) = mark(s) {
                    label.push('\n');
                    label.push_str(&m);
                }
                let (fill, extra) = if is_fault(s) {
                    ("#ffd54f", ", penwidth=2, color=\"#e65100\"")
                } else if s.status == SpanStatus::Error {
                    ("#ef9a9a", "")
                } else if s.status == SpanStatus::Ok {
                    ("#c8e6c9", "")
                } else {
                    ("#eeeeee", "")
                };
                let _ = writeln!(
                    out,
                    "  s{} [label={}, fillcolor=\"{fill}\"{extra}];",
                    s.id.0,
                    dot_str(&label)
                );
            }
            for (parent, kids) in &t.children {
                for k in kids {
                    let _ = writeln!(out, "  s{parent} -> s{};", k.id.0);
                }
            }
            let _ = writeln!(out, "}}");
        }
        Format::Mermaid => {
            let _ = writeln!(out, "graph TD");
            for s in &run.spans {
                let mut label = format!("{}<br/>{}", title(s), status(s));
                if let Some(m) = mark(s) {
                    label.push_str("<br/>");
                    label.push_str(&m);
                }
                let _ = writeln!(out, "  s{}[\"{}\"]", s.id.0, mermaid_str(&label));
            }
            for (parent, kids) in &t.children {
                for k in kids {
                    let _ = writeln!(out, "  s{parent} --> s{}", k.id.0);
                }
            }
            let _ = writeln!(
                out,
                "  classDef fault fill:#ffd54f,stroke:#e65100,stroke-width:2px"
            );
            let _ = writeln!(out, "  classDef error fill:#ef9a9a");
            let faults: Vec<String> = run
                .spans
                .iter()
                .filter(|s| is_fault(s))
                .map(|s| format!("s{}", s.id.0))
                .collect();
            let errors: Vec<String> = run
                .spans
                .iter()
                .filter(|s| s.status == SpanStatus::Error && !is_fault(s))
                .map(|s| format!("s{}", s.id.0))
                .collect();
            if !faults.is_empty() {
                let _ = writeln!(out, "  class {} fault", faults.join(","));
            }
            if !errors.is_empty() {
                let _ = writeln!(out, "  class {} error", errors.join(","));
            }
        }
    }
    out
}

fn dot_str(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn mermaid_str(s: &str) -> String {
    s.replace('"', "#quot;")
}
