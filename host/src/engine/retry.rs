//! `retry` on a step: attempts one after another in the same container, as a
//! retrying client would (what one attempt leaves behind, the next sees),
//! with an exponentially growing wait between them, until one passes.
//!
//! The step's bound (`timeout_ms`, what is left of `deadline_ms`, or the max
//! duration) bounds the step as a whole, attempts and waits together:
//! enforcing a bound stops the container, which the next attempt would need,
//! so a bound can only end the step, never a single attempt. A wait that the
//! bound would cut is not started (`retry.stopped_by` says which bound).

use super::attempt::{attempt, StepEnv};
use super::outcome::{ErrorType, StepOutcome};
use super::timeout::Bound;
use crate::suite::{RetryPolicy, StepSpec};
use crate::trace::{AttrValue, SpanId};
use rand_core::{Rng, SeedableRng};
use std::time::Duration;
// tokio's clock: a paused test clock measures the waits exactly.
use tokio::time::Instant;

/// The waits before attempts 2..=attempts. With `jitter`, each is drawn
/// uniformly from [wait/2, wait] ("equal jitter") from the step's own seeded
/// stream: the same seed waits the same, run after run.
pub fn waits(policy: &RetryPolicy, seed: [u8; 32]) -> Vec<Duration> {
    let mut rng = rand_chacha::ChaCha20Rng::from_seed(seed);
    (2..=policy.attempts)
        .map(|n| {
            let base = policy.base_wait(n).as_millis() as u64;
            if !policy.jitter || base == 0 {
                return Duration::from_millis(base);
            }
            let half = base / 2;
            Duration::from_millis(half + rng.next_u64() % (base - half + 1))
        })
        .collect()
}

/// Why retrying stopped before the attempts ran out, if it did: a failure no
/// further attempt can get past.
fn final_failure(out: &StepOutcome) -> Option<&'static str> {
    match out.error_type {
        // Enforced: the container was stopped.
        Some(ErrorType::Timeout) => Some("timeout"),
        Some(ErrorType::DockerUnreachable) => Some("docker_unreachable"),
        Some(ErrorType::ContainerKilled) => Some("container_killed"),
        Some(ErrorType::ContainerStopped) => Some("container_stopped"),
        _ => None,
    }
}

pub async fn run(
    env: &StepEnv<'_>,
    step_span: SpanId,
    step: &StepSpec,
    bound: &Bound,
    policy: &RetryPolicy,
    seed: [u8; 32],
) -> (StepOutcome, SpanId) {
    let trace = env.trace;
    let b = trace.start("clnrm.retry.backoff", Some(step_span));
    trace.set_attr(b, "backoff.strategy", "exponential");
    trace.set_attr(b, "attempts.max", policy.attempts as i64);
    trace.set_attr(b, "backoff.initial_ms", policy.backoff.as_millis() as i64);
    trace.set_attr(b, "backoff.factor", AttrValue::Float(policy.factor));
    trace.set_attr(
        b,
        "backoff.max_ms",
        policy.max_backoff.as_millis().min(i64::MAX as u128) as i64,
    );
    trace.set_attr(b, "backoff.jitter", policy.jitter);
    let waits = waits(policy, seed);
    let started = Instant::now();
    let mut failed = 0i64;
    let mut total = 0i64;
    let mut last = None;
    let mut stopped_by = None;
    for n in 1..=policy.attempts {
        let wait = if n == 1 {
            Duration::ZERO
        } else {
            waits[n as usize - 2]
        };
        let mut measured = None;
        if n > 1 {
            if started.elapsed() + wait >= bound.after {
                stopped_by = Some(bound.kind.key());
                break;
            }
            let w = Instant::now();
            tokio::time::sleep(wait).await;
            measured = Some(w.elapsed());
            trace.add_event(
                b,
                format!("retry.{}", n - 1),
                vec![
                    ("attempt.number".into(), AttrValue::Int(n as i64)),
                    ("backoff.ms".into(), AttrValue::Int(wait.as_millis() as i64)),
                ],
            );
        }
        let a = trace.start("clnrm.retry.attempt", Some(b));
        trace.set_attr(a, "attempt.number", n as i64);
        trace.set_attr(a, "backoff.ms", wait.as_millis() as i64);
        if let Some(m) = measured {
            // What the wait really took: load-dependent, volatile in the digest.
            trace.set_attr(a, "backoff.measured_ms", m.as_millis() as i64);
        }
        let (out, cause) = attempt(env, step_span, step, bound, started.elapsed()).await;
        total += 1;
        trace.set_attr(a, "result", out.result.as_str());
        if let Some(c) = out.exit_code {
            trace.set_attr(a, "exit.code", c);
        }
        match out.error_type {
            Some(et) => {
                trace.set_attr(a, "error.type", et.as_str());
                trace.end_error(a, et.as_str());
            }
            None => trace.end_ok(a),
        }
        let stop = final_failure(&out);
        let passed = !out.failed();
        if !passed {
            failed += 1;
        }
        last = Some((out, cause));
        if passed {
            break;
        }
        if let Some(why) = stop {
            stopped_by = Some(why);
            break;
        }
    }
    trace.set_attr(b, "attempts.total", total);
    trace.set_attr(b, "attempts.failed", failed);
    if let Some(why) = stopped_by {
        trace.set_attr(b, "retry.stopped_by", why);
    }
    // attempts >= 1 and the first attempt never stops early, so `last` is set.
    let (out, cause) = last.unwrap_or_else(|| unreachable!("the first attempt always runs"));
    if out.failed() {
        trace.end_error(b, format!("{failed} of {total} attempts failed"));
    } else {
        trace.end_ok(b);
    }
    (out, cause)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(jitter: bool) -> RetryPolicy {
        RetryPolicy {
            attempts: 6,
            backoff: Duration::from_millis(100),
            factor: 2.0,
            max_backoff: Duration::from_millis(1000),
            jitter,
        }
    }

    #[test]
    fn waits_grow_exponentially_up_to_the_cap() {
        let w: Vec<_> = waits(&policy(false), [1; 32])
            .iter()
            .map(|d| d.as_millis())
            .collect();
        assert_eq!(w, [100, 200, 400, 800, 1000]);
    }

    #[test]
    fn jittered_waits_come_from_the_seed() {
        let a = waits(&policy(true), [1; 32]);
        assert_eq!(a, waits(&policy(true), [1; 32]), "same seed, same waits");
        let b = waits(&policy(true), [2; 32]);
        assert_ne!(a, b, "another seed, other waits");
        for (w, base) in a
            .iter()
            .chain(&b)
            .zip([100, 200, 400, 800, 1000].iter().cycle())
        {
            let ms = w.as_millis();
            assert!(
                ms >= base / 2 && ms <= *base,
                "{ms} outside [{}, {base}]",
                base / 2
            );
        }
    }
}
