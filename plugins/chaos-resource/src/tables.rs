//! The `chaos_injection` tables this plugin understands (typed config: a bad
//! key or value is a structured error with its path, reported before the run).

use clnrm_sdk::prelude::*;
use serde::{Deserialize, Deserializer};

/// How long a pressure is held: `duration_ms`, or (absent) until the
/// scenario's steps have all finished, which the host answers.
#[derive(Debug, Clone, Copy)]
pub enum Hold {
    For(u64),
    UntilStepsEnd,
}

impl Hold {
    /// Whether a hold that began at `start_ms` (run clock) is over.
    pub fn over(self, start_ms: u64) -> bool {
        match self {
            Hold::For(ms) => clock::now_ms().saturating_sub(start_ms) >= ms,
            Hold::UntilStepsEnd => scenario::steps_done(),
        }
    }

    /// Said on the fault's span when the steps decide: a reader sees why it
    /// lasted as long as it did.
    pub fn mark(self, span: &FaultSpan) {
        if let Hold::UntilStepsEnd = self {
            span.str("hold", "until_steps_end");
        }
    }
}

/// Keys every fault of this plugin takes (serde's `flatten` cannot be
/// combined with `deny_unknown_fields`, so each table repeats them).
#[derive(Debug, Clone)]
pub struct Common {
    pub target: Option<String>,
    pub delay_ms: u64,
    pub hold: Hold,
    pub sample_ms: u64,
}

macro_rules! table {
    ($(#[$doc:meta])* $name:ident { $($(#[$fdoc:meta])* $field:ident: $ty:ty,)* }) => {
        $(#[$doc])*
        #[derive(Deserialize, Debug, Clone)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            #[serde(rename = "type")]
            pub _type: String,
            /// Service to act on; default the scenario's main service.
            pub target: Option<String>,
            /// Wait this long after the scenario's steps start.
            #[serde(default)]
            pub delay_ms: u64,
            /// How long the pressure is held (and sampled) before what was
            /// changed is restored; absent: until the scenario's steps end.
            #[serde(default, deserialize_with = "some_positive")]
            pub duration_ms: Option<u64>,
            /// How often the cgroup is read meanwhile.
            #[serde(default = "sample_ms", deserialize_with = "positive")]
            pub sample_ms: u64,
            $($(#[$fdoc])* pub $field: $ty,)*
        }

        impl $name {
            pub fn common(&self) -> Common {
                Common {
                    target: self.target.clone(),
                    delay_ms: self.delay_ms,
                    hold: match self.duration_ms {
                        Some(ms) => Hold::For(ms),
                        None => Hold::UntilStepsEnd,
                    },
                    sample_ms: self.sample_ms,
                }
            }
        }
    };
}

table!(
    /// `memory_pressure`.
    Memory {
        /// Lower the memory limit to this (MiB) while the pressure lasts;
        /// absent: observe the service's own limit.
        #[serde(default, deserialize_with = "some_positive")]
        memory_mb: Option<u64>,
    }
);

table!(
    /// `cpu_throttle`.
    Cpu {
        /// Percent of one CPU; absent: observe the service's own limit.
        #[serde(default, deserialize_with = "some_positive")]
        cpu_percent: Option<u64>,
    }
);

table!(
    /// `disk_fill`.
    Disk {
        /// A filesystem of the target (a `limits.tmpfs` mount), absolute.
        path: String,
        /// Fill it until this much is used (100: until ENOSPC).
        #[serde(default = "full", deserialize_with = "percent")]
        percent: u8,
    }
);

table!(
    /// `fd_exhaustion`.
    Fd {
        /// Lower RLIMIT_NOFILE of the target's processes to this; absent:
        /// observe the limit they have.
        #[serde(default, deserialize_with = "some_positive")]
        max_file_descriptors: Option<u64>,
    }
);

fn sample_ms() -> u64 {
    50
}
fn full() -> u8 {
    100
}

fn positive<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    let v = u64::deserialize(d)?;
    if v == 0 {
        return Err(serde::de::Error::custom("must be at least 1"));
    }
    Ok(v)
}

fn some_positive<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    positive(d).map(Some)
}

fn percent<'de, D: Deserializer<'de>>(d: D) -> Result<u8, D::Error> {
    let v = u64::deserialize(d)?;
    if !(1..=100).contains(&v) {
        return Err(serde::de::Error::custom("a percentage from 1 to 100"));
    }
    Ok(v as u8)
}
