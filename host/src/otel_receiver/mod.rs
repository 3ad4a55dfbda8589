//! The run's embedded OTLP receiver: the spans an application sends while a
//! scenario runs join that scenario's trace.
//!
//! One receiver per scenario, on the scenario network's gateway address and an
//! ephemeral port, serving OTLP/gRPC and OTLP/HTTP on that one port
//! ([`server`]); only requests from the scenario's network with the run's
//! token are read, within [`limits`]; accepted spans are converted at once
//! ([`convert`]) and held ([`store`]) until the scenario ends, when the engine
//! waits for the applications to flush and puts them into the trace, parents
//! resolved. [`env`] is what every container is told to reach it.

pub mod convert;
pub mod env;
mod grpc_traces;
pub mod limits;
pub mod server;
pub mod store;

pub use server::{Allowed, TOKEN_HEADER};
pub use store::{Budget, Stats};

use crate::suite::{ReceiveMode, Suite};
use crate::trace::RunClock;
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Whether the suite's scenarios run a receiver: `[otel] receive`, and with
/// `"auto"` (the default) whether anything in the suite sends spans: a
/// service with `otel = true`, a service of `type = "otel_collector"`, or an
/// expectation on another service's spans ([`expects_app_spans`]).
pub fn receiver_needed(suite: &Suite) -> bool {
    match suite.otel.receive {
        ReceiveMode::On => true,
        ReceiveMode::Off => false,
        ReceiveMode::Auto => {
            suite.services.values().any(|s| s.otel || s.otel_collector) || expects_app_spans(suite)
        }
    }
}

/// Whether an expectation names a `service` other than clnrm.
pub fn expects_app_spans(suite: &Suite) -> bool {
    crate::suite::span_expectation_services(&suite.expectations)
        .iter()
        .any(|s| s != "clnrm")
}

/// A fresh per-run token: 128 bits from the OS.
pub fn new_token() -> String {
    let mut b = [0u8; 16];
    if let Ok(mut f) = std::fs::File::open("/dev/urandom") {
        use std::io::Read;
        let _ = f.read_exact(&mut b);
    }
    if b == [0u8; 16] {
        // No /dev/urandom: the clock and the process, hashed.
        use sha2::Digest;
        let mut h = sha2::Sha256::new();
        h.update(format!(
            "{:?}{}",
            std::time::SystemTime::now(),
            std::process::id()
        ));
        b.copy_from_slice(&h.finalize()[..16]);
    }
    hex::encode(b)
}

/// How a receiver is set up.
pub struct Config {
    /// The address it listens on (port 0: an ephemeral one).
    pub bind: SocketAddr,
    pub allowed: Allowed,
    pub token: String,
    /// The run's span budget (`app_max_spans`), shared by its receivers.
    pub budget: Budget,
    /// The trace's clock: received times are put on it.
    pub clock: RunClock,
    /// The request size bound (on the wire and inflated).
    pub max_request_bytes: usize,
}

/// A running receiver. Dropping it stops it (connections too).
pub struct Receiver {
    addr: SocketAddr,
    shared: Arc<server::Shared>,
    task: tokio::task::JoinHandle<()>,
    /// More addresses served the same way (`also_listen`).
    more: Vec<tokio::task::JoinHandle<()>>,
    started: Instant,
}

/// Listen on `addr` even before the address exists on this host (IP_FREEBIND):
/// Podman's netavark puts a network's gateway on its bridge only when the
/// first container joins, after the receiver must already listen; Docker's
/// bridge has it from the network's creation. Packets to it are served once
/// it is there.
fn listen_freebind(addr: SocketAddr) -> std::io::Result<tokio::net::TcpListener> {
    use std::os::fd::AsRawFd;
    let socket = match addr {
        SocketAddr::V4(_) => tokio::net::TcpSocket::new_v4()?,
        SocketAddr::V6(_) => tokio::net::TcpSocket::new_v6()?,
    };
    let one: libc::c_int = 1;
    // SAFETY: setsockopt reads one c_int from a live local for a socket we own.
    let rc = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::SOL_IP,
            libc::IP_FREEBIND,
            &one as *const libc::c_int as *const libc::c_void,
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc != 0 {
        return Err(std::io::Error::last_os_error());
    }
    socket.bind(addr)?;
    socket.listen(1024)
}

impl Receiver {
    /// Listen on `cfg.bind` and serve until stopped.
    pub async fn start(cfg: Config) -> std::io::Result<Receiver> {
        let listener = listen_freebind(cfg.bind)?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(server::Shared {
            store: store::Store::new(cfg.budget),
            token: cfg.token,
            allowed: cfg.allowed,
            clock: cfg.clock,
            limit: cfg.max_request_bytes,
        });
        let task = tokio::spawn(accept(listener, shared.clone()));
        Ok(Receiver {
            addr,
            shared,
            task,
            more: Vec::new(),
            started: Instant::now(),
        })
    }

    /// Serve `addr` too, the same way (the collector ports, for an
    /// application that names `otel_collector:4318` in its code rather than
    /// in its environment). The caller decides what a failure means. Bound
    /// like the main port (IP_FREEBIND): on Podman the gateway address may
    /// not be on the bridge yet.
    pub async fn also_listen(&mut self, addr: SocketAddr) -> std::io::Result<()> {
        let listener = listen_freebind(addr)?;
        self.more
            .push(tokio::spawn(accept(listener, self.shared.clone())));
        Ok(())
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn ip(&self) -> IpAddr {
        self.addr.ip()
    }

    pub fn stats(&self) -> Stats {
        self.shared.store.stats()
    }

    /// Whether a request is being read or decoded right now.
    pub fn busy(&self) -> bool {
        self.shared.store.busy()
    }

    pub fn started(&self) -> Instant {
        self.started
    }

    /// Wait for the applications to flush: until no span came and no request
    /// was being read for `quiet` (counted from `since` at the earliest, the
    /// graceful stop), or `timeout` passed since `since`. Returns the wait.
    pub async fn settle(&self, since: Instant, quiet: Duration, timeout: Duration) -> Duration {
        let tick = Duration::from_millis(10).min(quiet.max(Duration::from_millis(1)));
        loop {
            let now = Instant::now();
            if now.duration_since(since) >= timeout {
                break;
            }
            let last = self
                .shared
                .store
                .last_span()
                .map_or(since, |l| l.max(since));
            if !self.shared.store.busy() && now.duration_since(last) >= quiet {
                break;
            }
            tokio::time::sleep(tick).await;
        }
        since.elapsed()
    }

    /// Stop listening and hand over what was received.
    pub fn finish(self) -> (Vec<convert::Pending>, Stats) {
        self.task.abort();
        self.more.iter().for_each(|t| t.abort());
        let spans = self.shared.store.take(&self.shared.clock);
        (spans, self.shared.store.stats())
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
        self.more.iter().for_each(|t| t.abort());
    }
}

/// HTTP/2 flow-control window of one stream (a request), and the largest frame.
const WINDOW: u32 = 4 << 20;
const MAX_FRAME: u32 = 1 << 20;

/// Accept connections until aborted; each is served on a task of its own
/// that ends with the accept loop (a `JoinSet` aborts them when dropped).
async fn accept(listener: tokio::net::TcpListener, shared: Arc<server::Shared>) {
    let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    // HTTP/2's default windows (64 KiB) make a client wait for a WINDOW_UPDATE
    // round trip in the middle of every export of a few hundred spans (512
    // spans ≈ 140 KB); one request of up to a few MiB goes in one flight.
    builder
        .http2()
        .initial_stream_window_size(WINDOW)
        .initial_connection_window_size(2 * WINDOW)
        .max_frame_size(MAX_FRAME);
    let mut conns = tokio::task::JoinSet::new();
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(c) => c,
            Err(e) => {
                tracing::debug!("otel receiver: accept: {e}");
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        // Reap finished connections so the set does not grow with them.
        while conns.try_join_next().is_some() {}
        let _ = stream.set_nodelay(true);
        let sh = shared.clone();
        let builder = builder.clone();
        conns.spawn(async move {
            let svc = hyper::service::service_fn(move |req| server::handle(sh.clone(), peer, req));
            if let Err(e) = builder.serve_connection(TokioIo::new(stream), svc).await {
                tracing::debug!("otel receiver: connection from {peer}: {e}");
            }
        });
    }
}

#[cfg(test)]
mod needed_tests {
    use super::receiver_needed;
    use crate::suite::testing::{load_text, OK};

    #[test]
    fn an_expectation_on_an_applications_spans_turns_the_receiver_on() {
        let plain = load_text(OK).unwrap();
        assert!(
            !receiver_needed(&plain),
            "the kill suite keeps its fast path"
        );
        let own = load_text(&format!(
            "{OK}[[expect.span]]\nname = \"clnrm.step\"\nservice = \"clnrm\"\n"
        ))
        .unwrap();
        assert!(!receiver_needed(&own), "clnrm's own spans need no receiver");
        let app = load_text(&format!(
            "{OK}[[expect.span]]\nname = \"GET /\"\nservice = \"app\"\n"
        ))
        .unwrap();
        assert!(receiver_needed(&app));
        let off = load_text(&format!(
            "{OK}[otel]\nreceive = false\n[[expect.span]]\nname = \"GET /\"\nservice = \"app\"\n"
        ))
        .unwrap();
        assert!(!receiver_needed(&off), "receive = false wins");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OK: &str = "[meta]\nname = \"demo\"\n[service.app]\nimage = \"clnrm-base:latest\"\n\
                      [[scenario]]\nname = \"s\"\nservice = \"app\"\nrun = \"true\"\n";

    fn load_text(text: &str) -> Result<Suite, crate::suite::SuiteError> {
        crate::suite::load_str(std::path::Path::new("t.clnrm.toml"), text.to_string())
    }

    #[test]
    fn needed_when_a_service_sends_or_an_expectation_reads_app_spans() {
        let needed = |extra: &str| receiver_needed(&load_text(&format!("{OK}{extra}")).unwrap());
        assert!(!needed(""));
        assert!(needed("[service.api]\nimage = \"x\"\notel = true\n"));
        assert!(needed(
            "[service.otel_collector]\ntype = \"otel_collector\"\n"
        ));
        assert!(needed(
            "[service.api]\nimage = \"x\"\n[[expect.span]]\nname = \"GET\"\nservice = \"api\"\n"
        ));
        assert!(!needed(
            "[[expect.span]]\nname = \"clnrm.step:x\"\nservice = \"clnrm\"\n"
        ));
        assert!(!needed(
            "[otel]\nreceive = false\n[service.api]\nimage = \"x\"\notel = true\n"
        ));
        let on = load_text(&OK.replace("[service.app]", "[otel]\nreceive = true\n\n[service.app]"))
            .unwrap();
        assert!(receiver_needed(&on));
    }
}
