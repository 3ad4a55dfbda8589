//! Readings of the target while a pressure lasts, and the recovery span
//! once what was changed is restored.

use crate::tables::{Common, Hold};
use clnrm_sdk::chaos::clnrm::chaos::cgroup::{Limits, Usage};
use clnrm_sdk::chaos::clnrm::chaos::types::{AttrValue, SpanKind, SpanStatus};
use clnrm_sdk::prelude::*;

pub const MIB: u64 = 1024 * 1024;

/// The opening every resource fault shares: its span on the target (with
/// `resource.type`), the configured delay, and a target that is running.
pub fn begin(
    inj: &Injection,
    c: &Common,
    span_name: &str,
    fault_type: &str,
    resource: &str,
) -> Result<(String, FaultSpan), String> {
    let target = target(c.target.as_deref(), inj)?;
    let span = FaultSpan::start(span_name, inj.parent, fault_type, &target, c.delay_ms);
    span.str("resource.type", resource);
    c.hold.mark(&span);
    clock::sleep_ms(c.delay_ms);
    require_running(&span, &target)?;
    Ok((target, span))
}

/// Lower a limit live when the config asks for one (`limits` sets only it):
/// the previous values, to restore; the span fails if the host refused.
pub fn lower(
    span: &FaultSpan,
    target: &str,
    limits: Option<Limits>,
    what: &str,
) -> Result<Option<Limits>, String> {
    limits
        .map(|l| {
            cgroup::set_limits(target, l)
                .or_else(|e| span.fail(format!("lower `{target}`'s {what}: {e}")))
        })
        .transpose()
}

/// One reading, or the span's failure saying why there is none.
pub fn read(span: &FaultSpan, target: &str) -> Result<Usage, String> {
    cgroup::read(target).or_else(|e| span.fail(format!("cannot read `{target}`'s cgroup: {e}")))
}

/// Read the target every `every_ms` until the `hold` is over (at least once); `seen`
/// gets the previous and the new reading and says whether pressure shows in
/// the new one, which is then noted on the host as pressure on `resource`.
/// Returns every reading, the first taken before the window.
pub fn watch(
    span: &FaultSpan,
    target: &str,
    resource: &str,
    hold: Hold,
    every_ms: u64,
    first: Usage,
    mut seen: impl FnMut(&Usage, &Usage) -> bool,
) -> Result<Vec<Usage>, String> {
    let start = clock::now_ms();
    let mut all = vec![first];
    loop {
        clock::sleep_ms(every_ms);
        let r = read(span, target)?;
        if seen(&all[all.len() - 1], &r) {
            cgroup::note_pressure(target, resource);
        }
        all.push(r);
        if hold.over(start) {
            return Ok(all);
        }
    }
}

/// Put back the limits `set-limits` answered, read them back, and prove it
/// with `clnrm.resource.recovery` (under the injection's parent):
/// `recovery.success` when `restored(reading)` holds, `recovery.ms`.
pub fn recover(
    inj: &Injection,
    target: &str,
    prev: Option<&Limits>,
    undo: impl FnOnce() -> Result<(), String>,
    restored: impl Fn(&Usage) -> Result<bool, String>,
) -> Result<bool, String> {
    let s = spans::start("clnrm.resource.recovery", inj.parent, SpanKind::Internal);
    spans::set_attribute(s, "recovery.check", &AttrValue::Str("read_back".into()));
    spans::set_attribute(s, "target.service", &AttrValue::Str(target.into()));
    let t0 = clock::now_ms();
    let r = (|| {
        if let Some(p) = prev {
            cgroup::set_limits(target, *p).map_err(|e| format!("restore limits: {e}"))?;
        }
        undo()?;
        let u = cgroup::read(target).map_err(|e| format!("read back: {e}"))?;
        restored(&u)
    })();
    let ms = clock::now_ms().saturating_sub(t0);
    let ok = matches!(r, Ok(true));
    spans::set_attribute(s, "recovery.success", &AttrValue::Boolean(ok));
    spans::set_attribute(s, "recovery.ms", &AttrValue::Int(ms as i64));
    match &r {
        Ok(true) => spans::end(s, SpanStatus::Ok, None),
        Ok(false) => spans::end(s, SpanStatus::Error, Some("not restored when read back")),
        Err(e) => spans::end(s, SpanStatus::Error, Some(e)),
    }
    r
}

/// A `limits` record that changes nothing.
pub fn no_limits() -> Limits {
    Limits {
        memory_mb: None,
        memory_swap_mb: None,
        cpu_millicores: None,
        max_file_descriptors: None,
    }
}

/// `span.fail` unless `r` holds; for the read-back after a limit change.
pub fn took(span: &FaultSpan, what: &str, ok: bool) -> Result<(), String> {
    if ok {
        span.event(&format!("{what}.in_force"));
        Ok(())
    } else {
        span.fail(format!("{what}: not in force when read back"))
    }
}
