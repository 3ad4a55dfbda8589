//! `clnrm report merge`: join the JSON reports of the shards of one run into
//! the outcome the unsharded run would have had.
//!
//! Per suite, the shards' traces are joined under one `clnrm.run` root (the
//! first shard's; the others' roots are dropped and their children moved
//! under it), image preparation (`clnrm.image.*`, once per machine) is kept
//! once, the scenario outcomes are put back in file order, the root's status
//! is what the whole run's would be, and the suite's `[expect.*]` tables,
//! which no shard ran, are run over the joined trace. The digest is computed
//! over the joined trace like any run's.

use crate::engine::{ScenarioOutcome, SuiteOutcome};
use crate::runtime::Registry;
use crate::suite::Suite;
use crate::trace::{AttrValue, SpanData, SpanId, SpanStatus};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// One shard's `<name>.report.json`, as read back.
#[derive(serde::Deserialize)]
pub struct ShardReport {
    #[serde(flatten)]
    pub outcome: SuiteOutcome,
    #[serde(default)]
    pub spans: Vec<SpanData>,
    /// Where it was read from (for messages).
    #[serde(skip)]
    pub file: PathBuf,
}

/// Every `*.report.json` in `dirs`, in (dir, file name) order.
pub fn read_reports(dirs: &[PathBuf]) -> Result<Vec<ShardReport>, String> {
    let mut out = Vec::new();
    for d in dirs {
        let entries =
            std::fs::read_dir(d).map_err(|e| format!("cannot read {}: {e}", d.display()))?;
        let mut files: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| {
                p.file_name()
                    .is_some_and(|n| n.to_string_lossy().ends_with(".report.json"))
            })
            .collect();
        files.sort();
        if files.is_empty() {
            return Err(format!(
                "{}: no *.report.json (give the --report-dir of each `clnrm run --shard I/N`)",
                d.display()
            ));
        }
        for f in files {
            let text = std::fs::read_to_string(&f)
                .map_err(|e| format!("cannot read {}: {e}", f.display()))?;
            let mut r: ShardReport = serde_json::from_str(&text).map_err(|e| {
                format!(
                    "{}:{}:{}: not a clnrm JSON report: {e}",
                    f.display(),
                    e.line(),
                    e.column()
                )
            })?;
            r.file = f;
            out.push(r);
        }
    }
    Ok(out)
}

/// The shards of one suite, checked to belong together: all carry a shard
/// label with the same N, no index twice, the same seed.
pub fn group(reports: Vec<ShardReport>) -> Result<Vec<(String, Vec<ShardReport>)>, String> {
    let mut by_suite: BTreeMap<String, Vec<ShardReport>> = BTreeMap::new();
    for r in reports {
        by_suite.entry(r.outcome.name.clone()).or_default().push(r);
    }
    let mut out = Vec::new();
    for (name, mut rs) in by_suite {
        let mut shards = Vec::new();
        for r in &rs {
            let label = r.outcome.shard.as_deref().ok_or_else(|| {
                format!(
                    "{}: not a shard's report (no `shard`): merge the reports of `clnrm run --shard I/N`",
                    r.file.display()
                )
            })?;
            let s: super::Shard = label
                .parse()
                .map_err(|e| format!("{}: shard {e}", r.file.display()))?;
            shards.push(s);
        }
        let n = shards[0].count;
        if let Some((r, s)) = rs.iter().zip(&shards).find(|(_, s)| s.count != n) {
            return Err(format!(
                "{}: shard {s}, but {} is shard {}: the reports come from different partitions",
                r.file.display(),
                rs[0].file.display(),
                shards[0]
            ));
        }
        let mut seen: HashMap<usize, &Path> = HashMap::new();
        for (r, s) in rs.iter().zip(&shards) {
            if let Some(first) = seen.insert(s.index, &r.file) {
                return Err(format!(
                    "suite `{name}`: shard {s} twice ({} and {})",
                    first.display(),
                    r.file.display()
                ));
            }
        }
        if let Some(r) = rs.iter().find(|r| r.outcome.seed != rs[0].outcome.seed) {
            return Err(format!(
                "{}: seed {}, but {} ran with seed {}: shards must run with one seed",
                r.file.display(),
                r.outcome.seed,
                rs[0].file.display(),
                rs[0].outcome.seed
            ));
        }
        let mut order: Vec<(usize, ShardReport)> = shards
            .iter()
            .map(|s| s.index)
            .zip(std::mem::take(&mut rs))
            .collect();
        order.sort_by_key(|(i, _)| *i);
        out.push((name, order.into_iter().map(|(_, r)| r).collect()));
    }
    Ok(out)
}

/// Join the shards' traces (see the module doc): ids renumbered so that a
/// span's id is its index again.
pub fn join_spans(shards: &[ShardReport], all_passed: bool, interrupted: bool) -> Vec<SpanData> {
    let mut out: Vec<SpanData> = Vec::new();
    let mut root: Option<SpanId> = None;
    let mut images: HashSet<String> = HashSet::new();
    for r in shards {
        let mut map: HashMap<SpanId, SpanId> = HashMap::new();
        // Spans of this shard left out (its root's image spans seen before), with their subtrees.
        let mut dropped: HashSet<SpanId> = HashSet::new();
        let own_root = r.spans.iter().find(|s| s.parent.is_none()).map(|s| s.id);
        for s in &r.spans {
            if Some(s.id) == own_root {
                match root {
                    Some(k) => {
                        map.insert(s.id, k);
                        // The run ends when the last shard's did.
                        let kept = &mut out[k.0 as usize];
                        kept.end_ns = kept.end_ns.max(s.end_ns);
                    }
                    None => {
                        let id = SpanId(out.len() as u32);
                        map.insert(s.id, id);
                        root = Some(id);
                        let mut s = s.clone();
                        s.id = id;
                        out.push(s);
                    }
                }
                continue;
            }
            if s.parent.is_some_and(|p| dropped.contains(&p)) {
                dropped.insert(s.id);
                continue;
            }
            if s.parent == own_root && s.name.starts_with("clnrm.image.") {
                let key = format!("{}|{}", s.name, image_of(s));
                if !images.insert(key) {
                    dropped.insert(s.id);
                    continue;
                }
            }
            let id = SpanId(out.len() as u32);
            map.insert(s.id, id);
            let parent = s.parent.and_then(|p| map.get(&p).copied());
            let mut s = s.clone();
            s.id = id;
            s.parent = parent;
            out.push(s);
        }
    }
    if let Some(k) = root {
        let s = &mut out[k.0 as usize];
        set(s, "run.interrupted", AttrValue::Bool(interrupted));
        if all_passed {
            s.status = SpanStatus::Ok;
            s.status_message = None;
        } else {
            s.status = SpanStatus::Error;
            s.status_message = Some(if interrupted {
                "interrupted".into()
            } else {
                "a scenario failed".into()
            });
        }
    }
    out
}

/// Lay the scenarios out one after another in `order` (the suite's file
/// order), as `-j 1` runs them: each shard's times count from its own start,
/// on its own machine, so the joined trace would otherwise show scenarios of
/// different shards at once that never shared a clock. Each scenario's
/// subtree (its `clnrm.scenario` span and everything under it) keeps its own
/// inner timing and is shifted to start when the one before ended.
pub fn lay_out(spans: &mut [SpanData], order: &[String]) {
    let Some(root) = spans.iter().find(|s| s.parent.is_none()).map(|s| s.id) else {
        return;
    };
    // The top span (a child of the root) each span hangs under.
    let mut top: Vec<Option<usize>> = vec![None; spans.len()];
    for i in 0..spans.len() {
        top[i] = match spans[i].parent {
            Some(p) if p == root => Some(i),
            Some(p) => top.get(p.0 as usize).copied().flatten(),
            None => None,
        };
    }
    let scenario_of = |i: usize| -> Option<String> {
        let s = &spans[i];
        (s.name == "clnrm.scenario")
            .then(|| s.attr("scenario.name").map(|v| v.to_string()))
            .flatten()
    };
    // Each scenario's extent: (first start, last end).
    let mut extent: HashMap<usize, (u64, u64)> = HashMap::new();
    for (i, s) in spans.iter().enumerate() {
        let Some(t) = top[i] else { continue };
        let end = s
            .end_ns
            .unwrap_or(s.start_ns)
            .max(s.events.iter().map(|e| e.time_ns).max().unwrap_or(0));
        let e = extent.entry(t).or_insert((s.start_ns, end));
        e.0 = e.0.min(s.start_ns);
        e.1 = e.1.max(end);
    }
    let mut tops: Vec<(usize, usize)> = extent
        .keys()
        .filter_map(|&t| {
            let name = scenario_of(t)?;
            Some((order.iter().position(|n| *n == name)?, t))
        })
        .collect();
    tops.sort();
    let Some(mut cursor) = tops.iter().map(|(_, t)| extent[t].0).min() else {
        return;
    };
    let mut shift: HashMap<usize, i128> = HashMap::new();
    for (_, t) in &tops {
        let (start, end) = extent[t];
        shift.insert(*t, cursor as i128 - start as i128);
        cursor += end - start;
    }
    let moved = |x: u64, d: i128| (x as i128 + d).max(0) as u64;
    let mut last_end = 0;
    for (i, s) in spans.iter_mut().enumerate() {
        if let Some(d) = top[i].and_then(|t| shift.get(&t)).copied() {
            s.start_ns = moved(s.start_ns, d);
            s.end_ns = s.end_ns.map(|e| moved(e, d));
            for e in &mut s.events {
                e.time_ns = moved(e.time_ns, d);
            }
        }
        if s.parent.is_some() {
            last_end = last_end.max(s.end_ns.unwrap_or(s.start_ns));
        }
    }
    if let Some(r) = spans.get_mut(root.0 as usize) {
        r.end_ns = r.end_ns.map(|_| last_end.max(r.start_ns));
    }
}

fn image_of(s: &SpanData) -> String {
    s.attrs
        .iter()
        .filter(|(k, _)| k.starts_with("image"))
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

fn set(s: &mut SpanData, key: &str, v: AttrValue) {
    match s.attrs.iter_mut().find(|(k, _)| k == key) {
        Some(slot) => slot.1 = v,
        None => s.attrs.push((key.to_string(), v)),
    }
}

/// The joined outcome of one suite's shards, its `[expect.*]` run over the
/// joined trace. `suite` is the suite file the shards ran.
pub async fn merge(
    registry: &Arc<Registry>,
    suite: &Suite,
    shards: Vec<ShardReport>,
) -> Result<SuiteOutcome, String> {
    if shards.is_empty() {
        return Err(format!("{}: no shard report", suite.path.display()));
    }
    // Scenario outcomes back in the suite's order, each exactly once.
    let mut by_name: BTreeMap<String, ScenarioOutcome> = BTreeMap::new();
    let interrupted = shards.iter().any(|r| r.outcome.interrupted);
    let environment_error = shards
        .iter()
        .find_map(|r| r.outcome.environment_error.clone());
    let invalid_shard = shards.iter().find_map(|r| r.outcome.invalid.clone());
    let joined_partial = interrupted || environment_error.is_some();
    let mut shards = shards;
    let mut plugins = BTreeMap::new();
    let mut duration_ms = 0;
    for r in &mut shards {
        duration_ms = duration_ms.max(r.outcome.duration_ms);
        plugins.extend(std::mem::take(&mut r.outcome.plugins));
        for sc in std::mem::take(&mut r.outcome.scenarios) {
            let name = sc.name.clone();
            if by_name.insert(name.clone(), sc).is_some() {
                return Err(format!(
                    "{}: scenario `{name}` is in two shards' reports",
                    r.file.display()
                ));
            }
        }
    }
    let mut scenarios = Vec::new();
    let mut missing = Vec::new();
    for sc in &suite.scenarios {
        match by_name.remove(&sc.name) {
            Some(o) => scenarios.push(o),
            None => missing.push(sc.name.clone()),
        }
    }
    if !missing.is_empty() && !joined_partial {
        return Err(format!(
            "{}: scenario(s) {} are in no shard's report: give the report dir of every shard",
            suite.path.display(),
            missing.join(", ")
        ));
    }
    if let Some(extra) = by_name.keys().next() {
        return Err(format!(
            "the shards ran scenario `{extra}`, which {} does not have: merge against the suite file the shards ran",
            suite.path.display()
        ));
    }
    let all_passed = missing.is_empty() && scenarios.iter().all(|s| s.passed) && !joined_partial;
    let mut spans = join_spans(&shards, all_passed, interrupted);
    let order: Vec<String> = suite.scenarios.iter().map(|s| s.name.clone()).collect();
    lay_out(&mut spans, &order);
    let (expectations, invalid) = if joined_partial {
        (Vec::new(), None)
    } else if let Some(i) = invalid_shard {
        (Vec::new(), Some(i))
    } else {
        let resolved = registry
            .resolve(suite)
            .await
            .map_err(|e| format!("{}: {e}", suite.path.display()))?;
        crate::engine::validate(registry, suite, &resolved, &spans).await
    };
    let head = shards.swap_remove(0).outcome;
    Ok(SuiteOutcome {
        passed: all_passed && invalid.is_none() && expectations.iter().all(|e| e.passed),
        interrupted,
        environment_error,
        invalid,
        duration_ms,
        scenarios,
        expectations,
        plugins,
        shard: None,
        digest: crate::trace::digest(&spans),
        spans,
        ..head
    })
}
