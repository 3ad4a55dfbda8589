//! The fake host's interfaces: each module re-exports the WIT module's types (a glob,
//! which the local functions shadow) and answers every function from [`FakeHost`]. The
//! signatures are the bindings' own, so plugin code compiles unchanged against either.

use super::{with, FakeHost};

/// Records `call` (e.g. `"container.kill app SIGKILL"`) in [`FakeHost::calls`].
fn call<T>(line: String, f: impl FnOnce(&mut FakeHost) -> T) -> T {
    with(|h| {
        h.calls.push(line);
        h.call_times.push(h.now_ms);
        f(h)
    })
}

pub mod container {
    pub use crate::chaos::clnrm::chaos::container::*;

    pub fn kill(service: &str, signal: &str) -> Result<(), String> {
        super::call(format!("container.kill {service} {signal}"), |h| {
            h.kill(service, signal)
        })
    }
    pub fn inspect(service: &str) -> Result<ContainerState, String> {
        super::call(format!("container.inspect {service}"), |h| {
            h.container(service).map(|c| c.state())
        })
    }
    pub fn pause(service: &str) -> Result<(), String> {
        super::call(format!("container.pause {service}"), |h| {
            h.set_status(service, "paused", true)
        })
    }
    pub fn unpause(service: &str) -> Result<(), String> {
        super::call(format!("container.unpause {service}"), |h| {
            h.set_status(service, "running", true)
        })
    }
    pub fn network_disconnect(service: &str) -> Result<String, String> {
        super::call(format!("container.network_disconnect {service}"), |h| {
            h.container_mut(service)?.attached = false;
            Ok(super::super::NETWORK.to_string())
        })
    }
    pub fn network_connect(service: &str) -> Result<(), String> {
        super::call(format!("container.network_connect {service}"), |h| {
            h.container_mut(service)?.attached = true;
            Ok(())
        })
    }
    pub fn network_attached(service: &str) -> Result<bool, String> {
        super::call(format!("container.network_attached {service}"), |h| {
            h.container(service).map(|c| c.attached)
        })
    }
}

pub mod net {
    pub use crate::chaos::clnrm::chaos::net::*;

    use super::super::Applied;

    pub fn impair(target: &str, peers: &[String], fault: Impairment) -> Result<Impaired, String> {
        super::call(format!("net.impair {target} {peers:?} {fault:?}"), |h| {
            h.apply(target, peers, Applied::Impairment(fault))
        })
    }
    pub fn impair_jittered(
        target: &str,
        peers: &[String],
        delay: JitteredLatency,
    ) -> Result<Impaired, String> {
        super::call(
            format!("net.impair_jittered {target} {peers:?} {delay:?}"),
            |h| h.apply(target, peers, Applied::Jittered(delay)),
        )
    }
    pub fn dns_fail(
        target: &str,
        names: &[String],
        mode: DnsFailureMode,
    ) -> Result<Impaired, String> {
        super::call(format!("net.dns_fail {target} {names:?} {mode:?}"), |h| {
            h.apply(target, &[], Applied::Dns(names.to_vec(), mode))
        })
    }
    pub fn heal(id: u64) -> Result<PacketCounts, String> {
        super::call(format!("net.heal {id}"), |h| h.heal(id))
    }
    pub fn counters(id: u64) -> Result<PacketCounts, String> {
        super::call(format!("net.counters {id}"), |h| h.counters(id))
    }
    /// A probe takes its round trip (or its timeout) of virtual time, at least 1 ms, so a
    /// loop of probes without sleeps still reaches its deadline.
    pub fn probe(
        source: &str,
        dest: &str,
        port: u16,
        timeout_ms: u32,
    ) -> Result<ProbeResult, String> {
        let r = super::call(format!("net.probe {source} {dest} {port}"), |h| {
            h.probe(source, dest, port, timeout_ms)
        });
        let took = r.as_ref().map_or(0, |r| r.rtt_us / 1000);
        super::super::advance(took.max(1));
        r
    }
    pub fn dns_probe(source: &str, name: &str, timeout_ms: u32) -> Result<DnsAnswer, String> {
        let r = super::call(format!("net.dns_probe {source} {name}"), |h| {
            h.dns_probe(source, name, timeout_ms)
        });
        let took = match &r {
            Ok(a) if a.rcode.is_none() => timeout_ms as u64,
            Ok(a) => a.rtt_us / 1000,
            Err(_) => 0,
        };
        super::super::advance(took.max(1));
        r
    }
    pub fn throughput(source: &str, dest: &str, ms: u32) -> Result<u64, String> {
        let r = super::call(format!("net.throughput {source} {dest} {ms}"), |h| {
            h.throughput(source, dest, ms)
        });
        super::super::advance(ms as u64);
        r
    }
}

pub mod cgroup {
    pub use crate::chaos::clnrm::chaos::cgroup::*;

    pub fn read(service: &str) -> Result<Usage, String> {
        super::call(format!("cgroup.read {service}"), |h| h.read_usage(service))
    }
    pub fn set_limits(service: &str, limits: Limits) -> Result<Limits, String> {
        super::call(format!("cgroup.set_limits {service} {limits:?}"), |h| {
            h.container_mut(service)?;
            let old = h.limits.insert(service.to_string(), limits);
            Ok(old.unwrap_or(Limits {
                memory_mb: None,
                memory_swap_mb: None,
                cpu_millicores: None,
                max_file_descriptors: None,
            }))
        })
    }
    pub fn disk(service: &str, path: &str) -> Result<DiskUsage, String> {
        super::call(format!("cgroup.disk {service} {path}"), |h| {
            h.container(service)?;
            Ok(h.disk(service))
        })
    }
    pub fn fill(service: &str, path: &str, percent: u8) -> Result<u64, String> {
        super::call(format!("cgroup.fill {service} {path} {percent}"), |h| {
            h.fill(service, percent)
        })
    }
    pub fn unfill(service: &str, path: &str) -> Result<(), String> {
        super::call(format!("cgroup.unfill {service} {path}"), |h| {
            h.container(service)?;
            h.filled.remove(service);
            Ok(())
        })
    }
    pub fn note_pressure(service: &str, kind: &str) {
        super::call(format!("cgroup.note_pressure {service} {kind}"), |_| ())
    }
}

pub mod scenario {
    pub use crate::chaos::clnrm::chaos::scenario::*;

    pub fn steps_done() -> bool {
        super::with(|h| h.steps_done_at.is_some_and(|t| h.now_ms >= t))
    }
    pub fn hold_first_step(service: &str, delay_ms: u64) -> Result<u64, String> {
        super::call(
            format!("scenario.hold_first_step {service} {delay_ms}"),
            |h| {
                h.container(service)?;
                Ok(h.held_ms.unwrap_or(delay_ms))
            },
        )
    }
    /// The scripted [`FakeHost::finished_steps`] that have ended by now.
    pub fn finished_steps() -> Vec<FinishedStep> {
        super::with(|h| {
            h.finished_steps
                .iter()
                .filter(|s| s.ended_ms <= h.now_ms)
                .cloned()
                .collect()
        })
    }
}

pub mod compose {
    pub use crate::chaos::clnrm::chaos::compose::*;

    pub fn run(fault: &Fault, parent: SpanHandle) -> Result<Composed, String> {
        super::call(
            format!("compose.run {} {}", fault.fault_type, fault.config_json),
            |h| h.compose(fault, parent),
        )
    }
    pub fn run_all(faults: &[Fault], parent: SpanHandle) -> Vec<Result<Composed, String>> {
        faults.iter().map(|f| run(f, parent)).collect()
    }
    pub fn dependents(service: &str) -> Vec<String> {
        super::with(|h| h.dependents.get(service).cloned().unwrap_or_default())
    }
}

pub mod clock {
    /// Virtual milliseconds since the fake started.
    pub fn now_ms() -> u64 {
        super::with(|h| h.now_ms)
    }
    /// Advances the virtual clock (and runs what [`FakeHost::at`](super::FakeHost::at)
    /// scheduled up to then): a test of a 30 s fault takes no time.
    pub fn sleep_ms(ms: u64) {
        super::super::advance(ms)
    }
}

pub mod rng {
    pub fn next_u64() -> u64 {
        super::with(|h| h.next_u64())
    }
    pub fn next_f64() -> f64 {
        (next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

pub mod spans {
    pub use crate::chaos::clnrm::chaos::spans::*;

    pub fn start(name: &str, parent: SpanHandle, kind: SpanKind) -> SpanHandle {
        super::with(|h| h.start_span(name, parent, kind))
    }
    pub fn set_attribute(span: SpanHandle, key: &str, value: &AttrValue) {
        super::with(|h| {
            h.span_mut(span)
                .attrs
                .push((key.to_string(), value.clone()))
        })
    }
    pub fn add_event(span: SpanHandle, name: &str, attributes: &[Attribute]) {
        super::with(|h| {
            let attrs = attributes
                .iter()
                .map(|a| (a.key.clone(), a.value.clone()))
                .collect();
            h.span_mut(span).events.push((name.to_string(), attrs))
        })
    }
    pub fn end(span: SpanHandle, status: SpanStatus, message: Option<&str>) {
        super::with(|h| {
            let s = h.span_mut(span);
            assert!(s.status.is_none(), "span `{}` ended twice", s.name);
            s.status = Some(status);
            s.message = message.map(str::to_string);
        })
    }
}

pub mod log {
    pub use crate::chaos::clnrm::chaos::log::*;

    pub fn log(level: Level, message: &str) {
        super::with(|h| h.logs.push((level, message.to_string())))
    }
}
