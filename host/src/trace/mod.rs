//! The trace: every span the engine and the plugins emit during one suite run.
//!
//! Spans live in memory (validators read the finished trace; the digest and the
//! exporters walk it). Handles are indices into the span list, so a plugin's
//! `span-handle` is just a `u64` index and recordings stay small.

mod clock;
pub mod digest;
pub mod export;
pub mod ids;
mod span;

pub use clock::RunClock;
pub use digest::digest;
pub use span::{AppParent, AppSpan, AttrValue, Event, SpanData, SpanKind, SpanStatus};

use std::sync::{Arc, Mutex, MutexGuard};

/// Index of a span within its trace.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SpanId(pub u32);

/// A shared, append-only collection of spans with a run clock.
#[derive(Clone)]
pub struct Trace {
    spans: Arc<Mutex<Vec<SpanData>>>,
    clock: RunClock,
}

impl Trace {
    pub fn new(clock: RunClock) -> Self {
        Trace {
            spans: Arc::new(Mutex::new(Vec::new())),
            clock,
        }
    }

    pub fn clock(&self) -> &RunClock {
        &self.clock
    }

    fn lock(&self) -> MutexGuard<'_, Vec<SpanData>> {
        // A panic while holding the lock leaves plain data behind; keep going.
        self.spans.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Open a span now.
    pub fn start(&self, name: impl Into<String>, parent: Option<SpanId>) -> SpanId {
        self.start_kind(name, parent, SpanKind::Internal)
    }

    pub fn start_kind(
        &self,
        name: impl Into<String>,
        parent: Option<SpanId>,
        kind: SpanKind,
    ) -> SpanId {
        let now = self.clock.elapsed_ns();
        let mut spans = self.lock();
        let id = SpanId(spans.len() as u32);
        spans.push(SpanData::new(id, parent, name.into(), kind, now));
        id
    }

    /// Open a span on behalf of a plugin (recorded as its origin).
    pub fn start_plugin(
        &self,
        name: impl Into<String>,
        parent: Option<SpanId>,
        kind: SpanKind,
        plugin: &str,
    ) -> SpanId {
        let id = self.start_kind(name, parent, kind);
        if let Some(s) = self.lock().get_mut(id.0 as usize) {
            s.plugin = Some(plugin.to_string());
        }
        id
    }

    /// A trace rebuilt from a recording for replay: the engine's spans as
    /// recorded, each plugin span reduced to a placeholder that keeps only its
    /// times, for the replayed plugin to fill with [`Trace::start_at`].
    pub fn for_replay(spans: Vec<SpanData>, clock: RunClock) -> Self {
        let spans = spans
            .into_iter()
            .map(|s| match &s.plugin {
                Some(p) => SpanData {
                    name: String::new(),
                    attrs: Vec::new(),
                    events: Vec::new(),
                    status: SpanStatus::Unset,
                    status_message: None,
                    plugin: Some(format!("{p} (not replayed)")),
                    ..s
                },
                None => s,
            })
            .collect();
        Trace {
            spans: Arc::new(Mutex::new(spans)),
            clock,
        }
    }

    /// Replay: a plugin opens the span it opened when recorded, in the same
    /// slot; recorded times are kept (times are recorded data, like clock answers).
    pub fn start_at(
        &self,
        id: SpanId,
        name: String,
        parent: Option<SpanId>,
        kind: SpanKind,
        plugin: &str,
    ) -> SpanId {
        let mut spans = self.lock();
        match spans.get_mut(id.0 as usize) {
            Some(slot) => {
                slot.name = name;
                slot.parent = parent;
                slot.kind = kind;
                slot.plugin = Some(plugin.to_string());
                slot.replayed_times();
                id
            }
            None => {
                drop(spans);
                self.start_plugin(name, parent, kind, plugin)
            }
        }
    }

    /// A span that already happened (`start_ns`..`end_ns` on this trace's
    /// clock), recorded whole: work done before the spans around it opened.
    pub fn push_finished(
        &self,
        name: &str,
        parent: Option<SpanId>,
        start_ns: u64,
        end_ns: u64,
        attrs: Vec<(String, AttrValue)>,
        status: SpanStatus,
    ) -> SpanId {
        let mut spans = self.lock();
        let id = SpanId(spans.len() as u32);
        let mut s = SpanData::finished(id, parent, name, start_ns, end_ns.max(start_ns));
        s.attrs = attrs;
        s.status = status;
        spans.push(s);
        id
    }

    /// An application span received over OTLP, already converted (times on
    /// this trace's clock, `parent` resolved, `app` set): appended, its index
    /// returned. Application spans arrive after the scenario that produced
    /// them, so they follow clnrm's spans in index order; never a plugin's.
    pub fn push_app(&self, mut span: SpanData) -> SpanId {
        debug_assert!(span.app.is_some(), "push_app takes application spans");
        let mut spans = self.lock();
        let id = SpanId(spans.len() as u32);
        span.id = id;
        span.plugin = None;
        spans.push(span);
        id
    }

    /// Move a span's start earlier (the run span, to cover image preparation).
    pub fn backdate(&self, id: SpanId, start_ns: u64) {
        if let Some(s) = self.lock().get_mut(id.0 as usize) {
            s.start_ns = s.start_ns.min(start_ns);
        }
    }

    /// Spans left as placeholders after a replay (the plugin emitted fewer).
    pub fn unreplayed(&self) -> Vec<SpanId> {
        self.lock()
            .iter()
            .filter(|s| {
                s.plugin
                    .as_deref()
                    .is_some_and(|p| p.ends_with(" (not replayed)"))
            })
            .map(|s| s.id)
            .collect()
    }

    /// Whether a span of this name was opened after `since` (spans are
    /// appended in order, so a later id means a later start).
    pub fn has_span_named_after(&self, name: &str, since: SpanId) -> bool {
        self.lock().iter().any(|s| s.id > since && s.name == name)
    }

    /// Close, with an error, every span opened after `since` that is still
    /// open (work cut off by an interrupt or a safety bound).
    pub fn close_open_after(&self, since: SpanId, message: &str) {
        let now = self.clock.elapsed_ns();
        for s in self
            .lock()
            .iter_mut()
            .filter(|s| s.id > since && s.end_ns.is_none())
        {
            s.end_ns = Some(now);
            s.status = SpanStatus::Error;
            s.status_message = Some(message.to_string());
        }
    }

    /// When span `id` ended (run clock, ns), if it has.
    pub fn ended_at(&self, id: SpanId) -> Option<u64> {
        self.lock().get(id.0 as usize).and_then(|s| s.end_ns)
    }

    /// Whether `id` names a span of this trace.
    pub fn contains(&self, id: SpanId) -> bool {
        (id.0 as usize) < self.lock().len()
    }

    pub fn set_attr(&self, id: SpanId, key: impl Into<String>, value: impl Into<AttrValue>) {
        if let Some(s) = self.lock().get_mut(id.0 as usize) {
            s.set_attr(key.into(), value.into());
        }
    }

    pub fn add_event(&self, id: SpanId, name: impl Into<String>, attrs: Vec<(String, AttrValue)>) {
        let now = self.clock.elapsed_ns();
        if let Some(s) = self.lock().get_mut(id.0 as usize) {
            // Replayed events are stamped with their span's recorded start.
            let time_ns = if s.replaying { s.start_ns } else { now };
            s.events.push(Event {
                name: name.into(),
                time_ns,
                attrs,
            });
        }
    }

    /// Close a span. Ending twice keeps the first end.
    pub fn end(&self, id: SpanId, status: SpanStatus, message: Option<String>) {
        let now = self.clock.elapsed_ns();
        if let Some(s) = self.lock().get_mut(id.0 as usize) {
            if s.replaying {
                // Replay: keep the recorded end time, take the new status.
                s.replaying = false;
                s.status = status;
                s.status_message = message;
            } else if s.end_ns.is_none() {
                s.end_ns = Some(now);
                s.status = status;
                s.status_message = message;
            }
        }
    }

    pub fn end_ok(&self, id: SpanId) {
        self.end(id, SpanStatus::Ok, None)
    }

    pub fn end_error(&self, id: SpanId, message: impl Into<String>) {
        self.end(id, SpanStatus::Error, Some(message.into()))
    }

    /// A copy of every span; spans still open are closed at "now" in the copy.
    pub fn snapshot(&self) -> Vec<SpanData> {
        let now = self.clock.elapsed_ns();
        self.lock()
            .iter()
            .cloned()
            .map(|mut s| {
                s.end_ns.get_or_insert(now);
                s
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_nest_and_end_once() {
        let t = Trace::new(RunClock::new(None));
        let root = t.start("clnrm.run", None);
        let child = t.start("clnrm.scenario", Some(root));
        t.set_attr(child, "scenario.name", "a");
        t.end_error(child, "boom");
        t.end_ok(child);
        t.end_ok(root);
        let spans = t.snapshot();
        assert_eq!(spans[1].parent, Some(root));
        assert_eq!(spans[1].status, SpanStatus::Error);
        assert_eq!(
            spans[1].attr("scenario.name").map(|v| v.to_string()),
            Some("a".into())
        );
    }
}
