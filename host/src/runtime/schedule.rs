//! The scenario's schedule as plugins may shape it (`clnrm:chaos/scenario`,
//! 0.3.2): a plugin can hold a service's first step (a slow start).
//!
//! For a hold to be deterministic it must be in place before the step it
//! holds starts, while injections run concurrently with the steps. So the
//! engine lets every injection get going first: the steps start once each
//! injection has made its first host call or returned ([`Schedule::settled`],
//! bounded by [`SETTLE_LIMIT`]). A plugin that holds a step makes that its
//! first call.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{oneshot, watch};

/// The longest the steps wait for injections to make their first call: a
/// plugin that computes for a long time before acting only delays itself.
pub const SETTLE_LIMIT: Duration = Duration::from_secs(2);

/// A held first step: how long to hold it, and the plugin waiting to hear
/// how long it really was held (ms).
struct Hold {
    delay: Duration,
    reply: oneshot::Sender<Result<u64, String>>,
}

#[derive(Default)]
struct Inner {
    holds: HashMap<String, Hold>,
    /// Services whose first step has started (nothing can hold it any more).
    started: HashSet<String>,
    /// The steps are over: later holds are refused.
    closed: bool,
}

pub struct Schedule {
    inner: Mutex<Inner>,
    /// Injections that have neither made a host call nor returned.
    unsettled: Arc<watch::Sender<usize>>,
}

impl Default for Schedule {
    fn default() -> Schedule {
        Schedule::new(0)
    }
}

/// One injection's part in the settle barrier: settles once.
#[derive(Clone)]
pub struct Ready {
    unsettled: Arc<watch::Sender<usize>>,
    done: Arc<AtomicBool>,
}

impl Ready {
    /// The injection made a host call, or returned: count it once.
    pub fn settle(&self) {
        if !self.done.swap(true, Ordering::SeqCst) {
            self.unsettled.send_modify(|n| *n = n.saturating_sub(1));
        }
    }
}

impl Schedule {
    /// A schedule for a scenario with `injections` injections.
    pub fn new(injections: usize) -> Schedule {
        Schedule {
            inner: Mutex::new(Inner::default()),
            unsettled: Arc::new(watch::Sender::new(injections)),
        }
    }

    /// The settle token of one of the scenario's injections.
    pub fn ready(&self) -> Ready {
        Ready {
            unsettled: self.unsettled.clone(),
            done: Arc::new(AtomicBool::new(false)),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Wait until every injection has made its first call or returned (at
    /// most [`SETTLE_LIMIT`]).
    pub async fn settled(&self) {
        let mut rx = self.unsettled.subscribe();
        let _ = tokio::time::timeout(SETTLE_LIMIT, rx.wait_for(|n| *n == 0)).await;
    }

    /// Hold the first step of `service` for `delay`; the receiver gets how
    /// long it was really held. Refused when that step already started or
    /// the steps are over, or when another hold is in place.
    pub fn hold(
        &self,
        service: &str,
        delay: Duration,
    ) -> Result<oneshot::Receiver<Result<u64, String>>, String> {
        let mut st = self.lock();
        if st.closed {
            return Err("the scenario's steps are over".into());
        }
        if st.started.contains(service) {
            return Err(format!("the first step of `{service}` already started"));
        }
        if st.holds.contains_key(service) {
            return Err(format!("the first step of `{service}` is already held"));
        }
        let (reply, rx) = oneshot::channel();
        st.holds.insert(service.to_string(), Hold { delay, reply });
        Ok(rx)
    }

    /// A step of `service` is about to start: if it is the service's first
    /// and a plugin holds it, wait out the hold and tell the plugin.
    pub async fn first_step(&self, service: &str) {
        let hold = {
            let mut st = self.lock();
            if !st.started.insert(service.to_string()) {
                return;
            }
            st.holds.remove(service)
        };
        if let Some(h) = hold {
            let t = tokio::time::Instant::now();
            tokio::time::sleep(h.delay).await;
            let _ = h.reply.send(Ok(t.elapsed().as_millis() as u64));
        }
    }

    /// The steps are over: holds on services that ran no step fail.
    pub fn close(&self) {
        let mut st = self.lock();
        st.closed = true;
        for (service, h) in st.holds.drain() {
            let _ = h
                .reply
                .send(Err(format!("service `{service}` ran no step to hold")));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_hold_delays_only_the_first_step_and_reports_the_wait() {
        let s = Schedule::new(0);
        let rx = s.hold("app", Duration::from_millis(700)).unwrap();
        let t = tokio::time::Instant::now();
        s.first_step("app").await;
        assert_eq!(t.elapsed(), Duration::from_millis(700));
        assert_eq!(rx.await.unwrap(), Ok(700));
        let t = tokio::time::Instant::now();
        s.first_step("app").await;
        assert_eq!(t.elapsed(), Duration::ZERO, "the second step is not held");
        let e = s.hold("app", Duration::from_millis(1)).unwrap_err();
        assert_eq!(e, "the first step of `app` already started");
    }

    #[tokio::test(start_paused = true)]
    async fn holds_on_services_without_steps_fail_when_the_steps_end() {
        let s = Schedule::new(0);
        let rx = s.hold("db", Duration::from_millis(5)).unwrap();
        assert!(s.hold("db", Duration::from_millis(5)).is_err());
        s.close();
        assert_eq!(
            rx.await.unwrap(),
            Err("service `db` ran no step to hold".into())
        );
        assert!(s.hold("web", Duration::from_millis(5)).is_err());
    }

    #[tokio::test(start_paused = true)]
    async fn the_steps_wait_for_injections_to_settle_but_not_forever() {
        let s = Schedule::new(2);
        let t = tokio::time::Instant::now();
        s.settled().await;
        assert_eq!(t.elapsed(), SETTLE_LIMIT, "nobody settled: the limit");
        let s = Schedule::new(1);
        let r = s.ready();
        r.settle();
        r.settle();
        let t = tokio::time::Instant::now();
        s.settled().await;
        assert_eq!(t.elapsed(), Duration::ZERO);
    }
}
