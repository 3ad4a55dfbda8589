//! The run clock: real elapsed time on a (possibly frozen) wall-clock epoch.
//!
//! `[determinism] freeze_clock` pins the epoch, so exported span timestamps are
//! `freeze_clock + elapsed`; real time still passes (timeouts are real).

use std::time::{Instant, SystemTime, UNIX_EPOCH};

#[derive(Clone, Debug)]
pub struct RunClock {
    start: Instant,
    /// Unix time of the run's start, in nanoseconds.
    epoch_unix_ns: u64,
    /// Real Unix time of `start`, frozen or not: application spans (real
    /// wall-clock times) are put on the run's timeline through it.
    real_start_unix_ns: u64,
    frozen: bool,
}

impl RunClock {
    /// `frozen_epoch_unix_ns`: the `freeze_clock` instant, if any.
    pub fn new(frozen_epoch_unix_ns: Option<u64>) -> Self {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        RunClock {
            start: Instant::now(),
            epoch_unix_ns: frozen_epoch_unix_ns.unwrap_or(now),
            real_start_unix_ns: now,
            frozen: frozen_epoch_unix_ns.is_some(),
        }
    }

    /// A clock that started at `start` (an instant already past): the run's
    /// time 0 is when its images started being prepared.
    pub fn since(start: Instant, frozen_epoch_unix_ns: Option<u64>) -> Self {
        let mut c = RunClock::new(frozen_epoch_unix_ns);
        let back = c.start.saturating_duration_since(start).as_nanos() as u64;
        c.real_start_unix_ns = c.real_start_unix_ns.saturating_sub(back);
        if !c.frozen {
            c.epoch_unix_ns = c.epoch_unix_ns.saturating_sub(back);
        }
        c.start = start.min(c.start);
        c
    }

    pub fn elapsed_ns(&self) -> u64 {
        self.start.elapsed().as_nanos() as u64
    }

    pub fn epoch_unix_ns(&self) -> u64 {
        self.epoch_unix_ns
    }

    /// A real wall-clock Unix time (an application span's start or end) as
    /// an offset on this run's clock, the same scale as every clnrm span, so
    /// one timeline holds both with or without `freeze_clock`. Times before
    /// the run's start clamp to 0.
    pub fn offset_of_real_unix_ns(&self, unix_ns: u64) -> u64 {
        unix_ns.saturating_sub(self.real_start_unix_ns)
    }

    pub fn is_frozen(&self) -> bool {
        self.frozen
    }

    /// Milliseconds since the Unix epoch on the run's clock.
    pub fn now_unix_ms(&self) -> u64 {
        (self.epoch_unix_ns + self.elapsed_ns()) / 1_000_000
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_times_land_on_the_run_timeline_frozen_or_not() {
        for frozen in [None, Some(1_735_689_600_000_000_000)] {
            let c = RunClock::new(frozen);
            let real_now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64;
            let off = c.offset_of_real_unix_ns(real_now);
            // The real "now" sits at the clock's elapsed time (within scheduling noise).
            assert!(
                off.abs_diff(c.elapsed_ns()) < 50_000_000,
                "{off} vs {}",
                c.elapsed_ns()
            );
            assert_eq!(c.offset_of_real_unix_ns(0), 0);
        }
    }
}
