//! Cascades the steps themselves show: in a scenario that injects nothing,
//! steps of different services that fail one after another (primary exits 1,
//! then secondary exits 2, then tertiary exits 3) are a failure propagating,
//! and the engine says so with `clnrm.failure.cascade` (`cascade.source =
//! "steps"`). The engine does it, not a plugin: only the engine sees step
//! outcomes. With `depends_on` and a `cascade_failure` injection, the
//! chaos-concurrent plugin observes the cascade itself (container exits).

use super::step::StepRun;
use crate::suite::ScenarioSpec;
use crate::trace::{SpanId, Trace};

/// Failures closer together than this are simultaneous, not a cascade (three
/// containers killed at once fail within a few ms of each other).
pub const MIN_GAP_NS: u64 = 100_000_000;

/// One failed step: when it ended (run clock), its service, its exit code.
#[derive(Clone, Debug, PartialEq)]
pub struct Failure {
    pub end_ns: u64,
    pub service: String,
    pub exit_code: Option<i64>,
}

/// The chain, in order, when the failures are a cascade: at least two, of
/// distinct services, each ending at least [`MIN_GAP_NS`] after the previous.
pub fn chain(mut failures: Vec<Failure>) -> Option<Vec<Failure>> {
    failures.sort_by_key(|f| f.end_ns);
    if failures.len() < 2 {
        return None;
    }
    let distinct = failures
        .iter()
        .enumerate()
        .all(|(i, f)| failures[..i].iter().all(|g| g.service != f.service));
    let spaced = failures
        .windows(2)
        .all(|w| w[1].end_ns >= w[0].end_ns + MIN_GAP_NS);
    (distinct && spaced).then_some(failures)
}

/// Emit `clnrm.failure.cascade` under the scenario's span when its steps
/// failed in a chain and it injected nothing.
pub fn detect(trace: &Trace, scenario_span: SpanId, sc: &ScenarioSpec, steps: &[StepRun]) {
    if !sc.injections.is_empty() {
        return;
    }
    let failures = steps
        .iter()
        .filter(|s| s.outcome.failed())
        .filter_map(|s| {
            Some(Failure {
                end_ns: trace.ended_at(s.cause)?,
                service: s.outcome.service.clone(),
                exit_code: s.outcome.exit_code,
            })
        })
        .collect();
    let Some(chain) = chain(failures) else {
        return;
    };
    let span = trace.start("clnrm.failure.cascade", Some(scenario_span));
    trace.set_attr(span, "cascade.source", "steps");
    trace.set_attr(span, "cascade.root", chain[0].service.as_str());
    trace.set_attr(span, "cascade.detected", true);
    trace.set_attr(span, "cascade.depth", chain.len() as i64);
    let path: Vec<&str> = chain.iter().map(|f| f.service.as_str()).collect();
    trace.set_attr(span, "cascade.path", path.join(" -> "));
    let codes: Vec<String> = chain
        .iter()
        .map(|f| f.exit_code.map_or("none".into(), |c| c.to_string()))
        .collect();
    trace.set_attr(span, "cascade.exit_codes", codes.join(","));
    for f in &chain {
        trace.add_event(
            span,
            "cascade.failed",
            vec![("service".into(), f.service.as_str().into())],
        );
    }
    trace.end_ok(span);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(ms: u64, s: &str, code: i64) -> Failure {
        Failure {
            end_ns: ms * 1_000_000,
            service: s.into(),
            exit_code: Some(code),
        }
    }

    #[test]
    fn failures_one_after_another_are_a_cascade_in_end_order() {
        let c = chain(vec![
            f(700, "tertiary", 3),
            f(100, "primary", 1),
            f(400, "secondary", 2),
        ])
        .unwrap();
        let order: Vec<&str> = c.iter().map(|f| f.service.as_str()).collect();
        assert_eq!(order, ["primary", "secondary", "tertiary"]);
    }

    #[test]
    fn simultaneous_single_or_same_service_failures_are_not() {
        assert_eq!(
            chain(vec![f(300, "a", 137), f(305, "b", 137), f(310, "c", 137)]),
            None
        );
        assert_eq!(chain(vec![f(300, "a", 1)]), None);
        assert_eq!(chain(vec![f(100, "a", 1), f(900, "a", 2)]), None);
        assert_eq!(chain(vec![]), None);
    }
}
