//! disk_fill: a filler file written into a filesystem of the target from the
//! host side until it is full (or `percent` used), held, then removed.

use crate::sample::{self, MIB};
use crate::tables::Disk;
use clnrm_sdk::prelude::*;

pub fn run(inj: &Injection) -> Result<Outcome, String> {
    let cfg: Disk = injection_config(inj)?;
    let c = cfg.common();
    let (target, span) = sample::begin(inj, &c, "clnrm.resource.disk_full", "disk_fill", "disk")?;
    span.str("path", &cfg.path);
    let disk = |span: &FaultSpan| {
        cgroup::disk(&target, &cfg.path)
            .or_else(|e| span.fail(format!("statvfs `{}` in `{target}`: {e}", cfg.path)))
    };
    let before = disk(&span)?;
    span.int("limit.mb", (before.total_bytes / MIB) as i64);
    let written = match cgroup::fill(&target, &cfg.path, cfg.percent) {
        Ok(n) => n,
        Err(e) => {
            let _ = cgroup::unfill(&target, &cfg.path);
            return span.fail(format!("fill `{}` in `{target}`: {e}", cfg.path));
        }
    };
    span.event("filler.written");
    // Hold it, reading the filesystem: what the span says is what statvfs saw.
    let start = clock::now_ms();
    let mut fullest = disk(&span)?;
    loop {
        let d = disk(&span)?;
        if d.free_bytes < fullest.free_bytes {
            fullest = d;
        }
        if d.free_bytes == 0
            || (d.total_bytes - d.free_bytes) * 100 >= d.total_bytes * u64::from(cfg.percent)
        {
            cgroup::note_pressure(&target, "disk");
        }
        if c.hold.over(start) {
            break;
        }
        clock::sleep_ms(c.sample_ms);
    }
    let used = fullest.total_bytes - fullest.free_bytes;
    let full = fullest.free_bytes == 0;
    span.int("used.mb", (used / MIB) as i64);
    span.bool("disk.full", full);
    let recovered = sample::recover(
        inj,
        &target,
        None,
        || cgroup::unfill(&target, &cfg.path).map_err(|e| format!("remove the filler: {e}")),
        |_| {
            let d = cgroup::disk(&target, &cfg.path).map_err(|e| format!("statvfs: {e}"))?;
            // The filler's blocks are free again.
            Ok(written == 0 || d.free_bytes > fullest.free_bytes)
        },
    );
    let reached = used * 100 >= fullest.total_bytes * u64::from(cfg.percent);
    if !(reached && (full || cfg.percent < 100)) {
        return span.fail(format!(
            "`{}` in `{target}` not filled: {} of {} MB used",
            cfg.path,
            used / MIB,
            fullest.total_bytes / MIB
        ));
    }
    if !matches!(recovered, Ok(true)) {
        return span.fail(format!(
            "filler in `{}` not removed: {recovered:?}",
            cfg.path
        ));
    }
    span.observed();
    Ok(Outcome {
        observed: true,
        summary: format!(
            "{target}:{} filled ({} of {} MB used{})",
            cfg.path,
            used / MIB,
            fullest.total_bytes / MIB,
            if full { ", no free blocks" } else { "" }
        ),
    })
}
