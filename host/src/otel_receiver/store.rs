//! What one receiver holds: the requests it accepted (decoded; converted to
//! the trace's records when the scenario ends), its counters, and the run's
//! span budget (`app_max_spans`).

use super::convert::{self, Pending};
use crate::trace::RunClock;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// `[otel] app_max_spans`: how many application spans one suite's run keeps,
/// shared by every receiver of that run (one per scenario).
#[derive(Clone, Debug)]
pub struct Budget(Arc<AtomicU64>);

impl Budget {
    pub fn new(max_spans: u64) -> Self {
        Budget(Arc::new(AtomicU64::new(max_spans)))
    }

    /// Take `n` spans from the budget, all or none.
    pub fn take(&self, n: u64) -> bool {
        self.0
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |left| {
                left.checked_sub(n)
            })
            .is_ok()
    }

    pub fn left(&self) -> u64 {
        self.0.load(Ordering::Acquire)
    }
}

/// The counters of one receiver, as the `clnrm.otel.receive` span reports them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Spans accepted (kept for the trace).
    pub spans: u64,
    /// Requests that reached the receiver (any endpoint, accepted or not).
    pub requests: u64,
    /// Requests answered with an error (token, source, size, body, type, budget).
    pub rejected: u64,
    /// Request body bytes read off the wire (before any gzip inflation).
    pub bytes: u64,
    /// Spans that used a `clnrm.*` name and were renamed `app:<name>`.
    pub renamed: u64,
}

pub(super) struct Store {
    /// Accepted requests as decoded. Converting them (ids to hex, attributes
    /// flattened, times on the run clock) waits for the scenario's end, off
    /// the path an application's export waits on: it cost as much as the
    /// decoding itself (`cargo bench --bench otel_ingest`).
    requests_kept: Mutex<Vec<ExportTraceServiceRequest>>,
    pub(super) budget: Budget,
    spans_n: AtomicU64,
    requests: AtomicU64,
    rejected: AtomicU64,
    bytes: AtomicU64,
    renamed: AtomicU64,
    /// Requests being read or decoded right now: not quiet while any is.
    in_flight: AtomicUsize,
    last_span: Mutex<Option<Instant>>,
}

impl Store {
    pub(super) fn new(budget: Budget) -> Self {
        Store {
            requests_kept: Mutex::new(Vec::new()),
            budget,
            spans_n: AtomicU64::new(0),
            requests: AtomicU64::new(0),
            rejected: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
            renamed: AtomicU64::new(0),
            in_flight: AtomicUsize::new(0),
            last_span: Mutex::new(None),
        }
    }

    pub(super) fn request(&self) -> InFlight<'_> {
        self.requests.fetch_add(1, Ordering::Relaxed);
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        InFlight(self)
    }

    pub(super) fn reject(&self) {
        self.rejected.fetch_add(1, Ordering::Relaxed);
    }

    pub(super) fn add_bytes(&self, n: u64) {
        self.bytes.fetch_add(n, Ordering::Relaxed);
    }

    /// Keep a request's `n` spans, `renamed` of which use a `clnrm.*` name
    /// (the budget was taken by the caller).
    pub(super) fn keep(&self, req: ExportTraceServiceRequest, n: u64, renamed: u64) {
        if n == 0 {
            return;
        }
        self.spans_n.fetch_add(n, Ordering::Relaxed);
        self.renamed.fetch_add(renamed, Ordering::Relaxed);
        lock(&self.requests_kept).push(req);
        *lock(&self.last_span) = Some(Instant::now());
    }

    pub(super) fn stats(&self) -> Stats {
        Stats {
            spans: self.spans_n.load(Ordering::Relaxed),
            requests: self.requests.load(Ordering::Relaxed),
            rejected: self.rejected.load(Ordering::Relaxed),
            bytes: self.bytes.load(Ordering::Relaxed),
            renamed: self.renamed.load(Ordering::Relaxed),
        }
    }

    pub(super) fn busy(&self) -> bool {
        self.in_flight.load(Ordering::Acquire) > 0
    }

    pub(super) fn last_span(&self) -> Option<Instant> {
        *lock(&self.last_span)
    }

    /// Every kept span, converted (times on `clock`), in arrival order.
    pub(super) fn take(&self, clock: &RunClock) -> Vec<Pending> {
        let kept = std::mem::take(&mut *lock(&self.requests_kept));
        let mut out = Vec::with_capacity(self.spans_n.load(Ordering::Relaxed) as usize);
        for req in kept {
            out.extend(convert::convert(req, clock));
        }
        out
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A request being served; dropping it ends it.
pub(super) struct InFlight<'a>(&'a Store);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}
