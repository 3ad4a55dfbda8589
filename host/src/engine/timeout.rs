//! Enforcing a step's time bound: the step's own `timeout_ms`, the
//! scenario's `deadline_ms` (absolute, from scenario start) or `[limits]
//! max_duration_seconds`, whichever ends first. Enforcement acts on the
//! step's container (hard: SIGKILL; graceful: SIGTERM, `grace_period_ms`,
//! then SIGKILL) and is observed: the span says which signal stopped it.

use crate::backend::{BackendError, ContainerBackend, ContainerState, ExecOutcome};
use crate::suite::TimeoutStrategy;
use crate::trace::{SpanId, Trace};
use std::time::Duration;

/// How long enforcement waits for Docker to report the container stopped
/// after SIGKILL.
pub const HARD_WAIT: Duration = Duration::from_secs(5);

/// How a bounded command ended. Decided once, in [`race`]: every later
/// span follows from this one value, so a trace never shows both a pass and
/// an enforcement.
pub enum Ended {
    /// The command ended on its own (or its container died under it) before
    /// the bound took effect. `tie`: the bound's timer fired too, but the
    /// container had already stopped, so there was nothing left to enforce.
    Command(Result<ExecOutcome, BackendError>, bool),
    /// The bound fired while the command's container was still running:
    /// the step timed out and must be enforced. Carries what the command
    /// printed until then (a timed-out step's output is kept in its report).
    Bound(ExecOutcome),
}

/// Run `command` under what is left of its bound and decide, once, whether
/// the command or the bound ended it.
///
/// The race this settles: the exec's timer fires at the very moment the
/// container dies (a chaos kill landing on the deadline, a command that stops
/// its own container). Docker reports the death on the exec's stream a little
/// later than the timer fires, so "timed out" alone would enforce on a
/// container that is already gone: SIGTERM and SIGKILL then fail and the
/// trace would claim the container "could not be stopped". A container that
/// is no longer running when the timer fires ended the command first.
pub async fn race(
    docker: &dyn ContainerBackend,
    container: &str,
    command: &str,
    argv: Option<&[String]>,
    env: &[String],
    left: Duration,
) -> Ended {
    let ran = match (argv, env.is_empty()) {
        (Some(argv), true) => docker.exec_argv(container, argv, Some(left)).await,
        (None, true) => docker.exec(container, command, Some(left)).await,
        (argv, false) => {
            docker
                .exec_env(container, command, argv, env, Some(left))
                .await
        }
    };
    match ran {
        Ok(x) if x.timed_out => match docker.inspect(container).await {
            Ok(state) if !state.running => Ended::Command(
                Ok(ExecOutcome {
                    exit_code: None,
                    timed_out: false,
                    ..x
                }),
                true,
            ),
            _ => Ended::Bound(x),
        },
        r => Ended::Command(r, false),
    }
}

/// Which bound a step runs under.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BoundKind {
    StepTimeout,
    Deadline,
    MaxDuration,
}

impl BoundKind {
    /// The suite key the bound came from.
    pub fn key(self) -> &'static str {
        match self {
            BoundKind::StepTimeout => "timeout_ms",
            BoundKind::Deadline => "deadline_ms",
            BoundKind::MaxDuration => "max_duration_seconds",
        }
    }
}

#[derive(Clone, Copy, Debug)]
pub struct Bound {
    /// How long the step may run from its start.
    pub after: Duration,
    pub kind: BoundKind,
    /// The setting as written: for a deadline, `deadline_ms` (counted from
    /// the scenario's start), whereas `after` is what was left of it when the
    /// step started, which depends on how long earlier steps took.
    pub configured: Duration,
    pub strategy: TimeoutStrategy,
    pub grace: Duration,
}

impl Bound {
    /// The tightest of the step timeout, what is left of the deadline
    /// (`deadline` = (as configured, left now)), and the scenario's max
    /// duration.
    pub fn tightest(
        step: Option<Duration>,
        deadline: Option<(Duration, Duration)>,
        max: Duration,
        strategy: TimeoutStrategy,
        grace: Option<Duration>,
    ) -> Bound {
        let mut b = Bound {
            after: max,
            kind: BoundKind::MaxDuration,
            configured: max,
            strategy,
            grace: grace.unwrap_or(Duration::from_secs(5)),
        };
        for (d, kind) in [
            (step.map(|s| (s, s)), BoundKind::StepTimeout),
            (deadline, BoundKind::Deadline),
        ] {
            if let Some((configured, after)) = d.filter(|(_, after)| *after <= b.after) {
                b.after = after;
                b.configured = configured;
                b.kind = kind;
            }
        }
        b
    }

    /// The bound's attributes on a span: `timeout.ms` for a step timeout or
    /// the max duration; for a deadline `deadline.ms` as configured and
    /// `deadline.left_ms`, the time that was left (volatile in the digest:
    /// it varies with how long the earlier steps took).
    pub fn set_attrs(&self, trace: &Trace, span: SpanId) {
        if self.kind == BoundKind::Deadline {
            trace.set_attr(span, "deadline.ms", self.configured.as_millis() as i64);
            trace.set_attr(span, "deadline.left_ms", self.after.as_millis() as i64);
        } else {
            trace.set_attr(span, "timeout.ms", self.after.as_millis() as i64);
        }
        trace.set_attr(span, "timeout.source", self.kind.key());
    }
}

/// Stop the step's container as the strategy says, with spans that show what
/// happened. Returns the enforcement span (cleanup reacts to it) and the exit
/// code Docker reported.
pub async fn enforce(
    docker: &dyn ContainerBackend,
    trace: &Trace,
    step_span: SpanId,
    container: &str,
    bound: &Bound,
) -> (SpanId, Option<i64>) {
    let name = if bound.kind == BoundKind::Deadline {
        "clnrm.deadline.enforced"
    } else {
        "clnrm.timeout.enforced"
    };
    let span = trace.start(name, Some(step_span));
    bound.set_attrs(trace, span);
    trace.set_attr(
        span,
        "timeout.strategy",
        if bound.strategy == TimeoutStrategy::Graceful {
            "graceful"
        } else {
            "hard"
        },
    );
    let mut stopped = None;
    if bound.strategy == TimeoutStrategy::Graceful {
        let g = trace.start("clnrm.timeout.graceful", Some(span));
        trace.set_attr(g, "signal", "SIGTERM");
        trace.set_attr(g, "grace_period_ms", bound.grace.as_millis() as i64);
        stopped = signal(docker, trace, span, container, "SIGTERM", bound.grace).await;
        trace.set_attr(g, "stopped", stopped.is_some());
        match &stopped {
            Some(_) => trace.end_ok(g),
            None => trace.end_error(g, "still running after the grace period"),
        }
    }
    if stopped.is_none() {
        let h = trace.start("clnrm.timeout.hard", Some(span));
        trace.set_attr(h, "signal", "SIGKILL");
        stopped = signal(docker, trace, span, container, "SIGKILL", HARD_WAIT).await;
        trace.set_attr(h, "stopped", stopped.is_some());
        match &stopped {
            Some(_) => trace.end_ok(h),
            None => trace.end_error(h, "still running after SIGKILL"),
        }
    }
    let code = stopped.as_ref().and_then(|s| s.exit_code);
    trace.set_attr(span, "timeout.observed", stopped.is_some());
    if let Some(c) = code {
        trace.set_attr(span, "container.exit_code", c);
    }
    // Enforcement that worked is OK; the step it ended carries the ERROR.
    match stopped {
        Some(_) => trace.end_ok(span),
        None => trace.end_error(span, "the container could not be stopped"),
    }
    (span, code)
}

/// Send `sig` and wait up to `wait` for the container to stop: its state
/// once stopped, None if it still runs.
async fn signal(
    docker: &dyn ContainerBackend,
    trace: &Trace,
    enforced: SpanId,
    container: &str,
    sig: &str,
    wait: Duration,
) -> Option<ContainerState> {
    match docker.kill(container, sig).await {
        Ok(()) => docker
            .wait_stopped(container, wait)
            .await
            .ok()
            .filter(|s| !s.running),
        // The container stopped between the decision and the signal (the
        // other side of the race): stopped is what enforcement is for, and
        // the span says it found it so.
        Err(_) => match docker.inspect(container).await {
            Ok(s) if !s.running => {
                trace.set_attr(enforced, "timeout.race", "stopped_before_signal");
                Some(s)
            }
            _ => None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tightest_bound_wins() {
        let s = Duration::from_secs;
        let b = Bound::tightest(
            Some(s(5)),
            Some((s(4), s(3))),
            s(60),
            TimeoutStrategy::Hard,
            None,
        );
        assert_eq!(
            (b.after, b.configured, b.kind),
            (s(3), s(4), BoundKind::Deadline)
        );
        let b = Bound::tightest(
            Some(s(2)),
            Some((s(4), s(3))),
            s(60),
            TimeoutStrategy::Hard,
            None,
        );
        assert_eq!((b.after, b.kind), (s(2), BoundKind::StepTimeout));
        let b = Bound::tightest(None, None, s(60), TimeoutStrategy::Hard, None);
        assert_eq!((b.after, b.kind), (s(60), BoundKind::MaxDuration));
    }
}
