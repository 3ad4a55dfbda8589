//! The fake host's records: containers, spans, cgroup readings, its rng.

use crate::chaos::clnrm::chaos::cgroup::Usage;
use crate::chaos::clnrm::chaos::container::ContainerState;
use crate::chaos::clnrm::chaos::types::{AttrValue, SpanHandle, SpanKind, SpanStatus};

use super::FakeHost;

/// One service's container.
#[derive(Clone, Debug)]
pub struct Container {
    /// Docker's word: running, paused, exited.
    pub status: String,
    pub running: bool,
    pub exit_code: Option<i32>,
    pub oom_killed: bool,
    /// On the scenario network.
    pub attached: bool,
    /// Signals (by name, `SIGTERM`) the process survives.
    pub ignores: Vec<String>,
    /// When it stopped (virtual ms), if it did.
    pub down_at: Option<u64>,
}

impl Container {
    pub fn running() -> Container {
        Container {
            status: "running".into(),
            running: true,
            exit_code: None,
            oom_killed: false,
            attached: true,
            ignores: Vec::new(),
            down_at: None,
        }
    }

    /// Its process exited with `code`.
    pub fn exit(&mut self, code: i32) {
        self.status = "exited".into();
        self.running = false;
        self.exit_code = Some(code);
    }

    /// Running again (a restart).
    pub fn restart(&mut self) {
        *self = Container {
            ignores: std::mem::take(&mut self.ignores),
            ..Container::running()
        };
    }

    pub fn state(&self) -> ContainerState {
        ContainerState {
            status: self.status.clone(),
            running: self.running,
            exit_code: self.exit_code,
            oom_killed: self.oom_killed,
        }
    }
}

/// A span a plugin recorded through `spans`.
#[derive(Clone, Debug)]
pub struct FakeSpan {
    pub id: SpanHandle,
    pub name: String,
    pub parent: SpanHandle,
    pub kind: SpanKind,
    pub attrs: Vec<(String, AttrValue)>,
    pub events: Vec<(String, Vec<(String, AttrValue)>)>,
    /// None while open.
    pub status: Option<SpanStatus>,
    pub message: Option<String>,
}

impl FakeSpan {
    /// An attribute's value in its string form (as matchers compare it), last write wins.
    pub fn attr(&self, key: &str) -> Option<String> {
        self.attrs
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| match v {
                AttrValue::Str(s) => s.clone(),
                AttrValue::Int(i) => i.to_string(),
                AttrValue::Float(f) => f.to_string(),
                AttrValue::Boolean(b) => b.to_string(),
            })
    }

    pub fn ok(&self) -> bool {
        self.status == Some(SpanStatus::Ok)
    }

    pub fn has_event(&self, name: &str) -> bool {
        self.events.iter().any(|(n, _)| n == name)
    }
}

impl FakeHost {
    pub(super) fn start_span(
        &mut self,
        name: &str,
        parent: SpanHandle,
        kind: SpanKind,
    ) -> SpanHandle {
        let id = 1000 + self.spans.len() as u64;
        self.spans.push(FakeSpan {
            id,
            name: name.into(),
            parent,
            kind,
            attrs: Vec::new(),
            events: Vec::new(),
            status: None,
            message: None,
        });
        id
    }

    pub(super) fn span_mut(&mut self, id: SpanHandle) -> &mut FakeSpan {
        self.spans
            .iter_mut()
            .find(|s| s.id == id)
            .unwrap_or_else(|| panic!("span handle {id} was never started"))
    }
}

/// A v2 cgroup with nothing going on and no limits.
pub fn idle_usage() -> Usage {
    Usage {
        cgroup_version: 2,
        memory_limit: None,
        memory_usage: 8 << 20,
        memory_peak: Some(8 << 20),
        memory_failcnt: 0,
        oom_kills: 0,
        cpu_limit_millicores: None,
        cpu_nr_throttled: 0,
        cpu_throttled_us: 0,
        pids_current: 1,
        fds_max: 4,
        fd_limit: None,
        fds_total: 4,
    }
}

/// splitmix64: small, seedable, good enough for a fake.
pub fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}
