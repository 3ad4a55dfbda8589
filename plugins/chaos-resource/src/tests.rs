//! The resource faults on the SDK's fake host: limits lowered and restored, cgroup
//! readings sampled for the hold, the pressure level judged from what was read.

use super::ChaosResource;
use crate::memory::level;
use crate::sample::MIB;
use clnrm_sdk::fake::{self, injection};
use clnrm_sdk::prelude::*;

fn setup() {
    fake::reset(9);
    fake::with(|h| {
        h.services(&["app"]);
    });
}

fn inject(json: &str) -> Result<Outcome, String> {
    ChaosResource::inject(injection(json, &["app"]))
}

/// From `at_ms` on, `app` uses `mb` of memory.
fn uses_memory_from(at_ms: u64, mb: u64) {
    fake::with(|h| {
        h.at(at_ms, move |h| {
            let mut u = h.usage.get("app").copied().unwrap_or_else(fake::idle_usage);
            u.memory_usage = mb * MIB;
            h.usage.insert("app".into(), u);
        });
    });
}

#[test]
fn pressure_levels_follow_the_thresholds() {
    let l = 100 * MIB;
    assert_eq!(level(50 * MIB, l, 0, 0), "low");
    assert_eq!(level(70 * MIB, l, 0, 0), "medium");
    assert_eq!(level(94 * MIB, l, 0, 0), "medium");
    assert_eq!(level(95 * MIB, l, 0, 0), "high");
    assert_eq!(level(10 * MIB, l, 1, 0), "high", "a failed charge");
    assert_eq!(level(10 * MIB, l, 0, 1), "high", "an OOM kill");
}

#[test]
fn memory_pressure_lowers_the_limit_sees_it_hit_and_restores_it() {
    setup();
    uses_memory_from(400, 63);
    let out =
        inject(r#"{"type":"memory_pressure","memory_mb":64,"duration_ms":1000,"sample_ms":100}"#)
            .unwrap();
    assert!(out.observed, "{}", out.summary);
    fake::with(|h| {
        let sets = h.calls_to("cgroup.set_limits app");
        assert_eq!(sets.len(), 2, "lowered, then restored: {sets:?}");
        assert!(sets[0].contains("memory-mb: Some(64)"), "{}", sets[0]);
        assert!(sets[1].contains("memory-mb: None"), "{}", sets[1]);
        let s = h.span("clnrm.resource.memory_pressure").unwrap();
        assert_eq!(s.attr("pressure.level").as_deref(), Some("high"));
        assert_eq!(s.attr("usage.peak_mb").as_deref(), Some("63"));
        assert_eq!(s.attr("limit.mb").as_deref(), Some("64"));
        assert!(s.has_event("memory.limit.in_force"));
        // Noted from the first sample that hit it on.
        let noted = h.first_call_at("cgroup.note_pressure app memory").unwrap();
        assert!((400..=500).contains(&noted), "{noted}");
        let r = h.span("clnrm.resource.recovery").unwrap();
        assert!(r.ok(), "{r:?}");
    });
}

#[test]
fn memory_that_stays_low_is_not_claimed() {
    setup();
    uses_memory_from(0, 20);
    let err = inject(r#"{"type":"memory_pressure","memory_mb":64,"duration_ms":500}"#).unwrap_err();
    assert!(
        err.contains("never reached its 64 MB limit: peak 20 MB"),
        "{err}"
    );
    fake::with(|h| {
        let s = h.span("clnrm.resource.memory_pressure").unwrap();
        assert_eq!(s.attr("pressure.level").as_deref(), Some("low"));
        assert!(h.calls_to("cgroup.note_pressure").is_empty());
        // The limit is restored even though the fault was not observed.
        assert_eq!(h.calls_to("cgroup.set_limits").len(), 2);
    });
}

#[test]
fn an_oom_kill_is_high_pressure_at_any_usage() {
    setup();
    fake::with(|h| {
        h.at(300, |h| {
            let mut u = fake::idle_usage();
            u.oom_kills = 1;
            h.usage.insert("app".into(), u);
        });
    });
    let out = inject(r#"{"type":"memory_pressure","memory_mb":64,"duration_ms":600}"#).unwrap();
    assert!(out.summary.contains("1 OOM kills"), "{}", out.summary);
}

#[test]
fn memory_pressure_needs_a_limit_from_somewhere() {
    setup();
    let err = inject(r#"{"type":"memory_pressure","duration_ms":500}"#).unwrap_err();
    assert!(err.contains("has no memory limit"), "{err}");
    fake::with(|h| assert!(h.calls_to("cgroup.set_limits").is_empty()));
}

#[test]
fn without_a_duration_it_holds_until_the_steps_end() {
    setup();
    uses_memory_from(0, 63);
    fake::with(|h| h.steps_done_at = Some(2_500));
    inject(r#"{"type":"memory_pressure","memory_mb":64,"sample_ms":250}"#).unwrap();
    fake::with(|h| {
        let s = h.span("clnrm.resource.memory_pressure").unwrap();
        assert_eq!(s.attr("hold").as_deref(), Some("until_steps_end"));
        assert!((2_500..2_750).contains(&h.now_ms), "{}", h.now_ms);
        let reads = h.calls_to("cgroup.read app").len();
        assert!((10..=13).contains(&reads), "sampled every 250 ms: {reads}");
    });
}

#[test]
fn disk_fill_fills_to_the_percent_and_removes_the_filler() {
    setup();
    let out =
        inject(r#"{"type":"disk_fill","path":"/data","percent":80,"duration_ms":300}"#).unwrap();
    assert!(out.observed, "{}", out.summary);
    fake::with(|h| {
        assert_eq!(h.calls_to("cgroup.fill"), ["cgroup.fill app /data 80"]);
        assert_eq!(h.calls_to("cgroup.unfill"), ["cgroup.unfill app /data"]);
        assert!(h.filled.is_empty());
        let s = h.span("clnrm.resource.disk_full").unwrap();
        assert_eq!(s.attr("disk.full").as_deref(), Some("false"));
    });
}

#[test]
fn check_refuses_paths_outside_an_absolute_mount() {
    let bad = |j: &str| {
        ChaosResource::check("disk_fill", j)
            .unwrap_err()
            .to_string()
    };
    assert!(bad(r#"{"type":"disk_fill","path":"data"}"#).contains("absolute path"));
    assert!(bad(r#"{"type":"disk_fill","path":"/data/../etc"}"#).contains("without `..`"));
    assert!(ChaosResource::check("disk_fill", r#"{"type":"disk_fill","path":"/data"}"#).is_ok());
    assert!(ChaosResource::check(
        "memory_pressure",
        r#"{"type":"memory_pressure","sample_ms":0}"#
    )
    .is_err());
}
