//! The trace of a finished run, read back from a `<name>.report.json` or a
//! recording, for the terminal: `clnrm spans` (a list or a tree), `clnrm
//! graph` (ascii, dot, mermaid) and `clnrm diff` (two runs compared).
//!
//! Faults are marked as the HTML report marks them (`report/html/report.js`):
//! a span with `chaos.observed = true` is an observed fault, labelled with
//! its `chaos.type` and the attributes that say what was seen (not the
//! fault's configuration); a step that passed while a fault hit its service
//! (`degraded = true`) is marked too.

pub mod diff;
pub mod view;

use crate::trace::{AttrValue, SpanData};
use std::collections::BTreeMap;
use std::path::Path;

/// `crate::replay`'s recording format (`replay/file.rs`).
const RECORDING_FORMAT: &str = "clnrm.recording/1";

/// One suite's run: from a report, or one suite of a recording.
pub struct Run {
    /// What to call it: the file, and the suite for a recording.
    pub label: String,
    pub name: String,
    pub digest: String,
    /// The verdict, when the file has one (reports do, recordings do not).
    pub passed: Option<bool>,
    pub spans: Vec<SpanData>,
}

/// Every run in a report (one) or a recording (one per suite).
pub fn load(path: &Path) -> Result<Vec<Run>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        format!(
            "{}:{}:{}: not JSON: {e}",
            path.display(),
            e.line(),
            e.column()
        )
    })?;
    let shown = path.display().to_string();
    let spans_of = |v: &serde_json::Value, at: &str| -> Result<Vec<SpanData>, String> {
        serde_json::from_value(v.get("spans").cloned().unwrap_or_default())
            .map_err(|e| format!("{shown}: {at}spans: {e}"))
    };
    let str_of = |v: &serde_json::Value, k: &str| v[k].as_str().unwrap_or("").to_string();
    if v["schema"] == "clnrm.report/1" {
        return Ok(vec![Run {
            label: shown.clone(),
            name: str_of(&v, "name"),
            digest: str_of(&v, "digest"),
            passed: v["passed"].as_bool(),
            spans: spans_of(&v, "")?,
        }]);
    }
    if v["format"] == RECORDING_FORMAT {
        let suites = v["suites"].as_array().cloned().unwrap_or_default();
        return suites
            .iter()
            .enumerate()
            .map(|(i, s)| {
                Ok(Run {
                    label: format!("{shown} [{}]", str_of(s, "name")),
                    name: str_of(s, "name"),
                    digest: str_of(s, "digest"),
                    passed: None,
                    spans: spans_of(s, &format!("suites[{i}].")).map_err(|e| e.to_string())?,
                })
            })
            .collect();
    }
    Err(format!(
        "{shown}: neither a report (`schema = \"clnrm.report/1\"`, a `<name>.report.json`) nor a recording (`format = \"{}\"`)",
        RECORDING_FORMAT
    ))
}

/// The one run of a file, or an error naming the suites of a recording
/// with several (pick one with `suite`).
pub fn load_one(path: &Path, suite: Option<&str>) -> Result<Run, String> {
    let mut runs = load(path)?;
    if let Some(want) = suite {
        let names: Vec<String> = runs.iter().map(|r| r.name.clone()).collect();
        return runs.into_iter().find(|r| r.name == want).ok_or_else(|| {
            format!(
                "{}: no suite `{want}` (it has: {})",
                path.display(),
                names.join(", ")
            )
        });
    }
    match runs.len() {
        1 => Ok(runs.remove(0)),
        0 => Err(format!("{}: the recording holds no suite", path.display())),
        _ => Err(format!(
            "{}: the recording holds {} suites ({}): choose one with --suite",
            path.display(),
            runs.len(),
            runs.iter()
                .map(|r| r.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

pub fn attr<'a>(s: &'a SpanData, key: &str) -> Option<&'a AttrValue> {
    s.attrs.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v)
}

/// The fault's configuration keys: not shown in its label (as in the HTML).
const CONFIG_KEYS: &[&str] = &[
    "chaos.type",
    "target.service",
    "delay_ms",
    "delay.jitter_ms",
    "signal",
    "grace_period_ms",
    "duration_ms",
    "chaos.observed",
    "scenario.name",
    "resource.type",
    "network.name",
    "observed.after_ms",
];

/// `⚡ <type> <what was seen>` for an observed fault, `(degraded)` for a
/// step that passed under one, else None.
pub fn mark(s: &SpanData) -> Option<String> {
    if matches!(attr(s, "chaos.observed"), Some(AttrValue::Bool(true))) {
        let kind = attr(s, "chaos.type")
            .map(|v| v.to_string())
            .unwrap_or_else(|| s.name.clone());
        let seen: Vec<String> = s
            .attrs
            .iter()
            .filter(|(k, _)| !CONFIG_KEYS.contains(&k.as_str()))
            .take(2)
            .map(|(k, v)| format!("{k}={}", shown(v)))
            .collect();
        let mut out = format!("⚡ {kind}");
        if !seen.is_empty() {
            out.push(' ');
            out.push_str(&seen.join(" "));
        }
        return Some(out);
    }
    if matches!(attr(s, "chaos.observed"), Some(AttrValue::Bool(false))) {
        return Some("fault NOT observed".into());
    }
    if matches!(attr(s, "degraded"), Some(AttrValue::Bool(true))) {
        return Some("(degraded: passed while a fault hit its service)".into());
    }
    None
}

pub fn is_fault(s: &SpanData) -> bool {
    matches!(attr(s, "chaos.observed"), Some(AttrValue::Bool(true)))
}

pub fn shown(v: &AttrValue) -> String {
    match v {
        AttrValue::Str(s) => format!("{s:?}"),
        other => other.to_string(),
    }
}

/// Children of each span (in start order), and the roots (a parent outside
/// the trace makes a root).
pub struct Tree<'a> {
    pub roots: Vec<&'a SpanData>,
    pub children: BTreeMap<u32, Vec<&'a SpanData>>,
}

impl<'a> Tree<'a> {
    pub fn of(spans: &'a [SpanData]) -> Tree<'a> {
        let ids: std::collections::BTreeSet<u32> = spans.iter().map(|s| s.id.0).collect();
        let mut roots = Vec::new();
        let mut children: BTreeMap<u32, Vec<&SpanData>> = BTreeMap::new();
        for s in spans {
            match s
                .parent
                .map(|p| p.0)
                .filter(|p| ids.contains(p) && *p != s.id.0)
            {
                Some(p) => children.entry(p).or_default().push(s),
                None => roots.push(s),
            }
        }
        let by_start =
            |a: &&SpanData, b: &&SpanData| a.start_ns.cmp(&b.start_ns).then(a.id.0.cmp(&b.id.0));
        roots.sort_by(by_start);
        for v in children.values_mut() {
            v.sort_by(by_start);
        }
        Tree { roots, children }
    }

    pub fn kids(&self, s: &SpanData) -> &[&'a SpanData] {
        self.children.get(&s.id.0).map(Vec::as_slice).unwrap_or(&[])
    }

    /// Depth-first, each span with its depth and whether it is the last of
    /// its siblings at each level (for drawing).
    pub fn walk(&self) -> Vec<(&'a SpanData, Vec<bool>)> {
        let mut out = Vec::new();
        let n = self.roots.len();
        for (i, r) in self.roots.iter().enumerate() {
            self.walk_from(r, vec![i + 1 == n], &mut out, 0);
        }
        out
    }

    fn walk_from(
        &self,
        s: &'a SpanData,
        last: Vec<bool>,
        out: &mut Vec<(&'a SpanData, Vec<bool>)>,
        guard: usize,
    ) {
        out.push((s, last.clone()));
        if guard > 10_000 {
            return;
        }
        let kids = self.kids(s);
        for (i, k) in kids.iter().enumerate() {
            let mut l = last.clone();
            l.push(i + 1 == kids.len());
            self.walk_from(k, l, out, guard + 1);
        }
    }
}

/// `├─ ` / `└─ ` with `│  ` for the levels above.
pub fn branch(last: &[bool]) -> String {
    let mut out = String::new();
    for (i, l) in last.iter().enumerate().skip(1) {
        let end = i + 1 == last.len();
        out.push_str(match (end, *l) {
            (true, true) => "└─ ",
            (true, false) => "├─ ",
            (false, true) => "   ",
            (false, false) => "│  ",
        });
    }
    out
}
