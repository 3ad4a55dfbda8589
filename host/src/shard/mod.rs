//! Which scenarios a run runs: `--scenario NAME` (repeatable, globs) and
//! `--shard I/N`, a deterministic partition of the scenarios of all the given
//! suites over N machines.
//!
//! The partition works on *groups*: scenarios that depend on one another (a
//! service of one waits, with `wait_for_span`, for a span another scenario
//! makes) form one group and land in one shard. Groups are ordered by (suite
//! name, first scenario name), never by the order of the files on the command
//! line, and dealt out greedily: each group goes to the shard with the fewest
//! scenarios so far (the lowest index on a tie). So every machine computes the
//! same partition from the same suites, whatever order its shell lists them in.

pub mod merge;

use crate::suite::Suite;
use std::collections::BTreeMap;
use std::fmt;

/// `--shard I/N`: this machine runs shard I (1-based) of N.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl std::str::FromStr for Shard {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("`{s}`: expected I/N with 1 <= I <= N, e.g. 2/4");
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let index: usize = i.trim().parse().map_err(|_| bad())?;
        let count: usize = n.trim().parse().map_err(|_| bad())?;
        if index == 0 || count == 0 || index > count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// The scenarios of a suite that depend on one another, as groups of
/// indices (each group in file order; groups ordered by their first index).
/// Scenario B depends on A when a service B starts has `wait_for_span` naming
/// a span only A makes: one of A's steps (`clnrm.step:<step>`) or a span whose
/// name ends in `:<A's name>` or `:<one of A's steps>`.
pub fn groups(suite: &Suite) -> Vec<Vec<usize>> {
    let n = suite.scenarios.len();
    let mut parent: Vec<usize> = (0..n).collect();
    fn find(p: &mut [usize], mut i: usize) -> usize {
        while p[i] != i {
            p[i] = p[p[i]];
            i = p[i];
        }
        i
    }
    for (b, sc) in suite.scenarios.iter().enumerate() {
        for sid in &sc.services {
            let Some(wait) = suite
                .services
                .get(sid)
                .and_then(|s| s.wait_for_span.as_deref())
            else {
                continue;
            };
            for (a, other) in suite.scenarios.iter().enumerate() {
                if a != b && makes(other, wait) {
                    let (ra, rb) = (find(&mut parent, a), find(&mut parent, b));
                    parent[ra.max(rb)] = ra.min(rb);
                }
            }
        }
    }
    let mut by_root: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for i in 0..n {
        let r = find(&mut parent, i);
        by_root.entry(r).or_default().push(i);
    }
    by_root.into_values().collect()
}

/// Whether `span` is a span only scenario `sc` makes.
fn makes(sc: &crate::suite::ScenarioSpec, span: &str) -> bool {
    let Some((_, suffix)) = span.rsplit_once(':') else {
        return false;
    };
    suffix == sc.name || sc.steps.iter().any(|st| st.name == suffix)
}

/// For each suite, whether each of its scenarios is in `shard`.
pub fn partition(suites: &[Suite], shard: Shard) -> Vec<Vec<bool>> {
    // (suite name, file name, first scenario name) → (suite index, group).
    let mut all: Vec<((String, String, String), usize, Vec<usize>)> = Vec::new();
    for (si, s) in suites.iter().enumerate() {
        let file = s
            .path
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default();
        for g in groups(s) {
            let first = s.scenarios[g[0]].name.clone();
            all.push(((s.name.clone(), file.clone(), first), si, g));
        }
    }
    all.sort_by(|a, b| a.0.cmp(&b.0));
    let mut load = vec![0usize; shard.count];
    let mut out: Vec<Vec<bool>> = suites
        .iter()
        .map(|s| vec![false; s.scenarios.len()])
        .collect();
    for (_, si, g) in all {
        let target = (0..shard.count).min_by_key(|&k| (load[k], k)).unwrap_or(0);
        load[target] += g.len();
        if target + 1 == shard.index {
            for i in g {
                out[si][i] = true;
            }
        }
    }
    out
}

/// `--scenario` patterns: a name, or a glob (`kill_*`).
pub struct Filter(Vec<glob::Pattern>);

impl Filter {
    pub fn new(patterns: &[String]) -> Result<Filter, String> {
        patterns
            .iter()
            .map(|p| glob::Pattern::new(p).map_err(|e| format!("--scenario `{p}`: {e}")))
            .collect::<Result<_, _>>()
            .map(Filter)
    }

    pub fn matches(&self, name: &str) -> bool {
        self.0.is_empty() || self.0.iter().any(|p| p.matches(name))
    }

    /// The patterns that match no scenario of any suite, each with the
    /// nearest scenario name when one is close.
    pub fn unmatched(&self, suites: &[Suite]) -> Vec<(String, Option<String>)> {
        let names: Vec<&str> = suites
            .iter()
            .flat_map(|s| s.scenarios.iter().map(|sc| sc.name.as_str()))
            .collect();
        self.0
            .iter()
            .filter(|p| !names.iter().any(|n| p.matches(n)))
            .map(|p| {
                (
                    p.as_str().to_string(),
                    crate::suite::nearest(p.as_str(), names.iter().copied()).map(str::to_string),
                )
            })
            .collect()
    }
}

/// Keep only the scenarios `keep` marks, in each suite; a suite left with
/// none is dropped. A suite that lost scenarios also drops its `[expect.*]`
/// tables: they judge the whole suite's trace (`clnrm report merge` runs
/// them over the joined shards). Returns how many expectation tables were
/// set aside, per suite name.
pub fn select(suites: Vec<Suite>, keep: &[Vec<bool>]) -> (Vec<Suite>, Vec<(String, usize)>) {
    let mut out = Vec::new();
    let mut set_aside = Vec::new();
    for (mut s, keep) in suites.into_iter().zip(keep) {
        if keep.iter().all(|k| *k) {
            out.push(s);
            continue;
        }
        let mut i = 0;
        s.scenarios.retain(|_| {
            i += 1;
            keep[i - 1]
        });
        if s.scenarios.is_empty() {
            continue;
        }
        if !s.expectations.is_empty() {
            set_aside.push((s.name.clone(), s.expectations.len()));
            s.expectations.clear();
        }
        out.push(s);
    }
    (out, set_aside)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::suite::load_str;

    fn suite(name: &str, scenarios: &[&str], extra: &str) -> Suite {
        let mut t = format!("[meta]\nname = \"{name}\"\n[service.app]\nimage = \"x\"\n{extra}\n");
        for s in scenarios {
            t.push_str(&format!(
                "[[scenario]]\nname = \"{s}\"\nservice = \"app\"\nrun = \"true\"\n"
            ));
        }
        load_str(std::path::Path::new(&format!("{name}.clnrm.toml")), t).unwrap()
    }

    #[test]
    fn shard_parses_and_prints() {
        assert_eq!(
            "2/4".parse::<Shard>().unwrap(),
            Shard { index: 2, count: 4 }
        );
        assert_eq!("2/4".parse::<Shard>().unwrap().to_string(), "2/4");
        for bad in ["0/4", "5/4", "1/0", "x/2", "3", ""] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
    }

    fn shard_names(suites: &[Suite], shard: Shard) -> Vec<String> {
        let keep = partition(suites, shard);
        let mut names: Vec<String> = suites
            .iter()
            .zip(&keep)
            .flat_map(|(s, k)| {
                s.scenarios
                    .iter()
                    .zip(k)
                    .filter(|(_, k)| **k)
                    .map(|(sc, _)| format!("{}/{}", s.name, sc.name))
            })
            .collect();
        names.sort();
        names
    }

    #[test]
    fn the_shards_cover_every_scenario_once_whatever_the_file_order() {
        let a = || suite("a", &["a1", "a2", "a3"], "");
        let b = || suite("b", &["b1", "b2", "b3", "b4"], "");
        for n in 1..=5 {
            let mut seen = Vec::new();
            for i in 1..=n {
                let shard = Shard { index: i, count: n };
                let fwd = shard_names(&[a(), b()], shard);
                let rev = shard_names(&[b(), a()], shard);
                assert_eq!(fwd, rev, "shard {shard}");
                // Balanced: 7 scenarios over n shards.
                assert!(fwd.len() <= 7usize.div_ceil(n), "{shard}: {fwd:?}");
                seen.extend(fwd);
            }
            seen.sort();
            assert_eq!(seen.len(), 7, "{n} shards: {seen:?}");
            seen.dedup();
            assert_eq!(seen.len(), 7, "{n} shards: {seen:?}");
        }
    }

    #[test]
    fn a_scenario_waiting_for_anothers_span_stays_with_it() {
        let extra = "[service.waiter]\nimage = \"x\"\nwait_for_span = \"clnrm.step:first\"\n";
        let mut t = format!("[meta]\nname = \"w\"\n[service.app]\nimage = \"x\"\n{extra}");
        t.push_str("[[scenario]]\nname = \"first\"\nservice = \"app\"\nrun = \"true\"\n");
        t.push_str("[[scenario]]\nname = \"other\"\nservice = \"app\"\nrun = \"true\"\n");
        t.push_str("[[scenario]]\nname = \"second\"\nservice = \"waiter\"\nrun = \"true\"\n");
        let s = load_str(std::path::Path::new("w.clnrm.toml"), t).unwrap();
        assert_eq!(groups(&s), vec![vec![0, 2], vec![1]]);
        for i in 1..=2 {
            let keep = &partition(std::slice::from_ref(&s), Shard { index: i, count: 2 })[0];
            assert_eq!(keep[0], keep[2], "shard {i}: {keep:?}");
        }
    }

    #[test]
    fn filters_take_names_and_globs_and_name_what_matched_nothing() {
        let s = vec![suite("a", &["kill_fast", "kill_slow", "oom"], "")];
        let f = Filter::new(&["kill_*".into(), "oomm".into()]).unwrap();
        assert!(f.matches("kill_fast") && f.matches("kill_slow") && !f.matches("oom"));
        assert_eq!(f.unmatched(&s), vec![("oomm".into(), Some("oom".into()))]);
        let keep = vec![s[0]
            .scenarios
            .iter()
            .map(|sc| f.matches(&sc.name))
            .collect()];
        let (left, _) = select(s, &keep);
        let names: Vec<&str> = left[0].scenarios.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["kill_fast", "kill_slow"]);
    }
}
