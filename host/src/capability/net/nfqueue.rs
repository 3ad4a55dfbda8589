//! Latency and seeded loss without `sch_netem`: an NFQUEUE consumer in the
//! host, bound inside the target's network namespace (queues are per
//! namespace), fed by an nftables `queue flags bypass` rule there. Latency
//! holds each packet for N ms before accepting it; loss drops a packet when the
//! next draw of a ChaCha stream seeded by the plugin falls under the
//! percentage, so the same seed and the same packets give the same drops.
//! Jittered latency holds each packet a time drawn from such a stream
//! ([`Schedule`]), releasing packets by due time, so they may reorder.
//! `bypass` (and the queue's fail-open flag) let traffic through unimpaired
//! if this consumer dies with clnrm.

use super::impairment::Fault;
use super::netns::Netns;
use rand_chacha::ChaCha20Rng;
use rand_core::{Rng, SeedableRng};
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io::ErrorKind;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Packets seen and dropped by one consumer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct QueueStats {
    pub seen: u64,
    pub dropped: u64,
}

#[derive(Default)]
struct Shared {
    stop: AtomicBool,
    seen: AtomicU64,
    dropped: AtomicU64,
}

/// A running consumer; [`Queue::stop`] ends it (and it ends by itself when
/// the container's namespace goes, so it never keeps a namespace alive).
pub struct Queue {
    shared: Arc<Shared>,
    done: Option<std::thread::JoinHandle<()>>,
}

/// What the consumer does to each packet.
enum Mode {
    Hold(Duration),
    Jitter(Box<Schedule>),
    Drop { below: u64, rng: Box<ChaCha20Rng> },
}

/// The per-packet delays of a jittered latency: uniform in
/// [latency - jitter, latency + jitter] ms (clamped at 0), drawn in packet
/// order from a ChaCha stream, so one seed gives one sequence of delays.
pub struct Schedule {
    low_us: u64,
    span_us: u64,
    rng: ChaCha20Rng,
}

impl Schedule {
    pub fn new(latency_ms: u32, jitter_ms: u32, seed: u64) -> Schedule {
        let low = latency_ms.saturating_sub(jitter_ms) as u64 * 1000;
        let high = (latency_ms as u64 + jitter_ms as u64) * 1000;
        Schedule {
            low_us: low,
            span_us: high - low,
            rng: ChaCha20Rng::seed_from_u64(seed),
        }
    }

    /// The next packet's delay (microsecond steps).
    pub fn next_delay(&mut self) -> Duration {
        // Modulo bias is below 2^-40 for any span a u32 of ms allows.
        let extra = self.rng.next_u64() % (self.span_us + 1);
        Duration::from_micros(self.low_us + extra)
    }
}

impl Mode {
    fn of(fault: &Fault) -> Result<Mode, String> {
        match *fault {
            Fault::Latency(ms) => Ok(Mode::Hold(Duration::from_millis(ms as u64))),
            Fault::Jitter {
                latency_ms,
                jitter_ms,
                seed,
            } => Ok(Mode::Jitter(Box::new(Schedule::new(
                latency_ms, jitter_ms, seed,
            )))),
            Fault::Loss { percent, seed } => Ok(Mode::Drop {
                below: threshold(percent),
                rng: Box::new(ChaCha20Rng::seed_from_u64(seed)),
            }),
            ref f => Err(format!("{f:?} is not an NFQUEUE fault")),
        }
    }
}

/// A draw `< threshold(p)` happens with probability p/100.
fn threshold(percent: f64) -> u64 {
    let p = (percent / 100.0).clamp(0.0, 1.0);
    if p >= 1.0 {
        u64::MAX
    } else {
        (p * 18_446_744_073_709_551_616.0) as u64
    }
}

impl Queue {
    /// Bind queue `num` inside `ns` and start consuming it.
    pub async fn start(ns: Netns, num: u16, fault: Fault) -> Result<Queue, String> {
        let mode = Mode::of(&fault)?;
        let shared = Arc::new(Shared::default());
        let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
        let s = shared.clone();
        let done = std::thread::Builder::new()
            .name(format!("clnrm-nfqueue-{num}"))
            .spawn(move || {
                let q = ns.enter().and_then(|()| open(num));
                match q {
                    Ok(q) => {
                        let _ = ready_tx.send(Ok(()));
                        consume(q, num, ns, mode, &s);
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                    }
                }
            })
            .map_err(|e| format!("spawn the NFQUEUE consumer: {e}"))?;
        let q = Queue {
            shared,
            done: Some(done),
        };
        match ready_rx.await {
            Ok(Ok(())) => Ok(q),
            Ok(Err(e)) => Err(e),
            Err(_) => Err("the NFQUEUE consumer died while starting".into()),
        }
    }

    pub fn stats(&self) -> QueueStats {
        QueueStats {
            seen: self.shared.seen.load(Ordering::Relaxed),
            dropped: self.shared.dropped.load(Ordering::Relaxed),
        }
    }

    /// Stop consuming (held packets are let through first); the final counts.
    pub async fn stop(mut self) -> QueueStats {
        self.shared.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.done.take() {
            let _ = tokio::task::spawn_blocking(move || h.join()).await;
        }
        self.stats()
    }
}

impl Drop for Queue {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
    }
}

fn open(num: u16) -> Result<nfq::Queue, String> {
    let mut q = nfq::Queue::open().map_err(|e| format!("open NFQUEUE: {e}"))?;
    q.bind(num)
        .map_err(|e| format!("bind NFQUEUE {num} (nfnetlink_queue): {e}"))?;
    // A full queue lets packets through rather than dropping them: loss must
    // come from the seeded draws only.
    q.set_fail_open(num, true)
        .map_err(|e| format!("NFQUEUE {num} fail-open: {e}"))?;
    // Headers are enough to decide; the kernel keeps the payload.
    q.set_copy_range(num, 64)
        .map_err(|e| format!("NFQUEUE {num} copy range: {e}"))?;
    q.set_nonblocking(true);
    Ok(q)
}

/// A held packet: due time, arrival number (ties), the message.
struct Held(Instant, u64, nfq::Message);

impl PartialEq for Held {
    fn eq(&self, o: &Self) -> bool {
        (self.0, self.1) == (o.0, o.1)
    }
}
impl Eq for Held {}
impl PartialOrd for Held {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Held {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        (self.0, self.1).cmp(&(o.0, o.1))
    }
}

/// The consumer loop: receive, decide, release held packets when due.
fn consume(mut q: nfq::Queue, num: u16, ns: Netns, mut mode: Mode, s: &Shared) {
    // By due time, then arrival (a fixed delay keeps the arrival order).
    let mut held: BinaryHeap<Reverse<Held>> = BinaryHeap::new();
    let mut arrivals = 0u64;
    let mut last_check = Instant::now();
    loop {
        if s.stop.load(Ordering::Relaxed) {
            break;
        }
        if last_check.elapsed() >= Duration::from_millis(100) {
            if !ns.alive() {
                break;
            }
            last_check = Instant::now();
        }
        let mut idle = true;
        match q.recv() {
            Ok(mut msg) => {
                idle = false;
                s.seen.fetch_add(1, Ordering::Relaxed);
                arrivals += 1;
                match &mut mode {
                    Mode::Hold(d) => held.push(Reverse(Held(Instant::now() + *d, arrivals, msg))),
                    Mode::Jitter(j) => {
                        let due = Instant::now() + j.next_delay();
                        held.push(Reverse(Held(due, arrivals, msg)));
                    }
                    Mode::Drop { below, rng } => {
                        let drop = rng.next_u64() < *below;
                        if drop {
                            s.dropped.fetch_add(1, Ordering::Relaxed);
                        }
                        msg.set_verdict(if drop {
                            nfq::Verdict::Drop
                        } else {
                            nfq::Verdict::Accept
                        });
                        let _ = q.verdict(msg);
                    }
                }
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => {}
            // ENOBUFS: the kernel dropped messages for us (fail-open lets
            // their packets through); keep going.
            Err(e) if e.raw_os_error() == Some(nix::libc::ENOBUFS) => {}
            Err(e) => {
                tracing::warn!("NFQUEUE {num}: {e}; the queue bypasses from now on");
                break;
            }
        }
        let now = Instant::now();
        while held.peek().is_some_and(|Reverse(h)| h.0 <= now) {
            if let Some(Reverse(Held(_, _, mut msg))) = held.pop() {
                msg.set_verdict(nfq::Verdict::Accept);
                let _ = q.verdict(msg);
            }
        }
        if idle {
            std::thread::sleep(Duration::from_micros(500));
        }
    }
    for Reverse(Held(_, _, mut msg)) in held {
        msg.set_verdict(nfq::Verdict::Accept);
        let _ = q.verdict(msg);
    }
    let _ = q.unbind(num);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_threshold_is_the_probability() {
        assert_eq!(threshold(0.0), 0);
        assert_eq!(threshold(100.0), u64::MAX);
        assert_eq!(threshold(50.0), 1 << 63);
        let mut r = ChaCha20Rng::seed_from_u64(7);
        let t = threshold(30.0);
        let n = (0..10_000).filter(|_| r.next_u64() < t).count();
        assert!((2800..3200).contains(&n), "{n}");
    }

    #[test]
    fn jittered_delays_stay_in_the_window_spread_and_follow_the_seed() {
        let delays = |seed| {
            let mut s = Schedule::new(200, 80, seed);
            (0..500).map(|_| s.next_delay()).collect::<Vec<_>>()
        };
        let a = delays(9);
        assert_eq!(a, delays(9), "same seed, same decision stream");
        assert_ne!(a, delays(10));
        let (lo, hi) = (Duration::from_millis(120), Duration::from_millis(280));
        assert!(a.iter().all(|d| (lo..=hi).contains(d)), "{a:?}");
        let min = a.iter().min().unwrap();
        let max = a.iter().max().unwrap();
        // 500 uniform draws over 160 ms reach close to both ends.
        assert!(*min < Duration::from_millis(130) && *max > Duration::from_millis(270));
        let mean = a.iter().map(Duration::as_secs_f64).sum::<f64>() / 500.0;
        assert!((0.19..0.21).contains(&mean), "{mean}");
        // A jitter larger than the latency clamps at 0; no jitter is fixed.
        let mut z = Schedule::new(10, 50, 1);
        assert!((0..100).all(|_| z.next_delay() <= Duration::from_millis(60)));
        let mut f = Schedule::new(10, 0, 1);
        assert!((0..10).all(|_| f.next_delay() == Duration::from_millis(10)));
    }

    #[test]
    fn the_same_seed_drops_the_same_packets() {
        let draws = |seed| {
            let Ok(Mode::Drop { below, mut rng }) = Mode::of(&Fault::Loss {
                percent: 30.0,
                seed,
            }) else {
                unreachable!()
            };
            (0..200).map(|_| rng.next_u64() < below).collect::<Vec<_>>()
        };
        assert_eq!(draws(1), draws(1));
        assert_ne!(draws(1), draws(2));
    }
}
