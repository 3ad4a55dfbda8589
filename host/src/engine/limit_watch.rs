//! Static limits observed on every step. A service whose `limits` set memory,
//! CPU, file descriptors or tmpfs mounts gets, for each step run in it, one
//! `clnrm.resource.<kind>` span per limited resource (child of the step,
//! `pressure.source = "limits"`, `step.index`), built from readings of its
//! cgroup, `/proc/<pid>/fd` and `statvfs` taken before, every
//! [`SAMPLE_MS`] during, and after the step: the same evidence and
//! attributes `chaos-resource` gives an injection, with its `pressure.level`.
//! A reading at `high` goes into the scenario's fault log as pressure, so a
//! step that passes through it is `degraded`, with or without a
//! `chaos_injection`. The engine does it, not the plugin: only the engine
//! knows when each step starts and ends, and its spans are kept verbatim by a
//! recording, so replay needs nothing more.

use crate::backend::cgroup::{CgroupUsage, DiskUsage};
use crate::backend::Backend;
use crate::runtime::FaultLog;
use crate::suite::ServiceSpec;
use crate::trace::{SpanId, Trace};
use clnrm_sdk::pressure;
use clnrm_sdk::vocab::{attr, span};
use std::future::Future;
use std::time::Duration;

/// How often a step's service is read while the step runs (the plugin's
/// default `sample_ms`).
pub const SAMPLE_MS: u64 = 50;

const MIB: u64 = 1024 * 1024;

/// A resource a service's `limits` bound.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Watched {
    /// The memory limit the service declares, in MiB.
    Memory(u64),
    Cpu,
    Fd,
    /// A `limits.tmpfs` mount, by its path in the container.
    Disk(String),
}

impl Watched {
    fn span_name(&self) -> &'static str {
        match self {
            Watched::Memory(_) => span::RESOURCE_MEMORY_PRESSURE,
            Watched::Cpu => span::RESOURCE_CPU_THROTTLE,
            Watched::Fd => span::RESOURCE_FD_EXHAUSTION,
            Watched::Disk(_) => span::RESOURCE_DISK_FULL,
        }
    }

    /// `resource.type`, and the resource `note-pressure` names.
    fn resource(&self) -> &'static str {
        match self {
            Watched::Memory(_) => "memory",
            Watched::Cpu => "cpu",
            Watched::Fd => "fd",
            Watched::Disk(_) => "disk",
        }
    }
}

/// What a service's limits (its own, or `[limits]`'s defaults) bound, in a
/// fixed order: memory, cpu, fd, then each tmpfs mount by path.
pub fn watched(spec: &ServiceSpec) -> Vec<Watched> {
    let mut out = Vec::new();
    if let Some(mb) = spec.memory_mb {
        out.push(Watched::Memory(mb));
    }
    if spec.cpu_millicores.is_some() {
        out.push(Watched::Cpu);
    }
    if spec.max_file_descriptors.is_some() {
        out.push(Watched::Fd);
    }
    out.extend(spec.tmpfs.keys().map(|p| Watched::Disk(p.clone())));
    out
}

/// One reading of everything watched: the cgroup, and each tmpfs by path.
#[derive(Clone, Debug, Default)]
pub struct Reading {
    pub cgroup: Option<CgroupUsage>,
    pub disks: Vec<(String, DiskUsage)>,
}

impl Reading {
    fn disk(&self, path: &str) -> Option<DiskUsage> {
        self.disks.iter().find(|(p, _)| p == path).map(|(_, d)| *d)
    }
}

/// Where a step's limits are read and reported.
pub struct LimitWatch<'a> {
    pub backend: &'a dyn Backend,
    pub trace: &'a Trace,
    pub faults: &'a FaultLog,
    pub service: &'a str,
    pub container: &'a str,
    pub watched: &'a [Watched],
    /// The step's index in its scenario (`step.index`).
    pub index: usize,
}

impl LimitWatch<'_> {
    async fn read(&self) -> Reading {
        let needs_cgroup = self.watched.iter().any(|w| !matches!(w, Watched::Disk(_)));
        let cgroup = if needs_cgroup {
            match self.backend.cgroup_read(self.container).await {
                Ok(u) => Some(u),
                Err(e) => {
                    tracing::debug!(service = self.service, "limits not read: {e}");
                    None
                }
            }
        } else {
            None
        };
        let mut disks = Vec::new();
        for w in self.watched {
            if let Watched::Disk(path) = w {
                match self.backend.disk_usage(self.container, path).await {
                    Ok(d) => disks.push((path.clone(), d)),
                    Err(e) => tracing::debug!(service = self.service, path, "not read: {e}"),
                }
            }
        }
        Reading { cgroup, disks }
    }

    /// Run `work` (the step's attempts) while reading the service; its spans
    /// end before `work`'s answer is returned, so the step's `degraded` sees
    /// every pressure noted. Nothing watched: just `work`.
    pub async fn around<T>(&self, step_span: SpanId, work: impl Future<Output = T>) -> T {
        if self.watched.is_empty() {
            return work.await;
        }
        let first = self.read().await;
        // A span only for what was read: every claim comes from a reading.
        let spans: Vec<(&Watched, SpanId)> = self
            .watched
            .iter()
            .filter(|w| judge(w, &first, &first).is_some())
            .map(|w| (w, self.open(step_span, w)))
            .collect();
        tokio::pin!(work);
        let mut all = vec![first];
        let out = loop {
            tokio::select! {
                out = &mut work => break out,
                _ = tokio::time::sleep(Duration::from_millis(SAMPLE_MS)) => self.sample(&mut all).await,
            }
        };
        self.sample(&mut all).await;
        for (w, s) in spans {
            self.close(s, w, &all);
        }
        out
    }

    fn open(&self, parent: SpanId, w: &Watched) -> SpanId {
        let t = self.trace;
        let s = t.start(w.span_name(), Some(parent));
        t.set_attr(s, attr::RESOURCE_TYPE, w.resource());
        t.set_attr(s, attr::TARGET_SERVICE, self.service);
        t.set_attr(s, attr::PRESSURE_SOURCE, "limits");
        t.set_attr(s, attr::STEP_INDEX, self.index as i64);
        if let Watched::Disk(path) = w {
            t.set_attr(s, attr::PATH, path.as_str());
        }
        s
    }

    /// One more reading; pressure at `high` in it (against the one before) is
    /// noted now, as a plugin's `note-pressure` would be.
    async fn sample(&self, all: &mut Vec<Reading>) {
        let r = self.read().await;
        let now = self.trace.clock().elapsed_ns();
        if let Some(prev) = all.last() {
            for w in self.watched {
                if judge(w, prev, &r).is_some_and(|j| j.level == "high") {
                    self.faults.record_pressure(self.service, w.resource(), now);
                }
            }
        }
        all.push(r);
    }

    fn close(&self, s: SpanId, w: &Watched, all: &[Reading]) {
        let t = self.trace;
        let Some(j) = window(w, all) else {
            t.end_error(s, "no reading of the limit after the step");
            return;
        };
        for (k, v) in j.attrs {
            t.set_attr(s, k, v);
        }
        t.set_attr(s, attr::PRESSURE_LEVEL, j.level);
        t.end_ok(s);
    }
}

/// What a window of readings shows for one resource: its attributes (the
/// plugin's for that resource) and its level.
#[derive(Debug, PartialEq)]
pub struct Judged {
    pub attrs: Vec<(&'static str, crate::trace::AttrValue)>,
    pub level: &'static str,
}

/// The whole window, the first reading against the others: memory's highest
/// usage (or the kernel's peak, when it rose) with the growth of failcnt and
/// OOM kills; CPU's throttling over the window; the busiest process's fds;
/// the fullest filesystem. None when nothing was read.
pub fn window(w: &Watched, all: &[Reading]) -> Option<Judged> {
    let first = all.first()?;
    let read = || all.iter().filter_map(|r| r.cgroup);
    match w {
        Watched::Memory(declared_mb) => {
            let (a, b) = (first.cgroup?, read().next_back()?);
            let kernel = match (a.memory_peak, b.memory_peak) {
                (Some(x), Some(y)) if y > x => y,
                _ => 0,
            };
            let peak = read().map(|u| u.memory_usage).max()?.max(kernel);
            let limit = b.memory_limit?;
            memory(a, b, peak, limit, *declared_mb)
        }
        Watched::Cpu => {
            let last = all.iter().rev().find(|r| r.cgroup.is_some())?;
            judge(w, first, last)
        }
        Watched::Fd => {
            let busiest = all
                .iter()
                .filter(|r| r.cgroup.is_some())
                .max_by_key(|r| r.cgroup.map(|u| u.fds_max))?;
            judge(w, first, busiest)
        }
        Watched::Disk(path) => {
            let fullest = all
                .iter()
                .filter(|r| r.disk(path).is_some())
                .min_by_key(|r| r.disk(path).map(|d| d.free_bytes))?;
            judge(w, first, fullest)
        }
    }
}

/// `b` against `a` for one resource; None when a reading or the limit is missing.
pub fn judge(w: &Watched, a: &Reading, b: &Reading) -> Option<Judged> {
    use crate::trace::AttrValue::{Bool, Int};
    match w {
        Watched::Memory(declared_mb) => {
            let (ua, ub) = (a.cgroup?, b.cgroup?);
            // The kernel's peak counts since the container started: evidence
            // for this window only when it rose during it.
            let kernel = match (ua.memory_peak, ub.memory_peak) {
                (Some(x), Some(y)) if y > x => y,
                _ => 0,
            };
            let limit = ub.memory_limit?;
            memory(ua, ub, ub.memory_usage.max(kernel), limit, *declared_mb)
        }
        Watched::Cpu => {
            let (ua, ub) = (a.cgroup?, b.cgroup?);
            let limit = ub.cpu_limit_millicores?;
            let periods = ub.cpu_nr_throttled.saturating_sub(ua.cpu_nr_throttled);
            let us = ub.cpu_throttled_us.saturating_sub(ua.cpu_throttled_us);
            Some(Judged {
                attrs: vec![
                    (attr::LIMIT_MILLICORES, Int(limit as i64)),
                    (attr::THROTTLED_PERIODS, Int(periods as i64)),
                    (attr::THROTTLED_MS, Int((us / 1000) as i64)),
                    (attr::THROTTLE_DETECTED, Bool(periods > 0)),
                ],
                level: pressure::cpu(periods),
            })
        }
        Watched::Fd => {
            let ub = b.cgroup?;
            let limit = ub.fd_limit?;
            let fds = u64::from(ub.fds_max);
            Some(Judged {
                attrs: vec![
                    (attr::LIMIT, Int(limit as i64)),
                    (attr::FDS_PEAK, Int(fds as i64)),
                    (attr::FD_EXHAUSTED, Bool(fds >= limit)),
                ],
                level: pressure::share(fds, limit),
            })
        }
        Watched::Disk(path) => {
            let d = b.disk(path)?;
            let used = d.total_bytes.saturating_sub(d.free_bytes);
            Some(Judged {
                attrs: vec![
                    (attr::LIMIT_MB, Int((d.total_bytes / MIB) as i64)),
                    (attr::USED_MB, Int((used / MIB) as i64)),
                    (attr::DISK_FULL, Bool(d.free_bytes == 0)),
                ],
                level: if d.free_bytes == 0 {
                    "high"
                } else {
                    pressure::share(used, d.total_bytes)
                },
            })
        }
    }
}

/// `limit.mb` is the limit the service declares, not a reading: a live
/// change by an injection during the step (its own span reports it) would
/// make the attribute, and so the digest, depend on which sample caught it.
/// The pressure level is judged against the limit read last, as before.
fn memory(
    a: CgroupUsage,
    b: CgroupUsage,
    peak: u64,
    limit: u64,
    declared_mb: u64,
) -> Option<Judged> {
    use crate::trace::AttrValue::Int;
    let failed = b.memory_failcnt.saturating_sub(a.memory_failcnt);
    let killed = b.oom_kills.saturating_sub(a.oom_kills);
    Some(Judged {
        attrs: vec![
            (attr::LIMIT_MB, Int(declared_mb as i64)),
            (attr::USAGE_PEAK_MB, Int((peak / MIB) as i64)),
            (attr::MEMORY_FAILCNT, Int(failed as i64)),
            (attr::OOM_KILLS, Int(killed as i64)),
        ],
        level: pressure::memory(peak, limit, failed, killed),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::AttrValue;

    fn cg(f: impl FnOnce(&mut CgroupUsage)) -> Reading {
        let mut u = CgroupUsage {
            memory_limit: Some(64 * MIB),
            cpu_limit_millicores: Some(100),
            fd_limit: Some(32),
            ..Default::default()
        };
        f(&mut u);
        Reading {
            cgroup: Some(u),
            disks: vec![(
                "/data".into(),
                DiskUsage {
                    total_bytes: 16 * MIB,
                    free_bytes: 16 * MIB,
                },
            )],
        }
    }

    fn get(j: &Judged, k: &str) -> AttrValue {
        j.attrs.iter().find(|(a, _)| *a == k).unwrap().1.clone()
    }

    #[test]
    fn the_limits_a_service_sets_are_watched_in_order() {
        let mut s = ServiceSpec::default();
        assert!(watched(&s).is_empty());
        s.memory_mb = Some(64);
        s.max_file_descriptors = Some(32);
        s.tmpfs.insert("/b".into(), 8);
        s.tmpfs.insert("/a".into(), 8);
        assert_eq!(
            watched(&s),
            [
                Watched::Memory(64),
                Watched::Fd,
                Watched::Disk("/a".into()),
                Watched::Disk("/b".into())
            ]
        );
    }

    /// An injection lowers the limit for part of the step: whether the last
    /// sample still sees it is timing, so `limit.mb` (in the digest) is the
    /// declared limit. (The level, judged on the last limit read, is left out
    /// of the digest on these spans already.)
    #[test]
    fn a_live_limit_change_moves_the_level_not_limit_mb() {
        let at = |limit_mb: u64, usage_mb: u64| {
            cg(|u| {
                u.memory_limit = Some(limit_mb * MIB);
                u.memory_usage = usage_mb * MIB;
            })
        };
        let restored =
            window(&Watched::Memory(128), &[at(128, 1), at(64, 64), at(128, 1)]).unwrap();
        let lowered = window(&Watched::Memory(128), &[at(128, 1), at(64, 64), at(64, 1)]).unwrap();
        assert_eq!(get(&restored, attr::LIMIT_MB), AttrValue::Int(128));
        assert_eq!(get(&lowered, attr::LIMIT_MB), AttrValue::Int(128));
        // The level still follows the last limit read (64 of 64 MiB is high,
        // of 128 it is not); it is not in the digest on these spans.
        assert_eq!(lowered.level, "high");
        assert_ne!(restored.level, "high");
    }

    #[test]
    fn memory_takes_the_highest_usage_or_a_risen_kernel_peak() {
        let idle = cg(|u| {
            u.memory_usage = MIB;
            u.memory_peak = Some(64 * MIB);
        });
        let busy = cg(|u| u.memory_usage = 50 * MIB);
        let j = window(&Watched::Memory(64), &[idle.clone(), busy, idle.clone()]).unwrap();
        assert_eq!(j.level, "medium");
        assert_eq!(get(&j, attr::USAGE_PEAK_MB), AttrValue::Int(50));
        // A peak already at the limit before the step is not this step's.
        let j = window(&Watched::Memory(64), &[idle.clone(), idle.clone()]).unwrap();
        assert_eq!(j.level, "low");
        let before = cg(|u| u.memory_peak = Some(10 * MIB));
        let after = cg(|u| u.memory_peak = Some(64 * MIB));
        let j = window(&Watched::Memory(64), &[before, after]).unwrap();
        assert_eq!(
            (j.level, get(&j, attr::USAGE_PEAK_MB)),
            ("high", AttrValue::Int(64))
        );
        let killed = cg(|u| u.oom_kills = 1);
        let j = window(&Watched::Memory(64), &[cg(|_| ()), killed]).unwrap();
        assert_eq!(
            (j.level, get(&j, attr::OOM_KILLS)),
            ("high", AttrValue::Int(1))
        );
    }

    #[test]
    fn cpu_is_high_once_throttled_during_the_step() {
        let a = cg(|u| u.cpu_nr_throttled = 40);
        let j = window(&Watched::Cpu, &[a.clone(), a.clone()]).unwrap();
        assert_eq!(
            (j.level, get(&j, attr::THROTTLE_DETECTED)),
            ("low", AttrValue::Bool(false))
        );
        let b = cg(|u| {
            u.cpu_nr_throttled = 45;
            u.cpu_throttled_us = 30_000;
        });
        // The container died before the last reading: judged on the ones before.
        let dead = Reading::default();
        let j = window(&Watched::Cpu, &[a, b, dead]).unwrap();
        assert_eq!(j.level, "high");
        assert_eq!(get(&j, attr::THROTTLED_PERIODS), AttrValue::Int(5));
        assert_eq!(get(&j, attr::THROTTLED_MS), AttrValue::Int(30));
    }

    #[test]
    fn fds_and_disks_take_their_fullest_reading() {
        let at = cg(|u| u.fds_max = 32);
        let j = window(&Watched::Fd, &[cg(|_| ()), at, cg(|u| u.fds_max = 3)]).unwrap();
        assert_eq!(
            (j.level, get(&j, attr::FD_EXHAUSTED)),
            ("high", AttrValue::Bool(true))
        );
        let mut full = cg(|_| ());
        full.disks[0].1.free_bytes = 4 * MIB;
        let d = Watched::Disk("/data".into());
        let j = window(&d, &[cg(|_| ()), full, cg(|_| ())]).unwrap();
        assert_eq!(
            (j.level, get(&j, attr::USED_MB)),
            ("medium", AttrValue::Int(12))
        );
        assert_eq!(get(&j, attr::DISK_FULL), AttrValue::Bool(false));
        // Nothing read: nothing claimed.
        assert!(window(&Watched::Disk("/other".into()), &[cg(|_| ())]).is_none());
    }
}
