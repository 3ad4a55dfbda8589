//! `[expect.resources]` over synthetic `chaos-resource` traces.

use serde_json::json;

use super::*;
use crate::expect::model::Status;
use crate::expect::rules::fixture::{b, i, run_cases, run_config_errors, s, span, Case};

/// A memory pressure (2) on `app` and, when `recovered`, its read-back recovery (3).
fn pressed(name: &str, recovered: Option<bool>) -> Trace {
    let mut spans = vec![
        span(0, None, "clnrm.run", Status::Ok, (0, 5000), &[]),
        span(1, Some(0), "clnrm.scenario", Status::Ok, (0, 4000), &[]),
        span(
            2,
            Some(1),
            name,
            Status::Ok,
            (100, 1100),
            &[("target.service", s("app")), ("limit.mb", i(64))],
        ),
    ];
    if let Some(ok) = recovered {
        spans.push(span(
            3,
            Some(1),
            RESOURCE_RECOVERY,
            if ok { Status::Ok } else { Status::Error },
            // As the plugin emits it: at the end of the window, inside the pressure span.
            (1080, 1100),
            &[
                ("target.service", s("app")),
                ("recovery.check", s("read_back")),
                ("recovery.success", b(ok)),
            ],
        ));
    }
    Trace::new(spans)
}

#[test]
fn resources_table() {
    let cases: Vec<Case> = vec![
        (json!({ "memory_leak_detected": false }), pressed("clnrm.resource.memory_pressure", Some(true)),
            vec![("expect.resources.memory_leak_detected", true, vec!["1 clnrm.resource.memory_pressure span(s) each released by a successful clnrm.resource.recovery (span ids 2)"])]),
        (json!({ "memory_leak_detected": false }), pressed("clnrm.resource.memory_pressure", Some(false)),
            vec![("expect.resources.memory_leak_detected", false, vec!["1 of 1 clnrm.resource.memory_pressure span(s) leaked: span #2", "no successful clnrm.resource.recovery on target.service = \"app\" after it"])]),
        (json!({ "memory_leak_detected": false }), pressed("clnrm.resource.cpu_throttle", Some(true)),
            vec![("expect.resources.memory_leak_detected", false, vec!["no \"clnrm.resource.memory_pressure\" span in the trace"])]),
        (json!({ "cpu_runaway_detected": false }), pressed("clnrm.resource.cpu_throttle", Some(true)),
            vec![("expect.resources.cpu_runaway_detected", true, vec![])]),
        (json!({ "cpu_runaway_detected": false }), pressed("clnrm.resource.cpu_throttle", None),
            vec![("expect.resources.cpu_runaway_detected", false, vec!["leaked"])]),
        (json!({ "disk_leak_detected": false }), pressed("clnrm.resource.disk_full", Some(true)),
            vec![("expect.resources.disk_leak_detected", true, vec![])]),
        (json!({ "disk_leak_detected": false }), pressed("clnrm.resource.disk_full", Some(false)),
            vec![("expect.resources.disk_leak_detected", false, vec!["leaked"])]),
        // A recovery on another service, or one from before the pressure, releases nothing.
        (json!({ "memory_leak_detected": false }), {
            let mut spans = pressed("clnrm.resource.memory_pressure", Some(true)).spans().to_vec();
            spans[3].attrs[0].1 = s("db");
            Trace::new(spans)
        }, vec![("expect.resources.memory_leak_detected", false, vec!["leaked"])]),
        (json!({ "memory_leak_detected": false }), {
            let mut spans = pressed("clnrm.resource.memory_pressure", Some(true)).spans().to_vec();
            spans[3].start_ns = 50 * crate::expect::rules::fixture::MS;
            Trace::new(spans)
        }, vec![("expect.resources.memory_leak_detected", false, vec!["leaked"])]),
        // The engine's observation of a static limit pressed on nothing: not a leak.
        (json!({ "memory_leak_detected": false }), {
            let mut spans = pressed("clnrm.resource.memory_pressure", Some(true)).spans().to_vec();
            let mut limits = spans[2].clone();
            limits.id = 4;
            limits.attrs.push(("pressure.source".into(), s("limits")));
            spans.push(limits);
            Trace::new(spans)
        }, vec![("expect.resources.memory_leak_detected", true, vec!["1 clnrm.resource.memory_pressure span(s) each released"])]),
        // true: a leak must be seen
        (json!({ "disk_leak_detected": true }), pressed("clnrm.resource.disk_full", None),
            vec![("expect.resources.disk_leak_detected", true, vec!["1 clnrm.resource.disk_full span(s) leaked, as expected"])]),
        (json!({ "disk_leak_detected": true }), pressed("clnrm.resource.disk_full", Some(true)),
            vec![("expect.resources.disk_leak_detected", false, vec!["expected a leak, but all 1"])]),
    ];
    run_cases(check_resources, cases);
}

#[test]
fn resources_config_errors() {
    run_config_errors(
        "expect.resources",
        check_resources,
        vec![
            (json!({}), vec!["expect.resources: an empty table checks nothing"]),
            (json!({ "memory_leek_detected": false }), vec!["did you mean \"memory_leak_detected\"?"]),
            (json!({ "cpu_runaway_detected": "no" }), vec!["expect.resources.cpu_runaway_detected: expected a boolean, found string \"no\""]),
        ],
    );
}
